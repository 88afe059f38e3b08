using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace KernelGen.Testing.Onnx;

/// <summary>The ONNX pooling operators <see cref="OnnxModelBuilder"/> can wrap in a one-node model.</summary>
public enum OnnxPoolOp
{
    /// <summary><c>MaxPool</c> (one output, no <c>Indices</c>).</summary>
    MaxPool,

    /// <summary><c>AveragePool</c>.</summary>
    AveragePool,

    /// <summary><c>GlobalMaxPool</c>.</summary>
    GlobalMaxPool,

    /// <summary><c>GlobalAveragePool</c>.</summary>
    GlobalAveragePool,
}

/// <summary>ONNX <c>TensorProto.DataType</c> values the pooling models use.</summary>
public enum OnnxElementType
{
    /// <summary><c>FLOAT</c>.</summary>
    Float = 1,

    /// <summary><c>DOUBLE</c>.</summary>
    Double = 11,
}

/// <summary>
/// The attributes of one ONNX pooling node, exactly as they go into the model. A null array or auto_pad means the
/// attribute is left out, so ONNX's default applies (strides 1, no padding, dilation 1, auto_pad NOTSET).
/// </summary>
/// <param name="Op">The operator.</param>
/// <param name="KernelShape"><c>kernel_shape</c> (ignored by the global operators).</param>
/// <param name="Strides"><c>strides</c>.</param>
/// <param name="Pads"><c>pads</c>: all begins, then all ends.</param>
/// <param name="Dilations"><c>dilations</c>.</param>
/// <param name="AutoPad"><c>auto_pad</c>: "NOTSET", "SAME_UPPER", "SAME_LOWER" or "VALID"; null leaves it out.</param>
/// <param name="CeilMode"><c>ceil_mode</c>.</param>
/// <param name="CountIncludePad"><c>count_include_pad</c> (AveragePool only).</param>
public sealed record OnnxPoolSpec(
    OnnxPoolOp Op,
    int[]? KernelShape = null,
    int[]? Strides = null,
    int[]? Pads = null,
    int[]? Dilations = null,
    string? AutoPad = null,
    bool CeilMode = false,
    bool CountIncludePad = false)
{
    /// <summary>Whether the operator is GlobalMaxPool or GlobalAveragePool.</summary>
    public bool IsGlobal => Op is OnnxPoolOp.GlobalMaxPool or OnnxPoolOp.GlobalAveragePool;

    /// <summary>The operator's name in ONNX.</summary>
    public string OpType => Op switch
    {
        OnnxPoolOp.MaxPool => "MaxPool",
        OnnxPoolOp.AveragePool => "AveragePool",
        OnnxPoolOp.GlobalMaxPool => "GlobalMaxPool",
        OnnxPoolOp.GlobalAveragePool => "GlobalAveragePool",
        _ => throw new ArgumentOutOfRangeException(nameof(Op), Op, "Unknown pooling operator."),
    };

    /// <summary>The same operation as a KernelGen descriptor (channels first), via <see cref="PoolDescriptor.FromOnnx"/>.</summary>
    /// <param name="inputShape">The input shape, needed to resolve SAME padding.</param>
    public PoolDescriptor ToDescriptor(PoolShape inputShape)
    {
        if (IsGlobal)
            throw new InvalidOperationException($"{OpType} has no descriptor; use Pooling.GlobalMax / GlobalAverage.");
        var autoPad = AutoPad switch
        {
            null or "NOTSET" => OnnxAutoPad.NotSet,
            "SAME_UPPER" => OnnxAutoPad.SameUpper,
            "SAME_LOWER" => OnnxAutoPad.SameLower,
            "VALID" => OnnxAutoPad.Valid,
            _ => throw new ArgumentException($"Unknown auto_pad '{AutoPad}'.", nameof(AutoPad)),
        };
        return PoolDescriptor.FromOnnx(Op == OnnxPoolOp.MaxPool ? PoolMode.Max : PoolMode.Average,
            KernelShape ?? [], Strides ?? [], Pads ?? [], Dilations ?? [], autoPad, CeilMode, CountIncludePad, inputShape);
    }

    /// <summary>For example <c>MaxPool k=[3,3] s=[2,2] pads=[1,0,1,1] d=[1,1] ceil</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(OpType);
        if (IsGlobal) return text.ToString();
        Append(text, "k", KernelShape);
        Append(text, "s", Strides);
        Append(text, "pads", Pads);
        Append(text, "d", Dilations);
        if (AutoPad != null) text.Append(" auto_pad=").Append(AutoPad);
        if (CeilMode) text.Append(" ceil");
        if (Op == OnnxPoolOp.AveragePool) text.Append(CountIncludePad ? " include-pad" : " exclude-pad");
        return text.ToString();

        static void Append(StringBuilder text, string name, int[]? values)
        {
            if (values != null) text.Append(' ').Append(name).Append("=[").Append(string.Join(",", values)).Append(']');
        }
    }
}

/// <summary>
/// Writes an ONNX <c>ModelProto</c> holding a single pooling node, as protobuf bytes, with a hand-written encoder
/// (no Google.Protobuf dependency). Only the handful of fields the model needs are written; field numbers follow
/// onnx/onnx.proto (IR version 9):
/// <list type="bullet">
/// <item>ModelProto: ir_version = 1 (int64), graph = 7, opset_import = 8.</item>
/// <item>OperatorSetIdProto: domain = 1, version = 2.</item>
/// <item>GraphProto: node = 1, name = 2, input = 11, output = 12.</item>
/// <item>NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.</item>
/// <item>AttributeProto: name = 1, i = 3, s = 4, ints = 8, type = 20 (INT = 2, STRING = 3, INTS = 7).</item>
/// <item>ValueInfoProto: name = 1, type = 2; TypeProto: tensor_type = 1; TypeProto.Tensor: elem_type = 1, shape = 2;
/// TensorShapeProto: dim = 1; Dimension: dim_value = 1.</item>
/// </list>
/// </summary>
public static class OnnxModelBuilder
{
    /// <summary>The IR version written (ONNX 1.14+; ONNX Runtime 1.31 reads it).</summary>
    public const long IrVersion = 9;

