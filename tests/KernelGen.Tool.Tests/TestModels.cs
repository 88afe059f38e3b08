using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Onnx;

namespace KernelGen.Tool.Tests;

/// <summary>Small ONNX models built with OnnxSharp's protobuf classes and saved to temporary files.</summary>
internal static class TestModels
{
    public const int Float = 1, Double = 11, Float16 = 10;

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static NodeProto Node(string op, string input, string output, string name, params AttributeProto[] attributes) =>
        Node(op, [input], [output], name, attributes);

    public static NodeProto Node(string op, string[] inputs, string[] outputs, string name, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    /// <summary>A tensor value: dims are longs (fixed) or strings (symbolic); null declares the type and no shape.</summary>
    public static ValueInfoProto Value(string name, int elementType, params object[]? dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = elementType };
        if (dims != null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (var dim in dims)
                tensor.Shape.Dim.Add(dim is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }

    public static ModelProto Model(IEnumerable<NodeProto> nodes, IEnumerable<ValueInfoProto> inputs, IEnumerable<ValueInfoProto> outputs,
        long opset = 19, IEnumerable<ValueInfoProto>? valueInfo = null, string? extraDomain = null)
    {
        var graph = new GraphProto { Name = "test" };
        graph.Node.AddRange(nodes);
        graph.Input.AddRange(inputs);
        graph.Output.AddRange(outputs);
        if (valueInfo != null) graph.ValueInfo.AddRange(valueInfo);
        var model = new ModelProto { IrVersion = 9, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        if (extraDomain != null) model.OpsetImport.Add(new OperatorSetIdProto { Domain = extraDomain, Version = 1 });
        return model;
    }

    /// <summary>One pooling node Y = op(X) on a declared input; the output declares its type only.</summary>
    public static ModelProto Single(string op, object[] inputDims, int elementType = Float, long opset = 19, params AttributeProto[] attributes) =>
        Model([Node(op, "X", "Y", "pool", attributes)], [Value("X", elementType, inputDims)], [Value("Y", elementType, null)], opset);

    public static string Save(ModelProto model) => Save(model.ToByteArray());

    public static string Save(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"kernelgen-test-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The layers of a model as the tool maps them (shapes declared, or from a run when missing).</summary>
    public static IReadOnlyList<LayerPlan> Layers(ModelProto model, IReadOnlyDictionary<string, long>? dims = null)
    {
        string path = Save(model);
        try
        {
            var file = OnnxModelFile.Load(path, allowNewerOpset: false);
            return ModelLayers.Read(file, run: false, dims ?? new Dictionary<string, long>(), seed: 1, new Progress(TextWriter.Null)).Layers;
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static LayerPlan Layer(ModelProto model) => Layers(model).Single();

    /// <summary>Runs the tool in-process; returns the exit code, standard output and standard error.</summary>
    public static (int Code, string Output, string Error) Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = KernelGenCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
