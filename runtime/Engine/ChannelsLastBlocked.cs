using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's channels-last max or average over the interior cells of an output row, at any stride and
/// dilation along the row: four neighbouring output cells times two channel vectors per step, eight independent
/// reductions.
/// </summary>
/// <remarks>
/// Each lane reduces its cell's taps in window order (an average from +0, row by row, left to right, as PyTorch sums),
/// one chain per lane, so a cell's operations cannot overlap each other: with 32 channels a cell alone is one or two
/// chains, and each operation waits for the one before. Eight chains side by side keep the pipes busy while each input
/// vector is still loaded once per tap. Where neighbours can share loads or maxima (the sliding paths) or max goes
/// separably, those run first.
/// </remarks>
internal static class ChannelsLastBlocked<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether this path applies: AVX-512, float or double, a vector of channels or more.</summary>
    public static bool Applies(in PoolPlan plan) => Lanes512<T>.IsSupported && plan.Input.Channels >= Vector512<T>.Count;

    /// <summary>
    /// Pools the first cells of a run of <paramref name="cells"/> interior output cells, four at a time, and returns
    /// how many it did (a multiple of four); the caller does the rest. <paramref name="image"/> starts at the first
    /// cell's window's first column, <paramref name="rowOffsets"/> lists the window's rows inside the input (offsets
    /// into <paramref name="image"/>), and an average divides every cell by <paramref name="divisor"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Run(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, T divisor, Span<T> output) =>
        plan.IsMax
            ? Run<MaxOp<T>>(plan, image, rowOffsets, cells, divisor, output)
            : Run<AddOp<T>>(plan, image, rowOffsets, cells, divisor, output);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Run<TOp>(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, T divisor, Span<T> output)
        where TOp : ILaneOp<T>
    {
        AxisPlan width = plan.Width;
        int channels = plan.Input.Channels, lanes = Vector512<T>.Count;
        int steps = ChannelsLastSliding.Steps(image.Length, rowOffsets, cells, (int)width.EffectiveKernel, width.Stride, channels, output.Length);
        if (steps == 0) return 0;
        var step = new Step(rowOffsets.Length, width.Kernel, (nint)width.Dilation * channels, (nint)width.Stride * channels, channels);
        var divisors = Vector512.Create(divisor);
        fixed (T* source = image, target = output)
        fixed (int* rows = rowOffsets)
        {
            for (int s = 0; s < steps; s++)
            {
                T* at = source + s * ChannelsLastSliding.CellsPerStep * step.CellStride;
                T* to = target + (nint)s * ChannelsLastSliding.CellsPerStep * channels;
                // Two channel vectors at a time; the last pair may overlap the ones before (it recomputes a few
                // channels with the same bits).
                for (int j = 0; ; j += 2 * lanes)
                {
                    int first = Math.Min(j, channels - lanes), second = Math.Min(j + lanes, channels - lanes);
                    Pool<TOp>(step, at, rows, first, second, divisors, to);
                    if (j + 2 * lanes >= channels) break;
                }
            }
        }
        return steps * ChannelsLastSliding.CellsPerStep;
    }

    /// <summary>
    /// Averages a run of <paramref name="cells"/> interior cells of two output rows at once, A and B, whose windows
    /// share rows and whose cells all divide by <paramref name="divisor"/>: <paramref name="unionOffsets"/> lists A's
    /// window rows and then B's last <paramref name="shift"/> (B's rows are the union's from <paramref name="shift"/> on),
    /// so each shared row is loaded once for both. Returns how many cells of each row it did (a multiple of four); the
    /// caller does the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int RunRowPair(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> unionOffsets, int shift, int cells,
        T divisor, Span<T> outputA, Span<T> outputB)
    {
        AxisPlan width = plan.Width;
        int channels = plan.Input.Channels, lanes = Vector512<T>.Count;
        int steps = ChannelsLastSliding.Steps(image.Length, unionOffsets, cells, (int)width.EffectiveKernel, width.Stride, channels, Math.Min(outputA.Length, outputB.Length));
        if (steps == 0 || shift <= 0 || shift >= unionOffsets.Length - shift) return 0;
        var step = new Step(unionOffsets.Length - shift, width.Kernel, (nint)width.Dilation * channels, (nint)width.Stride * channels, channels);
        var divisors = Vector512.Create(divisor);
        fixed (T* source = image, targetA = outputA, targetB = outputB)
        fixed (int* rows = unionOffsets)
        {
            for (int s = 0; s < steps; s++)
            {
                T* at = source + s * ChannelsLastSliding.CellsPerStep * step.CellStride;
                nint to = (nint)s * ChannelsLastSliding.CellsPerStep * channels;
                for (int j = 0; ; j += lanes)
                {
                    if (j > channels - lanes) j = channels - lanes;
                    PoolRowPair(step, shift, at + j, rows, divisors, targetA + to + j, targetB + to + j);
                    if (j == channels - lanes) break;
                }
            }
        }
        return steps * ChannelsLastSliding.CellsPerStep;
    }

    /// <summary>
    /// One channel vector of four cells in each of rows A and B: the union's rows before <paramref name="shift"/> add to
    /// A only, the rows both windows hold to both, and the last <paramref name="shift"/> to B only, each chain in window
    /// order from +0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PoolRowPair(in Step step, int shift, T* at, int* rows, Vector512<T> divisors, T* toA, T* toB)
    {
        nint c1 = step.CellStride, c2 = 2 * c1, c3 = 3 * c1;
        Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        int windowRows = step.RowCount, u = 0;
        for (; u < shift; u++)
            for (T* p = at + rows[u], end = p + step.Kernel * step.TapStride; p < end; p += step.TapStride)
            {
                a0 += Vector512.Load(p); a1 += Vector512.Load(p + c1); a2 += Vector512.Load(p + c2); a3 += Vector512.Load(p + c3);
            }
        for (; u < windowRows; u++)
            for (T* p = at + rows[u], end = p + step.Kernel * step.TapStride; p < end; p += step.TapStride)
            {
                Vector512<T> v0 = Vector512.Load(p), v1 = Vector512.Load(p + c1), v2 = Vector512.Load(p + c2), v3 = Vector512.Load(p + c3);
                a0 += v0; a1 += v1; a2 += v2; a3 += v3;
                // B's sums of the shared rows on the FMA pipes (x * 1 + y, the bits of x + y): two additions a load.
                b0 = Lanes512<T>.Add(b0, v0); b1 = Lanes512<T>.Add(b1, v1); b2 = Lanes512<T>.Add(b2, v2); b3 = Lanes512<T>.Add(b3, v3);
            }
        for (; u < windowRows + shift; u++)
            for (T* p = at + rows[u], end = p + step.Kernel * step.TapStride; p < end; p += step.TapStride)
            {
                b0 += Vector512.Load(p); b1 += Vector512.Load(p + c1); b2 += Vector512.Load(p + c2); b3 += Vector512.Load(p + c3);
            }
        nint channels = step.Channels;
        Finish<AddOp<T>>(a0, divisors, toA); Finish<AddOp<T>>(a1, divisors, toA + channels);
        Finish<AddOp<T>>(a2, divisors, toA + 2 * channels); Finish<AddOp<T>>(a3, divisors, toA + 3 * channels);
        Finish<AddOp<T>>(b0, divisors, toB); Finish<AddOp<T>>(b1, divisors, toB + channels);
        Finish<AddOp<T>>(b2, divisors, toB + 2 * channels); Finish<AddOp<T>>(b3, divisors, toB + 3 * channels);
    }

    /// <summary>
    /// Max over a run of <paramref name="cells"/> interior cells of <paramref name="rowsAtOnce"/> consecutive output
    /// rows at once, each row's window the one before's moved down by <paramref name="shift"/> rows:
    /// <paramref name="unionOffsets"/> lists the first row's <paramref name="windowRows"/> window rows and then each
    /// next row's last <paramref name="shift"/>. The rows all windows hold are reduced once; the rows before them in
    /// suffixes and the rows after them in prefixes, each chunk of <paramref name="shift"/> rows once (max is exact in
    /// any order). Output row k's cells start <paramref name="rowStride"/> values after row k - 1's. Returns how many
    /// cells of each row it did (a multiple of four); the caller does the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int RunMaxRowRun(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> unionOffsets, int windowRows, int shift, int rowsAtOnce,
        int cells, Span<T> output, int rowStride)
    {
        AxisPlan width = plan.Width;
        int channels = plan.Input.Channels, lanes = Vector512<T>.Count;
        int core = (rowsAtOnce - 1) * shift; // the union's first row that every window holds
        if (rowsAtOnce < 2 || shift <= 0 || core >= windowRows || unionOffsets.Length != windowRows + core || output.Length < (long)(rowsAtOnce - 1) * rowStride)
            return 0;
        int steps = ChannelsLastSliding.Steps(image.Length, unionOffsets, cells, (int)width.EffectiveKernel, width.Stride, channels,
            output.Length - (rowsAtOnce - 1) * rowStride);
        if (steps == 0) return 0;
        var step = new Step(windowRows, width.Kernel, (nint)width.Dilation * channels, (nint)width.Stride * channels, channels);
        fixed (T* source = image, target = output)
        fixed (int* rows = unionOffsets)
        {
            for (int s = 0; s < steps; s++)
            {
                T* at = source + s * ChannelsLastSliding.CellsPerStep * step.CellStride;
                T* to = target + (nint)s * ChannelsLastSliding.CellsPerStep * channels;
                for (int j = 0; ; j += lanes)
                {
                    if (j > channels - lanes) j = channels - lanes;
                    MaxRowRun(step, shift, rowsAtOnce, at + j, rows, to + j, rowStride);
                    if (j == channels - lanes) break;
                }
            }
        }
        return steps * ChannelsLastSliding.CellsPerStep;
    }

    /// <summary>
    /// One channel vector of four cells in each row of <see cref="RunMaxRowRun"/>'s run: row k's maximum is that of the
    /// shared rows, the union's rows from chunk k on before them (a suffix, built from the last chunk back), and the
    /// first k chunks after them (a prefix). Each row is stored once with the suffix and updated once with the prefix.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MaxRowRun(in Step step, int shift, int rowsAtOnce, T* at, int* rows, T* to, nint rowStride)
    {
        int last = rowsAtOnce - 1, after = step.RowCount; // the union's rows after the shared ones start at the window's end
        var (m0, m1, m2, m3) = MaxOfRows(step, at, rows, last * shift, step.RowCount);
        StoreCells(m0, m1, m2, m3, to + last * rowStride, step.Channels);
        for (int k = last - 1; k >= 0; k--)
        {
            (m0, m1, m2, m3) = MaxOfFour((m0, m1, m2, m3), MaxOfRows(step, at, rows, k * shift, (k + 1) * shift));
            StoreCells(m0, m1, m2, m3, to + k * rowStride, step.Channels);
        }
        (m0, m1, m2, m3) = MaxOfRows(step, at, rows, after, after + shift);
        for (int k = 1; ; k++)
        {
            T* row = to + k * rowStride;
            nint c = step.Channels;
            StoreCells(MaxOp<T>.Apply(m0, Vector512.Load(row)), MaxOp<T>.Apply(m1, Vector512.Load(row + c)),
                MaxOp<T>.Apply(m2, Vector512.Load(row + 2 * c)), MaxOp<T>.Apply(m3, Vector512.Load(row + 3 * c)), row, step.Channels);
            if (k == last) break;
            (m0, m1, m2, m3) = MaxOfFour((m0, m1, m2, m3), MaxOfRows(step, at, rows, after + k * shift, after + (k + 1) * shift));
        }
    }

    /// <summary>The lane-wise maxima of four cells' vectors and four others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<T>, Vector512<T>, Vector512<T>, Vector512<T>) MaxOfFour(
        (Vector512<T> M0, Vector512<T> M1, Vector512<T> M2, Vector512<T> M3) a, (Vector512<T> M0, Vector512<T> M1, Vector512<T> M2, Vector512<T> M3) b) =>
        (MaxOp<T>.Apply(a.M0, b.M0), MaxOp<T>.Apply(a.M1, b.M1), MaxOp<T>.Apply(a.M2, b.M2), MaxOp<T>.Apply(a.M3, b.M3));

    /// <summary>Stores four cells' maxima (plus +0, <see cref="Finish{TOp}"/>), <paramref name="channels"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreCells(Vector512<T> m0, Vector512<T> m1, Vector512<T> m2, Vector512<T> m3, T* to, nint channels)
    {
        Finish<MaxOp<T>>(m0, default, to); Finish<MaxOp<T>>(m1, default, to + channels);
        Finish<MaxOp<T>>(m2, default, to + 2 * channels); Finish<MaxOp<T>>(m3, default, to + 3 * channels);
    }

    /// <summary>The maxima of one channel vector of four cells over window rows <c>[from, end)</c> (at least one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector512<T>, Vector512<T>, Vector512<T>, Vector512<T>) MaxOfRows(in Step step, T* at, int* rows, int from, int end)
    {
        nint c1 = step.CellStride, c2 = 2 * c1, c3 = 3 * c1;
        T* p = at + rows[from];
        Vector512<T> m0 = Vector512.Load(p), m1 = Vector512.Load(p + c1), m2 = Vector512.Load(p + c2), m3 = Vector512.Load(p + c3);
        for (int u = from; u < end; u++)
            for (T* q = at + rows[u] + (u == from ? step.TapStride : 0), rowEnd = at + rows[u] + step.Kernel * step.TapStride; q < rowEnd; q += step.TapStride)
            {
                m0 = MaxOp<T>.Apply(m0, Vector512.Load(q)); m1 = MaxOp<T>.Apply(m1, Vector512.Load(q + c1));
                m2 = MaxOp<T>.Apply(m2, Vector512.Load(q + c2)); m3 = MaxOp<T>.Apply(m3, Vector512.Load(q + c3));
            }
        return (m0, m1, m2, m3);
    }

    /// <summary>The window's shape in the input: its rows, taps per row, and the distances between taps and between cells.</summary>
    private readonly record struct Step(int RowCount, int Kernel, nint TapStride, nint CellStride, int Channels);

    /// <summary>
    /// Reduces channels [first, first + lanes) and [second, second + lanes) of the four cells whose windows start at
    /// <paramref name="at"/>, <see cref="Step.CellStride"/> apart, and stores them (an average divided) at <paramref name="to"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Pool<TOp>(in Step step, T* at, int* rows, int first, int second, Vector512<T> divisors, T* to)
        where TOp : ILaneOp<T>
    {
        nint c1 = step.CellStride, c2 = 2 * c1, c3 = 3 * c1;
        // Each chain starts from the window's first tap (an average from +0 plus that tap, as PyTorch sums).
        T* p = at + rows[0] + first, q = at + rows[0] + second;
        Vector512<T> a0 = Vector512.Load(p), b0 = Vector512.Load(q), a1 = Vector512.Load(p + c1), b1 = Vector512.Load(q + c1);
        Vector512<T> a2 = Vector512.Load(p + c2), b2 = Vector512.Load(q + c2), a3 = Vector512.Load(p + c3), b3 = Vector512.Load(q + c3);
        if (typeof(TOp) == typeof(AddOp<T>))
        {
            var zero = Vector512<T>.Zero;
            a0 = zero + a0; b0 = zero + b0; a1 = zero + a1; b1 = zero + b1;
            a2 = zero + a2; b2 = zero + b2; a3 = zero + a3; b3 = zero + b3;
        }
        for (int i = 0, kw = 1; i < step.RowCount; i++, kw = 0)
        {
            p = at + rows[i] + first + kw * step.TapStride;
            q = at + rows[i] + second + kw * step.TapStride;
            for (; kw < step.Kernel; kw++, p += step.TapStride, q += step.TapStride)
            {
                a0 = TOp.Apply(a0, Vector512.Load(p)); b0 = TOp.Apply(b0, Vector512.Load(q));
                a1 = TOp.Apply(a1, Vector512.Load(p + c1)); b1 = TOp.Apply(b1, Vector512.Load(q + c1));
                a2 = TOp.Apply(a2, Vector512.Load(p + c2)); b2 = TOp.Apply(b2, Vector512.Load(q + c2));
                a3 = TOp.Apply(a3, Vector512.Load(p + c3)); b3 = TOp.Apply(b3, Vector512.Load(q + c3));
            }
        }
        int channels = step.Channels;
        Finish<TOp>(a0, divisors, to + first); Finish<TOp>(b0, divisors, to + second);
        Finish<TOp>(a1, divisors, to + channels + first); Finish<TOp>(b1, divisors, to + channels + second);
        Finish<TOp>(a2, divisors, to + 2 * channels + first); Finish<TOp>(b2, divisors, to + 2 * channels + second);
        Finish<TOp>(a3, divisors, to + 3 * channels + first); Finish<TOp>(b3, divisors, to + 3 * channels + second);
    }

    /// <summary>
    /// Stores a maximum plus +0 (a zero maximum is +0, see <see cref="MaxOp{T}"/>) or a sum divided (division, not
    /// multiplication by a reciprocal: it is what PyTorch does, and it rounds once).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Finish<TOp>(Vector512<T> value, Vector512<T> divisors, T* to) where TOp : ILaneOp<T> =>
        (typeof(TOp) == typeof(MaxOp<T>) ? value + Vector512<T>.Zero : value / divisors).Store(to);
}
