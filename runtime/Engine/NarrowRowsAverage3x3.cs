using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The narrow-row average for the commonest window, 3x3 with stride 1 (Inception's), on rows of at most three
/// vectors: each input row is loaded and its taps made once, as it enters the window, and added to the sums of the
/// three windows it belongs to, which stay in registers as the window slides down the plane.
/// </summary>
/// <remarks>
/// <para><see cref="NarrowRowsAverage{T}"/> pools two output rows at a time and makes the taps of four input rows a
/// pass: 4 valigns per output vector. Here it is at most 2, the fewest there can be, and fewer where a tap's cells lie
/// inside every row this width class has, which load unaligned instead. Keeping the three taps of all three window
/// rows (27 vectors) and summing each window at once was slower on every width measured. Keeping the windows' running
/// sums instead makes each row's additions
/// short independent chains rather than one chain of nine per output, and every other addition goes to the FMA pipes
/// (<see cref="Lanes512{T}.Add"/>, the same bits).</para>
/// <para>Each window's sum still runs in PyTorch's order, from +0, row by row, left to right; rows and cells outside the
/// input are +0 taps, which leave such a sum unchanged. Each output then divides by its own divisor from the plane's
/// table.</para>
/// </remarks>
internal static class NarrowRowsAverage3x3<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>
    /// The widest row this path takes, in vectors; wider rows go to <see cref="NarrowRowsAverage{T}"/>.
    /// </summary>
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
                    // Per block, openOne and openTwo are the sums of the windows whose first one and first two rows
                    // have entered; each entering row adds its taps to them and completes the window two rows up.
                    var zero = Vector512<T>.Zero;
                    RowTaps<TVectors>(plane, firstRow, h, w, lastInside, out var a0t0, out var a0t1, out var a0t2, out var a1t0, out var a1t1, out var a1t2, out var a2t0, out var a2t1, out var a2t2);
                    Vector512<T> openOne0 = AddRow(zero, a0t0, a0t1, a0t2), openOne1 = AddRow(zero, a1t0, a1t1, a1t2), openOne2 = AddRow(zero, a2t0, a2t1, a2t2);
                    RowTaps<TVectors>(plane, firstRow + 1, h, w, lastInside, out a0t0, out a0t1, out a0t2, out a1t0, out a1t1, out a1t2, out a2t0, out a2t1, out a2t2);
                    Vector512<T> openTwo0 = AddRowFused(openOne0, a0t0, a0t1, a0t2), openTwo1 = AddRowFused(openOne1, a1t0, a1t1, a1t2), openTwo2 = AddRowFused(openOne2, a2t0, a2t1, a2t2);
                    openOne0 = AddRow(zero, a0t0, a0t1, a0t2); openOne1 = AddRow(zero, a1t0, a1t1, a1t2); openOne2 = AddRow(zero, a2t0, a2t1, a2t2);
                    for (int oh = 0, entering = firstRow + 2; oh < outHeight; oh++, entering++, outputRow += w, divisorRow += rowCells)
                    {
                        RowTaps<TVectors>(plane, entering, h, w, lastInside, out var b0t0, out var b0t1, out var b0t2, out var b1t0, out var b1t1, out var b1t2, out var b2t0, out var b2t1, out var b2t2);
                        var sum0 = AddRow(openTwo0, b0t0, b0t1, b0t2);
                        var sum1 = AddRow(openTwo1, b1t0, b1t1, b1t2);
                        var sum2 = AddRow(openTwo2, b2t0, b2t1, b2t2);
                        openTwo0 = AddRowFused(openOne0, b0t0, b0t1, b0t2); openTwo1 = AddRowFused(openOne1, b1t0, b1t1, b1t2); openTwo2 = AddRowFused(openOne2, b2t0, b2t1, b2t2);
                        openOne0 = AddRow(zero, b0t0, b0t1, b0t2); openOne1 = AddRow(zero, b1t0, b1t1, b1t2); openOne2 = AddRow(zero, b2t0, b2t1, b2t2);
                        NarrowRowsAverage<T>.Store<TVectors>(outputRow, divisorRow, lastInside, sum0, sum1, sum2, default);
                    }
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(divisors);
        }
    }

    /// <summary>
    /// <paramref name="sum"/> plus a row's taps, left to right: PyTorch's order within a window. The additions alternate
    /// between the add pipes and the FMA pipes (<see cref="Lanes512{T}.Add"/>, the same bits); <see cref="AddRowFused"/>
    /// starts on the other pipe, so that the windows a row enters share both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> AddRow(Vector512<T> sum, Vector512<T> t0, Vector512<T> t1, Vector512<T> t2) =>
        Lanes512<T>.Add(sum + t0, t1) + t2;

    /// <inheritdoc cref="AddRow"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> AddRowFused(Vector512<T> sum, Vector512<T> t0, Vector512<T> t1, Vector512<T> t2) =>
        Lanes512<T>.Add(Lanes512<T>.Add(sum, t0) + t1, t2);

    /// <summary>
    /// Every tap of every block from input row <paramref name="row"/>: +0 for a row outside the plane and for cells past
    /// the row's ends. A tap whose cells lie inside every row of the width class loads unaligned (loads leave the
    /// shuffle pipes, which valign shares with the additions); the others are valigns of the row's vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowTaps<TVectors>(T* plane, int row, int h, int w, Vector512<T> lastInside,
        out Vector512<T> b0t0, out Vector512<T> b0t1, out Vector512<T> b0t2, out Vector512<T> b1t0, out Vector512<T> b1t1, out Vector512<T> b1t2,
        out Vector512<T> b2t0, out Vector512<T> b2t1, out Vector512<T> b2t2) where TVectors : IConstantCount
    {
        var zero = Vector512<T>.Zero;
        if ((uint)row < (uint)h)
        {
            T* cells = plane + (long)row * w;
            NarrowRows<T>.LoadRow<TVectors>(cells, lastInside, zero, out var cells0, out var cells1, out var cells2, out _);
            // A row of v vectors has at least (v - 1) * Lanes + 1 cells, so block 0's right tap lies inside a row of two
            // vectors or more, and block 1's left and right taps inside a row of three.
            b0t0 = Left(zero, cells0);
            b0t1 = cells0;
            b0t2 = TVectors.Value >= 2 ? Vector512.Load(cells + 1) : Right(cells0, cells1);
            b1t0 = TVectors.Value >= 3 ? Vector512.Load(cells + Lanes - 1) : Left(cells0, cells1);
            b1t1 = cells1;
            b1t2 = TVectors.Value >= 3 ? Vector512.Load(cells + Lanes + 1) : Right(cells1, cells2);
            b2t0 = Left(cells1, cells2);
            b2t1 = cells2;
            b2t2 = Right(cells2, zero);
        }
        else
        {
            b0t0 = b0t1 = b0t2 = b1t0 = b1t1 = b1t2 = b2t0 = b2t1 = b2t2 = zero;
        }
    }

    /// <summary>A block's left tap: its cells moved one lane on, the first from the block before.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Left(Vector512<T> previous, Vector512<T> current) => Lanes512<T>.Shifted(current, previous, Vector512<T>.Count - 1);

    /// <summary>A block's right tap: its cells moved one lane back, the last from the block after.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Right(Vector512<T> current, Vector512<T> next) => Lanes512<T>.Shifted(next, current, 1);
}
