using System;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using KernelGen.Engine;

namespace KernelGen;

/// <summary>
/// Runs pooling operations on spans, in the spirit of <c>TensorPrimitives</c>: validate once, then run the fastest
/// kernel for the configuration on every core (or as many as the caller allows).
/// </summary>
/// <example>
/// <code>
/// var pool = PoolDescriptor.MaxPool2d(kernel: 3, stride: 2, padding: 1);
/// var shape = new PoolShape(batch: 1, channels: 64, height: 112, width: 112);
/// float[] output = new float[pool.GetOutputShape(shape).ElementCount];
/// Pooling.Run(pool, input, output, shape);
/// </code>
/// </example>
public static partial class Pooling
{
    /// <summary>Work below this many input elements runs on the calling thread: splitting it costs more than it saves.</summary>
    internal const long ParallelThreshold = 1 << 17;

    /// <summary>Pools <paramref name="input"/> of shape <paramref name="shape"/> into <paramref name="output"/>.</summary>
    /// <param name="descriptor">The operation.</param>
    /// <param name="input">Exactly <c>shape.ElementCount</c> elements in <see cref="PoolDescriptor.Layout"/> order.</param>
    /// <param name="output">At least <c>descriptor.GetOutputShape(shape).ElementCount</c> elements; only those are written.</param>
    /// <param name="shape">The logical input shape.</param>
    /// <param name="maxDegreeOfParallelism">The most threads to use: -1 (the default) for all cores, 1 for the calling thread only. The result is the same for any value.</param>
    public static void Run(in PoolDescriptor descriptor, ReadOnlySpan<float> input, Span<float> output, PoolShape shape, int maxDegreeOfParallelism = -1) =>
        Run<float>(descriptor, input, output, default, shape, maxDegreeOfParallelism, withIndices: false);

    /// <inheritdoc cref="Run(in PoolDescriptor, ReadOnlySpan{float}, Span{float}, PoolShape, int)"/>
    public static void Run(in PoolDescriptor descriptor, ReadOnlySpan<double> input, Span<double> output, PoolShape shape, int maxDegreeOfParallelism = -1) =>
        Run<double>(descriptor, input, output, default, shape, maxDegreeOfParallelism, withIndices: false);

    /// <summary>
    /// Runs the general engine even where a specialized kernel is registered: for checking a specialized kernel
    /// against it and for measuring one against the other. Same arguments and results as <c>Run</c>.
    /// </summary>
    public static void RunGeneral(in PoolDescriptor descriptor, ReadOnlySpan<float> input, Span<float> output, PoolShape shape, int maxDegreeOfParallelism = -1) =>
        Run<float>(descriptor, input, output, default, shape, maxDegreeOfParallelism, withIndices: false, allowSpecialized: false);

    /// <inheritdoc cref="RunGeneral(in PoolDescriptor, ReadOnlySpan{float}, Span{float}, PoolShape, int)"/>
    public static void RunGeneral(in PoolDescriptor descriptor, ReadOnlySpan<double> input, Span<double> output, PoolShape shape, int maxDegreeOfParallelism = -1) =>
        Run<double>(descriptor, input, output, default, shape, maxDegreeOfParallelism, withIndices: false, allowSpecialized: false);

    /// <summary>
    /// Max pooling that also writes, for every output, the flat position of the chosen input cell inside its (n, c)
    /// plane (PyTorch's <c>return_indices=True</c> convention; -1 for a window made only of padding).
    /// </summary>
    /// <param name="descriptor">A max pooling operation.</param>
    /// <param name="input">Exactly <c>shape.ElementCount</c> elements in <see cref="PoolDescriptor.Layout"/> order.</param>
    /// <param name="output">At least as many elements as the output shape has.</param>
    /// <param name="indices">At least as many elements as the output shape has; laid out like <paramref name="output"/>.</param>
    /// <param name="shape">The logical input shape.</param>
    /// <param name="maxDegreeOfParallelism">The most threads to use: -1 for all cores.</param>
    public static void Run(in PoolDescriptor descriptor, ReadOnlySpan<float> input, Span<float> output, Span<long> indices, PoolShape shape, int maxDegreeOfParallelism = -1) =>
        Run<float>(descriptor, input, output, indices, shape, maxDegreeOfParallelism, withIndices: true);

    /// <inheritdoc cref="Run(in PoolDescriptor, ReadOnlySpan{float}, Span{float}, Span{long}, PoolShape, int)"/>
    public static void Run(in PoolDescriptor descriptor, ReadOnlySpan<double> input, Span<double> output, Span<long> indices, PoolShape shape, int maxDegreeOfParallelism = -1) =>
        Run<double>(descriptor, input, output, indices, shape, maxDegreeOfParallelism, withIndices: true);

