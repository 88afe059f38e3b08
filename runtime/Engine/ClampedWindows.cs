using System;
using System.Runtime.CompilerServices;
using System.Numerics;

namespace KernelGen.Engine;

/// <summary>
/// Windows longer than the input on some axis (an effective kernel or a stride past the axis length), which padding
/// and dilation allow: every output cell reduces only its taps inside the input, found per axis by arithmetic
/// (<see cref="AxisPlan.InsideTaps"/>). Nothing is sized by the kernel, the stride or the padding, so the work is the
/// outputs times the input cells their windows cover and the memory is the input and output, however large the window.
/// </summary>
/// <remarks>
/// The other paths prepare padded rows, tap tables of k entries or phases of s cells, all fine while the window fits the
/// input and unbounded when it does not. Max is exact in any order; sums take the inside taps in row-major window order
/// from +0, which is the order and the bits of every other path (skipping padding equals adding +0).
/// </remarks>
internal static class ClampedWindows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Applies(in PoolPlan plan) => Oversized(plan.Depth) || Oversized(plan.Height) || Oversized(plan.Width);

    private static bool Oversized(in AxisPlan axis) => axis.EffectiveKernel > axis.Length || axis.Stride > axis.Length;

    /// <summary>
    /// Channels last, the calls this route takes: windows longer than their axis on images of up to
    /// <see cref="SmallImageCells"/> cells or with up to <see cref="FewOutputCells"/> outputs, where the other routes'
    /// set-up per call outweighs the work, or wherever a window, stride or padding passes <see cref="MaxModestReach"/> cells.
    /// Modest windows otherwise go to the vectorized routes, which reduce several cells at once (measurements in
    /// bench/notes.md).
    /// </summary>
    public static bool TakesChannelsLast(in PoolPlan plan) =>
        Applies(plan) && (plan.InputPlane <= SmallImageCells || plan.OutputPlane <= FewOutputCells
            || !IsModest(plan.Depth) || !IsModest(plan.Height) || !IsModest(plan.Width));

    /// <summary>Images up to this many cells (5 x 5, 1 x 32) keep this route channels last.</summary>
    private const int SmallImageCells = 32;

    /// <summary>Output images up to this many cells keep this route channels last.</summary>
    private const int FewOutputCells = 4;

    /// <summary>The longest window, stride or padding, in cells, the other routes take: their tables list the window's taps.</summary>
    private const int MaxModestReach = 256;

    private static bool IsModest(in AxisPlan axis) =>
        axis.EffectiveKernel <= MaxModestReach && axis.Stride <= MaxModestReach && axis.PadBegin <= MaxModestReach && axis.PadEnd <= MaxModestReach;

    /// <summary>
    /// Pools the units <c>[first, first + count)</c>: (n, c) planes channels first, output rows (n, od, oh) channels last.
    /// </summary>
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long first, int count)
    {
        bool channelsLast = plan.Descriptor.Layout == PoolLayout.ChannelsLast;
        if (plan.IsMax && channelsLast) RunChannelsLast<MaxOp<T>>(plan, input, output, first, count);
        else if (plan.IsMax) RunChannelsFirst<MaxOp<T>>(plan, input, output, first, count);
        else if (channelsLast) RunChannelsLast<AddOp<T>>(plan, input, output, first, count);
        else RunChannelsFirst<AddOp<T>>(plan, input, output, first, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunChannelsFirst<TOp>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TOp : ILaneOp<T>
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        T identity = plan.IsMax ? T.NegativeInfinity : T.Zero;
        for (long plane = firstPlane; plane < firstPlane + planeCount; plane++)
        {
            ReadOnlySpan<T> source = input.Slice(checked((int)(plane * inPlane)), inPlane);
            Span<T> target = output.Slice(checked((int)(plane * outPlane)), outPlane);
            int at = 0;
            for (int od = 0; od < depth.Output; od++)
            {
                var (dFirst, dEnd) = depth.InsideTaps(od);
                for (int oh = 0; oh < height.Output; oh++)
                {
                    var (hFirst, hEnd) = height.InsideTaps(oh);
                    double rowFactor = RowFactor(plan, od, oh);
                    for (int ow = 0; ow < width.Output; ow++)
                    {
                        var (wFirst, wEnd) = width.InsideTaps(ow);
                        long wStart = width.WindowStart(ow);
                        T value = identity;
                        for (int kd = dFirst; kd < dEnd; kd++)
                        {
                            long d = depth.WindowStart(od) + (long)kd * depth.Dilation;
                            for (int kh = hFirst; kh < hEnd; kh++)
                            {
                                long row = (d * height.Length + height.WindowStart(oh) + (long)kh * height.Dilation) * width.Length + wStart;
                                for (int kw = wFirst; kw < wEnd; kw++)
                                    value = TOp.Apply(value, source[(int)(row + (long)kw * width.Dilation)]);
                            }
                        }
                        // A zero maximum is +0, as in every max kernel (see MaxOp).
                        target[at++] = plan.IsMax ? value + T.Zero : value / Divisor(plan, rowFactor, ow);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunChannelsLast<TOp>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstRow, int rowCount)
        where TOp : ILaneOp<T>
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int channels = plan.Input.Channels;
        if (channels == 0) return;
        int imageSize = plan.InputPlane * channels;
        long rowsPerImage = (long)depth.Output * height.Output;
        T identity = plan.IsMax ? T.NegativeInfinity : T.Zero;
        for (long r = firstRow; r < firstRow + rowCount; r++)
        {
            long n = r / rowsPerImage;
            int od = (int)(r % rowsPerImage / height.Output), oh = (int)(r % height.Output);
            ReadOnlySpan<T> image = input.Slice(checked((int)(n * imageSize)), imageSize);
            var (dFirst, dEnd) = depth.InsideTaps(od);
            var (hFirst, hEnd) = height.InsideTaps(oh);
            double rowFactor = RowFactor(plan, od, oh);
            for (int ow = 0; ow < width.Output; ow++)
            {
                Span<T> cell = output.Slice(checked((int)((r * width.Output + ow) * channels)), channels);
                cell.Fill(identity);
                var (wFirst, wEnd) = width.InsideTaps(ow);
                for (int kd = dFirst; kd < dEnd; kd++)
                {
                    long d = depth.WindowStart(od) + (long)kd * depth.Dilation;
                    for (int kh = hFirst; kh < hEnd; kh++)
                    {
                        long row = (d * height.Length + height.WindowStart(oh) + (long)kh * height.Dilation) * width.Length + width.WindowStart(ow);
                        for (int kw = wFirst; kw < wEnd; kw++)
                            VectorOps<T>.Accumulate<TOp>(cell, image.Slice((int)((row + (long)kw * width.Dilation) * channels), channels));
                    }
                }
                if (plan.IsMax) VectorOps<T>.Accumulate<AddOp<T>>(cell, T.Zero); // a zero maximum is +0 (see MaxOp)
                else VectorOps<T>.Accumulate<DivideOp<T>>(cell, Divisor(plan, rowFactor, ow));
            }
        }
    }

    // Per-axis factors reach 2^31 each, so their product can pass a long: it is formed in double, exact below 2^53.
    private static double RowFactor(in PoolPlan plan, int od, int oh)
    {
        bool include = plan.Descriptor.CountIncludePad;
        return (double)plan.Depth.DivisorFactor(od, include) * plan.Height.DivisorFactor(oh, include);
    }

    /// <summary>The override, else the product of the factors, or 1 for a window with no input cell (0 / 1 = 0).</summary>
    private static T Divisor(in PoolPlan plan, double rowFactor, int ow)
    {
        if (plan.Descriptor.DivisorOverride != 0) return T.CreateTruncating(plan.Descriptor.DivisorOverride);
        double divisor = rowFactor * plan.Width.DivisorFactor(ow, plan.Descriptor.CountIncludePad);
        return divisor == 0 ? T.One : T.CreateTruncating(divisor);
    }
}
