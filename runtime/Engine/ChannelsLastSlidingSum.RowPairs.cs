using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// Channels-last averages whose consecutive windows share at least half their rows, at width strides 2 to 4: two whole
/// output rows at a time, four cells of each a step, each input cell of the shared window rows loaded once for both.
/// </summary>
internal static partial class ChannelsLastSlidingSum<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether <see cref="ChannelsLastPooling{T}.RunWindows"/> takes whole output rows two at a time
    /// (<see cref="RunRowPair"/>): whole rows at strides 2 to 4 where consecutive windows share at least half their rows.
    /// </summary>
    public static bool TakesRowPairs(in PoolPlan plan) =>
        TakesWholeRows(plan) && plan.Width.Stride > 1 && ChannelsLastPooling<T>.PairsWindowRows(plan);

    /// <summary>
    /// Averages two whole output rows at once (where <see cref="TakesRowPairs"/>), as <see cref="RunRow"/> does one, each
    /// input cell of the window rows both hold loaded once for both rows' cells. <paramref name="firstRows"/> and
    /// <paramref name="secondRows"/> list the rows' window rows inside the input, in order. Returns false, doing nothing,
    /// unless the first row's own window rows come first, then the shared ones, then the second row's own.
    /// </summary>
    public static bool RunRowPair(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> firstRows, ReadOnlySpan<int> secondRows,
        ReadOnlySpan<T> firstDivisors, ReadOnlySpan<T> secondDivisors, Span<T> firstOutput, Span<T> secondOutput)
    {
        int own = 0;
        while (own < firstRows.Length && !secondRows.IsEmpty && firstRows[own] < secondRows[0]) own++;
        int shared = firstRows.Length - own;
        if (shared == 0 || shared > secondRows.Length || !firstRows[own..].SequenceEqual(secondRows[..shared])) return false;
        var rows = new PairRows(own, shared, secondRows.Length - shared);
        int stride = plan.Width.Stride;
        switch (plan.Width.Kernel)
        {
            case 3: RunRowPair<Count3>(plan, stride, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
            case 4: RunRowPair<Count4>(plan, stride, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
            case 5: RunRowPair<Count5>(plan, stride, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
            case 6: RunRowPair<Count6>(plan, stride, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
            case 7: RunRowPair<Count7>(plan, stride, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
            case 8: RunRowPair<Count8>(plan, stride, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
            default: RunRowPair<Count9>(plan, stride, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
        }
        return true;
    }

    /// <summary>How a row pair's window rows split: the first row's own, the shared ones, the second row's own, in that order.</summary>
    private readonly record struct PairRows(int FirstOwn, int Shared, int SecondOwn)
    {
        public int Union => FirstOwn + Shared + SecondOwn;
    }

    private static void RunRowPair<TColumns>(in PoolPlan plan, int stride, ReadOnlySpan<T> image, ReadOnlySpan<int> firstRows, ReadOnlySpan<int> secondRows,
        PairRows rows, ReadOnlySpan<T> firstDivisors, ReadOnlySpan<T> secondDivisors, Span<T> firstOutput, Span<T> secondOutput)
        where TColumns : IConstantCount
    {
        switch (stride)
        {
            case 2: RunRowPair<TColumns, Count2>(plan, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
            case 3: RunRowPair<TColumns, Count3>(plan, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
            default: RunRowPair<TColumns, Count4>(plan, image, firstRows, secondRows, rows, firstDivisors, secondDivisors, firstOutput, secondOutput); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunRowPair<TColumns, TStride>(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> firstRows, ReadOnlySpan<int> secondRows,
        PairRows rows, ReadOnlySpan<T> firstDivisors, ReadOnlySpan<T> secondDivisors, Span<T> firstOutput, Span<T> secondOutput)
        where TColumns : IConstantCount where TStride : IConstantCount
    {
        AxisPlan width = plan.Width;
        int channels = plan.Input.Channels, lanes = Vector512<T>.Count, cells = width.Output;
        if (cells < 8 || firstOutput.Length != cells * channels || secondOutput.Length != cells * channels
            || firstDivisors.Length < cells || secondDivisors.Length < cells)
            throw new InvalidOperationException("KernelGen internal error: a row pair's cells do not match its output.");
        long rowSpan = (long)width.Length * channels;
        ChannelsLastSliding.RequireRowsInside(image.Length, firstRows, rowSpan);
        ChannelsLastSliding.RequireRowsInside(image.Length, secondRows, rowSpan);
        // Every window row of the pair once, in order: the first row's, then the second row's own.
        int* union = stackalloc int[rows.Union];
        firstRows.CopyTo(new Span<int>(union, rows.Union));
        secondRows[rows.Shared..].CopyTo(new Span<int>(union + firstRows.Length, rows.SecondOwn));
        fixed (T* source = image, firstTarget = firstOutput, secondTarget = secondOutput, firstCellDivisors = firstDivisors, secondCellDivisors = secondDivisors)
        {
            // Four cells a step: the two rows' sums and the loaded cell fit the registers, and the JIT inlines every column.
            for (int first = 0; first < cells; first += 4)
            {
                first = Math.Min(first, cells - 4);
                var (start, span, lo, hi) = StepColumns<TColumns, TStride>(width, first, 4);
                T* at = source + (nint)start * channels;
                nint to = (nint)first * channels;
                for (int j = 0; ; j += lanes)
                {
                    if (j > channels - lanes) j = channels - lanes;
                    var targets = new PairTargets(firstTarget + to + j, secondTarget + to + j, firstCellDivisors + first, secondCellDivisors + first);
                    if (lo == 0 && hi == span) PoolPairStep<TColumns, TStride, Count0>(at + j, union, rows, channels, lo, hi, targets);
                    else PoolPairStep<TColumns, TStride, Count1>(at + j, union, rows, channels, lo, hi, targets);
                    if (j == channels - lanes) break;
                }
            }
        }
    }

    /// <summary>Where a pair step stores its two rows' cells, and their divisors.</summary>
    private readonly unsafe struct PairTargets(T* first, T* second, T* firstDivisors, T* secondDivisors)
    {
        public T* First { get; } = first;
        public T* Second { get; } = second;
        public T* FirstDivisors { get; } = firstDivisors;
        public T* SecondDivisors { get; } = secondDivisors;
    }

    /// <summary>
    /// One channel vector of four cells in both rows of a pair (<see cref="PoolStep"/> for two rows): the union of the
    /// rows' window rows in order, each input cell loaded once and added to the cells of each row whose window holds it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PoolPairStep<TColumns, TStride, TClipped>(T* at, int* union, PairRows rows, int channels, int lo, int hi, PairTargets targets)
        where TColumns : IConstantCount where TStride : IConstantCount where TClipped : IConstantCount
    {
        // PyTorch's order: from +0, row by row, left to right; the first row's sums s, the second's t.
        Vector512<T> s0 = Vector512<T>.Zero, s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
        int firstEnd = rows.FirstOwn + rows.Shared, count = firstEnd + rows.SecondOwn;
        for (int i = 0; i < count; i++)
            PairColumns<TColumns, TStride, TClipped>(at + union[i], channels, lo, hi, i < firstEnd, i >= rows.FirstOwn,
                ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        Store<Count4>(targets.First, channels, targets.FirstDivisors, s0, s1, s2, s3, s0, s0, s0, s0);
        Store<Count4>(targets.Second, channels, targets.SecondDivisors, t0, t1, t2, t3, t0, t0, t0, t0);
    }

    /// <summary>
    /// Adds one window row of a pair step to the sums of the rows that hold it (<see cref="AddRowToStep"/> for two rows
    /// of four cells): each of its 3 x stride + kw input cells loaded once for both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PairColumns<TColumns, TStride, TClipped>(T* row, nint c, int lo, int hi, bool toFirst, bool toSecond,
        ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2, ref Vector512<T> s3,
        ref Vector512<T> t0, ref Vector512<T> t1, ref Vector512<T> t2, ref Vector512<T> t3)
        where TColumns : IConstantCount where TStride : IConstantCount where TClipped : IConstantCount
    {
        PairColumn<TColumns, TStride, TClipped>(row, c, 0, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 1, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 2, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 3, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 4, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 5, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 6, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 7, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 8, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 9, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 10, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 11, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 12, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 13, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 14, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 15, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 16, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 17, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 18, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 19, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
        PairColumn<TColumns, TStride, TClipped>(row, c, 20, lo, hi, toFirst, toSecond, ref s0, ref s1, ref s2, ref s3, ref t0, ref t1, ref t2, ref t3);
    }

    /// <summary>
    /// <see cref="Column"/> for a pair step: input cell <paramref name="j"/> added to the cells of each row that holds the
    /// window row, the second row's sums on the other pipes (FMA where the first's are plain additions, and the reverse).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PairColumn<TColumns, TStride, TClipped>(T* row, nint c, int j, int lo, int hi, bool toFirst, bool toSecond,
        ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2, ref Vector512<T> s3,
        ref Vector512<T> t0, ref Vector512<T> t1, ref Vector512<T> t2, ref Vector512<T> t3)
        where TColumns : IConstantCount where TStride : IConstantCount where TClipped : IConstantCount
    {
        int kw = TColumns.Value, s = TStride.Value;
        if (!StepReads<TColumns, TStride, TClipped>(j, 4, lo, hi)) return;
        var v = Vector512.Load(row + j * c);
        if (toFirst)
        {
            if ((uint)j < (uint)kw) s0 += v;
            if ((uint)(j - s) < (uint)kw) s1 = Lanes512<T>.Add(s1, v);
            if ((uint)(j - 2 * s) < (uint)kw) s2 += v;
            if ((uint)(j - 3 * s) < (uint)kw) s3 = Lanes512<T>.Add(s3, v);
        }
        if (toSecond)
        {
            if ((uint)j < (uint)kw) t0 = Lanes512<T>.Add(t0, v);
            if ((uint)(j - s) < (uint)kw) t1 += v;
            if ((uint)(j - 2 * s) < (uint)kw) t2 = Lanes512<T>.Add(t2, v);
            if ((uint)(j - 3 * s) < (uint)kw) t3 += v;
        }
    }
}
