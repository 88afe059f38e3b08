using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Onnx;

namespace KernelGen.Tool;

/// <summary>A tensor's element type and dimensions as the model declares them; a symbolic or missing dimension is -1.</summary>
internal sealed record TensorInfo(int ElementType, long[] Dims, string?[] DimNames)
{
    public bool IsConcrete => Dims.Length > 0 && Dims.All(d => d >= 0);

    public override string ToString() => string.Join("x", Dims.Select((d, i) => d >= 0 ? d.ToString(CultureInfo.InvariantCulture) : DimNames[i] ?? "?"));
}

/// <summary>One pooling-like node of the graph, with its attributes by name.</summary>
internal sealed record PoolNode(int Index, string Name, string OpType, string Domain, string Input, string Output, string? IndicesOutput,
    IReadOnlyDictionary<string, AttributeProto> Attributes)
{
    /// <summary>The ONNX standard pooling operators kernelgen maps (default domain).</summary>
    public static readonly string[] StandardOps = ["MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool", "LpPool", "GlobalLpPool"];

    public bool IsStandard => Domain is "" or "ai.onnx" && StandardOps.Contains(OpType);

    public int[]? Ints(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints.Select(v => checked((int)v)).ToArray() : null;

    public long? Int(string name) => Attributes.TryGetValue(name, out var a) ? a.I : null;

    public string? Text(string name) => Attributes.TryGetValue(name, out var a) ? a.S.ToStringUtf8() : null;

    /// <summary>The attributes as ONNX writes them, for example <c>kernel_shape=[3,3] strides=[2,2] pads=[1,1,0,0]</c>.</summary>
    public string AttributeText => string.Join(" ", Attributes.Values.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => a.Type switch
    {
        AttributeProto.Types.AttributeType.Ints => $"{a.Name}=[{string.Join(",", a.Ints)}]",
        AttributeProto.Types.AttributeType.Int => $"{a.Name}={a.I}",
        AttributeProto.Types.AttributeType.String => $"{a.Name}={a.S.ToStringUtf8()}",
        AttributeProto.Types.AttributeType.Float => $"{a.Name}={a.F.ToString(CultureInfo.InvariantCulture)}",
        _ => $"{a.Name}=({a.Type})",
    }));
}

/// <summary>An ONNX model read with OnnxSharp (the ONNX protobuf classes over Google.Protobuf), checked for what kernelgen needs.</summary>
internal sealed class OnnxModelFile
{
    /// <summary>
    /// The newest default-domain opset whose pooling operators kernelgen knows: every pooling operator's latest version
    /// is 22 (MaxPool, AveragePool, LpPool and the global ones). A newer opset may change them.
    /// </summary>
    public const long NewestKnownOpset = 22;

    private readonly Dictionary<string, TensorInfo> _declared = new(StringComparer.Ordinal);

    private OnnxModelFile(string path, ModelProto model, long opset)
    {
        Path = path;
        Model = model;
        Opset = opset;
        foreach (var value in model.Graph.Input.Concat(model.Graph.ValueInfo).Concat(model.Graph.Output))
            if (ToInfo(value) is { } info) _declared[value.Name] = info;
        Initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
    }

    public string Path { get; }

    public ModelProto Model { get; }

    /// <summary>The default domain's opset version.</summary>
    public long Opset { get; }

    /// <summary>Names of the graph's initializers (weights): graph inputs among them need no value.</summary>
    public IReadOnlySet<string> Initializers { get; }

