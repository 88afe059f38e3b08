using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace KernelGen.Testing;

/// <summary>
/// A scalar reference implementation of KernelGen's pooling semantics (docs: pooling-semantics.md), written to be
/// obviously right rather than fast: for every output cell it walks the window's taps in row-major order (kd, kh, kw),
/// reads element (n, c, d, h, w) through an explicit index function for the layout and skips taps outside the input.
/// It shares no code with the engine; it reads only the descriptor's parameters (never its output-shape logic).
/// </summary>
public static class ReferencePooling
{
    // ------------------------------------------------------------------------------------------------------------
    // Shapes and layouts.
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// The output size along one axis, from the semantics document:
    /// <c>out = floor((L + pb + pe - keff + (ceil ? s - 1 : 0)) / s) + 1</c>, less one under ceil mode when the last
    /// window would start at or past <c>L + pb</c>. May be 0 or negative for an input that is too small.
    /// </summary>
    public static long OutputSize(long length, int kernel, int stride, int padBegin, int padEnd, int dilation, bool ceilMode)
    {
        long effective = (long)(kernel - 1) * dilation + 1;
        long numerator = length + padBegin + padEnd - effective + (ceilMode ? stride - 1 : 0);
        long output = FloorDivide(numerator, stride) + 1;
        if (ceilMode && (output - 1) * stride >= length + padBegin)
            output--;
        return output;
    }

    private static long FloorDivide(long a, long b)
    {
        long q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
        return q;
    }

    /// <summary>
    /// The taps <c>[first, end)</c> of a window starting at <paramref name="start"/> whose positions
    /// <c>start + t * d</c> lie in <c>[0, limit)</c>: the loops below visit only those, so a window of 2^30 taps over a
    /// 4-cell input costs 4 steps.
    /// </summary>
    public static (long First, long End) TapsBelow(long start, PoolAxis axis, long limit)
    {
        long first = start >= 0 ? 0 : (-start + axis.Dilation - 1) / axis.Dilation;
        long end = start >= limit ? 0 : Math.Min(axis.Kernel, (limit - 1 - start) / axis.Dilation + 1);
        return (Math.Min(first, axis.Kernel), end);
    }

    /// <summary>The input cells (d, h, w) of output (od, oh, ow)'s window, in row-major window order, padding skipped.</summary>
    private static System.Collections.Generic.IEnumerable<(long D, long H, long W)> InsideCells(PoolAxis[] axes, PoolShape shape, int od, int oh, int ow)
    {
        long d0 = (long)od * axes[0].Stride - axes[0].PadBegin, h0 = (long)oh * axes[1].Stride - axes[1].PadBegin;
        long w0 = (long)ow * axes[2].Stride - axes[2].PadBegin;
        var (kdFirst, kdEnd) = TapsBelow(d0, axes[0], shape.Depth);
        var (khFirst, khEnd) = TapsBelow(h0, axes[1], shape.Height);
        var (kwFirst, kwEnd) = TapsBelow(w0, axes[2], shape.Width);
        for (long kd = kdFirst; kd < kdEnd; kd++)
            for (long kh = khFirst; kh < khEnd; kh++)
                for (long kw = kwFirst; kw < kwEnd; kw++)
                {
                    long d = d0 + kd * axes[0].Dilation, h = h0 + kh * axes[1].Dilation, w = w0 + kw * axes[2].Dilation;
                    if (d < 0 || d >= shape.Depth || h < 0 || h >= shape.Height || w < 0 || w >= shape.Width)
                        throw new InvalidOperationException($"TapsBelow gave a cell outside the input: ({d}, {h}, {w}) of {shape}.");
                    yield return (d, h, w);
                }
    }

    /// <summary>The window on each of the three axes (depth, height, width); axes the rank lacks are identities.</summary>
    public static PoolAxis[] Axes3(in PoolDescriptor descriptor)
    {
        var axes = new PoolAxis[3];
        int rank = descriptor.SpatialRank;
        for (int a = 0; a < 3; a++)
        {
            int axis = a - (3 - rank);
            axes[a] = axis < 0 ? new PoolAxis(1, 1, 0, 0, 1) : descriptor.GetAxis(axis);
        }
        return axes;
    }

