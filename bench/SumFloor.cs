using System;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Engine;

namespace KernelGen.Bench;

/// <summary>
/// The least time an exact average can take: PyTorch sums each window one input cell at a time, in window order and
/// from +0, so no two outputs share an addition and every output costs one addition per input cell in its window
/// (padding cells are skipped). At best a vector of outputs adds at once; this machine's rate of independent vector
/// additions, on the add and FMA pipes together, measured here, then bounds the time from below, whatever the layout or
/// the route.
/// </summary>
internal static class SumFloor
{
    private const int Chains = 8, Steps = 64, Repeats = 256; // chains of each kind

    private static float s_sink; // keeps the measured sums alive

    /// <summary>Whether the floor is measured: 512-bit vectors, the width of the engine's fast paths, are accelerated.</summary>
    public static bool IsMeasured => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

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
    /// 512-bit additions per second on all the pipes that can add exactly: the fastest of several batches of
    /// <see cref="Add512"/>, 16 independent chains, half of them <c>x + y</c> on the add pipes and half <c>x * 1 + y</c>
    /// (the same bits) on the FMA pipes, operands in registers. Only where <see cref="IsMeasured"/>.
    /// </summary>
    public static unsafe double VectorAddsPerSecond()
    {
        float* operands = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(4 * 16 * sizeof(float), 64);
        try
        {
            for (int i = 0; i < 4 * 16; i++) operands[i] = i % 7 * 0.125f;
            double best = 0;
            for (int batch = 0; batch < 7; batch++)
            {
                long start = Stopwatch.GetTimestamp();
                s_sink += Add512(operands);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                best = Math.Max(best, 2.0 * Chains * Steps * Repeats / seconds);
            }
            return best;
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(operands);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe float Add512(float* operands)
    {
        Vector512<float> x0 = Vector512.Load(operands), x1 = Vector512.Load(operands + 16), x2 = Vector512.Load(operands + 32), x3 = Vector512.Load(operands + 48);
        Vector512<float> one = Vector512<float>.One;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        for (int i = 0; i < Steps * Repeats; i++)
        {
            a0 += x0; b0 = Avx512F.FusedMultiplyAdd(x0, one, b0); a1 += x1; b1 = Avx512F.FusedMultiplyAdd(x1, one, b1);
            a2 += x2; b2 = Avx512F.FusedMultiplyAdd(x2, one, b2); a3 += x3; b3 = Avx512F.FusedMultiplyAdd(x3, one, b3);
            a4 += x0; b4 = Avx512F.FusedMultiplyAdd(x0, one, b4); a5 += x1; b5 = Avx512F.FusedMultiplyAdd(x1, one, b5);
            a6 += x2; b6 = Avx512F.FusedMultiplyAdd(x2, one, b6); a7 += x3; b7 = Avx512F.FusedMultiplyAdd(x3, one, b7);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7);
    }
}
