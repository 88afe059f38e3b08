using System;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's channels-last average over the interior cells of an output row, at any stride and dilation
/// along the row: four neighbouring output cells times two channel vectors per step, eight independent sums.
/// </summary>
/// <remarks>
/// Each cell's sum must run in PyTorch's order (from +0, row by row, left to right), one chain per lane, so a cell's
/// adds cannot overlap each other: with 32 channels a cell alone is one or two chains, and each add waits for the one
/// before. Eight chains side by side keep the adders busy while each input vector is still loaded once per tap.
/// Cells whose windows share loads (stride 1, 2 to 5 wide) go through <see cref="ChannelsLastSlidingSum{T}"/> first.
/// </remarks>
internal static class ChannelsLastBlockedSum<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether this path applies: AVX-512, float or double, average, a vector of channels or more.</summary>
    public static bool Applies(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && !plan.IsMax && plan.Input.Channels >= Vector512<T>.Count;

    /// <summary>
    /// Averages the first cells of a run of <paramref name="cells"/> interior output cells, four at a time, and
    /// returns how many it did (a multiple of four); the caller does the rest. <paramref name="image"/> starts at the
    /// first cell's window's first column, <paramref name="rowOffsets"/> lists the window's rows inside the input
    /// (offsets into <paramref name="image"/>), and every cell divides by <paramref name="divisor"/>.
    /// </summary>
    public static unsafe int Run(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, T divisor, Span<T> output)
    {
        AxisPlan width = plan.Width;
        int channels = plan.Input.Channels, lanes = Vector512<T>.Count;
        int reach = (width.Kernel - 1) * width.Dilation + 1; // the columns one window spans
        int steps = ChannelsLastSliding.Steps(image.Length, rowOffsets, cells, reach, width.Stride, channels, output.Length);
        if (steps == 0) return 0;
        nint cellStride = (nint)width.Stride * channels, tapStride = (nint)width.Dilation * channels;
        var divisors = Vector512.Create(divisor);
        fixed (T* source = image, target = output)
        fixed (int* rows = rowOffsets)
        {
            for (int s = 0; s < steps; s++)
            {
                T* at = source + s * ChannelsLastSliding.CellsPerStep * cellStride;
                T* to = target + (nint)s * ChannelsLastSliding.CellsPerStep * channels;
                // Two channel vectors at a time; the last pair may overlap the ones before (it recomputes a few
                // channels with the same bits).
                for (int j = 0; ; j += 2 * lanes)
                {
                    int first = Math.Min(j, channels - lanes), second = Math.Min(j + lanes, channels - lanes);
                    Pool(at, rows, rowOffsets.Length, width.Kernel, tapStride, cellStride, first, second, channels, divisors, to);
                    if (j + 2 * lanes >= channels) break;
                }
            }
        }
        return steps * ChannelsLastSliding.CellsPerStep;
    }

    /// <summary>
    /// Sums channels [first, first + lanes) and [second, second + lanes) of the four cells whose windows start at
    /// <paramref name="at"/>, <paramref name="cellStride"/> apart, and stores them divided at <paramref name="to"/>.
    /// </summary>
    private static unsafe void Pool(T* at, int* rows, int rowCount, int kernel, nint tapStride, nint cellStride, int first, int second,
        int channels, Vector512<T> divisors, T* to)
    {
        nint c1 = cellStride, c2 = 2 * cellStride, c3 = 3 * cellStride;
        // PyTorch's order: from +0, row by row, left to right.
        Vector512<T> a0 = Vector512<T>.Zero, b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
        for (int i = 0; i < rowCount; i++)
        {
            T* p = at + rows[i] + first, q = at + rows[i] + second;
            for (int kw = 0; kw < kernel; kw++, p += tapStride, q += tapStride)
            {
                a0 += Vector512.Load(p); b0 += Vector512.Load(q);
                a1 += Vector512.Load(p + c1); b1 += Vector512.Load(q + c1);
                a2 += Vector512.Load(p + c2); b2 += Vector512.Load(q + c2);
                a3 += Vector512.Load(p + c3); b3 += Vector512.Load(q + c3);
            }
        }
        // Division, not multiplication by a reciprocal: it is what PyTorch does, and it rounds once.
        (a0 / divisors).Store(to + first); (b0 / divisors).Store(to + second);
        (a1 / divisors).Store(to + channels + first); (b1 / divisors).Store(to + channels + second);
        (a2 / divisors).Store(to + 2 * channels + first); (b2 / divisors).Store(to + 2 * channels + second);
        (a3 / divisors).Store(to + 3 * channels + first); (b3 / divisors).Store(to + 3 * channels + second);
    }
}