    /// <summary>The output shape of <paramref name="descriptor"/> on <paramref name="input"/>, computed here; throws if any size is below 1.</summary>
    public static PoolShape OutputShape(in PoolDescriptor descriptor, PoolShape input)
    {
        if (descriptor.SpatialRank != input.SpatialRank)
            throw new ArgumentException($"Rank mismatch: descriptor {descriptor.SpatialRank}, shape {input.SpatialRank}.");
        var axes = Axes3(descriptor);
        int[] lengths = [input.Depth, input.Height, input.Width];
        var sizes = new int[3];
        for (int a = 0; a < 3; a++)
        {
            var x = axes[a];
            long size = OutputSize(lengths[a], x.Kernel, x.Stride, x.PadBegin, x.PadEnd, x.Dilation, descriptor.CeilMode);
            if (size < 1) throw new ArgumentException($"Output size {size} on axis {a} for input {input}.");
            sizes[a] = (int)size;
        }
        return WithSpatial(input, sizes[0], sizes[1], sizes[2]);
    }

    /// <summary>A shape of the same rank, batch and channels with other spatial sizes (those the rank lacks are ignored).</summary>
    public static PoolShape WithSpatial(PoolShape shape, int depth, int height, int width) => shape.SpatialRank switch
    {
        1 => new PoolShape(shape.Batch, shape.Channels, width),
        2 => new PoolShape(shape.Batch, shape.Channels, height, width),
        _ => new PoolShape(shape.Batch, shape.Channels, depth, height, width),
    };

    /// <summary>Where element (n, c, d, h, w) of <paramref name="shape"/> sits in memory in <paramref name="layout"/>.</summary>
    public static long Offset(PoolLayout layout, PoolShape shape, int n, int c, int d, int h, int w)
    {
        long C = shape.Channels, D = shape.Depth, H = shape.Height, W = shape.Width;
        return layout == PoolLayout.ChannelsFirst
            ? (((n * C + c) * D + d) * H + h) * W + w
            : (((n * D + d) * H + h) * W + w) * C + c;
    }

    /// <summary>Reorders channels-first data of <paramref name="shape"/> into <paramref name="to"/>'s order (or back).</summary>
    public static TElement[] Relayout<TElement>(ReadOnlySpan<TElement> data, PoolShape shape, PoolLayout from, PoolLayout to)
    {
        var result = new TElement[data.Length];
        for (int n = 0; n < shape.Batch; n++)
            for (int c = 0; c < shape.Channels; c++)
                for (int d = 0; d < shape.Depth; d++)
                    for (int h = 0; h < shape.Height; h++)
                        for (int w = 0; w < shape.Width; w++)
                            result[Offset(to, shape, n, c, d, h, w)] = data[(int)Offset(from, shape, n, c, d, h, w)];
        return result;
    }

    /// <summary>Channels first to channels last.</summary>
    public static TElement[] ToChannelsLast<TElement>(ReadOnlySpan<TElement> data, PoolShape shape) =>
        Relayout(data, shape, PoolLayout.ChannelsFirst, PoolLayout.ChannelsLast);

    /// <summary>Channels last to channels first.</summary>
    public static TElement[] ToChannelsFirst<TElement>(ReadOnlySpan<TElement> data, PoolShape shape) =>
        Relayout(data, shape, PoolLayout.ChannelsLast, PoolLayout.ChannelsFirst);

