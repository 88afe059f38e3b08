using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace KernelGen.Tool;

/// <summary>A tensor ONNX Runtime produced: its dims, element type and values (float or double; others are not kept).</summary>
internal sealed record CapturedTensor(long[] Dims, int ElementType, float[]? Floats, double[]? Doubles, long[]? Longs)
{
    public TensorInfo Info => new(ElementType, Dims, new string?[Dims.Length]);
}

/// <summary>
/// Runs the whole model once in ONNX Runtime on a deterministic input, with every pooling node's input and outputs
/// added as graph outputs, and keeps those tensors: the layers' real activations and ORT's results for them.
/// </summary>
internal static class ActivationCapture
{
    /// <summary>Sessions run on one thread with ORT's logging limited to errors.</summary>
    public static SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        return options;
    }

    /// <summary>The graph inputs' shapes with every symbolic dimension resolved: <paramref name="dims"/> by name, else 1 for a leading (batch) axis.</summary>
    public static Dictionary<string, (long[] Dims, int ElementType)> ResolveInputs(OnnxModelFile model, IReadOnlyDictionary<string, long> dims)
    {
        var inputs = new Dictionary<string, (long[], int)>(StringComparer.Ordinal);
        foreach (var input in model.FeedInputs)
        {
            var tensor = input.Type?.TensorType
                ?? throw new ToolException(ExitCode.UnresolvedShape, $"Graph input '{input.Name}' is not a tensor; kernelgen feeds tensors only.");
            if (tensor.Shape is null)
                throw new ToolException(ExitCode.UnresolvedShape, $"Graph input '{input.Name}' declares no shape; kernelgen cannot make an input for it.");
            var resolved = new long[tensor.Shape.Dim.Count];
            for (int i = 0; i < resolved.Length; i++)
            {
                var dim = tensor.Shape.Dim[i];
                if (dim.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && dim.DimValue >= 0) { resolved[i] = dim.DimValue; continue; }
                string name = dim.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? dim.DimParam : "";
                if (name.Length > 0 && dims.TryGetValue(name, out long value)) resolved[i] = value;
                else if (i == 0) resolved[i] = 1; // the batch axis
                else
                    throw new ToolException(ExitCode.UnresolvedShape,
                        $"Graph input '{input.Name}' has a dynamic dimension {i}{(name.Length > 0 ? $" ('{name}')" : " (unnamed)")} that kernelgen cannot resolve; "
                        + (name.Length > 0 ? $"pass --dim {name}=<size>." : "give it a name in the model or a fixed size."));
            }
            inputs[input.Name] = (resolved, tensor.ElemType);
        }
        return inputs;
    }

    /// <summary>Runs the model; returns every tensor named in <paramref name="wanted"/> that ORT produced.</summary>
    public static Dictionary<string, CapturedTensor> Run(OnnxModelFile model, IEnumerable<string> wanted, IReadOnlyDictionary<string, long> dims, int seed)
    {
        var inputs = ResolveInputs(model, dims);
        var probe = model.Model.Clone();
        var outputs = probe.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var names = wanted.Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        foreach (var name in names.Where(n => !outputs.Contains(n)))
        {
            // ORT infers the shape; the element type is the declared one, else float (the type of pooling in the models it reads).
            int elementType = model.Declared(name)?.ElementType is > 0 and var declared ? declared : 1;
            probe.Graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType } } });
        }

        var random = new Random(seed);
        var values = new List<OrtValue>();
        try
        {
            foreach (var (name, (shape, type)) in inputs)
                values.Add(MakeInput(name, shape, type, random));
            using var options = CreateSessionOptions();
            InferenceSession session;
            try
            {
                session = new InferenceSession(probe.ToByteArray(), options);
            }
            catch (OnnxRuntimeException e)
            {
                throw new ToolException(ExitCode.RuntimeFailed, $"ONNX Runtime cannot load '{model.Path}': {e.Message}", e);
            }
            using (session)
            using (var runOptions = new RunOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR })
            {
                IDisposableReadOnlyCollection<OrtValue> results;
                try
                {
                    results = session.Run(runOptions, inputs.Keys.ToArray(), values.ToArray(), names.ToArray());
                }
                catch (OnnxRuntimeException e)
                {
                    throw new ToolException(ExitCode.RuntimeFailed, $"ONNX Runtime cannot run '{model.Path}' on inputs {string.Join(", ", inputs.Select(i => $"{i.Key} {string.Join("x", i.Value.Item1)}"))}: {e.Message}", e);
                }
                using (results)
                {
                    var captured = new Dictionary<string, CapturedTensor>(StringComparer.Ordinal);
                    for (int i = 0; i < names.Count; i++)
                        captured[names[i]] = Copy(results[i]);
                    return captured;
                }
            }
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    /// <summary>A deterministic input: uniform in [-1, 1) from <paramref name="random"/> for floating-point types, zeros for integers.</summary>
    private static OrtValue MakeInput(string name, long[] shape, int elementType, Random random)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count > Array.MaxLength)
            throw new ToolException(ExitCode.UnresolvedShape, $"Graph input '{name}' of shape {string.Join("x", shape)} is too large to make.");
        return elementType switch
        {
            1 => OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, (int)count).Select(_ => random.NextSingle() * 2 - 1).ToArray(), shape),
            11 => OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, (int)count).Select(_ => random.NextDouble() * 2 - 1).ToArray(), shape),
            7 => OrtValue.CreateTensorValueFromMemory(new long[count], shape),
            6 => OrtValue.CreateTensorValueFromMemory(new int[count], shape),
            _ => throw new ToolException(ExitCode.Unsupported, $"Graph input '{name}' is {OnnxModelFile.ElementTypeName(elementType)}; kernelgen makes float, double, int32 and int64 inputs."),
        };
    }

    private static CapturedTensor Copy(OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        long[] dims = info.Shape;
        return info.ElementDataType switch
        {
            TensorElementType.Float => new(dims, 1, value.GetTensorDataAsSpan<float>().ToArray(), null, null),
            TensorElementType.Double => new(dims, 11, null, value.GetTensorDataAsSpan<double>().ToArray(), null),
            TensorElementType.Int64 => new(dims, 7, null, null, value.GetTensorDataAsSpan<long>().ToArray()),
            var other => new(dims, (int)other, null, null, null),
        };
    }

    public static string Dims(long[] dims) => string.Join("x", dims.Select(d => d.ToString(CultureInfo.InvariantCulture)));
}
