using System;
using System.Runtime.CompilerServices;
using System.Numerics;

namespace KernelGen.Engine;

/// <summary>
/// Max pooling that also reports where each maximum came from, in PyTorch's convention: the flat position of the
/// chosen cell inside its own (n, c) plane, <c>(d * H + h) * W + w</c>, whatever the memory layout.
/// </summary>
/// <remarks>
/// Indices are what training needs (max_unpool, the backward pass); inference never asks for them, so this path is a
/// plain loop kept apart from the vectorized one and only runs when the caller passes an indices span. It follows
/// PyTorch's scan exactly: the window in row-major order, a cell replaces the maximum when it is greater or NaN (so
/// ties keep the first cell and NaN keeps the last NaN), starting from the first cell inside the input. A window made
/// only of padding (ONNX limits only) gives -inf and index -1.
/// </remarks>
internal static class MaxIndicesPooling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, Span<long> indices, long firstPlane, int planeCount)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        bool channelsLast = plan.Descriptor.Layout == PoolLayout.ChannelsLast;
        int channels = plan.Input.Channels;
        long inPlane = plan.InputPlane, outPlane = plan.OutputPlane;

        for (long plane = firstPlane; plane < firstPlane + planeCount; plane++)
        {
            // Element (n, c, cell) sits at (n*C + c)*plane + cell channels first, at (n*plane + cell)*C + c channels last.
            long n = plane / channels, c = plane % channels;
            long inBase = channelsLast ? n * inPlane * channels + c : plane * inPlane;
            long outBase = channelsLast ? n * outPlane * channels + c : plane * outPlane;
            long cellStep = channelsLast ? channels : 1;

            for (int od = 0; od < depth.Output; od++)
            {
                var (dFirst, dEnd) = depth.InsideTaps(od);
                for (int oh = 0; oh < height.Output; oh++)
                {
                    var (hFirst, hEnd) = height.InsideTaps(oh);
                    for (int ow = 0; ow < width.Output; ow++)
                    {
                        var (wFirst, wEnd) = width.InsideTaps(ow);
                        T best = T.NegativeInfinity;
                        long bestIndex = -1;
                        for (int kd = dFirst; kd < dEnd; kd++)
                        {
                            long id = depth.WindowStart(od) + (long)kd * depth.Dilation;
                            for (int kh = hFirst; kh < hEnd; kh++)
                            {
                                long ih = height.WindowStart(oh) + (long)kh * height.Dilation;
                                for (int kw = wFirst; kw < wEnd; kw++)
                                {
                                    long iw = width.WindowStart(ow) + (long)kw * width.Dilation;
                                    long cell = (id * height.Length + ih) * width.Length + iw;
                                    T value = input[checked((int)(inBase + cell * cellStep))];
                                    if (bestIndex < 0) bestIndex = cell;
                                    if (value > best || T.IsNaN(value))
                                    {
                                        best = value;
                                        bestIndex = cell;
                                    }
                                }
                            }
                        }
                        long outCell = ((long)od * height.Output + oh) * width.Output + ow;
                        int at = checked((int)(outBase + outCell * cellStep));
                        output[at] = best + T.Zero; // a zero maximum is +0, as in every max kernel (see MaxOp)
                        indices[at] = bestIndex;
                    }
                }
            }
        }
    }
}
