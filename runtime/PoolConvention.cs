namespace KernelGen;

/// <summary>
/// Whose limits a <see cref="PoolDescriptor"/> enforces. The numbers computed are the same under both: where PyTorch
/// and ONNX both accept a configuration they agree; the convention only decides which configurations are accepted.
/// </summary>
public enum PoolConvention
{
    /// <summary>
    /// PyTorch's <c>torch.nn.functional</c> limits: symmetric padding of at most half the kernel, no dilation in average
    /// pooling, and (in 3-d average pooling) no input axis shorter than the kernel.
    /// </summary>
    PyTorch = 0,

    /// <summary>
    /// ONNX's <c>MaxPool</c> / <c>AveragePool</c> limits: begin and end padding of their own, each below the effective
    /// kernel <c>(k - 1) * d + 1</c>, and dilation in average pooling. (ONNX Runtime 1.31 itself rejects explicit pads
    /// at or above <c>k</c>; dilated windows make the range between the two meaningful, and KernelGen accepts it.)
    /// </summary>
    Onnx = 1,
}
