using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace KernelGen.Tool;

/// <summary>One row of <c>kernelgen verify</c>: a layer run by KernelGen's Pooling.Run and compared with ORT.</summary>
internal sealed record VerifiedLayer(
    LayerPlan Plan, string Route, string Kernel, string Input, string Output, LayerComparison Comparison,
    double? OrtMicroseconds, double? KernelGenMicroseconds, string? Note)
{
    public double? Speedup => OrtMicroseconds is { } ort && KernelGenMicroseconds is { } kg && kg > 0 ? ort / kg : null;
}

/// <summary>
/// <c>kernelgen verify</c>: the model runs once in ONNX Runtime with every pooling node's tensors captured; each layer
/// then runs through KernelGen on its real input, is compared with ORT's real output, and both are timed on one thread.
/// </summary>
internal static class Verifier
{
    public static List<VerifiedLayer> Verify(ModelLayers model, double secondsPerLayer, Progress progress)
    {
        var rows = new List<VerifiedLayer>();
        if (model.Layers.Count == 0) return rows; // nothing to run: the model was not run either
        var captured = model.Captured ?? throw new InvalidOperationException("verify reads the layers from a run");
        int index = 0;
        foreach (var plan in model.Layers)
        {
            index++;
            progress.Step($"layer {index}/{model.Layers.Count}: {plan.Node.Name} ({plan.Node.OpType})");
            if (!captured.TryGetValue(plan.Node.Input, out var input) || !captured.TryGetValue(plan.Node.Output, out var expected))
            {
                rows.Add(new(plan, "-", "-", "?", "?", LayerComparison.NotCompared("ONNX Runtime produced no tensor for it"), null, null, null));
                continue;
            }
            string inputText = ActivationCapture.Dims(input.Dims), outputText = ActivationCapture.Dims(expected.Dims);
            if (plan.Path == LayerPath.CannotRun)
            {
                rows.Add(new(plan, "cannot run", "-", inputText, outputText, LayerComparison.NotCompared(plan.Reason!), TimeOrt(model.Model, plan, input, expected, secondsPerLayer), null, null));
                continue;
            }
            double? ort = TimeOrt(model.Model, plan, input, expected, secondsPerLayer);
            var shape = plan.Shape!.Value;
            rows.Add(plan.IsDouble
                ? RunLayer<double>(plan, plan.Descriptor, input.Doubles!, expected, shape, inputText, outputText, ort, secondsPerLayer, captured)
                : RunLayer<float>(plan, plan.Descriptor, input.Floats!, expected, shape, inputText, outputText, ort, secondsPerLayer, captured));
        }
        return rows;
    }

    private static VerifiedLayer RunLayer<T>(LayerPlan plan, PoolDescriptor? descriptor, T[] input, CapturedTensor expected, PoolShape shape,
        string inputText, string outputText, double? ort, double seconds, Dictionary<string, CapturedTensor> captured)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T[] expectedValues = typeof(T) == typeof(double) ? (T[])(object)expected.Doubles! : (T[])(object)expected.Floats!;
        bool global = descriptor is null;
        var outputShape = global ? Pooling.GetGlobalOutputShape(shape) : descriptor!.Value.GetOutputShape(shape);
        var output = new T[outputShape.ElementCount];
        long[]? indices = plan.Node.IndicesOutput != null && !global ? new long[output.Length] : null;
        Action run = global
            ? () => RunGlobal(plan.GlobalMode!.Value, input, output, shape)
            : indices != null ? () => RunWithIndices(descriptor!.Value, input, output, indices, shape) : () => RunPooling(descriptor!.Value, input, output, shape);
        run();