    /// <summary>Reads and checks <paramref name="path"/>.</summary>
    /// <exception cref="ToolException">The file is missing, is not ONNX, or uses an opset or domain kernelgen does not know.</exception>
    public static OnnxModelFile Load(string path, bool allowNewerOpset)
    {
        if (!File.Exists(path))
            throw new ToolException(ExitCode.FileNotFound, Directory.Exists(path) ? $"'{path}' is a directory, not an ONNX model file." : $"The model file '{path}' does not exist.");
        ModelProto model;
        try
        {
            using var stream = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ToolException(ExitCode.NotOnnx, $"'{path}' is not an ONNX model: it does not parse as an ONNX ModelProto ({e.Message}).", e);
        }
        // Many byte strings parse as some protobuf message; an ONNX model has at least an IR version, a graph with a node and an opset.
        if (model.IrVersion < 1 || model.Graph is null || model.Graph.Node.Count == 0 || model.OpsetImport.Count == 0)
            throw new ToolException(ExitCode.NotOnnx, $"'{path}' is not an ONNX model: it has no {(model.IrVersion < 1 ? "IR version" : model.Graph is null || model.Graph.Node.Count == 0 ? "graph nodes" : "opset import")}.");

        var domains = model.OpsetImport.ToDictionary(o => o.Domain is "ai.onnx" ? "" : o.Domain, o => o.Version);
        if (!domains.TryGetValue("", out long opset))
            throw new ToolException(ExitCode.Unsupported, $"'{path}' imports no default-domain (ai.onnx) opset; its domains are {string.Join(", ", domains.Keys)}.");
        if (opset < 1)
            throw new ToolException(ExitCode.Unsupported, $"'{path}' declares ai.onnx opset {opset}; opsets start at 1.");
        if (opset > NewestKnownOpset && !allowNewerOpset)
            throw new ToolException(ExitCode.Unsupported,
                $"'{path}' uses ai.onnx opset {opset}; kernelgen knows the pooling operators up to opset {NewestKnownOpset}. A newer opset may change them; --allow-newer-opset reads the model as opset {NewestKnownOpset}.");
        foreach (var node in model.Graph.Node)
        {
            string domain = node.Domain is "ai.onnx" ? "" : node.Domain;
            if (!domains.ContainsKey(domain))
                throw new ToolException(ExitCode.Unsupported,
                    $"Node '{node.Name}' is operator {node.OpType} of domain '{node.Domain}', which the model does not import (it imports {string.Join(", ", domains.Keys.Select(d => d.Length == 0 ? "ai.onnx" : d))}).");
        }
        return new OnnxModelFile(path, model, opset);
    }

    /// <summary>Every node whose operator is a pooling operator: the standard ones, and any other *Pool operator so it can be reported.</summary>
    public IReadOnlyList<PoolNode> PoolingNodes()
    {
        var nodes = new List<PoolNode>();
        for (int i = 0; i < Model.Graph.Node.Count; i++)
        {
            var node = Model.Graph.Node[i];
            if (!node.OpType.Contains("Pool", StringComparison.Ordinal)) continue;
            string name = node.Name.Length > 0 ? node.Name : $"{node.OpType}_{i}";
            string? indices = node.OpType == "MaxPool" && node.Output.Count > 1 && node.Output[1].Length > 0 ? node.Output[1] : null;
            var attributes = new Dictionary<string, AttributeProto>(StringComparer.Ordinal);
            foreach (var attribute in node.Attribute) attributes[attribute.Name] = attribute;
            nodes.Add(new PoolNode(i, name, node.OpType, node.Domain, node.Input.FirstOrDefault() ?? "", node.Output.FirstOrDefault() ?? "", indices, attributes));
        }
        return nodes;
    }

    /// <summary>What the model declares about a tensor (graph input, value_info or output), or null.</summary>
    public TensorInfo? Declared(string name) => _declared.GetValueOrDefault(name);

    /// <summary>The graph inputs that need a value (not initializers).</summary>
    public IEnumerable<ValueInfoProto> FeedInputs => Model.Graph.Input.Where(i => !Initializers.Contains(i.Name));

    private static TensorInfo? ToInfo(ValueInfoProto value)
    {
        if (value.Type?.TensorType is not { } tensor) return null;
        if (tensor.Shape is null) return new TensorInfo(tensor.ElemType, [], []);
        var dims = tensor.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1).ToArray();
        var names = tensor.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : null).ToArray();
        return new TensorInfo(tensor.ElemType, dims, names);
    }

    /// <summary>ONNX's TensorProto.DataType names for the types a pooling input can have.</summary>
    public static string ElementTypeName(int type) => type switch
    {
        1 => "float", 2 => "uint8", 3 => "int8", 10 => "float16", 11 => "double", 16 => "bfloat16", 0 => "unknown",
        _ => $"type {type}",
    };
}
