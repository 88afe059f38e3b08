using System;
using System.Buffers;
using System.Numerics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine for channels-first (NC[D]HW) data: any rank, window, stride, dilation, padding and ceil mode,
/// vectorized along the output width.
/// </summary>
/// <remarks>
/// <para>A plane is first prepared as a whole: every input row copied between padding cells (the identity of the
/// reduction: -inf for max, +0 for sums) and, for stride s &gt; 1, split into s phases, so that the taps of
/// neighbouring outputs become contiguous (phase r holds cells r, r + s, r + 2s, ...). Tap t of output j is then
/// phase <c>(t * d) % s</c> at <c>j + (t * d) / s</c>: every tap of every window is a contiguous span at a fixed
/// offset, with no bounds checks and the same code for every border.</para>
/// <para>Preparing the whole plane before reading it matters for speed, not only for simplicity: taps read the
/// prepared rows at unaligned offsets, and reading data that was stored a few cycles earlier at another alignment
/// stalls store-to-load forwarding. Prepared a plane ahead, the data is simply in L1 or L2.</para>
/// <para>Max is separable: each input row is reduced horizontally once, and each output row takes the maximum of the
/// reduced rows its window covers. Average keeps PyTorch's summation order (row-major over the window, starting from
/// +0), which is not separable, so every tap is added in order. Adding a +0 padding cell to a sum that started at +0
/// never changes it, so the result is bit-identical to skipping padding.</para>
/// </remarks>
internal static class ChannelsFirstPooling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools <paramref name="planeCount"/> consecutive (n, c) planes.</summary>
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        if (planeCount == 0) return;
        var layout = new PreparedLayout(plan);
        int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        int rows = plan.Depth.Length * plan.Height.Length;

        T[] prepared = layout.ReadsInputDirectly ? [] : ArrayPool<T>.Shared.Rent(rows * layout.RowStride);
        T[] reduced = plan.IsMax ? ArrayPool<T>.Shared.Rent(rows * plan.Width.Output) : [];
        int[] offsets = ArrayPool<int>.Shared.Rent(Math.Max(plan.Width.Kernel, plan.Depth.Kernel * plan.Height.Kernel * (plan.IsMax ? 1 : plan.Width.Kernel)));
        T[] divisors = plan.IsMax ? [] : ArrayPool<T>.Shared.Rent(plan.Width.Output);
        try
        {
            var divisorRow = new DivisorRow(divisors, plan.IsMax ? 0 : plan.Width.Output);
            Span<T> preparedRows = prepared.AsSpan(0, layout.ReadsInputDirectly ? 0 : rows * layout.RowStride);
            layout.FillPadding(preparedRows, plan.IsMax ? T.NegativeInfinity : T.Zero);
            for (int p = 0; p < planeCount; p++)
            {
                long plane = firstPlane + p;
                ReadOnlySpan<T> source = input.Slice(checked((int)(plane * inPlane)), inPlane);
                Span<T> target = output.Slice(checked((int)(plane * outPlane)), outPlane);
                ReadOnlySpan<T> rowsReady = layout.ReadsInputDirectly ? source : layout.Prepare(source, preparedRows);
                if (plan.IsMax)
                    MaxPlane(plan, layout, rowsReady, reduced.AsSpan(0, rows * plan.Width.Output), offsets, target);
                else
                    AveragePlane(plan, layout, rowsReady, offsets, ref divisorRow, target);
            }
        }
        finally
        {
            if (prepared.Length > 0) ArrayPool<T>.Shared.Return(prepared);
            if (reduced.Length > 0) ArrayPool<T>.Shared.Return(reduced);
            if (divisors.Length > 0) ArrayPool<T>.Shared.Return(divisors);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    private static void MaxPlane(in PoolPlan plan, in PreparedLayout layout, ReadOnlySpan<T> rows, Span<T> reduced, int[] offsets, Span<T> output)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int outWidth = width.Output;

        // Horizontal: every input row reduced over the window's columns once.
        Span<int> columnTaps = offsets.AsSpan(0, width.Kernel);
        for (int kw = 0; kw < width.Kernel; kw++)
            columnTaps[kw] = layout.TapOffset(kw);
        int rowCount = depth.Length * height.Length;
        for (int row = 0; row < rowCount; row++)
            VectorOps<T>.Reduce<MaxOp<T>>(rows[(row * layout.RowStride)..], columnTaps, reduced.Slice(row * outWidth, outWidth), startFromZero: false);

        // Vertical: each output row is the maximum of the reduced rows its window covers.
        for (int od = 0; od < depth.Output; od++)
        {
            var (dFirst, dEnd) = depth.InsideTaps(od);
            for (int oh = 0; oh < height.Output; oh++)
            {
                var (hFirst, hEnd) = height.InsideTaps(oh);
                Span<T> outRow = output.Slice((od * height.Output + oh) * outWidth, outWidth);
                int count = WindowRows(plan, od, dFirst, dEnd, oh, hFirst, hEnd, outWidth, offsets);
                if (count == 0) outRow.Fill(T.NegativeInfinity); // a window made only of padding (ONNX limits only)
                else VectorOps<T>.Reduce<MaxOp<T>>(reduced, offsets.AsSpan(0, count), outRow, startFromZero: false);
            }
        }
    }

    private static void AveragePlane(in PoolPlan plan, in PreparedLayout layout, ReadOnlySpan<T> rows, int[] offsets, ref DivisorRow divisors, Span<T> output)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int outWidth = width.Output;
        for (int od = 0; od < depth.Output; od++)
        {
            var (dFirst, dEnd) = depth.InsideTaps(od);
            for (int oh = 0; oh < height.Output; oh++)
            {
                var (hFirst, hEnd) = height.InsideTaps(oh);
                Span<T> outRow = output.Slice((od * height.Output + oh) * outWidth, outWidth);
                // Row-major taps: each covered row, and in it every column tap in order.
                int rowCount = WindowRows(plan, od, dFirst, dEnd, oh, hFirst, hEnd, layout.RowStride, offsets);
                int taps = 0;
                for (int r = rowCount - 1; r >= 0; r--)
                {
                    int rowStart = offsets[r];
                    for (int kw = width.Kernel - 1; kw >= 0; kw--)
                        offsets[r * width.Kernel + kw] = rowStart + layout.TapOffset(kw);
                    taps += width.Kernel;
                }
                if (taps == 0) outRow.Clear(); // no input cell: the sum is +0
                else VectorOps<T>.Reduce<AddOp<T>>(rows, offsets.AsSpan(0, taps), outRow, startFromZero: true);
                VectorOps<T>.Accumulate<DivideOp<T>>(outRow, divisors.For(plan, od, oh));
            }
        }
    }

    /// <summary>
    /// Writes the start offsets (row index times <paramref name="rowStride"/>) of the input rows inside output row
    /// (od, oh)'s window, in row-major window order, and returns how many there are.
    /// </summary>
    private static int WindowRows(in PoolPlan plan, int od, int dFirst, int dEnd, int oh, int hFirst, int hEnd, int rowStride, int[] offsets)
    {
        AxisPlan depth = plan.Depth, height = plan.Height;
        long dStart = depth.WindowStart(od), hStart = height.WindowStart(oh);
        int count = 0;
        for (int kd = dFirst; kd < dEnd; kd++)
            for (int kh = hFirst; kh < hEnd; kh++)
                offsets[count++] = (int)(((dStart + (long)kd * depth.Dilation) * height.Length + hStart + (long)kh * height.Dilation) * rowStride);
        return count;
    }

    /// <summary>How a prepared plane is laid out: one padded, phase-split row after another.</summary>
    private readonly struct PreparedLayout
    {
        private readonly int _stride, _dilation, _padBegin, _length;

        public PreparedLayout(in PoolPlan plan)
        {
            var width = plan.Width;
            _stride = width.Stride;
            _dilation = width.Dilation;
            _padBegin = width.PadBegin;
            _length = width.Length;
            PhaseLength = (width.PaddedLength + width.Stride - 1) / width.Stride;
            RowStride = PhaseLength * width.Stride;
            // Stride 1 with no padding and no ceil-mode overhang: the input rows already are the prepared rows.
            ReadsInputDirectly = width.Stride == 1 && width.PadBegin == 0 && width.PaddedLength == width.Length;
            if (ReadsInputDirectly) RowStride = width.Length;
        }

        /// <summary>Cells in one phase of a prepared row.</summary>
        public int PhaseLength { get; }

        /// <summary>Cells from one prepared row to the next.</summary>
        public int RowStride { get; }

        public bool ReadsInputDirectly { get; }

        /// <summary>Where, in a prepared row, tap <paramref name="kw"/> of output column 0 lies.</summary>
        public int TapOffset(int kw)
        {
            int position = kw * _dilation;
            return position % _stride * PhaseLength + position / _stride;
        }

        /// <summary>
        /// Fills a prepared-plane buffer with the padding identity. Padding cells sit at the same places in every
        /// plane and <see cref="Prepare"/> never writes them, so this runs once per call, not once per plane.
        /// </summary>
        public void FillPadding(Span<T> prepared, T fill) => prepared.Fill(fill);

        /// <summary>Copies every row of <paramref name="plane"/> into its place in <paramref name="prepared"/>, split into phases.</summary>
        public ReadOnlySpan<T> Prepare(ReadOnlySpan<T> plane, Span<T> prepared)
        {
            int rows = plane.Length / _length;
            for (int row = 0; row < rows; row++)
            {
                ReadOnlySpan<T> source = plane.Slice(row * _length, _length);
                Span<T> target = prepared.Slice(row * RowStride, RowStride);
                if (_stride == 1)
                {
                    source.CopyTo(target[_padBegin..]);
                }
                else if (_stride == 2)
                {
                    // Padded cell x = input cell x - padBegin lives in phase x % 2 at x / 2. With an even begin
                    // padding the input's even cells land in phase 0, with an odd one in phase 1.
                    int half = _padBegin / 2;
                    Span<T> even = target[..PhaseLength], odd = target.Slice(PhaseLength, PhaseLength);
                    int pairs = _length / 2;
                    if (_padBegin % 2 == 0)
                    {
                        VectorOps<T>.Deinterleave2(source, even.Slice(half, pairs), odd.Slice(half, pairs));
                        if (_length % 2 == 1) even[half + pairs] = source[^1];
                    }
                    else
                    {
                        VectorOps<T>.Deinterleave2(source, odd.Slice(half, pairs), even.Slice(half + 1, pairs));
                        if (_length % 2 == 1) odd[half + pairs] = source[^1];
                    }
                }
                else
                {
                    for (int i = 0; i < _length; i++)
                    {
                        int x = i + _padBegin;
                        target[x % _stride * PhaseLength + x / _stride] = source[i];
                    }
                }
            }
            return prepared;
        }
    }

    /// <summary>The divisor of every output column of one output row, recomputed only when the row's factor changes.</summary>
    private struct DivisorRow
    {
        private readonly T[] _divisors;
        private readonly int _length;
        private long _rowFactor;

        public DivisorRow(T[] divisors, int length)
        {
            _divisors = divisors;
            _length = length;
            _rowFactor = -1;
        }

        public ReadOnlySpan<T> For(in PoolPlan plan, int od, int oh)
        {
            long rowFactor = plan.Descriptor.DivisorOverride != 0 ? 0 : plan.RowDivisorFactor(od, oh);
            Span<T> divisors = _divisors.AsSpan(0, _length);
            if (rowFactor != _rowFactor)
            {
                for (int ow = 0; ow < divisors.Length; ow++)
                    divisors[ow] = T.CreateTruncating(plan.Divisor(rowFactor, ow));
                _rowFactor = rowFactor;
            }
            return divisors;
        }
    }
}
