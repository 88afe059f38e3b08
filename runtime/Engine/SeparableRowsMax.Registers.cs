using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>The register path of <see cref="SeparableRowsMax{T}"/>: rows of up to four vectors, with no scratch row.</summary>
internal static partial class SeparableRowsMax<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether a padded row (every cell some tap reads) fits four vectors: its column maxima then stay in registers, and
    /// each tap of a block of outputs is picked from them with one permute (two and a blend where its lanes span more
    /// than two neighbouring vectors), with no scratch row.
    /// </summary>
    private static bool RowFitsRegisters(in AxisPlan width) => width.PaddedLength <= RowVectors * Lanes;

    /// <summary>The vectors of a row kept in registers.</summary>
    private const int RowVectors = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunInRegisters(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount,
        int[] firstRows, int[] rowCounts)
    {
        var taps = new RegisterTaps(plan.Width);
        try
        {
            fixed (T* source = input, target = output)
            {
                int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
                bool scanForNaN = Lanes512<T>.WorthScanningForNaN(inPlane);
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                    if (scanForNaN && !Lanes512<T>.ContainsNaN(plane, inPlane))
                        PlaneInRegisters<UncheckedMax512>(plan, taps, firstRows, rowCounts, plane, outputPlane);
                    else
                        PlaneInRegisters<PropagatingMax512>(plan, taps, firstRows, rowCounts, plane, outputPlane);
                }
            }
        }
        finally
        {
            taps.Dispose();
        }
    }

    /// <summary>
    /// Each output row: the column maxima of its window rows in four registers (padded cells 0 to 4 x Lanes - 1), then
    /// each block of outputs the maximum of its taps, each tap's lanes picked from those registers. Undilated windows
    /// that overlap go two output rows at a time: the rows both windows hold are reduced once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PlaneInRegisters<TMax>(in PoolPlan plan, in RegisterTaps taps, int[] firstRows, int[] rowCounts, T* plane, T* output)
        where TMax : IMax512
    {
        AxisPlan height = plan.Height, width = plan.Width;
        int outWidth = width.Output, kernel = width.Kernel, blocks = (outWidth + Lanes - 1) / Lanes;
        long step = (long)height.Dilation * width.Length;
        var fill = Vector512.Create(T.NegativeInfinity);
        bool twoVectors = width.PaddedLength <= 2 * Lanes;
        bool pairs = height.Dilation == 1 && height.Stride < height.Kernel;
        fixed (Vector512<T>* inside = taps.Inside, indices = taps.Indices, fromLow = taps.FromLow)
        fixed (int* sources = taps.Sources)
        {
            Vector512<T> mask0 = inside[0], mask1 = inside[1], mask2 = inside[2], mask3 = inside[3];
            int full = (IsFull(mask0) ? 1 : 0) | (IsFull(mask1) ? 2 : 0) | (IsFull(mask2) ? 4 : 0) | (IsFull(mask3) ? 8 : 0);
            var across = new AcrossRegisters(indices, fromLow, sources, kernel, blocks, outWidth);
            T* first = plane - width.PadBegin;
            for (int oh = 0; oh < height.Output; oh++)
            {
                int upperFirst = firstRows[oh], upperEnd = upperFirst + rowCounts[oh];
                int lowerFirst = oh + 1 < height.Output ? firstRows[oh + 1] : int.MaxValue, lowerEnd = lowerFirst == int.MaxValue ? 0 : lowerFirst + rowCounts[oh + 1];
                var (row0, row1, row2, row3) = (fill, fill, fill, fill);
                if (!pairs || lowerFirst >= upperEnd || rowCounts[oh + 1] == 0)
                {
                    MaxOfRows<TMax>(first + (long)upperFirst * width.Length, step, rowCounts[oh], mask0, mask1, mask2, mask3, full, twoVectors, ref row0, ref row1, ref row2, ref row3);
                    across.Row<TMax>(row0, row1, row2, row3, output + (long)oh * outWidth);
                    continue;
                }
                // The rows both windows hold, then each window's own rows on a copy.
                MaxOfRows<TMax>(first + (long)lowerFirst * width.Length, step, upperEnd - lowerFirst, mask0, mask1, mask2, mask3, full, twoVectors, ref row0, ref row1, ref row2, ref row3);
                var (lower0, lower1, lower2, lower3) = (row0, row1, row2, row3);
                MaxOfRows<TMax>(first + (long)upperFirst * width.Length, step, lowerFirst - upperFirst, mask0, mask1, mask2, mask3, full, twoVectors, ref row0, ref row1, ref row2, ref row3);
                MaxOfRows<TMax>(first + (long)upperEnd * width.Length, step, lowerEnd - upperEnd, mask0, mask1, mask2, mask3, full, twoVectors, ref lower0, ref lower1, ref lower2, ref lower3);
                across.Row<TMax>(row0, row1, row2, row3, output + (long)oh * outWidth);
                across.Row<TMax>(lower0, lower1, lower2, lower3, output + (long)(oh + 1) * outWidth);
                oh++;
            }
        }
    }

    /// <summary>
    /// Takes the maximum of <paramref name="count"/> rows from <paramref name="cell"/> (the first padded cell of the first,
    /// <paramref name="step"/> apart) into the row registers, padding as -inf; two registers for rows of up to two vectors.
    /// Vector j loads masked by <paramref name="mask0"/> to <paramref name="mask3"/> (its lanes that are input cells)
    /// unless bit j of <paramref name="full"/> says all of them are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MaxOfRows<TMax>(T* cell, long step, int count, Vector512<T> mask0, Vector512<T> mask1, Vector512<T> mask2,
        Vector512<T> mask3, int full, bool twoVectors, ref Vector512<T> row0, ref Vector512<T> row1, ref Vector512<T> row2, ref Vector512<T> row3)
        where TMax : IMax512
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        for (; count > 0; count--, cell += step)
        {
            row0 = Lanes512<T>.Max<TMax>(row0, (full & 1) != 0 ? Vector512.Load(cell) : Lanes512<T>.MaskLoad(cell, mask0, fill));
            row1 = Lanes512<T>.Max<TMax>(row1, (full & 2) != 0 ? Vector512.Load(cell + Lanes) : Lanes512<T>.MaskLoad(cell + Lanes, mask1, fill));
            if (twoVectors) continue;
            row2 = Lanes512<T>.Max<TMax>(row2, (full & 4) != 0 ? Vector512.Load(cell + 2 * Lanes) : Lanes512<T>.MaskLoad(cell + 2 * Lanes, mask2, fill));
            row3 = Lanes512<T>.Max<TMax>(row3, (full & 8) != 0 ? Vector512.Load(cell + 3 * Lanes) : Lanes512<T>.MaskLoad(cell + 3 * Lanes, mask3, fill));
        }
    }

    /// <summary>The horizontal pass of the register path: one output row from its column maxima in four registers.</summary>
    private readonly unsafe struct AcrossRegisters(Vector512<T>* indices, Vector512<T>* fromLow, int* sources, int kernel, int blocks, int outWidth)
    {
        private readonly Vector512<T> _lastLanes = Lanes512<T>.FirstLanes(outWidth - (blocks - 1) * Lanes);

        /// <summary>
        /// Each block of the row: the maximum of its taps, a tap's lanes picked with a permute from the two neighbouring
        /// registers that hold them, or from the first two and the last two and a blend; + 0 so that a zero maximum is
        /// +0 (see <see cref="MaxOp{T}"/>).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Row<TMax>(Vector512<T> row0, Vector512<T> row1, Vector512<T> row2, Vector512<T> row3, T* outputRow) where TMax : IMax512
        {
            for (int b = 0, at = 0; b < blocks; b++)
            {
                var acc = Vector512.Create(T.NegativeInfinity);
                for (int t = 0; t < kernel; t++, at++)
                {
                    var index = indices[at];
                    var tap = sources[at] switch
                    {
                        0 => Lanes512<T>.Permute(row0, index, row1),
                        1 => Lanes512<T>.Permute(row1, index, row2),
                        2 => Lanes512<T>.Permute(row2, index, row3),
                        _ => Vector512.ConditionalSelect(fromLow[at], Lanes512<T>.Permute(row0, index, row1), Lanes512<T>.Permute(row2, index, row3)),
                    };
                    acc = Lanes512<T>.Max<TMax>(acc, tap);
                }
                acc = Lanes512<T>.PlusZero(acc);
                if (b < blocks - 1) acc.Store(outputRow + b * Lanes);
                else Lanes512<T>.MaskStore(outputRow + b * Lanes, _lastLanes, acc);
            }
        }
    }

    /// <summary>
    /// The register path's tables: for block b of an output row and tap t, lane i reads padded cell
    /// <c>p = (b * Lanes + i) * s + t * d</c>. The tap takes its lanes from the two neighbouring row registers that hold
    /// every p it stores (a permute index relative to the first of them), or else from the first two and the last two
    /// (indices p mod 2 x Lanes, and a blend mask for p &lt; 2 x Lanes). Also each row vector's lanes that are input
    /// cells. Lanes past the row's outputs get some cell of the row; they are never stored.
    /// </summary>
    private readonly struct RegisterTaps : IDisposable
    {
        /// <summary>A tap whose lanes lie in no two neighbouring row registers (<see cref="Sources"/>): the first two and the last two, blended.</summary>
        public const int BothPairs = RowVectors - 1;

        public RegisterTaps(in AxisPlan width)
        {
            Inside = InsideMasks(width, RowVectors);
            int blocks = (width.Output + Lanes - 1) / Lanes, kernel = width.Kernel, rowCells = RowVectors * Lanes;
            Indices = ScratchArrays<Vector512<T>>.Rent(blocks * kernel);
            FromLow = ScratchArrays<Vector512<T>>.Rent(blocks * kernel);
            Sources = ScratchArrays<int>.Rent(blocks * kernel);
            Span<int> cells = stackalloc int[Lanes];
            for (int b = 0, at = 0; b < blocks; b++)
                for (int t = 0; t < kernel; t++, at++)
                {
                    int lowest = rowCells, highest = 0;
                    for (int i = 0; i < Lanes; i++)
                    {
                        cells[i] = (int)(((long)(b * Lanes + i) * width.Stride + (long)t * width.Dilation) % rowCells);
                        if (b * Lanes + i >= width.Output) continue; // a lane past the row's outputs: never stored
                        lowest = Math.Min(lowest, cells[i]);
                        highest = Math.Max(highest, cells[i]);
                    }
                    // The neighbouring registers (first, first + 1) that hold every lane the row stores, if any.
                    int first = Math.Min(lowest / Lanes, RowVectors - 2);
                    Sources[at] = highest < (first + 2) * Lanes ? first : BothPairs;
                    int from = Sources[at] == BothPairs ? 0 : first * Lanes;
                    for (int i = 0; i < Lanes; i++) cells[i] -= Math.Min(from, cells[i]);
                    Indices[at] = PermuteIndex(cells);
                    FromLow[at] = InFirstPair(cells);
                }
        }

        /// <summary>The lanes' cells as a two-source permute index: the low bits address a pair of registers.</summary>
        private static Vector512<T> PermuteIndex(ReadOnlySpan<int> cells)
        {
            if (typeof(T) == typeof(float))
            {
                Span<int> ints = stackalloc int[Lanes];
                for (int i = 0; i < Lanes; i++) ints[i] = cells[i] % (2 * Lanes);
                return Vector512.Create<int>(ints).As<int, T>();
            }
            Span<long> longs = stackalloc long[Lanes];
            for (int i = 0; i < Lanes; i++) longs[i] = cells[i] % (2 * Lanes);
            return Vector512.Create<long>(longs).As<long, T>();
        }

        /// <summary>The lanes whose cell lies in the first two row registers, as a blend mask.</summary>
        private static Vector512<T> InFirstPair(ReadOnlySpan<int> cells)
        {
            Span<T> values = stackalloc T[Lanes];
            for (int i = 0; i < Lanes; i++) values[i] = T.CreateTruncating(cells[i]); // small integers, exact in T
            return Vector512.LessThan(Vector512.Create<T>(values), Vector512.Create(T.CreateTruncating(2 * Lanes)));
        }

        public Vector512<T>[] Inside { get; }
        public Vector512<T>[] Indices { get; }
        public Vector512<T>[] FromLow { get; }

        /// <summary>For each block and tap, the first of the two neighbouring registers its lanes are picked from, or <see cref="BothPairs"/>.</summary>
        public int[] Sources { get; }

        public void Dispose()
        {
            ScratchArrays<Vector512<T>>.Return(Inside);
            ScratchArrays<Vector512<T>>.Return(Indices);
            ScratchArrays<Vector512<T>>.Return(FromLow);
            ScratchArrays<int>.Return(Sources);
        }
    }
}
