using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// Channels-first 1-d or 2-d max on AVX-512 for any window, width stride up to 4, dilation and padding, reading the
/// input in place. Max is separable, so each output row takes two passes over one scratch row:
/// <list type="number">
/// <item>down the window's rows: the maximum of each input column over the rows inside the input, whole contiguous
/// vectors, into a scratch row with -inf in its padding;</item>
/// <item>across: for a width stride s, the scratch row split into its s phases (cells r, r + s, r + 2s, ...; two-source
/// permutes), so that every tap of a block of outputs is one contiguous load from a phase.</item>
/// </list>
/// </summary>
/// <remarks>
/// <para>The any-rank path reduces rows first too, but over a padded, phase-split copy of the whole plane: a strided copy cell
/// by cell that costs more than the pooling. Here only one row of column maxima (in L1) is split, once per output row.</para>
/// <para>A padded row of at most four vectors (64 float cells, 32 double) skips the scratch row: its column maxima stay
/// in registers, every tap is picked from them with permutes (<see cref="PlaneInRegisters"/>), and overlapping windows
/// go two output rows at a time, reducing the rows they share once.</para>
/// </remarks>
internal static class SeparableRowsMax<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Width strides up to this are split with permutes of at most four loaded vectors per block.</summary>
    private const int MaxStride = 4;

    /// <summary>Whether <see cref="Run"/> pools <paramref name="plan"/> on this machine.</summary>
    public static bool Handles(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && plan.IsMax && plan.IsPlanar && plan.Width.Stride <= MaxStride;

    /// <summary>
    /// Whether the dispatch table sends <paramref name="plan"/> here: where measurement found it fastest (bench/notes.md),
    /// windows of 4 rows or more at a height stride of 3 or more: undilated at a width stride of 3-4 and at least 2 wide
    /// (dilated ones measured faster through the channels-last detour), or, for double, dilated along the row at width
    /// stride 2 on rows of more than three vectors (which the row blocks do not take). Elsewhere the row blocks (at
    /// width stride 2 above all), the any-rank path's horizontal-first pass and, on planes up to
    /// <see cref="ChannelsFirstViaChannelsLast{T}.RowSharingPaysAboveCells"/> cells, the channels-last detour stay
    /// faster: this route reduces every window row once per output row, and its work per output row is fixed.
    /// </summary>
    public static bool Applies(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (!Handles(plan) || height.Stride < 3 || height.Kernel < 4) return false;
        if (plan.InputPlane <= ChannelsFirstViaChannelsLast<T>.RowSharingPaysAboveCells) return false;
        return width.Stride == 2
            ? typeof(T) == typeof(double) && width.Dilation > 1 && width.Length > 3 * Lanes
            : width.Stride >= 3 && width.Kernel >= 2 && height.Dilation == 1 && width.Dilation == 1;
    }

    /// <summary>
    /// Float calls of <see cref="Applies"/>' class on rows of 48 to 64 cells (three vectors or more, all of them in
    /// registers), where this route measured faster than the channels-last detour, which the table asks first; on
    /// 40-wide rows the two were even (bench/notes.md).
    /// </summary>
    public static bool BeatsTheDetour(in PoolPlan plan) =>
        typeof(T) == typeof(float) && Applies(plan) && plan.Width.Length >= 3 * Lanes && RowFitsRegisters(plan.Width);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        if (RowFitsRegisters(plan.Width))
        {
            RunInRegisters(plan, input, output, firstPlane, planeCount);
            return;
        }
        var layout = new ScratchLayout(plan.Width);
        T[] scratch = ScratchArrays<T>.Rent(layout.Cells + Lanes);
        var taps = new Taps(plan.Width, layout.PhaseStride, layout.RowGroups);
        int[] firstRows = ScratchArrays<int>.Rent(plan.Height.Output), rowCounts = ScratchArrays<int>.Rent(plan.Height.Output);
        plan.Height.WriteInsideWindows(firstRows, rowCounts);
        var picks = stackalloc Lanes512<T>.StridePick[MaxStride];
        for (int r = 0; r < plan.Width.Stride; r++) picks[r] = Lanes512<T>.StridePick.For(plan.Width.Stride, r);
        try
        {
            fixed (T* source = input, target = output, rented = scratch)
            {
                T* row = Lanes512<T>.Aligned(rented);
                new Span<T>(row, layout.Cells).Fill(T.NegativeInfinity); // the padding: never overwritten
                int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
                bool scanForNaN = Lanes512<T>.WorthScanningForNaN(inPlane);
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                    if (scanForNaN && !Lanes512<T>.ContainsNaN(plane, inPlane))
                        Plane<UncheckedMax512>(plan, layout, taps, firstRows, rowCounts, picks, plane, outputPlane, row);
                    else
                        Plane<PropagatingMax512>(plan, layout, taps, firstRows, rowCounts, picks, plane, outputPlane, row);
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(scratch);
            taps.Dispose();
            ScratchArrays<int>.Return(firstRows);
            ScratchArrays<int>.Return(rowCounts);
        }
    }

    /// <summary>
    /// Whether a padded row (every cell some tap reads) fits four vectors: its column maxima then stay in registers, and
    /// each tap of a block of outputs is picked from them with one permute (two and a blend where its lanes span more
    /// than two neighbouring vectors), with no scratch row.
    /// </summary>
    private static bool RowFitsRegisters(in AxisPlan width) => width.PaddedLength <= RowVectors * Lanes;

    /// <summary>The vectors of a row kept in registers.</summary>
    private const int RowVectors = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunInRegisters(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        var taps = new RegisterTaps(plan.Width);
        int[] firstRows = ScratchArrays<int>.Rent(plan.Height.Output), rowCounts = ScratchArrays<int>.Rent(plan.Height.Output);
        plan.Height.WriteInsideWindows(firstRows, rowCounts);
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
            ScratchArrays<int>.Return(firstRows);
            ScratchArrays<int>.Return(rowCounts);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Plane<TMax>(in PoolPlan plan, in ScratchLayout layout, in Taps taps, int[] firstRows, int[] rowCounts,
        Lanes512<T>.StridePick* picks, T* plane, T* output, T* row)
        where TMax : IMax512
    {
        AxisPlan height = plan.Height, width = plan.Width;
        int outWidth = width.Output;
        T* phases = layout.Phases(row);
        long step = (long)height.Dilation * width.Length;
        fixed (int* offsets = taps.Offsets, shifted = taps.Shifted, counts = rowCounts, starts = firstRows)
        fixed (Vector512<T>* shifts = taps.Shifts, inside = taps.Inside)
        {
            for (int oh = 0; oh < height.Output; oh++)
            {
                ColumnMaxima<TMax>(plane + (long)starts[oh] * width.Length, step, counts[oh], width.PadBegin, layout.RowGroups, inside, row);
                if (width.Stride > 1) layout.Split(row, width.Stride, picks);
                Across<TMax>(phases, offsets, shifted, shifts, width.Kernel, output + (long)oh * outWidth, outWidth);
            }
        }
    }

    /// <summary>
    /// Vector j of the scratch row: padded-row cells <c>[j * Lanes, (j + 1) * Lanes)</c>, each the maximum of its input
    /// column over the <paramref name="count"/> window rows from <paramref name="first"/>, <paramref name="step"/> apart
    /// (-inf in the padding, and for no rows). Four vectors at a time, four independent chains per window row; a vector
    /// that is not wholly input loads masked by <paramref name="inside"/> (the lanes outside are not read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void ColumnMaxima<TMax>(T* first, long step, int count, int padBegin, int groups, Vector512<T>* inside, T* row)
        where TMax : IMax512
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        for (int g = 0; g < groups; g++, inside += 4, row += 4 * Lanes)
        {
            var (acc0, acc1, acc2, acc3) = (fill, fill, fill, fill);
            T* cell = first + ((long)g * 4 * Lanes - padBegin);
            Vector512<T> mask0 = inside[0], mask1 = inside[1], mask2 = inside[2], mask3 = inside[3];
            bool full0 = IsFull(mask0), full1 = IsFull(mask1), full2 = IsFull(mask2), full3 = IsFull(mask3);
            for (int k = 0; k < count; k++, cell += step)
            {
                acc0 = Lanes512<T>.Max<TMax>(acc0, full0 ? Vector512.Load(cell) : Lanes512<T>.MaskLoad(cell, mask0, fill));
                acc1 = Lanes512<T>.Max<TMax>(acc1, full1 ? Vector512.Load(cell + Lanes) : Lanes512<T>.MaskLoad(cell + Lanes, mask1, fill));
                acc2 = Lanes512<T>.Max<TMax>(acc2, full2 ? Vector512.Load(cell + 2 * Lanes) : Lanes512<T>.MaskLoad(cell + 2 * Lanes, mask2, fill));
                acc3 = Lanes512<T>.Max<TMax>(acc3, full3 ? Vector512.Load(cell + 3 * Lanes) : Lanes512<T>.MaskLoad(cell + 3 * Lanes, mask3, fill));
            }
            acc0.Store(row);
            acc1.Store(row + Lanes);
            acc2.Store(row + 2 * Lanes);
            acc3.Store(row + 3 * Lanes);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsFull(Vector512<T> mask) => Vector512.EqualsAll(mask.AsInt64(), Vector512<long>.AllBitsSet);

    /// <summary>
    /// Each block of outputs: the maximum of its taps, tap t the aligned block <c>offsets[t]</c> cells on or, where
    /// <c>shifted[t]</c>, lanes of it and the next (a two-source permute by <c>shifts[t]</c>); + 0 so that a zero
    /// maximum is +0 (see <see cref="MaxOp{T}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Across<TMax>(T* phases, int* offsets, int* shifted, Vector512<T>* shifts, int kernel, T* output, int outWidth)
        where TMax : IMax512
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        for (int ow = 0; ow < outWidth; ow += Lanes)
        {
            T* block = phases + ow;
            var acc = fill;
            for (int t = 0; t < kernel; t++)
            {
                T* tap = block + offsets[t];
                var low = Vector512.Load(tap);
                acc = Lanes512<T>.Max<TMax>(acc, shifted[t] == 0 ? low : Lanes512<T>.Permute(low, shifts[t], Vector512.Load(tap + Lanes)));
            }
            acc = Lanes512<T>.PlusZero(acc);
            int left = outWidth - ow;
            if (left >= Lanes) acc.Store(output + ow);
            else Lanes512<T>.MaskStore(output + ow, Lanes512<T>.FirstLanes(left), acc);
        }
    }

    /// <summary>
    /// Where the scratch row and its phases lie, in whole vectors. The row holds padded-row cell i (input column
    /// i - PadBegin) at i, with -inf in the padding and far enough after it for every load; phase r's cell m (row cell
    /// m * s + r) lies at <c>r * PhaseStride + m</c> after the row (stride 1: the row is its only phase).
    /// </summary>
    private readonly struct ScratchLayout
    {
        public ScratchLayout(in AxisPlan width)
        {
            int stride = width.Stride;
            RowGroups = (width.PadBegin + width.Length + 4 * Lanes - 1) / (4 * Lanes);
            int reach = (int)((width.EffectiveKernel - 1) / stride); // the last tap's offset, in phase cells
            PhaseBlocks = (width.Output + reach + Lanes - 1) / Lanes;
            PhaseStride = (PhaseBlocks + 1) * Lanes; // a shifted tap reads one vector past the blocks the taps reach
            // The split reads four vectors from block b * s; stride 1 reads the row as its phase.
            RowCells = Math.Max(4 * RowGroups, Math.Max(PhaseBlocks * stride + 4, PhaseBlocks + 2)) * Lanes;
            Cells = RowCells + (stride > 1 ? stride * PhaseStride : 0);
            for (int t = 0; t < width.Kernel && UsedPhases != (1 << stride) - 1; t++) UsedPhases |= 1 << (int)((long)t * width.Dilation % stride);
        }

        /// <summary>The groups of four vectors of column maxima each output row writes: every cell from the first padding cell to the input's last.</summary>
        public int RowGroups { get; }

        /// <summary>The blocks of each phase the taps read.</summary>
        public int PhaseBlocks { get; }

        public int PhaseStride { get; }
        public int RowCells { get; }
        public int Cells { get; }

        /// <summary>Bit r set where some tap reads phase r: a window shorter than the stride, or dilated, skips phases.</summary>
        public int UsedPhases { get; }

        /// <summary>Where the phases start: after the row, or the row itself at stride 1.</summary>
        public unsafe T* Phases(T* row) => RowCells == Cells ? row : row + RowCells;

        /// <summary>
        /// Splits the scratch row into its <paramref name="stride"/> phases (2-4): block b of phase r is cells
        /// <c>(b * Lanes + i) * s + r</c>, from the row's vectors from <c>b * s</c> with <c>picks[r]</c>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Split(T* row, int stride, Lanes512<T>.StridePick* picks)
        {
            T* phases = Phases(row);
            for (int r = 0; r < stride; r++)
            {
                if ((UsedPhases & (1 << r)) == 0) continue;
                T* phase = phases + r * PhaseStride;
                var pick = picks[r];
                for (int b = 0; b < PhaseBlocks; b++)
                    Lanes512<T>.EveryNth(row + (long)b * Lanes * stride, stride, pick).Store(phase + b * Lanes);
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
            Inside = ScratchArrays<Vector512<T>>.Rent(RowVectors);
            for (int j = 0; j < RowVectors; j++) Inside[j] = Lanes512<T>.InsideMask(j * Lanes - width.PadBegin, width.Length);
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

    /// <summary>
    /// The call's tables. Each tap of an output's window from the output's phase cell: tap t at padded cell t * d is
    /// phase r = (t * d) mod s, q = (t * d) div s cells on; as the aligned block <c>r * PhaseStride + (q - q mod Lanes)</c>
    /// and, for q mod Lanes &gt; 0, the permute index that shifts it and the next block by that many lanes. And for each
    /// vector of the scratch row, its lanes that are input cells.
    /// </summary>
    private readonly struct Taps : IDisposable
    {
        public Taps(in AxisPlan width, int phaseStride, int rowGroups)
        {
            Inside = ScratchArrays<Vector512<T>>.Rent(4 * rowGroups);
            for (int j = 0; j < 4 * rowGroups; j++) Inside[j] = Lanes512<T>.InsideMask(j * Lanes - width.PadBegin, width.Length);
            int kernel = width.Kernel;
            Offsets = ScratchArrays<int>.Rent(kernel);
            Shifted = ScratchArrays<int>.Rent(kernel);
            Shifts = ScratchArrays<Vector512<T>>.Rent(kernel);
            for (int t = 0; t < kernel; t++)
            {
                long position = (long)t * width.Dilation;
                int phase = (int)(position % width.Stride), cells = (int)(position / width.Stride), shift = cells % Lanes;
                Offsets[t] = phase * phaseStride + cells - shift;
                Shifted[t] = shift;
                Shifts[t] = typeof(T) == typeof(float)
                    ? (Vector512<int>.Indices + Vector512.Create(shift)).As<int, T>()
                    : (Vector512<long>.Indices + Vector512.Create((long)shift)).As<long, T>();
            }
        }

        public int[] Offsets { get; }
        public int[] Shifted { get; }
        public Vector512<T>[] Shifts { get; }

        /// <summary>Vector j of the scratch row: the lanes that are input cells, not padding.</summary>
        public Vector512<T>[] Inside { get; }

        public void Dispose()
        {
            ScratchArrays<int>.Return(Offsets);
            ScratchArrays<int>.Return(Shifted);
            ScratchArrays<Vector512<T>>.Return(Shifts);
            ScratchArrays<Vector512<T>>.Return(Inside);
        }
    }
}
