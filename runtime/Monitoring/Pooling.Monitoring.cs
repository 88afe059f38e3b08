using System;
using System.Diagnostics;
using System.Numerics;
using KernelGen.Monitoring;

namespace KernelGen;

// The measured variants of Pooling's entry points: taken only while PoolingInstrumentation.Enabled, they run the same
// dispatch between two timestamps and report which path served the call.
public static partial class Pooling
{
    private static string? RunObserved<T>(in PoolDescriptor descriptor, ReadOnlySpan<T> input, Span<T> output, Span<long> indices,
        PoolShape shape, int maxDegreeOfParallelism, bool withIndices, bool allowSpecialized) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long start = Stopwatch.GetTimestamp();
        string? kernel = Run(descriptor, input, output, indices, shape, maxDegreeOfParallelism, withIndices, allowSpecialized, observed: true);
        var outputShape = descriptor.GetOutputShape(shape);
        long bytes = (shape.ElementCount + outputShape.ElementCount) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()
            + (withIndices ? outputShape.ElementCount * sizeof(long) : 0);
        var key = new PoolingCallKey(descriptor, false, descriptor.Mode, descriptor.Layout, typeof(T) == typeof(double), shape,
            kernel, withIndices, GeneralRequested: !allowSpecialized);
        PoolingInstrumentation.Record(key, start, bytes);
        return kernel;
    }

    private static void GlobalObserved<T>(PoolMode mode, ReadOnlySpan<T> input, Span<T> output, PoolShape shape, PoolLayout layout, int maxDegreeOfParallelism)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long start = Stopwatch.GetTimestamp();
        Global(mode, input, output, shape, layout, maxDegreeOfParallelism, observed: true);
        long bytes = (shape.ElementCount + shape.PlaneCount) * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var key = new PoolingCallKey(default, true, mode, layout, typeof(T) == typeof(double), shape, null, false, false);
        PoolingInstrumentation.Record(key, start, bytes);
    }
}