    /// <summary>Global max pooling: the maximum of every (n, c) plane (NaN if it holds a NaN). The output shape has every spatial size 1.</summary>
    public static void GlobalMax(ReadOnlySpan<float> input, Span<float> output, PoolShape shape, PoolLayout layout = PoolLayout.ChannelsFirst, int maxDegreeOfParallelism = -1) =>
        Global(PoolMode.Max, input, output, shape, layout, maxDegreeOfParallelism);

    /// <inheritdoc cref="GlobalMax(ReadOnlySpan{float}, Span{float}, PoolShape, PoolLayout, int)"/>
    public static void GlobalMax(ReadOnlySpan<double> input, Span<double> output, PoolShape shape, PoolLayout layout = PoolLayout.ChannelsFirst, int maxDegreeOfParallelism = -1) =>
        Global(PoolMode.Max, input, output, shape, layout, maxDegreeOfParallelism);

    /// <summary>
    /// Global average pooling (ResNet's head): the mean of every (n, c) plane. The output shape has every spatial size 1.
    /// The summation order is fixed (see docs/semantics.md), so the result is the same on every instruction set and layout.
    /// </summary>
    public static void GlobalAverage(ReadOnlySpan<float> input, Span<float> output, PoolShape shape, PoolLayout layout = PoolLayout.ChannelsFirst, int maxDegreeOfParallelism = -1) =>
        Global(PoolMode.Average, input, output, shape, layout, maxDegreeOfParallelism);

    /// <inheritdoc cref="GlobalAverage(ReadOnlySpan{float}, Span{float}, PoolShape, PoolLayout, int)"/>
    public static void GlobalAverage(ReadOnlySpan<double> input, Span<double> output, PoolShape shape, PoolLayout layout = PoolLayout.ChannelsFirst, int maxDegreeOfParallelism = -1) =>
        Global(PoolMode.Average, input, output, shape, layout, maxDegreeOfParallelism);

    /// <summary>The output shape of global pooling: the input's batch and channels, every spatial size 1.</summary>
    public static PoolShape GetGlobalOutputShape(PoolShape shape)
    {
        RequireShape(shape);
        return shape.WithSpatial(1, 1, 1);
    }

    // -------------------------------------------------------------------------------------------------------------

    /// <summary>Validates once, then runs the specialized kernel if one applies, else the engine; returns the kernel's name, or null for the engine.</summary>
    private static string? Run<T>(in PoolDescriptor descriptor, ReadOnlySpan<T> input, Span<T> output, Span<long> indices,
        PoolShape shape, int maxDegreeOfParallelism, bool withIndices, bool allowSpecialized = true, bool observed = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!observed && Monitoring.PoolingInstrumentation.Enabled) return RunObserved(descriptor, input, output, indices, shape, maxDegreeOfParallelism, withIndices, allowSpecialized);
        var outputShape = KernelArguments.Validate(descriptor, input, output, shape);
        if (withIndices)
        {
            if (descriptor.Mode != PoolMode.Max)
                throw new ArgumentException($"Indices exist for max pooling only; the descriptor is {descriptor.Mode}.", nameof(indices));
            if (indices.Length < outputShape.ElementCount)
                throw new ArgumentException($"The indices span has {indices.Length} elements; the output shape {outputShape} needs {outputShape.ElementCount}.", nameof(indices));
            // Compared as bytes: the spans hold different element types.
            var written = MemoryMarshal.AsBytes(indices[..(int)outputShape.ElementCount]);
            if (written.Overlaps(MemoryMarshal.AsBytes(input)) || written.Overlaps(MemoryMarshal.AsBytes(output[..(int)outputShape.ElementCount])))
                throw new ArgumentException("The indices span overlaps the input or output span; each needs memory of its own.", nameof(indices));
        }
        int threads = Threads(maxDegreeOfParallelism);
        if (outputShape.ElementCount == 0) return null; // empty batch or no channels: nothing to do

        // From here on the arguments are valid: the specialized kernel's core and the engine do not check them again.
        if (allowSpecialized && !withIndices && PoolKernelRegistry.TryGetValidatedForShape<T>(descriptor, shape, outputShape, out var specialized, out var kernelName))
        {
            RunSpecialized(specialized!, descriptor.Layout, input, output, shape, outputShape, threads);
            return kernelName;
        }

        var plan = new PoolPlan(descriptor, shape, outputShape);
        var work = EngineRoutes<T>.WorkOf(descriptor, withIndices);
        long units = EngineUnits(work, shape, outputShape);