    // ------------------------------------------------------------------------------------------------------------
    // Windowed pooling.
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Max pooling with PyTorch's scan: start from -inf; a tap replaces the best when <c>v &gt; best || isNaN(v)</c>.
    /// The index is the flat position <c>(d * H + h) * W + w</c> in the (n, c) plane, initially the first tap inside
    /// the input, -1 for a window made only of padding (whose value stays -inf).
    /// </summary>
    public static (T[] Output, long[] Indices) Max<T>(in PoolDescriptor descriptor, ReadOnlySpan<T> input, PoolShape shape)
        where T : IFloatingPointIeee754<T>
    {
        if (descriptor.Mode != PoolMode.Max) throw new ArgumentException("Not a max descriptor.");
        var layout = descriptor.Layout;
        var outShape = OutputShape(descriptor, shape);
        var axes = Axes3(descriptor);
        var output = new T[outShape.ElementCount];
        var indices = new long[outShape.ElementCount];
        for (int n = 0; n < shape.Batch; n++)
        for (int c = 0; c < shape.Channels; c++)
        for (int od = 0; od < outShape.Depth; od++)
        for (int oh = 0; oh < outShape.Height; oh++)
        for (int ow = 0; ow < outShape.Width; ow++)
        {
            T best = T.NegativeInfinity;
            long bestIndex = -1;
            bool first = true;
            foreach (var (d, h, w) in InsideCells(axes, shape, od, oh, ow))
            {
                long position = (d * shape.Height + h) * shape.Width + w;
                T v = input[(int)Offset(layout, shape, n, c, (int)d, (int)h, (int)w)];
                if (first)
                {
                    bestIndex = position;
                    first = false;
                }
                if (v > best || T.IsNaN(v))
                {
                    best = v;
                    bestIndex = position;
                }
            }
            long at = Offset(layout, outShape, n, c, od, oh, ow);
            output[at] = best;
            indices[at] = bestIndex;
        }
        return (output, indices);
    }

    /// <summary>
    /// Average pooling: the inside taps summed from +0 in row-major window order, divided by the divisor: the override
    /// if set; else with count_include_pad the product over axes of the taps before <c>L + padEnd</c>; else the number
    /// of inside taps. A divisor of 0 (a window made only of padding) becomes 1.
    /// </summary>
    public static T[] Average<T>(in PoolDescriptor descriptor, ReadOnlySpan<T> input, PoolShape shape)
        where T : IFloatingPointIeee754<T>
    {
        if (descriptor.Mode != PoolMode.Average) throw new ArgumentException("Not an average descriptor.");
        var layout = descriptor.Layout;
        var outShape = OutputShape(descriptor, shape);
        var axes = Axes3(descriptor);
        int[] lengths = [shape.Depth, shape.Height, shape.Width];
        var output = new T[outShape.ElementCount];
        for (int n = 0; n < shape.Batch; n++)
        for (int c = 0; c < shape.Channels; c++)
        for (int od = 0; od < outShape.Depth; od++)
        for (int oh = 0; oh < outShape.Height; oh++)
        for (int ow = 0; ow < outShape.Width; ow++)
        {
            T sum = T.Zero;
            long inside = 0;
            foreach (var (d, h, w) in InsideCells(axes, shape, od, oh, ow))
            {
                sum += input[(int)Offset(layout, shape, n, c, (int)d, (int)h, (int)w)];
                inside++;
            }

            // In double: three factors of up to 2^31 overflow a long; the product is exact below 2^53.
            double divisor;
            if (descriptor.DivisorOverride != 0)
            {
                divisor = descriptor.DivisorOverride;
            }
            else if (descriptor.CountIncludePad)
            {
                divisor = 1;
                long[] starts = [(long)od * axes[0].Stride - axes[0].PadBegin, (long)oh * axes[1].Stride - axes[1].PadBegin, (long)ow * axes[2].Stride - axes[2].PadBegin];
                for (int a = 0; a < 3; a++)
                {
                    // Taps before L + padEnd, counted from tap 0 (padding before the input counts too).
                    long end = TapsBelow(starts[a], axes[a], lengths[a] + (long)axes[a].PadEnd).End;
                    divisor *= end;
                }
            }
            else
            {
                divisor = inside;
            }
            if (divisor == 0) divisor = 1;
            output[Offset(layout, outShape, n, c, od, oh, ow)] = sum / T.CreateTruncating(divisor);
        }
        return output;
    }

    /// <summary>Max or average, whichever the descriptor says (max without indices).</summary>
    public static T[] Pool<T>(in PoolDescriptor descriptor, ReadOnlySpan<T> input, PoolShape shape)
        where T : IFloatingPointIeee754<T> =>
        descriptor.Mode == PoolMode.Max ? Max(descriptor, input, shape).Output : Average(descriptor, input, shape);

    // ------------------------------------------------------------------------------------------------------------
    // Global pooling.
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>The output shape of global pooling: every spatial size 1.</summary>
    public static PoolShape GlobalOutputShape(PoolShape shape) => WithSpatial(shape, 1, 1, 1);

