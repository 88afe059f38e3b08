using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelGen.Engine;

namespace KernelGen.Bench;

/// <summary>
/// The least time an exact average can take: PyTorch sums each window one input cell at a time, in window order and
/// from +0, so no two outputs share an addition and every output costs one addition per input cell in its window
/// (padding cells are skipped). At best a vector of outputs adds at once; this machine's rate of independent vector
/// additions, measured here, then bounds the time from below, whatever the layout or the route.
/// </summary>
internal static class SumFloor
{
    private const int Chains = 8, Steps = 64, Repeats = 256;

    private static float s_sink; // keeps the measured sums alive

    /// <summary>Whether the floor is measured: 512-bit vectors, the width of the engine's fast paths, are accelerated.</summary>
    public static bool IsMeasured => Vector512.IsHardwareAccelerated;

    /// <summary>
    /// The additions an exact average of <paramref name="descriptor"/> makes on <paramref name="shape"/>, in 512-bit
    /// vectors of <typeparamref name="T"/>: every output cell's input cells (on each axis the window's taps inside the
    /// input), summed over the outputs and divided by the lanes.
    /// </summary>
    public static double VectorAdds<T>(in PoolDescriptor descriptor, PoolShape shape) where T : unmanaged
    {
        var plan = new PoolPlan(descriptor, shape, descriptor.GetOutputShape(shape));
        double cells = (double)shape.Batch * shape.Channels * InsideTaps(plan.Depth) * InsideTaps(plan.Height) * InsideTaps(plan.Width);
        return cells / (Vector512<byte>.Count / Unsafe.SizeOf<T>());
    }

    /// <summary>The taps inside the input, summed over the axis's outputs (a window's cells are one tap per axis).</summary>
    private static long InsideTaps(in AxisPlan axis)
    {
        long taps = 0;
        for (int o = 0; o < axis.Output; o++)
        {
            var (first, end) = axis.InsideTaps(o);
            taps += Math.Max(0, end - first);
        }
        return taps;
    }

    /// <summary>
    /// 512-bit additions per second (8 independent chains, operands in L1): the fastest of several batches of
    /// <see cref="Add512"/>. Only where <see cref="IsMeasured"/>.
    /// </summary>
    public static unsafe double VectorAddsPerSecond()
    {
        const int cells = Chains * Steps * 16; // 32 KB of floats, in L1: each chain's operands a row of Steps vectors
        float* buffer = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(cells * sizeof(float), 64);
        try
        {
            for (int i = 0; i < cells; i++) buffer[i] = i % 7 * 0.125f;
            double best = 0;
            for (int batch = 0; batch < 7; batch++)
            {
                long start = Stopwatch.GetTimestamp();
                s_sink += Add512(buffer);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                best = Math.Max(best, (double)Chains * Steps * Repeats / seconds);
            }
            return best;
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe float Add512(float* cells)
    {
        int row = Steps * Vector512<float>.Count;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int r = 0; r < Repeats; r++)
            for (float* p = cells, end = cells + row; p < end; p += Vector512<float>.Count)
            {
                a0 += Vector512.Load(p); a1 += Vector512.Load(p + row); a2 += Vector512.Load(p + 2 * row); a3 += Vector512.Load(p + 3 * row);
                a4 += Vector512.Load(p + 4 * row); a5 += Vector512.Load(p + 5 * row); a6 += Vector512.Load(p + 6 * row); a7 += Vector512.Load(p + 7 * row);
            }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }
}
