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
/// in registers, every tap is picked from them with permutes (SeparableRowsMax.Registers.cs), and overlapping windows
/// go two output rows at a time, reducing the rows they share once.</para>
/// </remarks>
internal static partial class SeparableRowsMax<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Width strides up to this are split with permutes of at most four loaded vectors per block.</summary>
    private const int MaxStride = 4;

    /// <summary>Whether <see cref="Run"/> pools <paramref name="plan"/> on this machine.</summary>
    public static bool Handles(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && plan.IsMax && plan.IsPlanar && plan.Width.Stride <= MaxStride;

    /// <summary>
    /// Whether the dispatch table sends <paramref name="plan"/> here: where measurement found it fastest (bench/notes.md),
    /// windows of 4 rows or more at height stride 2 (<see cref="TakesHeightStride2"/>) or at a height stride of 3 or more:
    /// undilated at a width stride of 3-4 and at least 2 wide (dilated ones measured faster through the channels-last
    /// detour), or, at width stride 2, float one-column windows (<see cref="TakesOneColumnStride2"/>) and, for double,
    /// windows dilated along rows of more than three vectors (which the row blocks do not take). Elsewhere the row blocks (at
    /// width stride 2 above all), the any-rank path's horizontal-first pass and, on planes up to
    /// <see cref="ChannelsFirstViaChannelsLast{T}.RowSharingPaysAboveCells"/> cells, the channels-last detour stay
    /// faster: this route reduces every window row once per output row, and its work per output row is fixed.
    /// </summary>
    public static bool Applies(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (!Handles(plan) || height.Stride < 2 || height.Kernel < 4) return false;
        if (plan.InputPlane <= ChannelsFirstViaChannelsLast<T>.RowSharingPaysAboveCells) return false;
        if (height.Stride == 2) return TakesHeightStride2(plan);
        return width.Stride == 2
            ? (typeof(T) == typeof(double) && width.Dilation > 1 && width.Length > 3 * Lanes) || TakesOneColumnStride2(plan)
            : width.Stride >= 3 && width.Kernel >= 2 && height.Dilation == 1 && width.Dilation == 1;
    }

    /// <summary>
    /// At height stride 2, float rows of 48 to 64 cells (three vectors or more, all of them in registers), undilated, at
    /// width stride 2, or 4 with windows 4 columns wide or more: there this route measured faster than the route the
    /// table chose before (the channels-last detour, the row blocks or the any-rank path; bench/notes.md); longer rows
    /// (the scratch-row path) and double did not.
    /// </summary>
    private static bool TakesHeightStride2(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        return FloatRowInRegisters(width) && height.Dilation == 1 && width.Dilation == 1
            && (width.Stride == 2 || (width.Stride == 4 && width.Kernel >= 4));
    }

    /// <summary>
    /// At height strides of 3 and more and width stride 2, float one-column windows on rows of 48 to 64 cells, undilated:
    /// there this route measured faster than the row blocks (bench/notes.md); on 112-wide rows and for double it did not.
    /// </summary>
    private static bool TakesOneColumnStride2(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        return FloatRowInRegisters(width) && width.Kernel == 1 && height.Dilation == 1;
    }

    /// <summary>
    /// Float calls of <see cref="Applies"/>' class on rows of 48 to 64 cells (three vectors or more, all of them in
    /// registers), where this route measured faster than the channels-last detour, which the table asks first; on
    /// 40-wide rows the two were even (bench/notes.md).
    /// </summary>
    public static bool BeatsTheDetour(in PoolPlan plan) => Applies(plan) && FloatRowInRegisters(plan.Width);

    /// <summary>Float rows of 48 to 64 cells: three vectors or more, all of them in registers, where this route's measured wins lie.</summary>
    private static bool FloatRowInRegisters(in AxisPlan width) =>
        typeof(T) == typeof(float) && width.Length >= 3 * Lanes && RowFitsRegisters(width);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        // Each output row's first window row inside the input and how many there are, for both paths.
        int[] firstRows = ScratchArrays<int>.Rent(plan.Height.Output), rowCounts = ScratchArrays<int>.Rent(plan.Height.Output);
        plan.Height.WriteInsideWindows(firstRows, rowCounts);
        try
        {
            if (RowFitsRegisters(plan.Width)) RunInRegisters(plan, input, output, firstPlane, planeCount, firstRows, rowCounts);
            else RunWithScratchRow(plan, input, output, firstPlane, planeCount, firstRows, rowCounts);
        }
        finally
        {
            ScratchArrays<int>.Return(firstRows);
            ScratchArrays<int>.Return(rowCounts);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunWithScratchRow(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount,
        int[] firstRows, int[] rowCounts)
    {
        var layout = new ScratchLayout(plan.Width);
        T[] scratch = ScratchArrays<T>.Rent(layout.Cells + Lanes);
        var taps = new Taps(plan.Width, layout.PhaseStride, layout.RowGroups);
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
        }
    }

    /// <summary>
    /// The rented masks of a row's first <paramref name="vectors"/> vectors of padded cells: the lanes that are input
    /// cells, not padding.
    /// </summary>
    private static Vector512<T>[] InsideMasks(in AxisPlan width, int vectors)
    {
        var inside = ScratchArrays<Vector512<T>>.Rent(vectors);
        for (int j = 0; j < vectors; j++) inside[j] = Lanes512<T>.InsideMask(j * Lanes - width.PadBegin, width.Length);
        return inside;
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
    /// The call's tables. Each tap of an output's window from the output's phase cell: tap t at padded cell t * d is
    /// phase r = (t * d) mod s, q = (t * d) div s cells on; as the aligned block <c>r * PhaseStride + (q - q mod Lanes)</c>
    /// and, for q mod Lanes &gt; 0, the permute index that shifts it and the next block by that many lanes. And for each
    /// vector of the scratch row, its lanes that are input cells.
    /// </summary>
    private readonly struct Taps : IDisposable
    {
        public Taps(in AxisPlan width, int phaseStride, int rowGroups)
        {
            Inside = InsideMasks(width, 4 * rowGroups);
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
