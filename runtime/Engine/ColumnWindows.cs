using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's path for channels-first windows one column wide at width stride 1 (k x 1 pooling), on AVX-512:
/// each output row is the column-wise reduction of its window's input rows, read in place, a vector of columns at a
/// time; four output rows go together, walking the union of their window rows in order, so that each input vector is
/// loaded once for all four.
/// </summary>
/// <remarks>
/// <para>The other in-place routes treat such a window as a general one: the row blocks take every tap of every window,
/// the any-rank path prepares a padded copy of each plane. Here an output row costs one operation per window row and
/// vector, with no copy and no permute.</para>
/// <para>Each output row still reduces its own rows in window order (PyTorch's order for sums, from +0), so sharing the
/// loads does not change a bit. Sums alternate between the add and FMA pipes from one output row to the next (x * 1 + y,
/// the same bits); max is the NaN-propagating maximum, then +0 (<see cref="MaxOp{T}"/>).</para>
/// </remarks>
internal static class ColumnWindows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Output rows pooled together: their accumulators, four per vector of columns, fill 16 registers.</summary>
    private const int RowsAtOnce = 4;

    /// <summary>Vectors of columns pooled together.</summary>
    private const int VectorsAtOnce = 4;

    /// <summary>
    /// Whether the route takes <paramref name="plan"/>: where <see cref="Handles"/> it, on planes of more than
    /// <see cref="ChannelsFirstViaChannelsLast{T}.SmallPlaneCells"/> cells (on smaller ones the channels-last detour pools many
    /// planes at once faster), but double averages at height strides of 3 or more (the row blocks, as fast or faster on
    /// some planes) and max at height stride 1 other than undilated windows of 4 rows or more padded down the rows (the
    /// any-rank path's shared row maxima, read in place on unpadded rows, measured as fast or faster).
    /// Measurements in bench/notes.md.
    /// </summary>
    public static bool Applies(in PoolPlan plan) =>
        Handles(plan) && plan.InputPlane > ChannelsFirstViaChannelsLast<T>.SmallPlaneCells
        && !(plan.IsMax && plan.Height.Stride == 1 && !IsPaddedTallWindow(plan.Height))
        && !(!plan.IsMax && typeof(T) == typeof(double) && plan.Height.Stride >= 3);

    /// <summary>An undilated window of 4 rows or more with padding above or below.</summary>
    private static bool IsPaddedTallWindow(in AxisPlan height) =>
        height.Kernel >= 4 && height.Dilation == 1 && (height.PadBegin > 0 || height.PadEnd > 0);

    /// <summary>
    /// Whether <see cref="Run"/> pools <paramref name="plan"/> exactly: AVX-512, a 1-d or 2-d plane, windows one column
    /// wide at width stride 1 with no width padding (every output column is an input column), every window with at
    /// least one input row.
    /// </summary>
    public static bool Handles(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (!Lanes512<T>.IsSupported || !plan.IsPlanar || width.Kernel != 1 || width.Stride != 1 || width.PadBegin != 0 || width.Output != width.Length)
            return false;
        for (int oh = 0; oh < height.Output; oh++)
        {
            var (first, end) = height.InsideTaps(oh);
            if (end <= first) return false;
        }
        return true;
    }

    /// <summary>Pools planes <c>[firstPlane, firstPlane + planeCount)</c> of a validated call that <see cref="Handles"/> takes.</summary>
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        if (plan.IsMax) Run<MaxOp<T>>(plan, input, output, firstPlane, planeCount);
        else Run<AddOp<T>>(plan, input, output, firstPlane, planeCount);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    private static unsafe void Run<TOp>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount) where TOp : ILaneOp<T>
    {
        AxisPlan height = plan.Height;
        int width = plan.Width.Length, rows = height.Output, inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        if ((firstPlane + planeCount) * inPlane > input.Length || (firstPlane + planeCount) * outPlane > output.Length)
            throw new InvalidOperationException("KernelGen internal error: the planes lie outside the buffers.");
        int vectors = (width + Lanes - 1) / Lanes, blocks = (rows + RowsAtOnce - 1) / RowsAtOnce;
        int maxUnion = RowsAtOnce * height.Kernel;
        T[] divisors = ScratchArrays<T>.Rent(rows);
        int[] unionRows = ScratchArrays<int>.Rent(blocks * maxUnion), unionTakers = ScratchArrays<int>.Rent(blocks * maxUnion);
        int[] unionCounts = ScratchArrays<int>.Rent(blocks), takers = ScratchArrays<int>.Rent(height.Length);
        try
        {
            for (int oh = 0; oh < rows; oh++)
                divisors[oh] = T.CreateTruncating(plan.Divisor(plan.RowDivisorFactor(0, oh), 0)); // every column's window is inside
            for (int b = 0; b < blocks; b++)
                unionCounts[b] = UnionRows(height, FirstRow(b, rows), takers, unionRows.AsSpan(b * maxUnion, maxUnion), unionTakers.AsSpan(b * maxUnion, maxUnion));
            var tail = Lanes512<T>.FirstLanes(width - (vectors - 1) * Lanes);
            fixed (T* source = input, target = output, rowDivisors = divisors)
            fixed (int* unionRow = unionRows, unionTaker = unionTakers)
            {
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, pooled = target + p * outPlane;
                    for (int b = 0; b < blocks; b++)
                    {
                        int first = FirstRow(b, rows), count = Math.Min(RowsAtOnce, rows - first), listed = unionCounts[b];
                        int* blockRows = unionRow + b * maxUnion, blockTakers = unionTaker + b * maxUnion;
                        T* blockDivisors = rowDivisors + first;
                        for (int v = 0; v < vectors; v += VectorsAtOnce)
                        {
                            T* from = plane + v * Lanes, to = pooled + (long)first * width + v * Lanes;
                            // The group with the row's last vector loads and stores that vector masked: past it lies the next row, or the buffer's end.
                            switch (Math.Min(VectorsAtOnce, vectors - v))
                            {
                                case 1: Pool<TOp, Count1, Count1>(from, width, blockRows, blockTakers, listed, blockDivisors, to, count, tail); break;
                                case 2: Pool<TOp, Count2, Count1>(from, width, blockRows, blockTakers, listed, blockDivisors, to, count, tail); break;
                                case 3: Pool<TOp, Count3, Count1>(from, width, blockRows, blockTakers, listed, blockDivisors, to, count, tail); break;
                                default:
                                    if (v + VectorsAtOnce == vectors) Pool<TOp, Count4, Count1>(from, width, blockRows, blockTakers, listed, blockDivisors, to, count, tail);
                                    else Pool<TOp, Count4, Count0>(from, width, blockRows, blockTakers, listed, blockDivisors, to, count, tail);
                                    break;
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(divisors);
            ScratchArrays<int>.Return(unionRows);
            ScratchArrays<int>.Return(unionTakers);
            ScratchArrays<int>.Return(unionCounts);
            ScratchArrays<int>.Return(takers);
        }
    }

    /// <summary>The first output row of block <paramref name="block"/>: the last block ends at the last row (recomputing a few rows with the same bits).</summary>
    private static int FirstRow(int block, int rows) => Math.Max(0, Math.Min(block * RowsAtOnce, rows - RowsAtOnce));

    /// <summary>
    /// Lists the input rows that the windows of output rows <c>[first, first + 4)</c> (those that exist) hold, in order,
    /// each with a bit for every one of those output rows that takes it; returns how many. <paramref name="takers"/> is
    /// scratch, one value per input row.
    /// </summary>
    private static int UnionRows(in AxisPlan height, int first, int[] takers, Span<int> unionRows, Span<int> unionTakers)
    {
        int count = Math.Min(RowsAtOnce, height.Output - first), lowest = int.MaxValue, highest = -1;
        for (int m = 0; m < count; m++)
        {
            var (firstTap, endTap) = height.InsideTaps(first + m);
            long start = height.WindowStart(first + m);
            lowest = Math.Min(lowest, (int)(start + (long)firstTap * height.Dilation));
            highest = Math.Max(highest, (int)(start + (long)(endTap - 1) * height.Dilation));
        }
        takers.AsSpan(lowest, highest - lowest + 1).Clear();
        for (int m = 0; m < count; m++)
        {
            var (firstTap, endTap) = height.InsideTaps(first + m);
            long start = height.WindowStart(first + m);
            for (int tap = firstTap; tap < endTap; tap++) takers[(int)(start + (long)tap * height.Dilation)] |= 1 << m;
        }
        int listed = 0;
        for (int row = lowest; row <= highest; row++)
        {
            if (takers[row] == 0) continue;
            unionRows[listed] = row;
            unionTakers[listed++] = takers[row];
        }
        return listed;
    }

    /// <summary>
    /// One block: up to four vectors of columns from <paramref name="source"/> (rows <paramref name="width"/> cells
    /// apart) over the block's <paramref name="count"/> union rows, each reduced into the output rows its
    /// <paramref name="takers"/> bits name; output row m (of <paramref name="outputRows"/>) goes to
    /// <paramref name="output"/> + m x width, divided by <paramref name="divisors"/>[m] (max: + 0). With <typeparamref name="TEndsRow"/> 1
    /// the last vector is the row's last, and only its <paramref name="tail"/> lanes are read and written.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Pool<TOp, TVectors, TEndsRow>(T* source, int width, int* rows, int* takers, int count, T* divisors, T* output, int outputRows,
        Vector512<T> tail) where TOp : ILaneOp<T> where TVectors : IConstantCount where TEndsRow : IConstantCount
    {
        int vectors = TVectors.Value;
        bool endsRow = TEndsRow.Value == 1;
        var start = typeof(TOp) == typeof(MaxOp<T>) ? Vector512.Create(T.NegativeInfinity) : Vector512<T>.Zero;
        // a-d: the four output rows' sums (or maxima) of the first vector of columns, e-h of the second, i-l the third, m-p the fourth.
        Vector512<T> a = start, b = start, c = start, d = start, e = start, f = start, g = start, h = start;
        Vector512<T> i = start, j = start, k = start, l = start, m = start, n = start, o = start, p = start;
        for (int r = 0; r < count; r++)
        {
            T* row = source + (long)rows[r] * width;
            var x0 = Load(row, endsRow && vectors == 1, tail);
            var x1 = vectors >= 2 ? Load(row + Lanes, endsRow && vectors == 2, tail) : default;
            var x2 = vectors >= 3 ? Load(row + 2 * Lanes, endsRow && vectors == 3, tail) : default;
            var x3 = vectors >= 4 ? Load(row + 3 * Lanes, endsRow && vectors == 4, tail) : default;
            int taking = takers[r];
            if (taking == 0b1111) // the common case where windows overlap: one test, not four
            {
                a = TOp.Apply(a, x0); b = Other<TOp>(b, x0); c = TOp.Apply(c, x0); d = Other<TOp>(d, x0);
                if (vectors >= 2) { e = Other<TOp>(e, x1); f = TOp.Apply(f, x1); g = Other<TOp>(g, x1); h = TOp.Apply(h, x1); }
                if (vectors >= 3) { i = TOp.Apply(i, x2); j = Other<TOp>(j, x2); k = TOp.Apply(k, x2); l = Other<TOp>(l, x2); }
                if (vectors >= 4) { m = Other<TOp>(m, x3); n = TOp.Apply(n, x3); o = Other<TOp>(o, x3); p = TOp.Apply(p, x3); }
                continue;
            }
            if ((taking & 1) != 0) { a = TOp.Apply(a, x0); if (vectors >= 2) e = Other<TOp>(e, x1); if (vectors >= 3) i = TOp.Apply(i, x2); if (vectors >= 4) m = Other<TOp>(m, x3); }
            if ((taking & 2) != 0) { b = Other<TOp>(b, x0); if (vectors >= 2) f = TOp.Apply(f, x1); if (vectors >= 3) j = Other<TOp>(j, x2); if (vectors >= 4) n = TOp.Apply(n, x3); }
            if ((taking & 4) != 0) { c = TOp.Apply(c, x0); if (vectors >= 2) g = Other<TOp>(g, x1); if (vectors >= 3) k = TOp.Apply(k, x2); if (vectors >= 4) o = Other<TOp>(o, x3); }
            if ((taking & 8) != 0) { d = Other<TOp>(d, x0); if (vectors >= 2) h = TOp.Apply(h, x1); if (vectors >= 3) l = Other<TOp>(l, x2); if (vectors >= 4) p = TOp.Apply(p, x3); }
        }
        Store<TOp, TVectors, TEndsRow>(output, divisors[0], tail, a, e, i, m);
        if (outputRows > 1) Store<TOp, TVectors, TEndsRow>(output + width, divisors[1], tail, b, f, j, n);
        if (outputRows > 2) Store<TOp, TVectors, TEndsRow>(output + 2 * width, divisors[2], tail, c, g, k, o);
        if (outputRows > 3) Store<TOp, TVectors, TEndsRow>(output + 3 * width, divisors[3], tail, d, h, l, p);
    }

    /// <summary>The cells of the vector at <paramref name="at"/>; the row's last vector (<paramref name="last"/>) only those inside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<T> Load(T* at, bool last, Vector512<T> tail) =>
        last ? Lanes512<T>.MaskLoad(at, tail, Vector512<T>.Zero) : Vector512.Load(at);

    /// <summary>The operation on the other pipes: a sum on the FMA pipes (x * 1 + y, the same bits), max as it is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Other<TOp>(Vector512<T> accumulator, Vector512<T> value) where TOp : ILaneOp<T> =>
        typeof(TOp) == typeof(AddOp<T>) ? Lanes512<T>.Add(accumulator, value) : TOp.Apply(accumulator, value);

    /// <summary>One output row of a block at <paramref name="to"/>: each vector divided by the row's divisor (max: + 0), the row's last one stored masked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store<TOp, TVectors, TEndsRow>(T* to, T divisor, Vector512<T> tail, Vector512<T> x0, Vector512<T> x1, Vector512<T> x2, Vector512<T> x3)
        where TOp : ILaneOp<T> where TVectors : IConstantCount where TEndsRow : IConstantCount
    {
        int vectors = TVectors.Value;
        bool endsRow = TEndsRow.Value == 1;
        Put<TOp>(to, x0, divisor, endsRow && vectors == 1, tail);
        if (vectors >= 2) Put<TOp>(to + Lanes, x1, divisor, endsRow && vectors == 2, tail);
        if (vectors >= 3) Put<TOp>(to + 2 * Lanes, x2, divisor, endsRow && vectors == 3, tail);
        if (vectors >= 4) Put<TOp>(to + 3 * Lanes, x3, divisor, endsRow && vectors == 4, tail);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Put<TOp>(T* to, Vector512<T> value, T divisor, bool last, Vector512<T> tail) where TOp : ILaneOp<T>
    {
        value = typeof(TOp) == typeof(MaxOp<T>) ? Lanes512<T>.PlusZero(value) : value / Vector512.Create(divisor);
        if (last) Lanes512<T>.MaskStore(to, tail, value);
        else value.Store(to);
    }
}
