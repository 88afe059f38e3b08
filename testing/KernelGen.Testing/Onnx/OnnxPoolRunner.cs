using System;
using System.Linq;
using Microsoft.ML.OnnxRuntime;

namespace KernelGen.Testing.Onnx;

/// <summary>
/// One ONNX Runtime session holding a single pooling node, with its input and output tensors allocated once, so that
/// <see cref="Run"/> times the operator alone (what the benchmarks measure).
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// <para>
/// The output shape is KernelGen's (<see cref="PoolDescriptor.GetOutputShape"/>, or <c>N x C x 1...</c> for the
/// global operators), and the model declares it. That matters under ceil_mode: ONNX's graph-level shape inference
/// omits the "last window must start inside the input" correction, so it can disagree with ORT's own kernel (which
/// agrees with us). ORT checks preallocated outputs against the graph output's shape, so declaring no shape fails
/// ("Got invalid dimensions for output: Y ... Got: 3 Expected: 4", 4 being the inferred size). Declaring ours makes
/// ORT fail to merge it with the inferred one; it then falls back to a lenient merge that leaves the disputed dims
/// unknown and logs "Error merging shape info" as a warning (not shown: sessions log fatal errors only, since the
/// tests provoke rejections on purpose). The preallocated output doubles as a check: ORT fails the run if its kernel
/// asks for any other shape than ours.
/// </para>
/// <para>
/// Sessions run on one thread (intra- and inter-op 1) with ORT's logging limited to fatal errors. The optimization level
/// defaults to <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/>, ORT's own default, which is what its users get
/// (for channel counts that are multiples of the NCHWc block that includes ORT's channel-blocked pooling).
/// </para>
/// </remarks>
public sealed class OnnxPoolRunner<T> : IDisposable where T : unmanaged
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly AlignedBuffer<T> _input;
    private readonly AlignedBuffer<T> _output;
    private readonly OrtValue _inputValue;
    private readonly OrtValue _outputValue;
    private readonly string[] _inputNames = [OnnxModelBuilder.InputName];
    private readonly string[] _outputNames = [OnnxModelBuilder.OutputName];
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _outputs;

    /// <summary>Creates the session and the tensors.</summary>
    /// <param name="spec">The pooling node.</param>
    /// <param name="inputShape">N, C and the spatial sizes.</param>
    /// <param name="outputShape">The output shape to preallocate; null computes KernelGen's (see the remarks).</param>
    /// <param name="optimizationLevel">ORT's graph optimization level.</param>
    /// <exception cref="OnnxRuntimeException">ORT rejects the model (for example pads not below the kernel).</exception>
    public OnnxPoolRunner(OnnxPoolSpec spec, long[] inputShape, long[]? outputShape = null,
        GraphOptimizationLevel optimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(inputShape);
        Spec = spec;
        InputShape = (long[])inputShape.Clone();
        OutputShape = outputShape != null ? (long[])outputShape.Clone() : KernelGenOutputShape(spec, inputShape);
        _input = new AlignedBuffer<T>(checked((int)InputShape.Aggregate(1L, (a, b) => a * b)));
        _output = new AlignedBuffer<T>(checked((int)OutputShape.Aggregate(1L, (a, b) => a * b)));

        using (var options = CreateSessionOptions(optimizationLevel))
            _session = new InferenceSession(OnnxModelBuilder.Build(spec, ElementType, InputShape, OutputShape), options);
        _runOptions = new RunOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        // The OrtValues wrap the buffers' native memory: ORT reads Input and writes Output in place, with no copies per
        // run, on 64-byte-aligned tensors as it allocates its own.
        _inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _input.Memory, InputShape);
        _outputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.Memory, OutputShape);
        _inputs = [_inputValue];
        _outputs = [_outputValue];
    }

    /// <summary>The pooling node.</summary>
    public OnnxPoolSpec Spec { get; }

    /// <summary>N, C, spatial sizes of the input.</summary>
    public long[] InputShape { get; }

    /// <summary>N, C, spatial sizes of the preallocated output.</summary>
    public long[] OutputShape { get; }

    /// <summary>The input tensor's memory (64-byte aligned), channels first: fill it before <see cref="Run"/>.</summary>
    public Span<T> Input => _input.Span;

    /// <summary>The output tensor's memory (64-byte aligned), written by <see cref="Run"/>.</summary>
    public Span<T> Output => _output.Span;

    /// <summary>The ONNX element type of <typeparamref name="T"/>.</summary>
    public static OnnxElementType ElementType =>
        typeof(T) == typeof(float) ? OnnxElementType.Float
        : typeof(T) == typeof(double) ? OnnxElementType.Double
        : throw new NotSupportedException($"ONNX pooling runs on float or double here, not {typeof(T).Name}.");

    /// <summary>Runs the operator once: <see cref="Input"/> in, <see cref="Output"/> out.</summary>
    public void Run() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

    /// <summary>
    /// Runs <paramref name="spec"/> once on <paramref name="input"/> and lets ORT allocate the output, so the shape
    /// returned is the one ORT's kernel chose (not ours): the differential tests compare it with KernelGen's. The
    /// model declares no output shape here, so nothing of ours reaches ORT.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">ORT rejects the model or the input.</exception>
    public static (T[] Output, long[] Shape) RunOnce(OnnxPoolSpec spec, T[] input, long[] inputShape,
        GraphOptimizationLevel optimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(input);
        using var options = CreateSessionOptions(optimizationLevel);
        using var session = new InferenceSession(OnnxModelBuilder.Build(spec, ElementType, inputShape), options);
        using var runOptions = new RunOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        using var outputs = session.Run(runOptions, [OnnxModelBuilder.InputName], [inputValue], [OnnxModelBuilder.OutputName]);
        var output = outputs.First();
        long[] shape = output.GetTensorTypeAndShape().Shape;
        return (output.GetTensorDataAsSpan<T>().ToArray(), shape);
    }

    /// <summary>KernelGen's output shape for <paramref name="spec"/> on <paramref name="inputShape"/>, as ONNX dims.</summary>
    public static long[] KernelGenOutputShape(OnnxPoolSpec spec, long[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (spec.IsGlobal)
            return inputShape.Select((size, i) => i < 2 ? size : 1).ToArray();
        var shape = ToPoolShape(inputShape);
        return ToDims(spec.ToDescriptor(shape).GetOutputShape(shape));
    }

    /// <summary>ONNX dims (N, C, spatial...) as a KernelGen shape.</summary>
    public static PoolShape ToPoolShape(long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        int[] d = dims.Select(v => checked((int)v)).ToArray();
        return d.Length switch
        {
            3 => new PoolShape(d[0], d[1], d[2]),
            4 => new PoolShape(d[0], d[1], d[2], d[3]),
            5 => new PoolShape(d[0], d[1], d[2], d[3], d[4]),
            _ => throw new ArgumentException($"Pooling tensors have rank 3 to 5, not {d.Length}.", nameof(dims)),
        };
    }

    /// <summary>A KernelGen shape as ONNX dims.</summary>
    public static long[] ToDims(PoolShape shape)
    {
        var dims = new long[2 + shape.SpatialRank];
        dims[0] = shape.Batch;
        dims[1] = shape.Channels;
        for (int i = 0; i < shape.SpatialRank; i++) dims[2 + i] = shape.GetSpatialSize(i);
        return dims;
    }

    private static SessionOptions CreateSessionOptions(GraphOptimizationLevel optimizationLevel) => new()
    {
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = optimizationLevel,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        _outputValue.Dispose();
        _inputValue.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        ((IDisposable)_output).Dispose();
        ((IDisposable)_input).Dispose();
    }
}
