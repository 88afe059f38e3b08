using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's path for channels-first 2x2 stride-2 average pooling without padding on small even-width
/// planes (DenseNet's transition layers), on AVX-512: the window's top and bottom input rows of every output row go
/// into two scratch planes, then one flat pass over them sums every output in PyTorch's order.
/// </summary>
/// <remarks>
/// Output cell k of the plane averages cells 2k and 2k + 1 of the top scratch plane and of the bottom one (the width is
/// even, so a pair never straddles two rows): their even and odd lanes, added from +0 as PyTorch does,
/// <c>((0 + top[2k]) + top[2k + 1]) + bottom[2k]) + bottom[2k + 1]</c>, then divided once. Every window is whole, so the
/// divisor is the same for all (4, or the override). The row-by-row path spent as much on each 28-output row's set-up
/// as on its sums.
/// </remarks>
internal static class FlatPairsAverage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Planes up to this size take this path: the scratch planes stay in L1.</summary>
    private const int MaxPlaneBytes = 16 * 1024;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && !plan.IsMax && plan.IsPlanar && FlatPlaneMax<T>.IsPairs(plan) &&
        (long)plan.InputPlane * Unsafe.SizeOf<T>() <= MaxPlaneBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        int outHeight = plan.Height.Output, w = plan.Width.Length;
        int scratchPlane = outHeight * w;
        // Every window is whole: one divisor (the override, or 4).
        var divisor = Vector512.Create(T.CreateTruncating(plan.Divisor(plan.RowDivisorFactor(0, 0), 0)));
        // Two scratch planes, each with two vectors of margin after it for the last block's loads (lanes not stored),
        // both starting on a cache line.
        int pitch = (scratchPlane + 2 * Lanes + Lanes - 1) / Lanes * Lanes;
        T[] scratch = ScratchArrays<T>.Rent(2 * pitch + Lanes);
        try
        {
            fixed (T* source = input, target = output, rows = scratch)
            {
                T* tops = Lanes512<T>.Aligned(rows), bottoms = tops + pitch;
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                    Plane(source + p * inPlane, tops, bottoms, target + p * outPlane, outHeight, w, divisor);
            }
        }
        finally
        {
            ScratchArrays<T>.Return(scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Plane(T* plane, T* tops, T* bottoms, T* output, int outHeight, int w, Vector512<T> divisor)
    {
        // Output row oh's window rows are input rows 2oh and 2oh + 1: one long copy of each, no reduction yet.
        // (Vector copies inline: a call per row to a general copy costs more than the copy of a short row.)
        int full = w - w % Lanes;
        var lastInside = Lanes512<T>.FirstLanes(w - full);
        for (int oh = 0; oh < outHeight; oh++)
        {
            T* top = plane + (long)2 * oh * w, bottom = top + w, topCopy = tops + (long)oh * w, bottomCopy = bottoms + (long)oh * w;
            int i = 0;
            for (; i < full; i += Lanes)
            {
                Vector512.Load(top + i).Store(topCopy + i);
                Vector512.Load(bottom + i).Store(bottomCopy + i);
            }
            if (i < w)
            {
                Lanes512<T>.MaskStore(topCopy + i, lastInside, Lanes512<T>.MaskLoad(top + i, lastInside, Vector512<T>.Zero));
                Lanes512<T>.MaskStore(bottomCopy + i, lastInside, Lanes512<T>.MaskLoad(bottom + i, lastInside, Vector512<T>.Zero));
            }
        }
        int length = outHeight * (w / 2);
        for (int k = 0; k < length; k += Lanes)
        {
            var topLow = Vector512.Load(tops + 2 * k);
            var topHigh = Vector512.Load(tops + 2 * k + Lanes);
            var bottomLow = Vector512.Load(bottoms + 2 * k);
            var bottomHigh = Vector512.Load(bottoms + 2 * k + Lanes);
            // PyTorch's order: from +0, row by row, tap by tap.
            var sum = Vector512<T>.Zero + Lanes512<T>.Even(topLow, topHigh);
            sum += Lanes512<T>.Odd(topLow, topHigh);
            sum += Lanes512<T>.Even(bottomLow, bottomHigh);
            sum += Lanes512<T>.Odd(bottomLow, bottomHigh);
            sum /= divisor;
            if (k + Lanes <= length) sum.Store(output + k);
            else Lanes512<T>.MaskStore(output + k, Lanes512<T>.FirstLanes(length - k), sum);
        }
    }

}
