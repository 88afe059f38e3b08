using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's channels-last average over the interior cells of an output row, for stride 1 along the row
/// (Inception's 3x3 s1): four neighbouring output cells at a time, one channel vector at a time, so that each input
/// cell of a window row is loaded once for all four (4 + kw - 1 loads a row instead of 4 x kw).
/// </summary>
/// <remarks>
/// Summing a cell's taps one load each (<see cref="VectorOps{T}.Reduce{TOp}"/>) is bound by the loads: 9 a vector
/// for a 3x3 window, at about one a cycle. The sums themselves cannot be shared between neighbours (each runs in
/// PyTorch's order from +0, row by row, left to right), but their loads can.
/// The generator's <c>SlidingAverageChannelsLastEmitter</c> shares loads too, for kernels whose window is known at compile
/// time; neither can replace the other without a slowdown on some shapes (bench/notes.md, "Issue 19: one owner").
/// </remarks>
internal static class ChannelsLastSlidingSum<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether this path applies: AVX-512, float or double, undilated windows 2 to 5 columns wide, stride 1, a vector of channels or more.</summary>
    public static bool Applies(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && !plan.IsMax && plan.Width.Stride == 1 && plan.Width.Dilation == 1 &&
        plan.Width.Kernel is >= 2 and <= 5 && plan.Input.Channels >= Vector512<T>.Count;

    /// <summary>
    /// Averages the first cells of a run of <paramref name="cells"/> interior output cells, four at a time, and
    /// returns how many it did (a multiple of four); the caller does the rest. <paramref name="image"/> starts at the
    /// first cell's window's first column, <paramref name="rowOffsets"/> lists the window's rows inside the input
    /// (offsets into <paramref name="image"/>), and every cell divides by <paramref name="divisor"/>.
    /// </summary>
    public static int Run(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, T divisor, Span<T> output) =>
        plan.Width.Kernel switch
        {
            2 => Run<Count2>(image, rowOffsets, cells, plan.Input.Channels, divisor, output),
            3 => Run<Count3>(image, rowOffsets, cells, plan.Input.Channels, divisor, output),
            4 => Run<Count4>(image, rowOffsets, cells, plan.Input.Channels, divisor, output),
            _ => Run<Count5>(image, rowOffsets, cells, plan.Input.Channels, divisor, output),
        };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run<TColumns>(ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int channels, T divisor, Span<T> output)
        where TColumns : IConstantCount =>
        ChannelsLastSliding.Run(image, rowOffsets, cells, TColumns.Value, stride: 1, channels, output, new Step<TColumns>(divisor));

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

    /// <summary>Adds one window row's taps to the four cells' sums, loading each of its 3 + kw input cells once.</summary>
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
        var c7 = kw >= 5 ? Vector512.Load(row + 7 * channels) : default;
        // Tap k of cell u is input cell u + k; the four sums advance together, each in its own order.
        sum0 += c0; sum1 += c1; sum2 += c2; sum3 += c3;
        sum0 += c1; sum1 += c2; sum2 += c3; sum3 += c4;
        if (kw >= 3) { sum0 += c2; sum1 += c3; sum2 += c4; sum3 += c5; }
        if (kw >= 4) { sum0 += c3; sum1 += c4; sum2 += c5; sum3 += c6; }
        if (kw >= 5) { sum0 += c4; sum1 += c5; sum2 += c6; sum3 += c7; }
    }
}
