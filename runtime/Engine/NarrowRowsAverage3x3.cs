using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The narrow-row average for the commonest window, 3x3 with stride 1 (Inception's), on rows of at most three
/// vectors: the taps of the window's three rows stay in registers and roll down the plane, so each input row is
/// loaded once and its taps made once, for the three output rows that read it.
/// </summary>
/// <remarks>
/// <para><see cref="NarrowRowsAverage{T}"/> pools two output rows at a time and makes the taps of four input rows a
/// pass: 4 valigns per output vector. Here it is 2, the fewest there can be. Three rows of three blocks of three taps
/// are 27 vectors, which with the three sums fits AVX-512's 32 registers; four blocks would not, so wider rows and other
/// windows stay with the two-row pass. Stopwatch, PGO off: inception.pool (35 wide) 90-92 -> 73 us; 17 wide 65-67 ->
/// 46; 14 wide 37-40 -> 20.</para>
/// <para>The sums run in PyTorch's order, from +0, row by row, left to right; rows and cells outside the input are +0
/// taps, which leave such a sum unchanged. Each output then divides by its own divisor from the plane's table.</para>
/// </remarks>
internal static class NarrowRowsAverage3x3<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>The widest row this path takes, in vectors: three rows of taps of wider ones would not fit the registers.</summary>
    private const int MaxRowVectors = 3;

    /// <summary>
    /// Whether this path takes a plan the narrow-row average compiled for <typeparamref name="TReach"/> and
    /// <typeparamref name="TVectors"/> (see <see cref="NarrowRows{T}.Fits"/>): reach 1 is a 3-wide centred window.
    /// </summary>
    public static bool Takes<TReach, TVectors>(in PoolPlan plan) where TReach : ITapReach where TVectors : IConstantCount =>
        TReach.Reach == 1 && TVectors.Value <= MaxRowVectors && plan.Height.Kernel == 3;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run<TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TVectors : IConstantCount
    {
        int h = plan.Height.Length, w = plan.Width.Length, outHeight = plan.Height.Output;
        int inPlane = plan.InputPlane, outPlane = plan.OutputPlane, rowCells = TVectors.Value * Lanes;
        int firstRow = (int)plan.Height.WindowStart(0); // the window's top row for output row 0 (-1 with padding 1)
        // Every read below is inside the planes: rows outside [0, h) are never loaded.
        if ((firstPlane + planeCount) * inPlane > input.Length || (firstPlane + planeCount) * outPlane > output.Length)
            throw new InvalidOperationException("KernelGen internal error: the planes lie outside the tensors.");
        T[] divisors = ScratchArrays<T>.Rent(outHeight * rowCells + Lanes);
        try
        {
            var lastInside = Lanes512<T>.InsideMask((TVectors.Value - 1) * Lanes, w);
            fixed (T* source = input, target = output, divisorTable = divisors)
            {
                plan.WritePlaneDivisors(divisorTable, rowCells);
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputRow = target + p * outPlane, divisorRow = divisorTable;
                    // r0 is the window's top row, r2 its bottom; t0, t1, t2 a block's left, centre and right taps.
                    RowTaps<TVectors>(plane, firstRow, h, w, lastInside,
                        out var r0b0t0, out var r0b0t1, out var r0b0t2, out var r0b1t0, out var r0b1t1, out var r0b1t2, out var r0b2t0, out var r0b2t1, out var r0b2t2);
                    RowTaps<TVectors>(plane, firstRow + 1, h, w, lastInside,
                        out var r1b0t0, out var r1b0t1, out var r1b0t2, out var r1b1t0, out var r1b1t1, out var r1b1t2, out var r1b2t0, out var r1b2t1, out var r1b2t2);
                    for (int oh = 0, entering = firstRow + 2; oh < outHeight; oh++, entering++, outputRow += w, divisorRow += rowCells)
                    {
                        RowTaps<TVectors>(plane, entering, h, w, lastInside,
                            out var r2b0t0, out var r2b0t1, out var r2b0t2, out var r2b1t0, out var r2b1t1, out var r2b1t2, out var r2b2t0, out var r2b2t1, out var r2b2t2);
                        // PyTorch's order: from +0, row by row, left to right; the blocks' additions interleave so they overlap.
                        Vector512<T> sum0 = Vector512<T>.Zero, sum1 = sum0, sum2 = sum0;
                        sum0 += r0b0t0; sum1 += r0b1t0; sum2 += r0b2t0;
                        sum0 += r0b0t1; sum1 += r0b1t1; sum2 += r0b2t1;
                        sum0 += r0b0t2; sum1 += r0b1t2; sum2 += r0b2t2;
                        sum0 += r1b0t0; sum1 += r1b1t0; sum2 += r1b2t0;
                        sum0 += r1b0t1; sum1 += r1b1t1; sum2 += r1b2t1;
                        sum0 += r1b0t2; sum1 += r1b1t2; sum2 += r1b2t2;
                        sum0 += r2b0t0; sum1 += r2b1t0; sum2 += r2b2t0;
                        sum0 += r2b0t1; sum1 += r2b1t1; sum2 += r2b2t1;
                        sum0 += r2b0t2; sum1 += r2b1t2; sum2 += r2b2t2;
                        NarrowRowsAverage<T>.Store<TVectors>(outputRow, divisorRow, lastInside, sum0, sum1, sum2, default);
                        // The window moves down a row.
                        r0b0t0 = r1b0t0; r0b0t1 = r1b0t1; r0b0t2 = r1b0t2; r1b0t0 = r2b0t0; r1b0t1 = r2b0t1; r1b0t2 = r2b0t2;
                        r0b1t0 = r1b1t0; r0b1t1 = r1b1t1; r0b1t2 = r1b1t2; r1b1t0 = r2b1t0; r1b1t1 = r2b1t1; r1b1t2 = r2b1t2;
                        r0b2t0 = r1b2t0; r0b2t1 = r1b2t1; r0b2t2 = r1b2t2; r1b2t0 = r2b2t0; r1b2t1 = r2b2t1; r1b2t2 = r2b2t2;
                    }
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(divisors);
        }
    }

    /// <summary>Every tap of every block from input row <paramref name="row"/>: +0 for a row outside the plane and for cells past the row's ends.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowTaps<TVectors>(T* plane, int row, int h, int w, Vector512<T> lastInside,
        out Vector512<T> b0t0, out Vector512<T> b0t1, out Vector512<T> b0t2, out Vector512<T> b1t0, out Vector512<T> b1t1, out Vector512<T> b1t2,
        out Vector512<T> b2t0, out Vector512<T> b2t1, out Vector512<T> b2t2) where TVectors : IConstantCount
    {
        var zero = Vector512<T>.Zero;
        if ((uint)row < (uint)h)
        {
            NarrowRows<T>.LoadRow<TVectors>(plane + (long)row * w, lastInside, zero, out var cells0, out var cells1, out var cells2, out _);
            Taps(zero, cells0, cells1, out b0t0, out b0t1, out b0t2);
            Taps(cells0, cells1, cells2, out b1t0, out b1t1, out b1t2);
            Taps(cells1, cells2, zero, out b2t0, out b2t1, out b2t2);
        }
        else
        {
            b0t0 = b0t1 = b0t2 = b1t0 = b1t1 = b1t2 = b2t0 = b2t1 = b2t2 = zero;
        }
    }

    /// <summary>A block's left, centre and right taps, from its cells and its neighbours'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Taps(Vector512<T> previous, Vector512<T> current, Vector512<T> next, out Vector512<T> left, out Vector512<T> centre, out Vector512<T> right)
    {
        left = Lanes512<T>.Shifted(current, previous, Vector512<T>.Count - 1);
        centre = current;
        right = Lanes512<T>.Shifted(next, current, 1);
    }
}
