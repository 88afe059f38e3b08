using System;
using System.Buffers;
using System.Numerics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine for channels-first (NC[D]HW) data: any rank, window, stride, dilation, padding and ceil mode,
/// vectorized along the output width.
/// </summary>
/// <remarks>
/// <para>Every input row is prepared once: copied between padding cells (the identity of the reduction: -inf for max,
/// +0 for sums) and, for stride s &gt; 1, split into s phases so that the taps of neighbouring outputs become
/// contiguous (phase r holds cells r, r + s, r + 2s, ...). Tap t of output j is then phase
/// <c>(t * d) % s</c> at <c>j + (t * d) / s</c>, and every tap is one lane-wise pass over a contiguous span: no
/// bounds checks, no shuffles per tap, the same code for every border.</para>
/// <para>Max is separable: each input row is reduced horizontally once and cached in a ring, and output rows take the
/// maximum of the cached rows their window covers, so rows shared by neighbouring windows are not recomputed.
/// Average keeps PyTorch's summation order (row-major over the window, starting from +0), which is not separable;
/// the ring caches the prepared rows instead and every tap is added in order. Adding a +0 padding cell to a sum that
/// started at +0 never changes it, so the result is bit-identical to skipping padding.</para>
/// </remarks>
internal static class ChannelsFirstPooling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools <paramref name="planeCount"/> consecutive (n, c) planes.</summary>
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        if (planeCount == 0) return;
        var scratch = new RowScratch(plan);
        try
        {
            int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
            for (int p = 0; p < planeCount; p++)
            {
                long plane = firstPlane + p;
                scratch.Forget();
                RunPlane(plan, input.Slice(checked((int)(plane * inPlane)), inPlane), output.Slice(checked((int)(plane * outPlane)), outPlane), ref scratch);
            }
        }
        finally
        {
            scratch.Return();
        }
    }

    private static void RunPlane(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, ref RowScratch scratch)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int outWidth = width.Output;
        for (int od = 0; od < depth.Output; od++)
        {
            var (dFirst, dEnd) = depth.InsideTaps(od);
            long dStart = depth.WindowStart(od);
            for (int oh = 0; oh < height.Output; oh++)
            {
                var (hFirst, hEnd) = height.InsideTaps(oh);
                long hStart = height.WindowStart(oh);
                Span<T> outRow = output.Slice((od * height.Output + oh) * outWidth, outWidth);
                if (plan.IsMax)
                {
                    bool any = false;
                    for (int kd = dFirst; kd < dEnd; kd++)
                    {
                        for (int kh = hFirst; kh < hEnd; kh++)
                        {
                            int row = (int)((dStart + (long)kd * depth.Dilation) * height.Length + hStart + (long)kh * height.Dilation);
                            ReadOnlySpan<T> rowMax = scratch.RowMaximum(plan, input, row, kd, kh);
                            if (any) VectorOps<T>.Accumulate<MaxOp<T>>(outRow, rowMax);
                            else rowMax.CopyTo(outRow);
                            any = true;
                        }
                    }
                    if (!any) outRow.Fill(T.NegativeInfinity); // a window made only of padding (ONNX limits only)
                }
                else
                {
                    outRow.Clear();
                    for (int kd = dFirst; kd < dEnd; kd++)
                    {
                        for (int kh = hFirst; kh < hEnd; kh++)
                        {
                            int row = (int)((dStart + (long)kd * depth.Dilation) * height.Length + hStart + (long)kh * height.Dilation);
                            ReadOnlySpan<T> phases = scratch.PreparedRow(plan, input, row, kd, kh);
                            for (int kw = 0; kw < width.Kernel; kw++)
                                VectorOps<T>.Accumulate<AddOp<T>>(outRow, scratch.Tap(phases, kw, width));
                        }
                    }
                    VectorOps<T>.Accumulate<DivideOp<T>>(outRow, scratch.Divisors(plan, od, oh));
                }
            }
        }
    }

    /// <summary>
    /// Per-worker buffers: one padded row, its phases, the ring of cached rows and the divisor row. Rented from the
    /// shared pool so that steady-state calls allocate nothing.
    /// </summary>
    private struct RowScratch
    {
        private readonly T[] _padded;      // one input row between its padding cells
        private readonly T[] _phases;      // _padded split into stride phases
        private readonly T[] _ring;        // cached rows: maxima (max) or prepared phases (average)
        private readonly long[] _ringTags; // which input row each ring slot holds, -1 for none
        private readonly T[] _divisors;    // the divisor of every output column of the current row
        private readonly int _paddedLength, _phaseLength, _slotLength, _ringDepth, _ringHeight;
        private readonly bool _reuseRows;
        private long _divisorRowFactor;

        public RowScratch(in PoolPlan plan)
        {
            var width = plan.Width;
            _phaseLength = (width.PaddedLength + width.Stride - 1) / width.Stride;
            _paddedLength = _phaseLength * width.Stride;
            _slotLength = plan.IsMax ? width.Output : _paddedLength;

            // A slot per row of the window's span, indexed by (row mod span), so the rows one window covers never
            // collide and rows shared with the next window stay cached. Very wide dilated windows would need too
            // many slots; they fall back to one slot per tap, refilled for every output row.
            long spanRows = (long)plan.Depth.EffectiveKernel * plan.Height.EffectiveKernel;
            _reuseRows = spanRows * _slotLength <= (1 << 22);
            (_ringDepth, _ringHeight) = _reuseRows
                ? (plan.Depth.EffectiveKernel, plan.Height.EffectiveKernel)
                : (plan.Depth.Kernel, plan.Height.Kernel);
            int slots = _ringDepth * _ringHeight;

            _padded = ArrayPool<T>.Shared.Rent(_paddedLength);
            _phases = ArrayPool<T>.Shared.Rent(_paddedLength);
            _ring = ArrayPool<T>.Shared.Rent(slots * _slotLength);
            _ringTags = ArrayPool<long>.Shared.Rent(slots);
            _divisors = ArrayPool<T>.Shared.Rent(plan.IsMax ? 0 : width.Output);
            _divisorRowFactor = -1;
            Forget();
        }

        /// <summary>Drops every cached row (a new plane starts).</summary>
        public readonly void Forget() => _ringTags.AsSpan(0, _ringDepth * _ringHeight).Fill(-1);

        public readonly void Return()
        {
            ArrayPool<T>.Shared.Return(_padded);
            ArrayPool<T>.Shared.Return(_phases);
            ArrayPool<T>.Shared.Return(_ring);
            ArrayPool<long>.Shared.Return(_ringTags);
            ArrayPool<T>.Shared.Return(_divisors);
        }

        /// <summary>The horizontal maxima of input row <paramref name="row"/>: one value per output column.</summary>
        public readonly ReadOnlySpan<T> RowMaximum(in PoolPlan plan, ReadOnlySpan<T> plane, int row, int kd, int kh)
        {
            Span<T> slot = Slot(plan, row, kd, kh, out bool cached);
            if (cached) return slot;

            ReadOnlySpan<T> phases = Prepare(plan, plane, row, T.NegativeInfinity, _phases);
            var width = plan.Width;
            Tap(phases, 0, width).CopyTo(slot);
            for (int kw = 1; kw < width.Kernel; kw++)
                VectorOps<T>.Accumulate<MaxOp<T>>(slot, Tap(phases, kw, width));
            return slot;
        }

        /// <summary>Input row <paramref name="row"/> between +0 padding cells, split into stride phases.</summary>
        public readonly ReadOnlySpan<T> PreparedRow(in PoolPlan plan, ReadOnlySpan<T> plane, int row, int kd, int kh)
        {
            Span<T> slot = Slot(plan, row, kd, kh, out bool cached);
            return cached ? slot : Prepare(plan, plane, row, T.Zero, slot);
        }

        /// <summary>
        /// The cells tap <paramref name="kw"/> reads for output columns 0, 1, ...: tap position <c>kw * d</c> lives in
        /// phase <c>(kw * d) % s</c>, <c>(kw * d) / s</c> cells in.
        /// </summary>
        public readonly ReadOnlySpan<T> Tap(ReadOnlySpan<T> phases, int kw, in AxisPlan width)
        {
            int position = kw * width.Dilation;
            return phases.Slice(position % width.Stride * _phaseLength + position / width.Stride, width.Output);
        }

        /// <summary>The divisor of every output column of row (od, oh), recomputed only when the row's factor changes.</summary>
        public ReadOnlySpan<T> Divisors(in PoolPlan plan, int od, int oh)
        {
            long rowFactor = plan.Descriptor.DivisorOverride != 0 ? 0 : plan.RowDivisorFactor(od, oh);
            Span<T> divisors = _divisors.AsSpan(0, plan.Width.Output);
            if (rowFactor != _divisorRowFactor)
            {
                for (int ow = 0; ow < divisors.Length; ow++)
                    divisors[ow] = T.CreateTruncating(plan.Divisor(rowFactor, ow));
                _divisorRowFactor = rowFactor;
            }
            return divisors;
        }

        private readonly Span<T> Slot(in PoolPlan plan, int row, int kd, int kh, out bool cached)
        {
            int index;
            if (_reuseRows)
            {
                int d = row / plan.Height.Length, h = row % plan.Height.Length;
                index = d % _ringDepth * _ringHeight + h % _ringHeight;
            }
            else
            {
                index = kd * _ringHeight + kh; // refilled every output row: tags never match across rows
            }
            cached = _reuseRows && _ringTags[index] == row;
            _ringTags[index] = row;
            return _ring.AsSpan(index * _slotLength, _slotLength);
        }

        /// <summary>Copies input row <paramref name="row"/> between <paramref name="fill"/> cells and splits it into stride phases in <paramref name="target"/>.</summary>
        private readonly Span<T> Prepare(in PoolPlan plan, ReadOnlySpan<T> plane, int row, T fill, Span<T> target)
        {
            var width = plan.Width;
            int stride = width.Stride;
            Span<T> padded = stride == 1 ? target[.._paddedLength] : _padded.AsSpan(0, _paddedLength);
            padded[..width.PadBegin].Fill(fill);
            plane.Slice(row * width.Length, width.Length).CopyTo(padded[width.PadBegin..]);
            padded[(width.PadBegin + width.Length)..].Fill(fill);

            Span<T> phases = target[..(_phaseLength * stride)];
            if (stride == 2)
            {
                VectorOps<T>.Deinterleave2(padded, phases[.._phaseLength], phases.Slice(_phaseLength, _phaseLength));
            }
            else if (stride > 2)
            {
                for (int r = 0; r < stride; r++)
                {
                    Span<T> phase = phases.Slice(r * _phaseLength, _phaseLength);
                    for (int j = 0; j < phase.Length; j++)
                        phase[j] = padded[j * stride + r];
                }
            }
            return phases;
        }
    }
}