        string? specialized = global || indices != null ? null : LayerPlan.RegisteredKernel(descriptor!.Value, shape, typeof(T) == typeof(double));
        string route = global ? "global" : specialized != null ? "specialized" : "general engine";
        string kernel = global ? plan.Kernel : specialized ?? "general engine";
        var outputDims = expected.Dims;
        bool sameShape = outputShape.ToString() == ActivationCapture.Dims(outputDims) || (outputDims.Length == 0 && output.Length == 0);
        LayerComparison comparison;
        if (!sameShape)
        {
            bool dilatedSame = plan.Node.Text("auto_pad") is "SAME_UPPER" or "SAME_LOWER" && (plan.Node.Ints("dilations")?.Any(d => d != 1) ?? false);
            comparison = new(dilatedSame ? Agreement.OrtDeparture : Agreement.Mismatch, output.Length, dilatedSame ? 0 : output.Length, double.NaN, double.NaN,
                $"output shape: KernelGen {outputShape}, ONNX Runtime {outputText}" + (dilatedSame ? " (ORT resolves dilated SAME padding with k, not the effective kernel: departure 3)" : ""));
        }
        else
        {
            double meanMagnitude = input.Length == 0 ? 0 : input.Average(v => Math.Abs(double.CreateTruncating(v)));
            comparison = LayerComparison.Compare<T>(output, expectedValues, exact: plan.Node.OpType is "MaxPool" or "GlobalMaxPool", meanMagnitude);
            if (indices != null && comparison.Agreement != Agreement.Mismatch && captured.TryGetValue(plan.Node.IndicesOutput!, out var onnxIndices) && onnxIndices.Longs is { } want)
                comparison = CompareIndices(comparison, indices, want, shape, outputShape, plan.Node.Int("storage_order") is 1);
        }
        double? kernelGen = Measure(run, seconds);
        return new(plan, route, kernel, inputText, outputText, comparison, ort, kernelGen, specialized != null ? plan.SymmetricNote() : null);
    }

    internal static void RunPooling<T>(PoolDescriptor descriptor, T[] input, T[] output, PoolShape shape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) Pooling.Run(descriptor, (float[])(object)input, (float[])(object)output, shape, maxDegreeOfParallelism: 1);
        else Pooling.Run(descriptor, (double[])(object)input, (double[])(object)output, shape, maxDegreeOfParallelism: 1);
    }

    internal static void RunGlobal<T>(PoolMode mode, T[] input, T[] output, PoolShape shape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            if (mode == PoolMode.Max) Pooling.GlobalMax((float[])(object)input, (float[])(object)output, shape, maxDegreeOfParallelism: 1);
            else Pooling.GlobalAverage((float[])(object)input, (float[])(object)output, shape, maxDegreeOfParallelism: 1);
        }
        else if (mode == PoolMode.Max) Pooling.GlobalMax((double[])(object)input, (double[])(object)output, shape, maxDegreeOfParallelism: 1);
        else Pooling.GlobalAverage((double[])(object)input, (double[])(object)output, shape, maxDegreeOfParallelism: 1);
    }

    private static void RunWithIndices<T>(PoolDescriptor descriptor, T[] input, T[] output, long[] indices, PoolShape shape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) Pooling.Run(descriptor, (float[])(object)input, (float[])(object)output, indices, shape, maxDegreeOfParallelism: 1);
        else Pooling.Run(descriptor, (double[])(object)input, (double[])(object)output, indices, shape, maxDegreeOfParallelism: 1);
    }

    /// <summary>
    /// ONNX's indices count over the whole tensor (the plane's offset added) and, with storage_order 1, within the plane
    /// column by column; KernelGen's are row-major positions inside the (n, c) plane. Converted, they must be equal.
    /// </summary>
    private static LayerComparison CompareIndices(LayerComparison values, long[] planeIndices, long[] onnx, PoolShape shape, PoolShape outputShape, bool columnMajor)
    {
        long planeSize = shape.PlaneSize, outputPlane = outputShape.PlaneSize;
        long differ = 0;
        for (long i = 0; i < planeIndices.Length; i++)
        {
            long plane = i / outputPlane, p = planeIndices[i];
            long position = columnMajor && p >= 0 ? p / shape.Width + p % shape.Width * shape.Height : p;
            if (p < 0 || plane * planeSize + position != onnx[i]) differ++;
        }
        return differ == 0 ? values with { Detail = values.Detail + "; indices equal" }
            : new(Agreement.Mismatch, values.Cells, differ, values.MaxAbsoluteError, values.MaxRelativeError, $"{differ} indices differ from ONNX Runtime's");
    }

    /// <summary>The median time of one call in microseconds, over as many calls as fit in <paramref name="seconds"/> (at least 5).</summary>
    public static double Measure(Action call, double seconds)
    {
        call();
        call();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed.TotalSeconds < seconds && times.Count < 100_000))
        {
            long start = Stopwatch.GetTimestamp();
            call();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>
    /// ORT's time for the layer alone: a one-node model holding the node exactly as the model has it, run on the captured
    /// input into a preallocated output, one thread. Null when ORT refuses the one-node model.
    /// </summary>
    private static double? TimeOrt(OnnxModelFile model, LayerPlan plan, CapturedTensor input, CapturedTensor output, double seconds)
    {
        var original = model.Model.Graph.Node[plan.Node.Index];
        var node = original.Clone();
        node.Input.Clear();
        node.Input.Add("X");
        node.Output.Clear();
        node.Output.Add("Y");
        if (plan.Node.IndicesOutput != null) node.Output.Add("I");
        var graph = new GraphProto { Name = "layer" };
        graph.Node.Add(node);
        graph.Input.Add(Value("X", input.ElementType, input.Dims));
        graph.Output.Add(Value("Y", output.ElementType, output.Dims));
        if (plan.Node.IndicesOutput != null) graph.Output.Add(Value("I", 7, output.Dims));
        var single = new ModelProto { IrVersion = model.Model.IrVersion, Graph = graph };
        single.OpsetImport.AddRange(model.Model.OpsetImport.Select(o => o.Clone()));
        try
        {
            using var options = ActivationCapture.CreateSessionOptions();
            using var session = new InferenceSession(single.ToByteArray(), options);
            using var runOptions = new RunOptions();
            using var x = input.Floats != null ? OrtValue.CreateTensorValueFromMemory(input.Floats, input.Dims) : OrtValue.CreateTensorValueFromMemory(input.Doubles!, input.Dims);
            long count = output.Dims.Aggregate(1L, (a, b) => a * b);
            using var y = output.Floats != null ? OrtValue.CreateTensorValueFromMemory(new float[count], output.Dims) : OrtValue.CreateTensorValueFromMemory(new double[count], output.Dims);
            using var i = plan.Node.IndicesOutput != null ? OrtValue.CreateTensorValueFromMemory(new long[count], output.Dims) : null;
            string[] inputNames = ["X"];
            string[] outputNames = i is null ? ["Y"] : ["Y", "I"];
            OrtValue[] inputs = [x];
            OrtValue[] outputs = i is null ? [y] : [y, i];
            return Measure(() => session.Run(runOptions, inputNames, inputs, outputNames, outputs), seconds);
        }
        catch (OnnxRuntimeException)
        {
            return null;
        }
    }

    private static ValueInfoProto Value(string name, int elementType, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }
}
