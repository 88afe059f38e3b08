using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's channels-last average over the interior cells of an output row, for strides 1 and 2 along the
/// row (Inception's 3x3 s1): neighbouring output cells side by side, one channel vector at a time, so that each input
/// cell of a window row is loaded once for all the windows that hold it (cells x stride + kw - stride loads a row
/// instead of cells x kw).
/// </summary>
/// <remarks>
/// <para>Summing a cell's taps one load each (<see cref="VectorOps{T}.Reduce{TOp}"/>, <see cref="ChannelsLastBlocked{T}"/>)
/// is bound by the loads, about one a cycle. The sums themselves cannot be shared between neighbours (each runs in
/// PyTorch's order from +0, row by row, left to right), but their loads can; then the additions bound the time.</para>
/// <para>Windows of up to 4 columns at stride 1 go four cells at a time. Wider ones, and 3 to 9 columns at stride 2, go
/// eight at a time, eight chains, every other one added on the FMA pipes (<see cref="Lanes512{T}.Add"/>, the same bits)
/// so that additions run on all four pipes. Measured (bench/notes.md): four at a time stays faster for narrow windows on
/// rows of few interior cells, and at stride 2 the blocked path's pairs of output rows
/// (<see cref="ChannelsLastPooling{T}.PairsWindowRows"/>) beat eight cells of one row.</para>
/// <para>The generator's <c>SlidingAverageChannelsLastEmitter</c> shares loads too, for kernels whose window is known at compile
/// time; neither can replace the other without a slowdown on some shapes (bench/notes.md, "Issue 19: one owner").</para>
/// </remarks>
internal static class ChannelsLastSlidingSum<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether this path applies: AVX-512, float or double, a vector of channels or more, undilated windows 2 to 9
    /// columns wide at stride 1, or 3 to 9 wide at stride 2 where output rows do not go in pairs.
    /// </summary>
    public static bool Applies(in PoolPlan plan)
    {
        AxisPlan width = plan.Width;
        if (!Lanes512<T>.IsSupported || plan.IsMax || width.Dilation != 1 || plan.Input.Channels < Vector512<T>.Count) return false;
        return width.Stride == 1 ? width.Kernel is >= 2 and <= 9 : width.Stride == 2 && width.Kernel is >= 3 and <= 9 && !ChannelsLastPooling<T>.PairsWindowRows(plan);
    }

    /// <summary>
    /// Averages the first cells of a run of <paramref name="cells"/> interior output cells, four or eight at a time, and
    /// returns how many it did (a multiple of four); the caller does the rest. <paramref name="image"/> starts at the
    /// first cell's window's first column, <paramref name="rowOffsets"/> lists the window's rows inside the input
    /// (offsets into <paramref name="image"/>), and every cell divides by <paramref name="divisor"/>.
    /// </summary>
    public static int Run(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, T divisor, Span<T> output)
    {
        int channels = plan.Input.Channels;
        if (plan.Width.Stride == 2)
        {
            return plan.Width.Kernel switch
            {
                3 => RunEight<Count3, Count2>(image, rowOffsets, cells, channels, divisor, output),
                4 => RunEight<Count4, Count2>(image, rowOffsets, cells, channels, divisor, output),
                5 => RunEight<Count5, Count2>(image, rowOffsets, cells, channels, divisor, output),
                6 => RunEight<Count6, Count2>(image, rowOffsets, cells, channels, divisor, output),
                7 => RunEight<Count7, Count2>(image, rowOffsets, cells, channels, divisor, output),
                8 => RunEight<Count8, Count2>(image, rowOffsets, cells, channels, divisor, output),
                _ => RunEight<Count9, Count2>(image, rowOffsets, cells, channels, divisor, output),
            };
        }
        return plan.Width.Kernel switch
        {
            2 => RunFour<Count2>(image, rowOffsets, cells, channels, divisor, output),
            3 => RunFour<Count3>(image, rowOffsets, cells, channels, divisor, output),
            4 => RunFour<Count4>(image, rowOffsets, cells, channels, divisor, output),
            5 => RunEight<Count5, Count1>(image, rowOffsets, cells, channels, divisor, output),
            6 => RunEight<Count6, Count1>(image, rowOffsets, cells, channels, divisor, output),
            7 => RunEight<Count7, Count1>(image, rowOffsets, cells, channels, divisor, output),
            8 => RunEight<Count8, Count1>(image, rowOffsets, cells, channels, divisor, output),
            _ => RunEight<Count9, Count1>(image, rowOffsets, cells, channels, divisor, output),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RunFour<TColumns>(ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int channels, T divisor, Span<T> output)
        where TColumns : IConstantCount =>
        ChannelsLastSliding.Run(image, rowOffsets, cells, TColumns.Value, stride: 1, channels, output, new Step<TColumns>(divisor));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RunEight<TColumns, TStride>(ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int channels, T divisor, Span<T> output)
        where TColumns : IConstantCount where TStride : IConstantCount =>
        ChannelsLastSliding.Run(image, rowOffsets, cells, TColumns.Value, TStride.Value, channels, output, new EightCellStep<TColumns, TStride>(divisor), cellsPerStep: 8);

    /// <summary>Eight cells, one channel vector: windows of 5 to 9 columns at stride 1, 3 to 9 at stride 2.</summary>
    private readonly struct EightCellStep<TColumns, TStride>(T divisor) : ISlidingStep<T> where TColumns : IConstantCount where TStride : IConstantCount
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Pool(T* at, int* rows, int rowCount, int channels, T* to)
        {
            // PyTorch's order: from +0, row by row, left to right.
            Vector512<T> s0 = Vector512<T>.Zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            for (int i = 0; i < rowCount; i++)
            {
                if (TStride.Value == 1) AddRowToEight<TColumns>(at + rows[i], channels, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
                else AddRowToEightStride2<TColumns>(at + rows[i], channels, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
            }
            var divisors = Vector512.Create(divisor);
            nint c = channels;
            (s0 / divisors).Store(to); (s1 / divisors).Store(to + c); (s2 / divisors).Store(to + 2 * c); (s3 / divisors).Store(to + 3 * c);
            (s4 / divisors).Store(to + 4 * c); (s5 / divisors).Store(to + 5 * c); (s6 / divisors).Store(to + 6 * c); (s7 / divisors).Store(to + 7 * c);
        }
    }

    /// <summary>Adds one window row's taps (5 to 9) to the eight cells' sums, loading each of its 7 + kw input cells once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRowToEight<TColumns>(T* row, int channels, ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2, ref Vector512<T> s3,
        ref Vector512<T> s4, ref Vector512<T> s5, ref Vector512<T> s6, ref Vector512<T> s7)
        where TColumns : IConstantCount
    {
        int kw = TColumns.Value;
        nint c = channels;
        var c0 = Vector512.Load(row); var c1 = Vector512.Load(row + c); var c2 = Vector512.Load(row + 2 * c); var c3 = Vector512.Load(row + 3 * c);
        var c4 = Vector512.Load(row + 4 * c); var c5 = Vector512.Load(row + 5 * c); var c6 = Vector512.Load(row + 6 * c); var c7 = Vector512.Load(row + 7 * c);
        var c8 = Vector512.Load(row + 8 * c); var c9 = Vector512.Load(row + 9 * c); var c10 = Vector512.Load(row + 10 * c); var c11 = Vector512.Load(row + 11 * c);
        // Tap k of cell u is input cell u + k; the eight sums advance together, each in its own order.
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c0, c1, c2, c3, c4, c5, c6, c7);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c1, c2, c3, c4, c5, c6, c7, c8);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c2, c3, c4, c5, c6, c7, c8, c9);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c3, c4, c5, c6, c7, c8, c9, c10);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c4, c5, c6, c7, c8, c9, c10, c11);
        if (kw < 6) return;
        var c12 = Vector512.Load(row + 12 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c5, c6, c7, c8, c9, c10, c11, c12);
        if (kw < 7) return;
        var c13 = Vector512.Load(row + 13 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c6, c7, c8, c9, c10, c11, c12, c13);
        if (kw < 8) return;
        var c14 = Vector512.Load(row + 14 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c7, c8, c9, c10, c11, c12, c13, c14);
        if (kw < 9) return;
        var c15 = Vector512.Load(row + 15 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c8, c9, c10, c11, c12, c13, c14, c15);
    }

    /// <summary>Adds one window row's taps (3 to 9) to the eight cells' sums at stride 2, loading each of its 14 + kw input cells once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRowToEightStride2<TColumns>(T* row, int channels, ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2, ref Vector512<T> s3,
        ref Vector512<T> s4, ref Vector512<T> s5, ref Vector512<T> s6, ref Vector512<T> s7)
        where TColumns : IConstantCount
    {
        int kw = TColumns.Value;
        nint c = channels;
        var c0 = Vector512.Load(row); var c1 = Vector512.Load(row + c); var c2 = Vector512.Load(row + 2 * c); var c3 = Vector512.Load(row + 3 * c);
        var c4 = Vector512.Load(row + 4 * c); var c5 = Vector512.Load(row + 5 * c); var c6 = Vector512.Load(row + 6 * c); var c7 = Vector512.Load(row + 7 * c);
        var c8 = Vector512.Load(row + 8 * c); var c9 = Vector512.Load(row + 9 * c); var c10 = Vector512.Load(row + 10 * c); var c11 = Vector512.Load(row + 11 * c);
        var c12 = Vector512.Load(row + 12 * c); var c13 = Vector512.Load(row + 13 * c); var c14 = Vector512.Load(row + 14 * c); var c15 = Vector512.Load(row + 15 * c);
        // Tap k of cell u is input cell 2u + k.
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c0, c2, c4, c6, c8, c10, c12, c14);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c1, c3, c5, c7, c9, c11, c13, c15);
        var c16 = Vector512.Load(row + 16 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c2, c4, c6, c8, c10, c12, c14, c16);
        if (kw < 4) return;
        var c17 = Vector512.Load(row + 17 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c3, c5, c7, c9, c11, c13, c15, c17);
        if (kw < 5) return;
        var c18 = Vector512.Load(row + 18 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c4, c6, c8, c10, c12, c14, c16, c18);
        if (kw < 6) return;
        var c19 = Vector512.Load(row + 19 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c5, c7, c9, c11, c13, c15, c17, c19);
        if (kw < 7) return;
        var c20 = Vector512.Load(row + 20 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c6, c8, c10, c12, c14, c16, c18, c20);
        if (kw < 8) return;
        var c21 = Vector512.Load(row + 21 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c7, c9, c11, c13, c15, c17, c19, c21);
        if (kw < 9) return;
        var c22 = Vector512.Load(row + 22 * c);
        Tap(ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7, c8, c10, c12, c14, c16, c18, c20, c22);
    }

    /// <summary>One tap of the eight cells: the odd cells' sums on the FMA pipes (x * 1 + y, the bits of x + y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap(ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2, ref Vector512<T> s3,
        ref Vector512<T> s4, ref Vector512<T> s5, ref Vector512<T> s6, ref Vector512<T> s7,
        Vector512<T> v0, Vector512<T> v1, Vector512<T> v2, Vector512<T> v3, Vector512<T> v4, Vector512<T> v5, Vector512<T> v6, Vector512<T> v7)
    {
        s0 += v0; s1 = Lanes512<T>.Add(s1, v1); s2 += v2; s3 = Lanes512<T>.Add(s3, v3);
        s4 += v4; s5 = Lanes512<T>.Add(s5, v5); s6 += v6; s7 = Lanes512<T>.Add(s7, v7);
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