    /// <summary>Global max: PyTorch's scan over the plane in order (NaN if the plane holds one).</summary>
    public static T[] GlobalMax<T>(ReadOnlySpan<T> input, PoolShape shape, PoolLayout layout) where T : IFloatingPointIeee754<T>
    {
        var outShape = GlobalOutputShape(shape);
        var output = new T[outShape.ElementCount];
        for (int n = 0; n < shape.Batch; n++)
        for (int c = 0; c < shape.Channels; c++)
        {
            T best = T.NegativeInfinity;
            for (int d = 0; d < shape.Depth; d++)
                for (int h = 0; h < shape.Height; h++)
                    for (int w = 0; w < shape.Width; w++)
                    {
                        T v = input[(int)Offset(layout, shape, n, c, d, h, w)];
                        if (v > best || T.IsNaN(v)) best = v;
                    }
            output[Offset(layout, outShape, n, c, 0, 0, 0)] = best;
        }
        return output;
    }

    /// <summary>Cells of a plane summed in separate stripes by global average: 64 bytes' worth of elements.</summary>
    public static int GlobalStripes<T>() => 64 / Unsafe.SizeOf<T>();

    /// <summary>Float planes are summed in blocks of this many cells; double planes in one block.</summary>
    public static long GlobalBlockCells<T>() => typeof(T) == typeof(float) ? 4096 : long.MaxValue;

    /// <summary>
    /// Global average in KernelGen's documented fixed order: the plane's cells (row-major) go in blocks of
    /// <see cref="GlobalBlockCells{T}"/>; in a block, cell p goes to stripe <c>p % S</c> (S = 64 bytes / element size),
    /// each stripe summed from +0 in cell order, then the stripes added in order 0..S-1; the block sums are added in
    /// double from 0 in block order, the total divided by the cell count in double and rounded to T.
    /// </summary>
    public static T[] GlobalAverage<T>(ReadOnlySpan<T> input, PoolShape shape, PoolLayout layout) where T : IFloatingPointIeee754<T>
    {
        var outShape = GlobalOutputShape(shape);
        var output = new T[outShape.ElementCount];
        int stripes = GlobalStripes<T>();
        long cells = shape.PlaneSize, blockCells = GlobalBlockCells<T>();
        var partial = new T[stripes];
        for (int n = 0; n < shape.Batch; n++)
        for (int c = 0; c < shape.Channels; c++)
        {
            double total = 0;
            long p = 0;
            for (int d = 0; d < shape.Depth; d++)
                for (int h = 0; h < shape.Height; h++)
                    for (int w = 0; w < shape.Width; w++, p++)
                    {
                        if (p % blockCells == 0) Array.Fill(partial, T.Zero);
                        partial[p % blockCells % stripes] += input[(int)Offset(layout, shape, n, c, d, h, w)];
                        if ((p + 1) % blockCells == 0 || p + 1 == cells)
                        {
                            T sum = partial[0];
                            for (int s = 1; s < stripes; s++) sum += partial[s];
                            total += double.CreateTruncating(sum);
                        }
                    }
            output[Offset(layout, outShape, n, c, 0, 0, 0)] = T.CreateTruncating(total / cells);
        }
        return output;
    }

    /// <summary>Global average summed plainly in cell order (for a tolerance comparison independent of the stripe order).</summary>
    public static T[] GlobalAverageSequential<T>(ReadOnlySpan<T> input, PoolShape shape, PoolLayout layout) where T : IFloatingPointIeee754<T>
    {
        var outShape = GlobalOutputShape(shape);
        var output = new T[outShape.ElementCount];
        for (int n = 0; n < shape.Batch; n++)
        for (int c = 0; c < shape.Channels; c++)
        {
            T sum = T.Zero;
            for (int d = 0; d < shape.Depth; d++)
                for (int h = 0; h < shape.Height; h++)
                    for (int w = 0; w < shape.Width; w++)
                        sum += input[(int)Offset(layout, shape, n, c, d, h, w)];
            output[Offset(layout, outShape, n, c, 0, 0, 0)] = sum / T.CreateChecked(shape.PlaneSize);
        }
        return output;
    }
}
