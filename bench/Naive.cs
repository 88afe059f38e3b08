using System;

namespace KernelGen.Bench;

/// <summary>
/// The textbook baseline: the obvious nested loops, one output at a time, with a bounds test per window cell. What
/// one would write without thinking about speed; PyTorch's divisor rules for average pooling.
/// </summary>
public static class NaivePooling
{
    /// <summary>2-d max or average pooling, NCHW or NHWC.</summary>
    public static void Pool2d(ReadOnlySpan<float> input, Span<float> output, PoolShape shape, PoolMode mode,
        int kernel, int stride, int padding, bool countIncludePad, PoolLayout layout)
    {
        int n = shape.Batch, c = shape.Channels, h = shape.Height, w = shape.Width;
        int oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
        bool last = layout == PoolLayout.ChannelsLast;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < oh; y++)
                    for (int x = 0; x < ow; x++)
                    {
                        int y0 = y * stride - padding, x0 = x * stride - padding;
                        float max = float.NegativeInfinity, sum = 0;
                        int count = 0;
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = y0 + ky, ix = x0 + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                float v = last ? input[((b * h + iy) * w + ix) * c + ch] : input[((b * c + ch) * h + iy) * w + ix];
                                if (v > max) max = v;
                                sum += v;
                                count++;
                            }
                        float result;
                        if (mode == PoolMode.Max) result = max;
                        else
                        {
                            // PyTorch: with count_include_pad the divisor is the window clipped to the padded input.
                            int divisor = countIncludePad
                                ? (Math.Min(y0 + kernel, h + padding) - y0) * (Math.Min(x0 + kernel, w + padding) - x0)
                                : count;
                            result = sum / divisor;
                        }
                        if (last) output[((b * oh + y) * ow + x) * c + ch] = result;
                        else output[((b * c + ch) * oh + y) * ow + x] = result;
                    }
    }

    /// <summary>Global average pooling: the mean of each (n, c) plane.</summary>
    public static void GlobalAverage(ReadOnlySpan<float> input, Span<float> output, PoolShape shape, PoolLayout layout)
    {
        int n = shape.Batch, c = shape.Channels, plane = (int)shape.PlaneSize;
        bool last = layout == PoolLayout.ChannelsLast;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                float sum = 0;
                for (int i = 0; i < plane; i++)
                    sum += last ? input[(b * plane + i) * c + ch] : input[(b * c + ch) * plane + i];
                output[b * c + ch] = sum / plane;
            }
    }
}
