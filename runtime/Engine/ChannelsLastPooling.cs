using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace KernelGen.Engine;

/// <summary>
/// The general engine for channels-last (N[D]HWC) data, vectorized across channels: the C values of one spatial cell
/// are contiguous, so every tap of a window is a plain vector load at any stride or dilation, with no shuffles.
/// </summary>
/// <remarks>
/// Each output cell lists the offsets of its window's cells inside the input once (padding is skipped: it is the
/// reduction's identity); one pass then reduces them for every channel block in registers. Taps are visited in
/// row-major window order, so sums round exactly as in the channels-first engine and in PyTorch.
/// </remarks>
internal static class ChannelsLastPooling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Pools output rows <c>[firstRow, firstRow + rowCount)</c>, where row r is (n, od, oh) flattened: all its output
    /// cells and channels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstRow, int rowCount)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int channels = plan.Input.Channels;
        if (channels == 0) return;
        long rowsPerImage = (long)depth.Output * height.Output;
        int imageSize = plan.InputPlane * channels;
        int[] taps = ArrayPool<int>.Shared.Rent(depth.Kernel * height.Kernel * width.Kernel);
        using var depthWindows = new AxisWindows(depth);
        using var heightWindows = new AxisWindows(height);
        using var widthWindows = new AxisWindows(width);
        long[] columnFactors = ArrayPool<long>.Shared.Rent(width.Output);
        for (int ow = 0; ow < width.Output; ow++)
            columnFactors[ow] = width.DivisorFactor(ow, plan.Descriptor.CountIncludePad);
        try
        {
            for (long r = firstRow; r < firstRow + rowCount; r++)
            {
                long n = r / rowsPerImage;
                int od = (int)(r % rowsPerImage / height.Output), oh = (int)(r % height.Output);
                ReadOnlySpan<T> image = input.Slice(checked((int)(n * imageSize)), imageSize);
                var (dFirst, dEnd) = depthWindows[od];
                var (hFirst, hEnd) = heightWindows[oh];
                long dStart = depth.WindowStart(od), hStart = height.WindowStart(oh);
                long rowFactor = plan.IsMax ? 0 : plan.RowDivisorFactor(od, oh);
                for (int ow = 0; ow < width.Output; ow++)
                {
                    // The window's cells inside the input, in row-major order, as offsets into the image.
                    var (wFirst, wEnd) = widthWindows[ow];
                    long wStart = width.WindowStart(ow);
                    int count = 0;
                    for (int kd = dFirst; kd < dEnd; kd++)
                        for (int kh = hFirst; kh < hEnd; kh++)
                        {
                            long rowCell = ((dStart + (long)kd * depth.Dilation) * height.Length + hStart + (long)kh * height.Dilation) * width.Length;
                            for (int kw = wFirst; kw < wEnd; kw++)
                                taps[count++] = (int)((rowCell + wStart + (long)kw * width.Dilation) * channels);
                        }

                    Span<T> cell = output.Slice(checked((int)((r * width.Output + ow) * channels)), channels);
                    if (plan.IsMax)
                    {
                        if (count == 0) cell.Fill(T.NegativeInfinity); // a window made only of padding (ONNX limits only)
                        else VectorOps<T>.Reduce<MaxOp<T>>(image, taps.AsSpan(0, count), cell, startFromZero: false);
                    }
                    else
                    {
                        if (count == 0) cell.Clear();
                        else VectorOps<T>.Reduce<AddOp<T>>(image, taps.AsSpan(0, count), cell, startFromZero: true);
                        // Division, not multiplication by a reciprocal: it is what PyTorch does, and it rounds once.
                        VectorOps<T>.Accumulate<DivideOp<T>>(cell, Divisor(plan, rowFactor, columnFactors[ow]));
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(taps);
            ArrayPool<long>.Shared.Return(columnFactors);
        }
    }

    /// <summary><see cref="PoolPlan.Divisor(long, int)"/> with the column's factor looked up rather than recomputed.</summary>
    private static T Divisor(in PoolPlan plan, long rowFactor, long columnFactor)
    {
        if (plan.Descriptor.DivisorOverride != 0) return T.CreateTruncating(plan.Descriptor.DivisorOverride);
        long divisor = rowFactor * columnFactor;
        return divisor == 0 ? T.One : T.CreateTruncating(divisor);
    }
}
