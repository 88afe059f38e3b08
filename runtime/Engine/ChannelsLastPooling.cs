using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine for channels-last (N[D]HWC) data, vectorized across channels: the C values of one spatial cell
/// are contiguous, so every tap of a window is a plain vector load at any stride or dilation, with no shuffles.
/// </summary>
/// <remarks>
/// Each output cell clamps its window to the taps inside the input once; the loops over those taps then need no
/// bounds checks. Taps are visited in row-major window order, so sums round exactly as in the channels-first engine
/// and in PyTorch.
/// </remarks>
internal static class ChannelsLastPooling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Pools output rows <c>[firstRow, firstRow + rowCount)</c>, where row r is (n, od, oh) flattened: all its output
    /// cells and channels.
    /// </summary>
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstRow, int rowCount)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int channels = plan.Input.Channels;
        if (channels == 0) return;
        long rowsPerImage = (long)depth.Output * height.Output;
        ref T inputRef = ref MemoryMarshal.GetReference(input);
        long imageSize = (long)plan.InputPlane * channels;

        for (long r = firstRow; r < firstRow + rowCount; r++)
        {
            long n = r / rowsPerImage;
            int od = (int)(r % rowsPerImage / height.Output), oh = (int)(r % height.Output);
            var (dFirst, dEnd) = depth.InsideTaps(od);
            var (hFirst, hEnd) = height.InsideTaps(oh);
            long dStart = depth.WindowStart(od), hStart = height.WindowStart(oh);
            long rowFactor = plan.IsMax ? 0 : plan.RowDivisorFactor(od, oh);
            for (int ow = 0; ow < width.Output; ow++)
            {
                var (wFirst, wEnd) = width.InsideTaps(ow);
                var window = new Window(
                    n * imageSize,
                    dStart + (long)dFirst * depth.Dilation, dEnd - dFirst, depth.Dilation,
                    hStart + (long)hFirst * height.Dilation, hEnd - hFirst, height.Dilation,
                    width.WindowStart(ow) + (long)wFirst * width.Dilation, wEnd - wFirst, width.Dilation,
                    plan.Input.Height, plan.Input.Width, channels);
                Span<T> cell = output.Slice(checked((int)((r * width.Output + ow) * channels)), channels);
                if (plan.IsMax)
                {
                    Reduce<MaxOp<T>>(ref inputRef, window, cell, T.NegativeInfinity);
                }
                else
                {
                    Reduce<AddOp<T>>(ref inputRef, window, cell, T.Zero);
                    T divisor = T.CreateTruncating(plan.Divisor(rowFactor, ow));
                    VectorOps<T>.Accumulate<DivideOp<T>>(cell, divisor);
                }
            }
        }
    }

    /// <summary>The taps of one output cell that fall inside the input, as start, count and step per axis.</summary>
    private readonly record struct Window(
        long ImageBase,
        long DepthStart, int DepthTaps, int DepthStep,
        long HeightStart, int HeightTaps, int HeightStep,
        long WidthStart, int WidthTaps, int WidthStep,
        int InputHeight, int InputWidth, int Channels)
    {
        public long Offset(int td, int th, int tw) =>
            ImageBase + (((DepthStart + (long)td * DepthStep) * InputHeight + HeightStart + (long)th * HeightStep) * InputWidth
                         + WidthStart + (long)tw * WidthStep) * Channels;
    }

    // Reduces the window's taps into cell, a block of channels at a time at the widest accelerated width. The caller
    // has clamped the window to the input and sized the spans, so the unchecked loads stay inside them.
    private static void Reduce<TOp>(ref T input, in Window window, Span<T> cell, T identity) where TOp : ILaneOp<T>
    {
        ref T target = ref MemoryMarshal.GetReference(cell);
        int channels = cell.Length, c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c <= channels - Vector512<T>.Count; c += Vector512<T>.Count)
            {
                var acc = Vector512.Create(identity);
                for (int td = 0; td < window.DepthTaps; td++)
                    for (int th = 0; th < window.HeightTaps; th++)
                        for (int tw = 0; tw < window.WidthTaps; tw++)
                            acc = TOp.Apply(acc, Vector512.LoadUnsafe(ref input, (nuint)(window.Offset(td, th, tw) + c)));
                acc.StoreUnsafe(ref target, (nuint)c);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c <= channels - Vector256<T>.Count; c += Vector256<T>.Count)
            {
                var acc = Vector256.Create(identity);
                for (int td = 0; td < window.DepthTaps; td++)
                    for (int th = 0; th < window.HeightTaps; th++)
                        for (int tw = 0; tw < window.WidthTaps; tw++)
                            acc = TOp.Apply(acc, Vector256.LoadUnsafe(ref input, (nuint)(window.Offset(td, th, tw) + c)));
                acc.StoreUnsafe(ref target, (nuint)c);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; c <= channels - Vector128<T>.Count; c += Vector128<T>.Count)
            {
                var acc = Vector128.Create(identity);
                for (int td = 0; td < window.DepthTaps; td++)
                    for (int th = 0; th < window.HeightTaps; th++)
                        for (int tw = 0; tw < window.WidthTaps; tw++)
                            acc = TOp.Apply(acc, Vector128.LoadUnsafe(ref input, (nuint)(window.Offset(td, th, tw) + c)));
                acc.StoreUnsafe(ref target, (nuint)c);
            }
        }
        for (; c < channels; c++)
        {
            T acc = identity;
            for (int td = 0; td < window.DepthTaps; td++)
                for (int th = 0; th < window.HeightTaps; th++)
                    for (int tw = 0; tw < window.WidthTaps; tw++)
                        acc = TOp.Apply(acc, Unsafe.Add(ref input, (nint)(window.Offset(td, th, tw) + c)));
            Unsafe.Add(ref target, c) = acc;
        }
    }
}