    /// <summary>The default-domain opset: 19 has AveragePool with dilations and ceil_mode.</summary>
    public const long Opset = 19;

    /// <summary>Name of the graph input.</summary>
    public const string InputName = "X";

    /// <summary>Name of the graph output.</summary>
    public const string OutputName = "Y";

    /// <summary>
    /// The model bytes for one pooling node <c>Y = op(X)</c>.
    /// </summary>
    /// <param name="spec">The node's operator and attributes.</param>
    /// <param name="elementType">Float or double.</param>
    /// <param name="inputShape">The full input shape, N, C, spatial...; declared with fixed dims.</param>
    /// <param name="outputShape">
    /// The output shape to declare, or null to declare the output's element type and no shape. Under ceil_mode ONNX's
    /// shape inference can disagree with the declared shape; ORT then logs "Error merging shape info" and leaves the
    /// disputed dims unknown (see <see cref="OnnxPoolRunner{T}"/>).
    /// </param>
    public static byte[] Build(OnnxPoolSpec spec, OnnxElementType elementType, ReadOnlySpan<long> inputShape, long[]? outputShape = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var model = new ProtoWriter();
        model.WriteInt64(1, IrVersion);
        long[] input = inputShape.ToArray();
        model.WriteMessage(7, graph =>
        {
            graph.WriteMessage(1, node => WriteNode(node, spec));
            graph.WriteString(2, "pool");
            graph.WriteMessage(11, value => WriteValueInfo(value, InputName, elementType, input));
            graph.WriteMessage(12, value => WriteValueInfo(value, OutputName, elementType, outputShape));
        });
        model.WriteMessage(8, opset =>
        {
            opset.WriteString(1, "");
            opset.WriteInt64(2, Opset);
        });
        return model.ToArray();
    }

    private static void WriteNode(ProtoWriter node, OnnxPoolSpec spec)
    {
        node.WriteString(1, InputName);
        node.WriteString(2, OutputName);
        node.WriteString(3, "pool0");
        node.WriteString(4, spec.OpType);
        if (spec.IsGlobal) return;

        if (spec.AutoPad != null) WriteStringAttribute(node, "auto_pad", spec.AutoPad);
        WriteIntAttribute(node, "ceil_mode", spec.CeilMode ? 1 : 0);
        if (spec.Op == OnnxPoolOp.AveragePool) WriteIntAttribute(node, "count_include_pad", spec.CountIncludePad ? 1 : 0);
        if (spec.Dilations != null) WriteIntsAttribute(node, "dilations", spec.Dilations);
        WriteIntsAttribute(node, "kernel_shape", spec.KernelShape ?? throw new ArgumentException($"{spec.OpType} needs kernel_shape.", nameof(spec)));
        if (spec.Pads != null) WriteIntsAttribute(node, "pads", spec.Pads);
        if (spec.Strides != null) WriteIntsAttribute(node, "strides", spec.Strides);
    }

    private static void WriteIntAttribute(ProtoWriter node, string name, long value) =>
        node.WriteMessage(5, attribute =>
        {
            attribute.WriteString(1, name);
            attribute.WriteInt64(3, value);
            attribute.WriteInt64(20, 2); // INT
        });

    private static void WriteStringAttribute(ProtoWriter node, string name, string value) =>
        node.WriteMessage(5, attribute =>
        {
            attribute.WriteString(1, name);
            attribute.WriteString(4, value);
            attribute.WriteInt64(20, 3); // STRING
        });

    private static void WriteIntsAttribute(ProtoWriter node, string name, IReadOnlyList<int> values) =>
        node.WriteMessage(5, attribute =>
        {
            attribute.WriteString(1, name);
            // proto2 `repeated int64`: one unpacked entry per value (parsers accept packed too).
            foreach (int value in values) attribute.WriteInt64(8, value);
            attribute.WriteInt64(20, 7); // INTS
        });

    private static void WriteValueInfo(ProtoWriter value, string name, OnnxElementType elementType, long[]? shape)
    {
        value.WriteString(1, name);
        value.WriteMessage(2, type =>
            type.WriteMessage(1, tensor =>
            {
                tensor.WriteInt64(1, (long)elementType);
                if (shape == null) return;
                tensor.WriteMessage(2, tensorShape =>
                {
                    foreach (long size in shape)
                        tensorShape.WriteMessage(1, dimension => dimension.WriteInt64(1, size));
                });
            }));
    }

    /// <summary>The minimal protobuf encoder: varint and length-delimited fields.</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _stream = new();

        public void WriteInt64(int field, long value)
        {
            WriteTag(field, 0);
            WriteVarint((ulong)value); // negative int64 values take ten bytes, as protobuf specifies
        }

        public void WriteString(int field, string value) => WriteBytes(field, Encoding.UTF8.GetBytes(value));

        public void WriteMessage(int field, Action<ProtoWriter> body)
        {
            var inner = new ProtoWriter();
            body(inner);
            WriteBytes(field, inner.ToArray());
        }

        public byte[] ToArray() => _stream.ToArray();

        private void WriteBytes(int field, byte[] bytes)
        {
            WriteTag(field, 2);
            WriteVarint((ulong)bytes.Length);
            _stream.Write(bytes);
        }

        private void WriteTag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _stream.WriteByte((byte)value);
        }
    }
}
