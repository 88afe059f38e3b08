using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Shared;

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
internal static class ChannelsFirstAnyRank<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pools <paramref name="planeCount"/> consecutive (n, c) planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        if (planeCount == 0) return;
        int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        int rows = plan.Depth.Length * plan.Height.Length;
        using var layout = new PreparedLayout(plan, rows);

        // The prepared plane and the reduced rows start on a cache line (Lanes512.Aligned: a vector more is rented;
        // pinned while used).
        int line = Lanes512<T>.Count;
        T[] prepared = layout.ReadsInputDirectly ? [] : ScratchArrays<T>.Rent(layout.PlaneLength + line);
        T[] reduced = plan.IsMax ? ScratchArrays<T>.Rent(rows * layout.RowStride + line) : [];
        int[] offsets = ScratchArrays<int>.Rent(plan.Depth.Kernel * plan.Height.Kernel * plan.Width.Kernel);
        T[] divisors = plan.IsMax ? [] : ScratchArrays<T>.Rent(2 * plan.Width.Output);
        long[] rowFactors = plan.IsMax ? [] : ScratchArrays<long>.Rent(plan.Depth.Output * plan.Height.Output);
        using var depthWindows = new AxisWindows(plan.Depth);
        using var heightWindows = new AxisWindows(plan.Height);
        try
        {
            fixed (T* preparedRented = prepared, reducedRented = reduced)
            {
                var divisorRow = new DivisorRow(plan, divisors, plan.IsMax ? 0 : plan.Width.Output, rowFactors);
                var preparedPlane = new Span<T>(Lanes512<T>.Aligned(preparedRented), layout.ReadsInputDirectly ? 0 : layout.PlaneLength);
                var reducedRows = new Span<T>(Lanes512<T>.Aligned(reducedRented), plan.IsMax ? rows * layout.RowStride : 0);
                preparedPlane.Fill(plan.IsMax ? T.NegativeInfinity : T.Zero); // padding cells: the same in every plane, never overwritten
                for (int p = 0; p < planeCount; p++)
                {
                    long plane = firstPlane + p;
                    ReadOnlySpan<T> fromPlane = input[checked((int)(plane * inPlane))..];
                    ReadOnlySpan<T> source = fromPlane[..inPlane];
                    Span<T> target = output.Slice(checked((int)(plane * outPlane)), outPlane);
                    ReadOnlySpan<T> rowsReady = layout.ReadsInputDirectly ? source : layout.Prepare(source, fromPlane, preparedPlane);
                    if (plan.IsMax)
                        MaxPlane(plan, layout, depthWindows, heightWindows, rowsReady, reducedRows, offsets, target);
                    else
                        AveragePlane(plan, layout, depthWindows, heightWindows, rowsReady, offsets, ref divisorRow, target);
                }
            }
        }
        finally
        {
            if (prepared.Length > 0) ScratchArrays<T>.Return(prepared);
            if (reduced.Length > 0) ScratchArrays<T>.Return(reduced);
            if (divisors.Length > 0) ScratchArrays<T>.Return(divisors);
            if (rowFactors.Length > 0) ScratchArrays<long>.Return(rowFactors);
            ScratchArrays<int>.Return(offsets);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPlane(in PoolPlan plan, in PreparedLayout layout, in AxisWindows depthWindows, in AxisWindows heightWindows,
        ReadOnlySpan<T> rows, Span<T> reduced, int[] offsets, Span<T> output)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int outWidth = width.Output;

        ReduceRows(layout, rows, reduced);

        // Vertical: each output row is the maximum of the reduced rows its window covers.
        for (int od = 0; od < depth.Output; od++)
        {
            var (dFirst, dEnd) = depthWindows[od];
            for (int oh = 0; oh < height.Output; oh++)
            {
                var (hFirst, hEnd) = heightWindows[oh];
                Span<T> outRow = output.Slice((od * height.Output + oh) * outWidth, outWidth);
                int count = WindowRows(plan, od, dFirst, dEnd, oh, hFirst, hEnd, layout.RowStride, offsets);
                int step = height.Stride * layout.RowStride;
                if (InteriorRowBatch<T>.RunLength(plan, heightWindows, oh, step, outWidth) is int batch and > 0)
                {
                    InteriorRowBatch<T>.Reduce<MaxOp<T>>(reduced, offsets.AsSpan(0, count), step, batch, outWidth, output[(oh * outWidth)..], startFromZero: false);
                    oh += batch - 1;
                }
                else if (count == 0) outRow.Fill(T.NegativeInfinity); // a window made only of padding (ONNX limits only)
                else VectorOps<T>.Reduce<MaxOp<T>>(reduced, offsets.AsSpan(0, count), outRow, startFromZero: false);
            }
        }
    }

    /// <summary>
    /// The horizontal pass of max: <c>reduced[r * RowStride + j]</c> is the maximum of row r's window at output column j,
    /// for the rows some window reads. Each run of <see cref="PreparedLayout.ReducedRuns"/> is one pass: the cells
    /// between one row's outputs and the next row's are computed too and never read, cheaper than a call per row when
    /// rows are short.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReduceRows(in PreparedLayout layout, ReadOnlySpan<T> rows, Span<T> reduced)
    {
        ReadOnlySpan<int> runs = layout.ReducedRuns;
        for (int i = 0; i < runs.Length; i += 2)
            VectorOps<T>.Reduce<MaxOp<T>>(rows[runs[i]..], layout.TapOffsets, reduced.Slice(runs[i], runs[i + 1]), startFromZero: false);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AveragePlane(in PoolPlan plan, in PreparedLayout layout, in AxisWindows depthWindows, in AxisWindows heightWindows,
        ReadOnlySpan<T> rows, int[] offsets, ref DivisorRow divisors, Span<T> output)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int outWidth = width.Output;
        ReadOnlySpan<int> columnTaps = layout.TapOffsets;
        bool uniform = divisors.IsUniform(plan);
        for (int od = 0; od < depth.Output; od++)
        {
            var (dFirst, dEnd) = depthWindows[od];
            for (int oh = 0; oh < height.Output; oh++)
            {
                var (hFirst, hEnd) = heightWindows[oh];
                Span<T> outRow = output.Slice((od * height.Output + oh) * outWidth, outWidth);
                // Row-major taps: each covered row, and in it every column tap in order.
                int rowCount = WindowRows(plan, od, dFirst, dEnd, oh, hFirst, hEnd, layout.RowStride, offsets);
                for (int r = rowCount - 1; r >= 0; r--)
                {
                    int rowStart = offsets[r];
                    for (int kw = columnTaps.Length - 1; kw >= 0; kw--)
                        offsets[r * columnTaps.Length + kw] = rowStart + columnTaps[kw];
                }
                int taps = rowCount * columnTaps.Length;
                int step = height.Stride * layout.RowStride;
                if (InteriorRowBatch<T>.RunLength(plan, heightWindows, oh, step, outWidth) is int batch and > 0)
                {
                    InteriorRowBatch<T>.Reduce<AddOp<T>>(rows, offsets.AsSpan(0, taps), step, batch, outWidth, output[(oh * outWidth)..], startFromZero: true);
                    for (int r = 0; r < batch && !uniform; r++)
                        VectorOps<T>.Accumulate<DivideOp<T>>(output.Slice((oh + r) * outWidth, outWidth), divisors.For(plan, od, oh + r));
                    oh += batch - 1;
                    continue;
                }
                if (taps == 0) outRow.Clear(); // no input cell: the sum is +0
                else VectorOps<T>.Reduce<AddOp<T>>(rows, offsets.AsSpan(0, taps), outRow, startFromZero: true);
                if (!uniform) VectorOps<T>.Accumulate<DivideOp<T>>(outRow, divisors.For(plan, od, oh));
            }
        }
        // Every window has the same divisor (no padding, no ceil-mode overhang, or an override): one pass per plane.
        if (uniform) VectorOps<T>.Accumulate<DivideOp<T>>(output, divisors.For(plan, 0, 0)[0]);
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

    /// <summary>
    /// Where the prepared copy of a plane keeps input cell (row, padded column x): phase <c>x % s</c>, at
    /// <c>phase * PhaseStride + row * RowStride + x / s</c>.
    /// </summary>
    /// <remarks>
    /// Phase-major: every row's phase 0, then every row's phase 1, ... Then row r's cells for output columns
    /// <c>0 .. OW</c> start at <c>r * RowStride</c> in every phase, so one pass over the whole plane can reduce every
    /// row at once without computing anything for the other phases. An unpadded plane of even width with stride 2 is
    /// deinterleaved in one pass (its even and odd cells are its rows' even and odd cells, in order); other strides of 2
    /// or more are split by <see cref="StridedRows{T}"/> (stride 2 row by row with <see cref="VectorOps{T}.Deinterleave2"/>
    /// where it has no permutes). Stride 1 without padding reads the input itself.
    /// </remarks>
    private readonly struct PreparedLayout : IDisposable
    {
        private readonly int _stride, _padBegin, _length;
        private readonly bool _planeDeinterleaves;
        private readonly bool _splitsPhases; // the phases are copied by StridedRows (stride 3 and more, and 2 with AVX-512)
        private readonly ulong _phasesRead; // bit p: some tap reads phase p (only those are prepared when StridedRows splits the phases)
        private readonly int[] _tapOffsets; // rented: a call allocates nothing once the pool is warm
        private readonly bool[] _rowsRead; // rented; empty when every row is read
        private readonly int _rowCount;
        private readonly int[] _reducedRuns; // rented: (first cell, cell count) of each run of rows max reduces; empty for averages
        private readonly int _reducedRunCells;

        /// <summary>
        /// Rows that no window reads are reduced anyway when they cost at most this many vector maxima: about what a
        /// separate pass over the rows after them costs.
        /// </summary>
        private const int SkippedMaximaWorthAPass = 32;

        public PreparedLayout(in PoolPlan plan, int rows)
        {
            var width = plan.Width;
            _stride = width.Stride;
            _padBegin = width.PadBegin;
            _length = width.Length;
            ReadsInputDirectly = width.IsUnpadded && width.Stride == 1;
            _planeDeinterleaves = width.IsUnpadded && width.Stride == 2 && width.Length % 2 == 0;
            // At most about three input rows: windows longer than the input go to ClampedWindows instead.
            PhaseLength = (int)((width.PaddedLength + width.Stride - 1) / width.Stride);
            RowStride = PhaseLength;
            PhaseStride = rows * PhaseLength;
            PlaneLength = rows * PhaseLength * width.Stride;
            _tapOffsets = ScratchArrays<int>.Rent(width.Kernel);
            TapCount = width.Kernel;
            _splitsPhases = width.Stride > 2 || (width.Stride == 2 && StridedRows<T>.Permutes(2));
            _rowsRead = FindRowsRead(plan, rows);
            _rowCount = rows;
            (_reducedRuns, _reducedRunCells) = plan.IsMax ? FindReducedRuns(plan, rows, _rowsRead, RowStride, width.Kernel) : ([], 0);
            for (int kw = 0; kw < width.Kernel; kw++)
            {
                int position = kw * width.Dilation;
                _tapOffsets[kw] = position % width.Stride * PhaseStride + position / width.Stride;
                _phasesRead |= 1UL << (position % width.Stride % 64);
            }
        }

        /// <summary>Cells in one phase of a prepared row.</summary>
        public int PhaseLength { get; }

        /// <summary>Cells from a row to the next within one phase.</summary>
        public int RowStride { get; }

        /// <summary>Cells from one phase of a row to the next phase.</summary>
        public int PhaseStride { get; }

        /// <summary>Cells in a prepared plane.</summary>
        public int PlaneLength { get; }

        public bool ReadsInputDirectly { get; }

        /// <summary>For each input row, whether some window reads it; empty when every row is read.</summary>
        public ReadOnlySpan<bool> RowsRead => _rowsRead.AsSpan(0, _rowsRead.Length == 0 ? 0 : _rowCount);

        /// <summary>Where tap kw of output column 0 of row 0 lies: position kw * d is in phase (kw * d) % s at (kw * d) / s.</summary>
        public ReadOnlySpan<int> TapOffsets => _tapOffsets.AsSpan(0, TapCount);

        private int TapCount { get; }

        public void Dispose()
        {
            ScratchArrays<int>.Return(_tapOffsets);
            if (_rowsRead.Length > 0) ScratchArrays<bool>.Return(_rowsRead);
            if (_reducedRuns.Length > 0) ScratchArrays<int>.Return(_reducedRuns);
        }

        /// <summary>The runs of prepared cells max reduces horizontally: (first cell, cell count) pairs.</summary>
        public ReadOnlySpan<int> ReducedRuns => _reducedRuns.AsSpan(0, _reducedRunCells);

        /// <summary>
        /// The runs of rows some window reads (the whole plane when every row is read), with gaps that cost less than a
        /// pass reduced through; each run from the vector boundary at or before it, so that its stores are aligned.
        /// </summary>
        private static (int[] Runs, int Length) FindReducedRuns(in PoolPlan plan, int rows, bool[] rowsRead, int rowStride, int taps)
        {
            int outWidth = plan.Width.Output;
            int[] runs = ScratchArrays<int>.Rent(rows + 1);
            if (rowsRead.Length == 0)
            {
                runs[0] = 0;
                runs[1] = (rows - 1) * rowStride + outWidth;
                return (runs, 2);
            }
            long gapLimit = SkippedMaximaWorthAPass / Math.Max(1, (long)rowStride * taps / Lanes512<T>.Count); // in rows
            int length = 0;
            for (int first = 0; first < rows;)
            {
                if (!rowsRead[first])
                {
                    first++;
                    continue;
                }
                int end = first + 1;
                while (end < rows)
                {
                    int next = end;
                    while (next < rows && !rowsRead[next]) next++;
                    if (next == rows || next - end > gapLimit) break;
                    end = next + 1;
                }
                int start = first * rowStride / Lanes512<T>.Count * Lanes512<T>.Count;
                runs[length++] = start;
                runs[length++] = (end - 1) * rowStride + outWidth - start;
                first = end;
            }
            return (runs, length);
        }

        /// <summary>
        /// For a 2-d plane whose height windows skip input rows (a kernel shorter than the stride, or dilation), which
        /// rows some window reads: the copies and max's horizontal pass take only those. Empty when every row is read.
        /// </summary>
        private static bool[] FindRowsRead(in PoolPlan plan, int rows)
        {
            AxisPlan height = plan.Height;
            if (!plan.IsPlanar || !height.SkipsPositions) return [];
            bool[] read = ScratchArrays<bool>.Rent(rows);
            height.MarkRead(read.AsSpan(0, rows));
            return read;
        }

        /// <summary>
        /// Copies every row of <paramref name="plane"/> into its place in <paramref name="prepared"/>, split into phases.
        /// <paramref name="fromPlane"/> is the input from the plane's start to its end: reads past the plane, never used,
        /// let the strided split take whole vectors up to the plane's last row.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public ReadOnlySpan<T> Prepare(ReadOnlySpan<T> plane, ReadOnlySpan<T> fromPlane, Span<T> prepared)
        {
            if (_planeDeinterleaves)
            {
                // Even width, no padding: the plane's even and odd cells are its rows' even and odd cells, in order.
                int half = plane.Length / 2;
                VectorOps<T>.Deinterleave2(plane, prepared[..half], prepared.Slice(half, half));
                return prepared;
            }
            if (_splitsPhases)
            {
                StridedRows<T>.SplitPhases(fromPlane, plane.Length / _length, prepared, _length, _stride, _padBegin, PhaseStride, RowStride, _phasesRead, RowsRead);
                return prepared;
            }
            int rows = plane.Length / _length;
            ReadOnlySpan<bool> rowsRead = RowsRead;
            for (int row = 0; row < rows; row++)
            {
                if (!rowsRead.IsEmpty && !rowsRead[row]) continue;
                ReadOnlySpan<T> source = plane.Slice(row * _length, _length);
                if (_stride == 1)
                {
                    source.CopyTo(prepared.Slice(row * RowStride + _padBegin));
                }
                else if (_stride == 2)
                {
                    // Padded cell x = input cell x - padBegin lives in phase x % 2 at x / 2. With an even begin
                    // padding the input's even cells land in phase 0, with an odd one in phase 1.
                    Span<T> even = prepared.Slice(row * RowStride, PhaseLength), odd = prepared.Slice(PhaseStride + row * RowStride, PhaseLength);
                    int half = _padBegin / 2, pairs = _length / 2;
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
            }
            return prepared;
        }
    }

    /// <summary>The divisor of every output column of one output row, recomputed only when the row's factor changes.</summary>
    private struct DivisorRow
    {
        private readonly T[] _buffer; // the divisors of the current row, then each column's own factor
        private readonly long[] _rowFactors; // each output row's depth and height factor, worked out once per call
        private readonly int _length;
        private long _rowFactor;

        public DivisorRow(in PoolPlan plan, T[] buffer, int length, long[] rowFactors)
        {
            _buffer = buffer;
            _rowFactors = rowFactors;
            _length = length;
            _rowFactor = -1;
            Span<T> columnFactors = buffer.AsSpan(length, length);
            for (int ow = 0; ow < length; ow++)
                columnFactors[ow] = T.CreateTruncating(plan.Width.DivisorFactor(ow, plan.Descriptor.CountIncludePad));
            if (length == 0) return;
            for (int od = 0; od < plan.Depth.Output; od++)
                for (int oh = 0; oh < plan.Height.Output; oh++)
                    rowFactors[od * plan.Height.Output + oh] = plan.RowDivisorFactor(od, oh);
        }

        /// <summary>Whether every window of the plane has the same divisor: an override, or no window touching padding or the overhang.</summary>
        public readonly bool IsUniform(in PoolPlan plan)
        {
            bool anyWindowLeavesInput = false;
            for (int axis = 0; axis < 3; axis++)
            {
                var a = axis == 0 ? plan.Depth : axis == 1 ? plan.Height : plan.Width;
                anyWindowLeavesInput |= a.PadBegin != 0 || a.PaddedLength != a.Length;
            }
            return PoolDivisorRule.IsConstant(plan.Descriptor.DivisorOverride, anyWindowLeavesInput);
        }

        public ReadOnlySpan<T> For(in PoolPlan plan, int od, int oh)
        {
            Span<T> divisors = _buffer.AsSpan(0, _length);
            if (plan.Descriptor.DivisorOverride != 0)
            {
                if (_rowFactor != 0) divisors.Fill(T.CreateTruncating(plan.Descriptor.DivisorOverride));
                _rowFactor = 0;
                return divisors;
            }
            long rowFactor = _rowFactors[od * plan.Height.Output + oh];
            if (rowFactor != _rowFactor)
            {
                // Factors are small integers, so their product in T is exact: the same value as PoolPlan.Divisor.
                T row = T.CreateTruncating(rowFactor);
                ReadOnlySpan<T> columnFactors = _buffer.AsSpan(_length, _length);
                for (int ow = 0; ow < divisors.Length; ow++)
                {
                    T divisor = row * columnFactors[ow];
                    divisors[ow] = divisor == T.Zero ? T.One : divisor; // a window with no input cell: 0 / 1 = 0
                }
                _rowFactor = rowFactor;
            }
            return divisors;
        }
    }
}
