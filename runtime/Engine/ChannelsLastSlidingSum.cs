using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's channels-last average where neighbouring windows overlap along the row (Inception's 3x3 s1):
/// neighbouring output cells side by side, one channel vector at a time, so that each input cell of a window row is
/// loaded once for all the windows that hold it (cells x stride + kw - stride loads a row instead of cells x kw).
/// </summary>
/// <remarks>
/// <para>Summing a cell's taps one load each (<see cref="VectorOps{T}.Reduce{TOp}"/>, <see cref="ChannelsLastBlocked{T}"/>)
/// is bound by the loads, about one a cycle. The sums themselves cannot be shared between neighbours (each runs in
/// PyTorch's order from +0, row by row, left to right), but their loads can; then the additions bound the time.</para>
/// <para>Three forms, chosen by measurement (bench/notes.md):</para>
/// <list type="bullet">
/// <item>windows of 2 to 4 columns at stride 1: the interior cells of a row, four at a time (<see cref="Run"/>);</item>
/// <item>wider windows, and strides 2 to 4: whole output rows of eight cells or more, eight cells a step (four for
/// the last cells), every other one's sums on the FMA pipes (<see cref="Lanes512{T}.Add"/>, the same bits) so that
/// additions run on all four pipes; cells whose windows reach past the row's ends skip those columns, as PyTorch
/// skips the padding, so they go at the interior's speed (<see cref="RunRow"/>);</item>
/// <item>at strides 2 to 4, where consecutive windows share at least half their rows
/// (<see cref="ChannelsLastPooling{T}.PairsWindowRows"/>): two whole rows at a time, four cells of each a step, so that
/// the shared window rows' cells are loaded once for both rows (<see cref="RunRowPair"/>). Windows only one column wider
/// than the stride share too few loads along the row; there the blocked path's row pairs stay faster
/// (ChannelsLastSlidingSum.RowPairs.cs).</item>
/// </list>
/// <para>The separable max's pass along a row of column maxima takes the same column-order steps, four cells a step
/// (<see cref="RunMaxRow"/>, ChannelsLastSlidingSum.MaxRows.cs).</para>
/// <para>The generator's <c>SlidingAverageChannelsLastEmitter</c> shares loads too, for kernels whose window is known at compile
/// time; neither can replace the other without a slowdown on some shapes (bench/notes.md, "Issue 19: one owner").</para>
/// </remarks>
internal static partial class ChannelsLastSlidingSum<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether this path takes <paramref name="plan"/>: four interior cells a step (<see cref="TakesInteriorCells"/>) or
    /// whole rows (<see cref="TakesWholeRows"/>). Elsewhere, narrow rows among them, the blocked path does the work.
    /// </summary>
    public static bool Applies(in PoolPlan plan) => TakesInteriorCells(plan) || TakesWholeRows(plan);

    /// <summary>Whether <see cref="Run"/> takes a row's interior cells four at a time: windows of 2 to 4 columns at stride 1.</summary>
    public static bool TakesInteriorCells(in PoolPlan plan) => Shares(plan) && plan.Width.Stride == 1 && plan.Width.Kernel <= 4;

    /// <summary>
    /// Whether <see cref="RunRow"/> averages whole output rows: windows of 5 columns or more or strides of 2 or more, rows
    /// of eight cells or more.
    /// </summary>
    public static bool TakesWholeRows(in PoolPlan plan) =>
        Shares(plan) && plan.Width.Output >= 8 && (plan.Width.Stride > 1 || plan.Width.Kernel >= 5);

    /// <summary>
    /// Whether neighbouring windows share input cells this path can share: AVX-512, float or double average, a vector of
    /// channels or more, undilated windows 2 to 9 columns wide at stride 1, or at most 9 and wider than the stride (2 to
    /// 4): by a column or more where output rows do not go in pairs, by two or more where they do.
    /// </summary>
    private static bool Shares(in PoolPlan plan)
    {
        AxisPlan width = plan.Width;
        if (!Lanes512<T>.IsSupported || plan.IsMax || width.Dilation != 1 || plan.Input.Channels < Vector512<T>.Count || width.Kernel > 9) return false;
        if (width.Stride == 1) return width.Kernel >= 2;
        return width.Stride <= 4 && width.Kernel > width.Stride && (!ChannelsLastPooling<T>.PairsWindowRows(plan) || width.Kernel >= width.Stride + 2);
    }

    /// <summary>
    /// Averages the first cells of a run of <paramref name="cells"/> interior output cells four at a time (where
    /// <see cref="TakesInteriorCells"/>), and returns how many it did (a multiple of four); the caller does the rest.
    /// <paramref name="image"/> starts at the first cell's window's first column, <paramref name="rowOffsets"/> lists
    /// the window's rows inside the input (offsets into <paramref name="image"/>), and every cell divides by
    /// <paramref name="divisor"/>.
    /// </summary>
    public static int Run(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, T divisor, Span<T> output) =>
        plan.Width.Kernel switch
        {
            2 => Run<Count2>(image, rowOffsets, cells, plan.Input.Channels, divisor, output),
            3 => Run<Count3>(image, rowOffsets, cells, plan.Input.Channels, divisor, output),
            _ => Run<Count4>(image, rowOffsets, cells, plan.Input.Channels, divisor, output),
        };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run<TColumns>(ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int channels, T divisor, Span<T> output)
        where TColumns : IConstantCount =>
        ChannelsLastSliding.Run(image, rowOffsets, cells, TColumns.Value, stride: 1, channels, output, new Step<TColumns>(divisor));

    /// <summary>
    /// Averages one whole output row (where <see cref="TakesWholeRows"/>): eight cells a step, and the last cells in a
    /// step of four or eight that ends at the row's end (recomputing a few cells with the same bits).
    /// <paramref name="image"/> is the row's image, <paramref name="rowOffsets"/> its window's rows inside the input
    /// (maybe none), and <paramref name="divisors"/> each cell's divisor.
    /// </summary>
    public static void RunRow(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, ReadOnlySpan<T> divisors, Span<T> outputRow) =>
        RunRow<AddOp<T>>(plan, image, rowOffsets, divisors, outputRow);

    private static void RunRow<TOp>(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, ReadOnlySpan<T> divisors, Span<T> outputRow)
        where TOp : ILaneOp<T>
    {
        int stride = plan.Width.Stride;
        switch (plan.Width.Kernel)
        {
            case 2: RunRow<TOp, Count2>(plan, stride, image, rowOffsets, divisors, outputRow); break;
            case 3: RunRow<TOp, Count3>(plan, stride, image, rowOffsets, divisors, outputRow); break;
            case 4: RunRow<TOp, Count4>(plan, stride, image, rowOffsets, divisors, outputRow); break;
            case 5: RunRow<TOp, Count5>(plan, stride, image, rowOffsets, divisors, outputRow); break;
            case 6: RunRow<TOp, Count6>(plan, stride, image, rowOffsets, divisors, outputRow); break;
            case 7: RunRow<TOp, Count7>(plan, stride, image, rowOffsets, divisors, outputRow); break;
            case 8: RunRow<TOp, Count8>(plan, stride, image, rowOffsets, divisors, outputRow); break;
            default: RunRow<TOp, Count9>(plan, stride, image, rowOffsets, divisors, outputRow); break;
        }
    }

    /// <summary>The step's cells, each divided by its divisor.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store<TCells>(T* to, nint c, T* divisors, Vector512<T> s0, Vector512<T> s1, Vector512<T> s2, Vector512<T> s3,
        Vector512<T> s4, Vector512<T> s5, Vector512<T> s6, Vector512<T> s7) where TCells : IConstantCount
    {
        (s0 / Vector512.Create(divisors[0])).Store(to); (s1 / Vector512.Create(divisors[1])).Store(to + c);
        (s2 / Vector512.Create(divisors[2])).Store(to + 2 * c); (s3 / Vector512.Create(divisors[3])).Store(to + 3 * c);
        if (TCells.Value == 4) return;
        (s4 / Vector512.Create(divisors[4])).Store(to + 4 * c); (s5 / Vector512.Create(divisors[5])).Store(to + 5 * c);
        (s6 / Vector512.Create(divisors[6])).Store(to + 6 * c); (s7 / Vector512.Create(divisors[7])).Store(to + 7 * c);
    }

    private static void RunRow<TOp, TColumns>(in PoolPlan plan, int stride, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, ReadOnlySpan<T> divisors, Span<T> outputRow)
        where TOp : ILaneOp<T> where TColumns : IConstantCount
    {
        switch (stride)
        {
            case 1: RunRow<TOp, TColumns, Count1>(plan, image, rowOffsets, divisors, outputRow); break;
            case 2: RunRow<TOp, TColumns, Count2>(plan, image, rowOffsets, divisors, outputRow); break;
            case 3: RunRow<TOp, TColumns, Count3>(plan, image, rowOffsets, divisors, outputRow); break;
            default: RunRow<TOp, TColumns, Count4>(plan, image, rowOffsets, divisors, outputRow); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunRow<TOp, TColumns, TStride>(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, ReadOnlySpan<T> divisors, Span<T> outputRow)
        where TOp : ILaneOp<T> where TColumns : IConstantCount where TStride : IConstantCount
    {
        AxisPlan width = plan.Width;
        int channels = plan.Input.Channels, lanes = Vector512<T>.Count, cells = width.Output;
        if (cells < 8 || outputRow.Length != cells * channels || (typeof(TOp) == typeof(AddOp<T>) && divisors.Length < cells))
            throw new InvalidOperationException("KernelGen internal error: a whole row's cells do not match its output.");
        ChannelsLastSliding.RequireRowsInside(image.Length, rowOffsets, (long)width.Length * channels);
        fixed (T* source = image, target = outputRow, cellDivisors = divisors)
        fixed (int* rows = rowOffsets)
        {
            for (int first = 0; first < cells;)
            {
                int step = typeof(TOp) == typeof(MaxOp<T>) || cells - first <= 4 ? 4 : 8;
                first = Math.Min(first, cells - step);
                var (start, span, lo, hi) = StepColumns<TColumns, TStride>(width, first, step);
                T* at = source + (nint)start * channels, to = target + (nint)first * channels;
                // The last channel vector may overlap the one before: it recomputes a few channels with the same bits.
                for (int j = 0; ; j += lanes)
                {
                    if (j > channels - lanes) j = channels - lanes;
                    if (typeof(TOp) == typeof(MaxOp<T>))
                    {
                        // The separable max's row of column maxima is the only window row.
                        if (lo == 0 && hi == span) MaxStep<TColumns, TStride, Count0>(at + j + rows[0], channels, lo, hi, to + j);
                        else MaxStep<TColumns, TStride, Count1>(at + j + rows[0], channels, lo, hi, to + j);
                    }
                    else if (step == 4) PoolStep<TColumns, TStride, Count4, Count1>(at + j, rows, rowOffsets.Length, channels, lo, hi, cellDivisors + first, to + j);
                    else if (lo == 0 && hi == span) PoolStep<TColumns, TStride, Count8, Count0>(at + j, rows, rowOffsets.Length, channels, lo, hi, cellDivisors + first, to + j);
                    else PoolStep<TColumns, TStride, Count8, Count1>(at + j, rows, rowOffsets.Length, channels, lo, hi, cellDivisors + first, to + j);
                    if (j == channels - lanes) break;
                }
                first += step;
            }
        }
    }

    /// <summary>
    /// One channel vector of a step's cells (<typeparamref name="TCells"/>: 4 or 8) over the window rows, each divided by
    /// its divisor. With <typeparamref name="TClipped"/> 1, only the step's input columns <c>[lo, hi)</c> are read.
    /// Not inlined: each form keeps its own inlining budget, which its unrolled columns need.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PoolStep<TColumns, TStride, TCells, TClipped>(T* at, int* rows, int rowCount, int channels, int lo, int hi, T* divisors, T* to)
        where TColumns : IConstantCount where TStride : IConstantCount where TCells : IConstantCount where TClipped : IConstantCount
    {
        // PyTorch's order: from +0, row by row, left to right.
        Vector512<T> s0 = Vector512<T>.Zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int i = 0; i < rowCount; i++)
            AddRowToStep<TColumns, TStride, TCells, TClipped>(at + rows[i], channels, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Store<TCells>(to, channels, divisors, s0, s1, s2, s3, s4, s5, s6, s7);
    }

    /// <summary>
    /// Adds one window row's taps to the step's sums: input cell j of the row is tap j - stride x u of cell u, so going
    /// through the row's (cells - 1) x stride + kw input cells in order, each loaded once, adds every cell's taps in
    /// window order. The column index is a constant in each call, so the JIT keeps only the additions that exist.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRowToStep<TColumns, TStride, TCells, TClipped>(T* row, nint c, int lo, int hi, ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2,
        ref Vector512<T> s3, ref Vector512<T> s4, ref Vector512<T> s5, ref Vector512<T> s6, ref Vector512<T> s7)
        where TColumns : IConstantCount where TStride : IConstantCount where TCells : IConstantCount where TClipped : IConstantCount
    {
        Column<TColumns, TStride, TCells, TClipped>(row, c, 0, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 1, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 2, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 3, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 4, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 5, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 6, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 7, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 8, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 9, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 10, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 11, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 12, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 13, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 14, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 15, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 16, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 17, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 18, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 19, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 20, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 21, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 22, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 23, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 24, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 25, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 26, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 27, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 28, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 29, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 30, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 31, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 32, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 33, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 34, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 35, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride, TCells, TClipped>(row, c, 36, lo, hi, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
    }

    /// <summary>
    /// Adds input cell <paramref name="j"/> of a window row to the sums of the cells whose windows hold it, every other
    /// cell's on the FMA pipes (x * 1 + y, the bits of x + y). Nothing past the step's last cell, nor, clipped, outside
    /// <c>[lo, hi)</c>: a padding column, which PyTorch does not add.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Column<TColumns, TStride, TCells, TClipped>(T* row, nint c, int j, int lo, int hi, ref Vector512<T> s0, ref Vector512<T> s1,
        ref Vector512<T> s2, ref Vector512<T> s3, ref Vector512<T> s4, ref Vector512<T> s5, ref Vector512<T> s6, ref Vector512<T> s7)
        where TColumns : IConstantCount where TStride : IConstantCount where TCells : IConstantCount where TClipped : IConstantCount
    {
        int kw = TColumns.Value, s = TStride.Value;
        if (!StepReads<TColumns, TStride, TClipped>(j, TCells.Value, lo, hi)) return;
        var v = Vector512.Load(row + j * c);
        if ((uint)j < (uint)kw) s0 += v;
        if ((uint)(j - s) < (uint)kw) s1 = Lanes512<T>.Add(s1, v);
        if ((uint)(j - 2 * s) < (uint)kw) s2 += v;
        if ((uint)(j - 3 * s) < (uint)kw) s3 = Lanes512<T>.Add(s3, v);
        if (TCells.Value == 4) return;
        if ((uint)(j - 4 * s) < (uint)kw) s4 += v;
        if ((uint)(j - 5 * s) < (uint)kw) s5 = Lanes512<T>.Add(s5, v);
        if ((uint)(j - 6 * s) < (uint)kw) s6 += v;
        if ((uint)(j - 7 * s) < (uint)kw) s7 = Lanes512<T>.Add(s7, v);
    }

    /// <summary>
    /// The input columns of a step of <paramref name="cells"/> cells from output cell <paramref name="first"/>:
    /// (cells - 1) x stride + kw of them from the first window's start, those inside the row <c>[lo, hi)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (long Start, int Span, int Lo, int Hi) StepColumns<TColumns, TStride>(in AxisPlan width, int first, int cells)
        where TColumns : IConstantCount where TStride : IConstantCount
    {
        long start = width.WindowStart(first);
        int span = (cells - 1) * TStride.Value + TColumns.Value;
        int lo = (int)Math.Clamp(-start, 0, span), hi = (int)Math.Clamp(width.Length - start, lo, span);
        return (start, span, lo, hi);
    }

    /// <summary>
    /// Whether a step of <paramref name="cells"/> cells reads its input column <paramref name="j"/>: one some cell's
    /// window holds and, clipped, inside <c>[lo, hi)</c> (not a padding column, which PyTorch skips).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool StepReads<TColumns, TStride, TClipped>(int j, int cells, int lo, int hi)
        where TColumns : IConstantCount where TStride : IConstantCount where TClipped : IConstantCount =>
        j < (cells - 1) * TStride.Value + TColumns.Value && (TClipped.Value == 0 || (uint)(j - lo) < (uint)(hi - lo));

    /// <summary>Four cells, one channel vector, windows of 2 to 4 columns.</summary>
    private readonly struct Step<TColumns>(T divisor) : ISlidingStep<T> where TColumns : IConstantCount
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Pool(T* at, int* rows, int rowCount, int channels, T* to)
        {
            // PyTorch's order: from +0, row by row, left to right.
            Vector512<T> sum0 = Vector512<T>.Zero, sum1 = sum0, sum2 = sum0, sum3 = sum0;
            for (int i = 0; i < rowCount; i++)
                AddRow<TColumns>(at + rows[i], channels, ref sum0, ref sum1, ref sum2, ref sum3);
            // Broadcast here, not held in the struct: a vector field went through the stack at every step.
            var divisors = Vector512.Create(divisor);
            (sum0 / divisors).Store(to);
            (sum1 / divisors).Store(to + channels);
            (sum2 / divisors).Store(to + 2 * channels);
            (sum3 / divisors).Store(to + 3 * channels);
        }
    }

    /// <summary>Adds one window row's taps (2 to 4) to the four cells' sums, loading each of its 3 + kw input cells once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRow<TColumns>(T* row, int channels, ref Vector512<T> sum0, ref Vector512<T> sum1, ref Vector512<T> sum2, ref Vector512<T> sum3)
        where TColumns : IConstantCount
    {
        int kw = TColumns.Value;
        var c0 = Vector512.Load(row);
        var c1 = Vector512.Load(row + channels);
        var c2 = Vector512.Load(row + 2 * channels);
        var c3 = Vector512.Load(row + 3 * channels);
        var c4 = Vector512.Load(row + 4 * channels);
        var c5 = kw >= 3 ? Vector512.Load(row + 5 * channels) : default;
        var c6 = kw >= 4 ? Vector512.Load(row + 6 * channels) : default;
        // Tap k of cell u is input cell u + k; the four sums advance together, each in its own order.
        sum0 += c0; sum1 += c1; sum2 += c2; sum3 += c3;
        sum0 += c1; sum1 += c2; sum2 += c3; sum3 += c4;
        if (kw >= 3) { sum0 += c2; sum1 += c3; sum2 += c4; sum3 += c5; }
        if (kw >= 4) { sum0 += c3; sum1 += c4; sum2 += c5; sum3 += c6; }
    }
}
