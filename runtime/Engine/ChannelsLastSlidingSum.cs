using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's channels-last average over the interior cells of an output row where neighbouring windows
/// overlap along the row (Inception's 3x3 s1): neighbouring output cells side by side, one channel vector at a time, so
/// that each input cell of a window row is loaded once for all the windows that hold it (cells x stride + kw - stride
/// loads a row instead of cells x kw).
/// </summary>
/// <remarks>
/// <para>Summing a cell's taps one load each (<see cref="VectorOps{T}.Reduce{TOp}"/>, <see cref="ChannelsLastBlocked{T}"/>)
/// is bound by the loads, about one a cycle. The sums themselves cannot be shared between neighbours (each runs in
/// PyTorch's order from +0, row by row, left to right), but their loads can; then the additions bound the time.</para>
/// <para>Windows of up to 4 columns at stride 1 go four cells at a time. The others go eight at a time, eight chains,
/// every other one added on the FMA pipes (<see cref="Lanes512{T}.Add"/>, the same bits) so that additions run on all
/// four pipes. Measured (bench/notes.md): four at a time stays faster for narrow windows on rows of few interior cells,
/// and at strides of 2 and more the blocked path's pairs of output rows
/// (<see cref="ChannelsLastPooling{T}.PairsWindowRows"/>) beat eight cells of one row.</para>
/// <para>The generator's <c>SlidingAverageChannelsLastEmitter</c> shares loads too, for kernels whose window is known at compile
/// time; neither can replace the other without a slowdown on some shapes (bench/notes.md, "Issue 19: one owner").</para>
/// </remarks>
internal static class ChannelsLastSlidingSum<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether this path applies: AVX-512, float or double, a vector of channels or more, undilated windows 2 to 9
    /// columns wide at stride 1, or wider than the stride (2 to 4) and at most 9 where output rows do not go in pairs.
    /// </summary>
    public static bool Applies(in PoolPlan plan)
    {
        AxisPlan width = plan.Width;
        if (!Lanes512<T>.IsSupported || plan.IsMax || width.Dilation != 1 || plan.Input.Channels < Vector512<T>.Count || width.Kernel > 9) return false;
        if (width.Stride == 1) return width.Kernel >= 2;
        return width.Stride <= 4 && width.Kernel > width.Stride && !ChannelsLastPooling<T>.PairsWindowRows(plan);
    }

    /// <summary>
    /// Averages the first cells of a run of <paramref name="cells"/> interior output cells, four or eight at a time, and
    /// returns how many it did (a multiple of four); the caller does the rest. <paramref name="image"/> starts at the
    /// first cell's window's first column, <paramref name="rowOffsets"/> lists the window's rows inside the input
    /// (offsets into <paramref name="image"/>), and every cell divides by <paramref name="divisor"/>.
    /// </summary>
    public static int Run(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, T divisor, Span<T> output)
    {
        int channels = plan.Input.Channels, stride = plan.Width.Stride;
        return plan.Width.Kernel switch
        {
            2 => RunFour<Count2>(image, rowOffsets, cells, channels, divisor, output),
            3 when stride == 1 => RunFour<Count3>(image, rowOffsets, cells, channels, divisor, output),
            3 => RunEight<Count3>(stride, image, rowOffsets, cells, channels, divisor, output),
            4 when stride == 1 => RunFour<Count4>(image, rowOffsets, cells, channels, divisor, output),
            4 => RunEight<Count4>(stride, image, rowOffsets, cells, channels, divisor, output),
            5 => RunEight<Count5>(stride, image, rowOffsets, cells, channels, divisor, output),
            6 => RunEight<Count6>(stride, image, rowOffsets, cells, channels, divisor, output),
            7 => RunEight<Count7>(stride, image, rowOffsets, cells, channels, divisor, output),
            8 => RunEight<Count8>(stride, image, rowOffsets, cells, channels, divisor, output),
            _ => RunEight<Count9>(stride, image, rowOffsets, cells, channels, divisor, output),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RunFour<TColumns>(ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int channels, T divisor, Span<T> output)
        where TColumns : IConstantCount =>
        ChannelsLastSliding.Run(image, rowOffsets, cells, TColumns.Value, stride: 1, channels, output, new Step<TColumns>(divisor));

    private static int RunEight<TColumns>(int stride, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int channels, T divisor, Span<T> output)
        where TColumns : IConstantCount => stride switch
        {
            1 => RunEight<TColumns, Count1>(image, rowOffsets, cells, channels, divisor, output),
            2 => RunEight<TColumns, Count2>(image, rowOffsets, cells, channels, divisor, output),
            3 => RunEight<TColumns, Count3>(image, rowOffsets, cells, channels, divisor, output),
            _ => RunEight<TColumns, Count4>(image, rowOffsets, cells, channels, divisor, output),
        };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RunEight<TColumns, TStride>(ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int channels, T divisor, Span<T> output)
        where TColumns : IConstantCount where TStride : IConstantCount =>
        ChannelsLastSliding.Run(image, rowOffsets, cells, TColumns.Value, TStride.Value, channels, output, new EightCellStep<TColumns, TStride>(divisor), cellsPerStep: 8);

    /// <summary>Eight cells, one channel vector.</summary>
    private readonly struct EightCellStep<TColumns, TStride>(T divisor) : ISlidingStep<T> where TColumns : IConstantCount where TStride : IConstantCount
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Pool(T* at, int* rows, int rowCount, int channels, T* to)
        {
            Vector512<T> s0 = Vector512<T>.Zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            for (int i = 0; i < rowCount; i++)
                AddRowToEight<TColumns, TStride>(at + rows[i], channels, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
            var divisors = Vector512.Create(divisor);
            nint c = channels;
            (s0 / divisors).Store(to); (s1 / divisors).Store(to + c); (s2 / divisors).Store(to + 2 * c); (s3 / divisors).Store(to + 3 * c);
            (s4 / divisors).Store(to + 4 * c); (s5 / divisors).Store(to + 5 * c); (s6 / divisors).Store(to + 6 * c); (s7 / divisors).Store(to + 7 * c);
        }
    }

    /// <summary>
    /// Adds one window row's taps to the eight cells' sums: input cell j of the row is tap j - stride x u of cell u, so
    /// going through the row's 7 x stride + kw cells in order, each loaded once, adds every cell's taps in window order.
    /// The column index is a constant in each call, so the JIT keeps only the additions whose window holds the cell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRowToEight<TColumns, TStride>(T* row, nint c, ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2, ref Vector512<T> s3,
        ref Vector512<T> s4, ref Vector512<T> s5, ref Vector512<T> s6, ref Vector512<T> s7)
        where TColumns : IConstantCount where TStride : IConstantCount
    {
        Column<TColumns, TStride>(row, c, 0, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 1, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 2, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 3, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 4, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 5, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 6, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 7, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 8, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 9, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 10, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 11, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 12, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 13, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 14, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 15, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 16, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 17, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 18, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 19, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 20, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 21, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 22, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 23, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 24, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 25, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 26, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 27, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 28, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 29, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 30, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 31, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 32, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 33, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 34, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 35, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
        Column<TColumns, TStride>(row, c, 36, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
    }

    /// <summary>
    /// Adds input cell <paramref name="j"/> of a window row to the sums of the cells whose windows hold it (nothing past
    /// the row's last cell), every other cell's on the FMA pipes (x * 1 + y, the bits of x + y).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Column<TColumns, TStride>(T* row, nint c, int j, ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2, ref Vector512<T> s3,
        ref Vector512<T> s4, ref Vector512<T> s5, ref Vector512<T> s6, ref Vector512<T> s7)
        where TColumns : IConstantCount where TStride : IConstantCount
    {
        int kw = TColumns.Value, s = TStride.Value;
        if (j >= 7 * s + kw) return;
        var v = Vector512.Load(row + j * c);
        if ((uint)j < (uint)kw) s0 += v;
        if ((uint)(j - s) < (uint)kw) s1 = Lanes512<T>.Add(s1, v);
        if ((uint)(j - 2 * s) < (uint)kw) s2 += v;
        if ((uint)(j - 3 * s) < (uint)kw) s3 = Lanes512<T>.Add(s3, v);
        if ((uint)(j - 4 * s) < (uint)kw) s4 += v;
        if ((uint)(j - 5 * s) < (uint)kw) s5 = Lanes512<T>.Add(s5, v);
        if ((uint)(j - 6 * s) < (uint)kw) s6 += v;
        if ((uint)(j - 7 * s) < (uint)kw) s7 = Lanes512<T>.Add(s7, v);
    }

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
