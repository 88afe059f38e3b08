namespace KernelGen;

/// <summary>ONNX's <c>auto_pad</c> attribute.</summary>
public enum OnnxAutoPad
{
    /// <summary><c>NOTSET</c>: the explicit <c>pads</c> apply.</summary>
    NotSet = 0,

    /// <summary><c>SAME_UPPER</c>: output size <c>ceil(L / s)</c>, an odd padding cell goes at the end.</summary>
    SameUpper = 1,

    /// <summary><c>SAME_LOWER</c>: output size <c>ceil(L / s)</c>, an odd padding cell goes at the beginning.</summary>
    SameLower = 2,

    /// <summary><c>VALID</c>: no padding.</summary>
    Valid = 3,
}