        if (!ShouldSplit(units, shape.ElementCount, threads))
            EngineRoutes<T>.Run(work, plan, input, output, indices, 0, (int)units);
        else
            RunRangesInParallel(work, plan, input, output, withIndices ? indices[..(int)outputShape.ElementCount] : default, units, threads);
        return null;
    }

    /// <summary>
    /// The engine's units of work: channels first (and with indices), one (n, c) plane; channels last, one output row
    /// (n, od, oh) of all channels.
    /// </summary>
    internal static long EngineUnits(EngineWork work, PoolShape shape, PoolShape outputShape) =>
        work == EngineWork.ChannelsLast ? (long)shape.Batch * outputShape.Depth * outputShape.Height : shape.PlaneCount;

    /// <summary>The general engine on the calling thread, for arguments already validated (see <see cref="KernelArguments.RunEngine{T}"/>).</summary>
    internal static void RunEngineValidated<T>(in PoolDescriptor descriptor, ReadOnlySpan<T> input, Span<T> output, PoolShape shape, PoolShape outputShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Observed, the call goes through the public path so the monitor records it as a general run, as before.
        if (Monitoring.PoolingInstrumentation.Enabled)
        {
            Run(descriptor, input, output, default, shape, maxDegreeOfParallelism: 1, withIndices: false, allowSpecialized: false);
            return;
        }
        if (outputShape.ElementCount == 0) return;
        var work = EngineRoutes<T>.WorkOf(descriptor, withIndices: false);
        EngineRoutes<T>.Run(work, new PoolPlan(descriptor, shape, outputShape), input, output, default, 0, (int)EngineUnits(work, shape, outputShape));
    }

    // The parallel paths live in methods of their own: a lambda's closure is allocated where its captured variables
    // are declared, and declared in an entry point it would cost an allocation on every call, parallel or not.
    private static unsafe void RunRangesInParallel<T>(EngineWork work, PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, Span<long> indices, long units, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* inputPointer = input)
        fixed (T* outputPointer = output)
        fixed (long* indicesPointer = indices)
        {
            nint inputAddress = (nint)inputPointer, outputAddress = (nint)outputPointer, indicesAddress = (nint)indicesPointer;
            int inputLength = input.Length, outputLength = (int)plan.Output.ElementCount, indicesLength = indices.Length;
            // The route is chosen once for the call; each range runs it.
            var route = EngineRoutes<T>.Select(work, plan);
            ForEachRange(units, threads, (first, count) => route.Run(plan,
                new ReadOnlySpan<T>((void*)inputAddress, inputLength), new Span<T>((void*)outputAddress, outputLength),
                new Span<long>((void*)indicesAddress, indicesLength), first, count), route.UnitsPerBlock);
        }
    }

    /// <summary>
    /// Runs a specialized kernel, split into sub-batches when the work is large: channels first, a range of (n, c)
    /// planes is itself a valid input (one image of that many channels); channels last, a range of images.
    /// </summary>
    private static void RunSpecialized<T>(SpecializedPoolKernel<T> kernel, PoolLayout layout, ReadOnlySpan<T> input, Span<T> output,
        PoolShape shape, PoolShape outputShape, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool channelsLast = layout == PoolLayout.ChannelsLast;
        long units = channelsLast ? shape.Batch : shape.PlaneCount;
        long inUnit = shape.ElementCount / units, outUnit = outputShape.ElementCount / units;
        if (!ShouldSplit(units, shape.ElementCount, threads))
            kernel(input, output[..(int)outputShape.ElementCount], shape);
        else
            RunSpecializedInParallel(kernel, channelsLast, input, output, shape, units, inUnit, outUnit, threads);
    }

    private static unsafe void RunSpecializedInParallel<T>(SpecializedPoolKernel<T> kernel, bool channelsLast, ReadOnlySpan<T> input, Span<T> output,
        PoolShape shape, long units, long inUnit, long outUnit, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* inputPointer = input)
        fixed (T* outputPointer = output)
        {
            nint inputAddress = (nint)inputPointer, outputAddress = (nint)outputPointer;
            ForEachRange(units, threads, (first, count) => kernel(
                new ReadOnlySpan<T>((T*)inputAddress + first * inUnit, (int)(count * inUnit)),
                new Span<T>((T*)outputAddress + first * outUnit, (int)(count * outUnit)),
                channelsLast ? shape.WithPlanes(count, shape.Channels) : shape.WithPlanes(1, count)));
        }
    }

    private static void Global<T>(PoolMode mode, ReadOnlySpan<T> input, Span<T> output, PoolShape shape, PoolLayout layout, int maxDegreeOfParallelism, bool observed = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!observed && Monitoring.PoolingInstrumentation.Enabled) { GlobalObserved(mode, input, output, shape, layout, maxDegreeOfParallelism); return; }
        if (layout is not (PoolLayout.ChannelsFirst or PoolLayout.ChannelsLast))
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "The layout must be ChannelsFirst or ChannelsLast.");
        var outputShape = GetGlobalOutputShape(shape);
        CheckSpans(input, output, shape, outputShape);
        int threads = Threads(maxDegreeOfParallelism);
        if (outputShape.ElementCount == 0) return;

        int planeSize = (int)shape.PlaneSize, channels = shape.Channels;
        var route = GlobalRoutes<T>.Select(mode, layout, channels).Run;
        long units = layout == PoolLayout.ChannelsLast ? shape.Batch : shape.PlaneCount;
        if (!ShouldSplit(units, shape.ElementCount, threads))
            route(mode, input, output, planeSize, channels, 0, (int)units);
        else
            RunGlobalInParallel(route, mode, input, output[..(int)outputShape.ElementCount], planeSize, channels, units, threads);
    }

    private static unsafe void RunGlobalInParallel<T>(GlobalRunner<T> route, PoolMode mode, ReadOnlySpan<T> input, Span<T> output, int planeSize, int channels, long units, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* inputPointer = input)
        fixed (T* outputPointer = output)
        {
            nint inputAddress = (nint)inputPointer, outputAddress = (nint)outputPointer;
            int inputLength = input.Length, outputLength = output.Length;
            ForEachRange(units, threads, (first, count) => route(mode,
                new ReadOnlySpan<T>((void*)inputAddress, inputLength), new Span<T>((void*)outputAddress, outputLength),
                planeSize, channels, first, count));
        }
    }

    /// <summary>Whether to split the work across threads: only when there is more than one unit and enough work to pay for it.</summary>
    private static bool ShouldSplit(long units, long elements, int threads) => threads > 1 && units > 1 && elements >= ParallelThreshold;

    /// <summary>
    /// Calls <paramref name="body"/> on ranges that cover <c>[0, units)</c> on up to <paramref name="threads"/>
    /// workers. Units are independent, so the split never changes a result.
    /// </summary>
    private static void ForEachRange(long units, int threads, Action<long, int> body, int unitsPerBlock = 1)
    {
        // A few ranges per thread balance uneven progress without paying much per range. Ranges hold whole blocks of
        // unitsPerBlock units (the last block may be short), for routes that pool several units together.
        long blocks = (units + unitsPerBlock - 1) / unitsPerBlock;
        long ranges = Math.Min(blocks, (long)threads * 4);
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        Parallel.For(0L, ranges, options, r =>
        {
            long first = Math.Min(units, blocks * r / ranges * unitsPerBlock), end = Math.Min(units, blocks * (r + 1) / ranges * unitsPerBlock);
            body(first, (int)(end - first));
        });
    }

    internal static void RequireShape(PoolShape shape)
    {
        if (shape.SpatialRank == 0)
            throw new ArgumentException("The shape is default(PoolShape); construct it with its sizes.", nameof(shape));
        if (shape.ElementCount > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(shape), shape.ElementCount,
                $"The shape {shape} has {(shape.ElementCount == long.MaxValue ? "more than 2^63 - 1" : shape.ElementCount.ToString(System.Globalization.CultureInfo.InvariantCulture))} elements; a .NET array holds at most {Array.MaxLength}.");
    }

    internal static void CheckSpans<T>(ReadOnlySpan<T> input, Span<T> output, PoolShape shape, PoolShape outputShape)
    {
        if (input.Length != shape.ElementCount)
            throw new ArgumentException($"The input span has {input.Length} elements; the shape {shape} has {shape.ElementCount}.", nameof(input));
        if (output.Length < outputShape.ElementCount)
            throw new ArgumentException($"The output span has {output.Length} elements; the output shape {outputShape} needs {outputShape.ElementCount}.", nameof(output));
        if (input.Overlaps(output[..(int)outputShape.ElementCount]))
            throw new ArgumentException("The output span overlaps the input span; pooling cannot run in place.", nameof(output));
    }

    private static int Threads(int maxDegreeOfParallelism)
    {
        if (maxDegreeOfParallelism == -1) return Environment.ProcessorCount;
        if (maxDegreeOfParallelism < 1)
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "Use -1 for all cores or a positive thread count.");
        return Math.Min(maxDegreeOfParallelism, Environment.ProcessorCount);
    }
}
