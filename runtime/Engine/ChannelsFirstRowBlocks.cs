using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's fast path for channels-first 2-d (or 1-d) pooling on AVX-512 with no horizontal dilation:
/// every horizontal stride of 2 (VGG's and DenseNet's 2x2, ResNet's 3x3 stride 2, ...), average with a horizontal
/// stride of 1, and max with a horizontal stride of 1 up to 5 wide. It is the generated kernels' structure with run-time parameters: the window's input rows
/// are read in place, each block of 16 (float) or 8 (double) outputs reduces its taps in registers, and only blocks
/// that reach past a row's ends load masked, with the identity outside.
/// </summary>
/// <remarks>
/// <para>Compared with preparing a padded, phase-split copy of the plane (<see cref="ChannelsFirstPooling{T}"/>), there
/// is no extra pass over the data and no per-row call: on rows of a few dozen outputs those dominated (VGG16 pool1
/// went from 1,344 to 545 us, DenseNet's transition from 129 to 84 us, stopwatch).</para>
/// <para>Max slides phase blocks along the row (<see cref="MaxRowSliding"/>, and <see cref="MaxRowSlidingStride1"/>
/// for stride 1): each input vector is reduced over the window's rows once and the taps are permutes of those
/// registers, so max stays separable. That took resnet50.stem's general run from about 273 to 151 us (stopwatch
/// minimum). A tap-by-tap stride-1 version tried earlier was much slower than the prepared path (SPPF 5x5: 421 against
/// 161 us); the sliding one is faster up to 5 wide, and wider stride-1 windows stay on the prepared path.</para>
/// <para>Rows of at most two vectors (late layers' 7- to 28-wide maps) take <see cref="NarrowRows"/>: two loads per
/// input row with masks made once per call. Together with a NaN scan of small planes these took the general runs of
/// googlenet.pool from 102 to 86 us, yolov8.sppf from 135 to 109 and vgg16.pool4 from 98 to 93 (stopwatch minimums,
/// one process).</para>
/// <para>The sliding paths take vmaxps alone (<see cref="UncheckedMax512"/>) and sum every cell they load; a plane
/// whose sum is NaN is pooled again with the two-instruction NaN-propagating maximum (see <see cref="MaxPlane"/>).
/// The tap-by-tap path scans planes of up to 16 KB for NaN first.</para>
/// <para>Each output row's window rows and divisors are tabled once per call (<see cref="OutputRows"/>), not recomputed
/// for every row of every plane: densenet.transition's general run went from 84-92 to 68 us, googlenet's from 86 to
/// 76.</para>
/// <para>Average with a horizontal stride of 1 (Inception's 3x3) adds unaligned loads tap by tap, with the tap masks
/// of the blocks at the rows' ends made once per call (inception.pool's general run: 530 us on the prepared-plane
/// path, about 210 us here).</para>
/// <para>Average keeps block-by-block sums with the taps in row-major window order; padding contributes the identity,
/// so sums round exactly as in the other paths, and the result is bit-identical to them (the cross-ISA fingerprints
/// in CI compare this path with the others).</para>
/// </remarks>
internal static class ChannelsFirstRowBlocks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && plan.IsPlanar && plan.Width.Dilation == 1 &&
        (plan.Width.Stride == 2 || (plan.Width.Stride == 1 && (!plan.IsMax || plan.Width.Kernel <= MaxStride1Taps)));

    /// <summary>
    /// Stride-1 max takes this path up to windows this wide. Measured against the prepared-plane path (stopwatch
    /// minimums, one process): 3 wide 131 -> 112 us (googlenet) and 378 -> 354 us (112-wide rows), 5 wide 153 -> 148
    /// and 1025 -> 1016 us, but 7 wide 204 -> 238 us, where the prepared path's one horizontal pass wins.
    /// </summary>
    private const int MaxStride1Taps = 5;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        AxisPlan width = plan.Width;
        int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        using var outputRows = new OutputRows(plan);
        var columns = new Columns(width);
        bool sliding = plan.IsMax && TapPermutes.Fits(width.Kernel, width.PadBegin, width.Stride);
        // On the stack: a sliding window reaches at most a vector to each side, so it has at most 4 * Lanes + 2 taps.
        int tapCount = sliding ? width.Kernel : 0;
        int* tapShifts = stackalloc int[Math.Max(1, tapCount)];
        Vector512<T>* tapIndices = stackalloc Vector512<T>[Math.Max(1, tapCount)];
        var taps = new TapPermutes(tapCount, width.PadBegin, width.Stride, tapShifts, tapIndices);
        Vector512<T>[] edgeMasks = !plan.IsMax && width.Stride == 1 ? EdgeTapMasks(columns) : [];
        try
        {
            fixed (Vector512<T>* masks = edgeMasks)
            fixed (T* source = input, target = output, divisors = outputRows.Divisors)
            fixed (int* offsets = outputRows.Offsets, counts = outputRows.Counts, divisorRow = outputRows.DivisorRow)
            {
                var rows = new RowTable(offsets, counts, divisorRow, divisors, outputRows.Kernel);
                bool scanForNaN = (long)inPlane * Unsafe.SizeOf<T>() <= NaNScanBytes;
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                    if (!plan.IsMax)
                        AveragePlane(plan, rows, plane, outputPlane, columns, masks);
                    else if (sliding)
                    {
                        // vmaxps alone, summing the cells it reads; if the sum is NaN, again with the propagating maximum.
                        if (!MaxPlane<UncheckedMax512>(plan, rows, plane, outputPlane, columns, sliding, taps))
                            MaxPlane<PropagatingMax512>(plan, rows, plane, outputPlane, columns, sliding, taps);
                    }
                    else if (scanForNaN && !Lanes512<T>.ContainsNaN(plane, inPlane))
                        MaxPlane<UncheckedMax512>(plan, rows, plane, outputPlane, columns, sliding, taps);
                    else
                        MaxPlane<PropagatingMax512>(plan, rows, plane, outputPlane, columns, sliding, taps);
                }
            }
        }
        finally
        {
            if (edgeMasks.Length > 0) ScratchArrays<Vector512<T>>.Return(edgeMasks);
        }
    }

    /// <summary>
    /// On the tap-by-tap path (<see cref="MaxRow"/>), planes up to this size are scanned for NaN first, so that a plane without one can take vmaxps alone
    /// (<see cref="UncheckedMax512"/>); the scan leaves such a plane in L1 for the pooling. Larger planes would be read
    /// from L2 twice, which costs more than the two-instruction NaN-propagating maximum saves (resnet50.stem's 49 KB
    /// planes: 151 us without the scan, 171 us with it).
    /// </summary>
    private const int NaNScanBytes = 16 * 1024;

    /// <summary>
    /// What every plane's output rows share, computed once per call: each output row's window rows inside the input
    /// (offsets of their first cells, in window order; rows in the padding add nothing) and, for average, its divisors,
    /// one row of them per distinct depth-and-height factor (top edge, interior, bottom edge, ...). Computed per row
    /// of every plane, the divisor factors' integer divisions alone cost as much as Inception's sums.
    /// </summary>
    private readonly struct OutputRows : IDisposable
    {
        public OutputRows(in PoolPlan plan)
        {
            AxisPlan height = plan.Height;
            int outHeight = height.Output, kernel = height.Kernel, length = plan.Width.Length;
            Offsets = ScratchArrays<int>.Rent(Math.Max(1, outHeight * kernel));
            Counts = ScratchArrays<int>.Rent(Math.Max(1, outHeight));
            using var windows = new AxisWindows(height);
            for (int oh = 0; oh < outHeight; oh++)
            {
                var (first, end) = windows[oh];
                int count = 0;
                for (int kh = first; kh < end; kh++)
                    Offsets[oh * kernel + count++] = (int)(height.WindowStart(oh) + (long)kh * height.Dilation) * length;
                Counts[oh] = count;
            }
            Kernel = kernel;
            if (plan.IsMax)
            {
                DivisorRow = [];
                Divisors = [];
                return;
            }

            // Average: each distinct row factor gets one row of divisors, padded to whole vectors with 1.
            int outWidth = plan.Width.Output, pitch = outWidth + Lanes;
            DivisorRow = ScratchArrays<int>.Rent(Math.Max(1, outHeight));
            long[] factors = ScratchArrays<long>.Rent(Math.Max(1, outHeight));
            int distinct = 0;
            for (int oh = 0; oh < outHeight; oh++)
            {
                long factor = plan.Descriptor.DivisorOverride != 0 ? 0 : plan.RowDivisorFactor(0, oh);
                int slot = Array.IndexOf(factors, factor, 0, distinct);
                if (slot < 0) factors[slot = distinct++] = factor;
                DivisorRow[oh] = slot * pitch;
            }
            Divisors = ScratchArrays<T>.Rent(distinct * pitch);
            for (int slot = 0; slot < distinct; slot++)
            {
                Span<T> row = Divisors.AsSpan(slot * pitch, pitch);
                for (int ow = 0; ow < outWidth; ow++) row[ow] = T.CreateTruncating(plan.Divisor(factors[slot], ow));
                row[outWidth..].Fill(T.One); // lanes past the row: never stored
            }
            ScratchArrays<long>.Return(factors);
        }

        /// <summary>Rows per window (the row tables' stride).</summary>
        public int Kernel { get; }

        /// <summary>Row oh's window rows, at <c>[oh * Kernel, oh * Kernel + Counts[oh])</c>.</summary>
        public int[] Offsets { get; }
        public int[] Counts { get; }

        /// <summary>Average only: row oh's divisors start at <c>Divisors[DivisorRow[oh]]</c>.</summary>
        public int[] DivisorRow { get; }
        public T[] Divisors { get; }

        public void Dispose()
        {
            ScratchArrays<int>.Return(Offsets);
            ScratchArrays<int>.Return(Counts);
            if (DivisorRow.Length > 0) ScratchArrays<int>.Return(DivisorRow);
            if (Divisors.Length > 0) ScratchArrays<T>.Return(Divisors);
        }
    }

    /// <summary><see cref="OutputRows"/>' tables through pointers (pinned by the caller).</summary>
    private readonly unsafe struct RowTable(int* offsets, int* counts, int* divisorRow, T* divisors, int kernel)
    {
        private readonly int* _offsets = offsets;
        private readonly int* _counts = counts;
        private readonly int* _divisorRow = divisorRow;
        private readonly T* _divisors = divisors;
        private readonly int _kernel = kernel;

        /// <summary>Output row <paramref name="oh"/>'s window rows (offsets into the plane) and how many there are.</summary>
        public int* Rows(int oh, out int count)
        {
            count = _counts[oh];
            return _offsets + oh * _kernel;
        }

        /// <summary>Output row <paramref name="oh"/>'s divisors (average only), padded with 1 to whole vectors.</summary>
        public T* Divisors(int oh) => _divisors + _divisorRow[oh];
    }

    /// <summary>Average pooling of one plane, every output row, in PyTorch's summation order.</summary>
    private static unsafe void AveragePlane(in PoolPlan plan, in RowTable table, T* plane, T* outputPlane, in Columns columns, Vector512<T>* edgeMasks)
    {
        int outWidth = columns.Output;
        for (int oh = 0; oh < plan.Height.Output; oh++)
        {
            int* rows = table.Rows(oh, out int count);
            T* divisorRow = table.Divisors(oh);
            T* outputRow = outputPlane + (long)oh * outWidth;
            if (plan.Width.Stride == 1) SumRowStride1(plane, rows, count, outputRow, divisorRow, columns, edgeMasks);
            else SumRow(plane, rows, count, outputRow, divisorRow, columns);
        }
    }

    /// <summary>
    /// Max pooling of one plane, every output row, with <typeparamref name="TMax"/>'s maximum. On the sliding paths,
    /// when <typeparamref name="TMax"/> needs a NaN check (<see cref="UncheckedMax512"/>), it sums every cell it loads
    /// and returns false if the sum is NaN (its output is then to be redone). The sum costs less than a separate scan
    /// of the plane (which stayed in L1 only for small planes) or the propagating maximum's second instruction:
    /// general runs of resnet50.stem 118 -> 111 us, batch32 1950 -> 1380-1500 us (stopwatch minimums).
    /// </summary>
    private static unsafe bool MaxPlane<TMax>(in PoolPlan plan, in RowTable table, T* plane, T* outputPlane,
        in Columns columns, bool sliding, TapPermutes taps) where TMax : IMax512
    {
        AxisPlan height = plan.Height;
        var cellSum = Vector512<T>.Zero;
        if (sliding && NarrowRows.Fits(columns, plan.Width.Stride))
        {
            var narrow = new NarrowRows(columns);
            for (int oh = 0; oh < height.Output; oh++)
            {
                int* rows = table.Rows(oh, out int count);
                T* outputRow = outputPlane + (long)oh * columns.Output;
                if (plan.Width.Stride == 1) NarrowRowStride1<TMax>(plane, rows, count, outputRow, narrow, columns, taps, ref cellSum);
                else NarrowRowStride2<TMax>(plane, rows, count, outputRow, narrow, columns, taps, ref cellSum);
            }
        }
        else
        {
            for (int oh = 0; oh < height.Output; oh++)
            {
                int* rows = table.Rows(oh, out int count);
                T* outputRow = outputPlane + (long)oh * columns.Output;
                if (sliding && plan.Width.Stride == 1) MaxRowSlidingStride1<TMax>(plane, rows, count, outputRow, columns, taps, ref cellSum);
                else if (sliding && columns.Kernel == 3 && columns.PadBegin == 1) MaxRowSliding<TMax, Taps3Pad1>(plane, rows, count, outputRow, columns, taps, ref cellSum);
                else if (sliding && columns.Kernel == 2 && columns.PadBegin == 0) MaxRowSliding<TMax, Taps2Pad0>(plane, rows, count, outputRow, columns, taps, ref cellSum);
                else if (sliding) MaxRowSliding<TMax, AnyTaps>(plane, rows, count, outputRow, columns, taps, ref cellSum);
                else MaxRow<TMax>(plane, rows, count, outputRow, columns); // the caller scanned the plane
            }
        }
        return !(TMax.NeedsNaNCheck && sliding && Lanes512<T>.HasNaN(cellSum));
    }

    /// <summary>The horizontal geometry of a row: where each block reads and which blocks need masks.</summary>
    private readonly struct Columns
    {
        public Columns(in AxisPlan width)
        {
            Kernel = width.Kernel;
            PadBegin = width.PadBegin;
            Length = width.Length;
            Output = width.Output;
            // A pair of vectors at every even tap offset: 2 * Lanes cells from the last even tap on.
            ReadLength = 2 * Lanes + 2 * ((Kernel - 1) / 2);
        }

        public int Kernel { get; }
        public int PadBegin { get; }
        public int Length { get; }
        public int Output { get; }
        public int ReadLength { get; }

        public bool Inside(int column) => column >= 0 && column + ReadLength <= Length;
    }

    /// <summary>
    /// Rows of at most two vectors (the small feature maps of late layers: 7, 14, 20, 28 wide): each input row is
    /// exactly two loads, the second masked, and the output row one vector (stride 2) or two (stride 1). Their masks
    /// are made once per call; the general sliding path would rebuild them at every load, and on rows this short that
    /// bookkeeping cost more than the maxima (vgg16.pool4's general run: 97 us before this path).
    /// </summary>
    private readonly struct NarrowRows
    {
        public NarrowRows(in Columns columns)
        {
            First = Lanes512<T>.FirstLanes(Math.Min(columns.Length, Lanes));
            Second = Lanes512<T>.FirstLanes(columns.Length - Lanes);
            FirstStore = Lanes512<T>.FirstLanes(Math.Min(columns.Output, Lanes));
            SecondStore = Lanes512<T>.FirstLanes(columns.Output - Lanes);
        }

        /// <summary>Whether a row of <paramref name="columns"/> fits: two input vectors, and the output in one block per input vector (stride 1) or one block (stride 2).</summary>
        public static bool Fits(in Columns columns, int stride) =>
            columns.Length <= 2 * Lanes && columns.Output <= (stride == 1 ? 2 * Lanes : Lanes);

        /// <summary>The lanes of the first and second input vectors inside the row.</summary>
        public Vector512<T> First { get; }
        public Vector512<T> Second { get; }

        /// <summary>The lanes of the first and second output blocks inside the output row.</summary>
        public Vector512<T> FirstStore { get; }
        public Vector512<T> SecondStore { get; }

        public Vector512<T> Fill => Vector512.Create(T.NegativeInfinity);
    }

    /// <summary>The maxima over the window's rows of a narrow row's two input vectors (-inf past the row's end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector512<T> Low, Vector512<T> High) NarrowColumnMaxima<TMax>(T* plane, int* rows, int count, in NarrowRows narrow,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var low = narrow.Fill;
        var high = narrow.Fill;
        var sum = Vector512<T>.Zero;
        for (int r = 0; r < count; r++)
        {
            T* row = plane + rows[r];
            var first = Lanes512<T>.MaskLoad(row, narrow.First, narrow.Fill);
            var second = Lanes512<T>.MaskLoad(row + Lanes, narrow.Second, narrow.Fill);
            low = Lanes512<T>.Max<TMax>(low, first);
            high = Lanes512<T>.Max<TMax>(high, second);
            if (TMax.NeedsNaNCheck) sum += first + second;
        }
        if (TMax.NeedsNaNCheck) cellSum += sum; // one dependent add per block; the rows' adds chain only within it
        return (low, high);
    }

    /// <summary>Stride 2 on a narrow row: the even and odd cells of the column maxima, each tap a permute of one of them with -inf.</summary>
    private static unsafe void NarrowRowStride2<TMax>(T* plane, int* rows, int count, T* output, in NarrowRows narrow, in Columns columns, TapPermutes taps,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var (low, high) = NarrowColumnMaxima<TMax>(plane, rows, count, narrow, ref cellSum);
        Vector512<T> even = Lanes512<T>.Even(low, high), odd = Lanes512<T>.Odd(low, high), fill = narrow.Fill;
        var acc = fill;
        for (int kw = 0; kw < columns.Kernel; kw++)
        {
            var phase = taps.IsOdd(kw) ? odd : even;
            int shift = taps.Shift(kw);
            acc = Lanes512<T>.Max<TMax>(acc, shift == 0 ? phase : shift > 0 ? Permute(phase, taps.Index(kw), fill) : Permute(fill, taps.Index(kw), phase));
        }
        Lanes512<T>.MaskStore(output, narrow.FirstStore, acc + Vector512<T>.Zero); // a zero maximum is +0 (see MaxOp)
    }

    /// <summary>Stride 1 on a narrow row: both output blocks from the two column maxima and -inf on either side.</summary>
    private static unsafe void NarrowRowStride1<TMax>(T* plane, int* rows, int count, T* output, in NarrowRows narrow, in Columns columns, TapPermutes taps,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var (low, high) = NarrowColumnMaxima<TMax>(plane, rows, count, narrow, ref cellSum);
        var fill = narrow.Fill;
        var first = fill;
        var second = fill;
        for (int kw = 0; kw < columns.Kernel; kw++)
        {
            int shift = taps.Shift(kw);
            if (shift == 0)
            {
                first = Lanes512<T>.Max<TMax>(first, low);
                second = Lanes512<T>.Max<TMax>(second, high);
            }
            else
            {
                var index = taps.Index(kw);
                first = Lanes512<T>.Max<TMax>(first, shift > 0 ? Permute(low, index, high) : Permute(fill, index, low));
                second = Lanes512<T>.Max<TMax>(second, shift > 0 ? Permute(high, index, fill) : Permute(low, index, high));
            }
        }
        Lanes512<T>.MaskStore(output, narrow.FirstStore, first + Vector512<T>.Zero); // a zero maximum is +0 (see MaxOp)
        if (columns.Output > Lanes) Lanes512<T>.MaskStore(output + Lanes, narrow.SecondStore, second + Vector512<T>.Zero);
    }

    /// <summary>
    /// Max along one output row, sliding three phase blocks (previous, current, next: the column maxima of the
    /// window's rows over 2 * Lanes cells each, split into even and odd cells) so that every input vector is loaded
    /// and reduced over the rows once. Tap kw of an output block is its even or odd phase shifted by
    /// floor((kw - PadBegin) / 2) lanes, taken from two neighbouring phase blocks with one two-source permute whose
    /// index vector was built once per call (a run-time shift cannot be valign's immediate).
    /// </summary>
    private static unsafe void MaxRowSliding<TMax, TTaps>(T* plane, int* rows, int count, T* output, in Columns columns, TapPermutes taps,
        ref Vector512<T> cellSum) where TMax : IMax512 where TTaps : IStrideTwoTaps
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        int vectors = (columns.Length + Lanes - 1) / Lanes;
        var (evenPrevious, oddPrevious) = (fill, fill);
        var rowSum = Vector512<T>.Zero; // a register: cellSum, by reference, would be a memory round trip per block
        var (evenCurrent, oddCurrent) = Phase<TMax>(plane, rows, count, 0, vectors, columns.Length, fill, ref rowSum);
        for (int ow = 0, block = 0; ow < columns.Output; ow += Lanes, block++)
        {
            var (evenNext, oddNext) = Phase<TMax>(plane, rows, count, 2 * (block + 1), vectors, columns.Length, fill, ref rowSum);
            var acc = fill;
            if (TTaps.IsKnown) acc = TTaps.Window<TMax>(oddPrevious, evenCurrent, oddCurrent, evenNext);
            else for (int kw = 0; kw < columns.Kernel; kw++)
            {
                bool odd = taps.IsOdd(kw);
                int shift = taps.Shift(kw);
                Vector512<T> tap = shift == 0
                    ? (odd ? oddCurrent : evenCurrent)
                    : shift > 0
                        ? Permute(odd ? oddCurrent : evenCurrent, taps.Index(kw), odd ? oddNext : evenNext)
                        : Permute(odd ? oddPrevious : evenPrevious, taps.Index(kw), odd ? oddCurrent : evenCurrent);
                acc = Lanes512<T>.Max<TMax>(acc, tap);
            }
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
            (evenPrevious, oddPrevious, evenCurrent, oddCurrent) = (evenCurrent, oddCurrent, evenNext, oddNext);
        }
        if (TMax.NeedsNaNCheck) cellSum += rowSum;
    }

    /// <summary>
    /// The taps of the commonest stride-2 windows as types, so that <see cref="MaxRowSliding"/> makes them with
    /// valign (an immediate shift) in straight-line code, as the generated kernels do, instead of a loop over
    /// permutes with index vectors (general runs, stopwatch minimums: resnet50.stem 111 -> 79 us, vgg16.pool1 370 -> 300);
    /// other windows loop.
    /// </summary>
    private interface IStrideTwoTaps
    {
        static abstract bool IsKnown { get; }

        /// <summary>An output block's maximum over its window's columns, from the phase blocks around it.</summary>
        static abstract Vector512<T> Window<TMax>(Vector512<T> oddPrevious, Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext)
            where TMax : IMax512;
    }

    /// <summary>3 wide, padded by 1 (ResNet's stem): cells 2ow - 1, 2ow, 2ow + 1, the odd cell before and the pair.</summary>
    private readonly struct Taps3Pad1 : IStrideTwoTaps
    {
        public static bool IsKnown => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> Window<TMax>(Vector512<T> oddPrevious, Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext)
            where TMax : IMax512 =>
            Lanes512<T>.Max<TMax>(Lanes512<T>.Shifted(oddCurrent, oddPrevious, Lanes - 1), Lanes512<T>.Max<TMax>(evenCurrent, oddCurrent));
    }

    /// <summary>2 wide, unpadded (VGG's): cells 2ow and 2ow + 1.</summary>
    private readonly struct Taps2Pad0 : IStrideTwoTaps
    {
        public static bool IsKnown => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> Window<TMax>(Vector512<T> oddPrevious, Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext)
            where TMax : IMax512 => Lanes512<T>.Max<TMax>(evenCurrent, oddCurrent);
    }

    /// <summary>Any other window: the taps from the per-call table, in a loop.</summary>
    private readonly struct AnyTaps : IStrideTwoTaps
    {
        public static bool IsKnown => false;

        public static Vector512<T> Window<TMax>(Vector512<T> oddPrevious, Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext)
            where TMax : IMax512 => throw new InvalidOperationException("AnyTaps has no fixed window.");
    }

    /// <summary>
    /// <see cref="MaxRowSliding"/> for a horizontal stride of 1: the blocks are the column maxima of one input vector
    /// each, so the maximum is separable here too (each cell reduced over the window's rows once, then across the
    /// window's columns by permutes), unlike a tap-by-tap reduction of every window cell.
    /// </summary>
    private static unsafe void MaxRowSlidingStride1<TMax>(T* plane, int* rows, int count, T* output, in Columns columns, TapPermutes taps,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        int vectors = (columns.Length + Lanes - 1) / Lanes;
        var previous = fill;
        var rowSum = Vector512<T>.Zero; // a register: cellSum, by reference, would be a memory round trip per block
        var current = ColumnMaxima<TMax>(plane, rows, count, 0, vectors, columns.Length, fill, ref rowSum);
        for (int ow = 0, block = 0; ow < columns.Output; ow += Lanes, block++)
        {
            var next = ColumnMaxima<TMax>(plane, rows, count, block + 1, vectors, columns.Length, fill, ref rowSum);
            var acc = fill;
            for (int kw = 0; kw < columns.Kernel; kw++)
            {
                int shift = taps.Shift(kw);
                acc = Lanes512<T>.Max<TMax>(acc, shift == 0 ? current
                    : shift > 0 ? Permute(current, taps.Index(kw), next)
                    : Permute(previous, taps.Index(kw), current));
            }
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
            (previous, current) = (current, next);
        }
        if (TMax.NeedsNaNCheck) cellSum += rowSum;
    }

    /// <summary>
    /// Input vector <paramref name="index"/>'s maximum over the window's rows: -inf past the row's end. Adds the cells
    /// to <paramref name="cellSum"/> if <typeparamref name="TMax"/> needs a NaN check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<T> ColumnMaxima<TMax>(T* plane, int* rows, int count, int index, int vectors, int length, Vector512<T> fill,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var maxima = fill;
        var sum = Vector512<T>.Zero;
        if (index < vectors - 1 && count > 0)
        {
            maxima = Vector512.Load(plane + rows[0] + index * Lanes); // as it is: a maximum with -inf would cost an instruction
            if (TMax.NeedsNaNCheck) sum = maxima;
            for (int r = 1; r < count; r++)
            {
                var cells = Vector512.Load(plane + rows[r] + index * Lanes);
                maxima = Lanes512<T>.Max<TMax>(maxima, cells);
                if (TMax.NeedsNaNCheck) sum += cells;
            }
        }
        else if (index == vectors - 1)
        {
            for (int r = 0; r < count; r++)
            {
                var cells = Load(plane + rows[r], index * Lanes, inside: false, length, fill);
                maxima = Lanes512<T>.Max<TMax>(maxima, cells);
                if (TMax.NeedsNaNCheck) sum += cells;
            }
        }
        if (TMax.NeedsNaNCheck) cellSum += sum; // one dependent add per block; the rows' adds chain only within it
        return maxima;
    }

    /// <summary>
    /// The even and odd cells of input vectors <paramref name="first"/> and the next, each the maximum over the
    /// window's rows. Adds the cells to <paramref name="cellSum"/> if <typeparamref name="TMax"/> needs a NaN check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector512<T> Even, Vector512<T> Odd) Phase<TMax>(T* plane, int* rows, int count, int first, int vectors, int length, Vector512<T> fill,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var low = fill;
        var high = fill;
        var sum = Vector512<T>.Zero;
        if (first + 1 < vectors - 1 && count > 0)
        {
            // Both vectors whole and inside the row (the last vector may be partial): plain loads, the first row's
            // cells taken as they are (a maximum with -inf would be one more instruction per vector). Every cell here
            // is an input cell, so the NaN check takes each row's two vectors as one product on the FMA pipes (NaN if
            // either is; inf * 0 and overflow only send the plane to the exact path), not two additions on the pipes
            // the maxima use: resnet50.stem's general run 83.1-84.8 to 80.6-83.0 us (stopwatch, best call, three processes).
            low = Vector512.Load(plane + rows[0] + first * Lanes);
            high = Vector512.Load(plane + rows[0] + first * Lanes + Lanes);
            if (TMax.NeedsNaNCheck) sum = Lanes512<T>.AddProduct(low, high, sum);
            for (int r = 1; r < count; r++)
            {
                T* at = plane + rows[r] + first * Lanes;
                var lowCells = Vector512.Load(at);
                var highCells = Vector512.Load(at + Lanes);
                low = Lanes512<T>.Max<TMax>(low, lowCells);
                high = Lanes512<T>.Max<TMax>(high, highCells);
                if (TMax.NeedsNaNCheck) sum = Lanes512<T>.AddProduct(lowCells, highCells, sum);
            }
        }
        else if (first < vectors)
        {
            for (int r = 0; r < count; r++)
            {
                T* row = plane + rows[r];
                var lowCells = Load(row, first * Lanes, inside: false, length, fill);
                low = Lanes512<T>.Max<TMax>(low, lowCells);
                if (TMax.NeedsNaNCheck) sum += lowCells;
                if (first + 1 < vectors)
                {
                    var highCells = Load(row, (first + 1) * Lanes, inside: false, length, fill);
                    high = Lanes512<T>.Max<TMax>(high, highCells);
                    if (TMax.NeedsNaNCheck) sum += highCells;
                }
            }
        }
        if (TMax.NeedsNaNCheck) cellSum += sum; // one dependent add per block; the rows' adds chain only within it
        return (Lanes512<T>.Even(low, high), Lanes512<T>.Odd(low, high));
    }

    /// <summary>
    /// Per tap of the window's width: its phase, its shift in lanes, and the permute index that applies the shift.
    /// Passed by value with its tables behind pointers, so that the tap loops keep it in registers (through a
    /// reference to rented arrays, every tap reloaded and null-checked them).
    /// </summary>
    private readonly unsafe struct TapPermutes
    {
        private readonly int _padBegin;
        private readonly int* _shifts;
        private readonly Vector512<T>* _indices;

        public TapPermutes(int kernel, int padBegin, int stride, int* shifts, Vector512<T>* indices)
        {
            _padBegin = padBegin;
            _shifts = shifts;
            _indices = indices;
            for (int kw = 0; kw < kernel; kw++)
            {
                int shift = ShiftOf(kw, padBegin, stride);
                _shifts[kw] = shift;
                // Lane i takes element i + shift of a 2 * Lanes concatenation: current:next for a positive shift,
                // previous:current (counted from previous's lane Lanes + shift) for a negative one.
                int start = shift > 0 ? shift : Lanes + shift;
                _indices[kw] = typeof(T) == typeof(float)
                    ? (Vector512<int>.Indices + Vector512.Create(start)).As<int, T>()
                    : (Vector512<long>.Indices + Vector512.Create((long)start)).As<long, T>();
            }
        }

        /// <summary>
        /// Stride 2: cell 2 * ow + kw - padBegin is lane ow + floor((kw - padBegin) / 2) of the even or odd phase.
        /// Stride 1: cell ow + kw - padBegin is lane ow + kw - padBegin of the row's column maxima.
        /// </summary>
        private static int ShiftOf(int kw, int padBegin, int stride)
        {
            int d = kw - padBegin;
            return stride == 1 ? d : d >= 0 ? d / 2 : -((1 - d) / 2);
        }

        /// <summary>Whether every tap's shift reaches only the neighbouring phase blocks.</summary>
        public static bool Fits(int kernel, int padBegin, int stride) =>
            ShiftOf(0, padBegin, stride) >= -Lanes && ShiftOf(kernel - 1, padBegin, stride) <= Lanes;

        public bool IsOdd(int kw) => ((kw - _padBegin) & 1) != 0;

        public int Shift(int kw) => _shifts[kw]; // kw < kernel, checked by the caller's loop

        public Vector512<T> Index(int kw) => _indices[kw];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Permute(Vector512<T> low, Vector512<T> index, Vector512<T> high) => typeof(T) == typeof(float)
        ? Avx512F.PermuteVar16x32x2(low.As<T, float>(), index.As<T, int>(), high.As<T, float>()).As<float, T>()
        : Avx512F.PermuteVar8x64x2(low.As<T, double>(), index.As<T, long>(), high.As<T, double>()).As<double, T>();

    private static unsafe void MaxRow<TMax>(T* plane, int* rows, int count, T* output, in Columns columns)
        where TMax : IMax512
    {
        var identity = Vector512.Create(T.NegativeInfinity);
        for (int ow = 0; ow < columns.Output; ow += Lanes)
        {
            int column = 2 * ow - columns.PadBegin;
            bool inside = columns.Inside(column);
            var acc = identity;
            for (int r = 0; r < count; r++)
            {
                T* row = plane + rows[r];
                // Taps 2q and 2q + 1 are the even and odd cells of the 2 * Lanes cells from column + 2q.
                for (int kw = 0; kw < columns.Kernel; kw += 2)
                {
                    var low = Load(row, column + kw, inside, columns.Length, identity);
                    var high = Load(row, column + kw + Lanes, inside, columns.Length, identity);
                    acc = Lanes512<T>.Max<TMax>(acc, Lanes512<T>.Even(low, high));
                    if (kw + 1 < columns.Kernel) acc = Lanes512<T>.Max<TMax>(acc, Lanes512<T>.Odd(low, high));
                }
            }
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
        }
    }

    private static unsafe void SumRow(T* plane, int* rows, int count, T* output, T* divisors, in Columns columns)
    {
        var zero = Vector512<T>.Zero;
        for (int ow = 0; ow < columns.Output; ow += Lanes)
        {
            int column = 2 * ow - columns.PadBegin;
            bool inside = columns.Inside(column);
            var sum = zero; // PyTorch's order: from +0, row by row, tap by tap
            for (int r = 0; r < count; r++)
            {
                T* row = plane + rows[r];
                for (int kw = 0; kw < columns.Kernel; kw += 2)
                {
                    var low = Load(row, column + kw, inside, columns.Length, zero);
                    var high = Load(row, column + kw + Lanes, inside, columns.Length, zero);
                    sum += Lanes512<T>.Even(low, high);
                    if (kw + 1 < columns.Kernel) sum += Lanes512<T>.Odd(low, high);
                }
            }
            Store(output, ow, sum / Vector512.Load(divisors + ow), columns.Output);
        }
    }

    /// <summary>
    /// Average along one output row with a horizontal stride of 1 (Inception's 3x3): tap kw of output block ow is the
    /// vector at column ow + kw - PadBegin, loaded unaligned, added row by row and tap by tap from +0 as PyTorch
    /// does. Before this path, the prepared-plane path made a padded copy of each plane and called a reduction per
    /// output row (inception.pool's general run: 530 us).
    /// </summary>
    private static unsafe void SumRowStride1(T* plane, int* rows, int count, T* output, T* divisors, in Columns columns, Vector512<T>* edgeMasks)
    {
        var zero = Vector512<T>.Zero;
        int kernel = columns.Kernel;
        for (int ow = 0, block = 0; ow < columns.Output; ow += Lanes, block++)
        {
            int column = ow - columns.PadBegin;
            var sum = zero; // PyTorch's order: from +0, row by row, tap by tap
            if (IsInsideStride1(column, columns))
            {
                // Plain loads, which the adds take as memory operands. The common 3-wide window is unrolled here and
                // below: with the tap loop alone inception's general run took 262 us instead of 202 (stopwatch).
                if (kernel == 3)
                {
                    for (int r = 0; r < count; r++)
                    {
                        T* at = plane + rows[r] + column;
                        sum += Vector512.Load(at);
                        sum += Vector512.Load(at + 1);
                        sum += Vector512.Load(at + 2);
                    }
                }
                else
                {
                    for (int r = 0; r < count; r++)
                    {
                        T* at = plane + rows[r] + column;
                        for (int kw = 0; kw < kernel; kw++) sum += Vector512.Load(at + kw);
                    }
                }
            }
            else
            {
                // A block at a row's end: each tap's mask comes from the per-call table.
                Vector512<T>* masks = edgeMasks + block * kernel;
                if (kernel == 3)
                {
                    Vector512<T> left = masks[0], middle = masks[1], right = masks[2];
                    for (int r = 0; r < count; r++)
                    {
                        T* at = plane + rows[r] + column;
                        sum += Lanes512<T>.MaskLoad(at, left, zero);
                        sum += Lanes512<T>.MaskLoad(at + 1, middle, zero);
                        sum += Lanes512<T>.MaskLoad(at + 2, right, zero);
                    }
                }
                else
                {
                    for (int r = 0; r < count; r++)
                    {
                        T* at = plane + rows[r] + column;
                        for (int kw = 0; kw < kernel; kw++) sum += Lanes512<T>.MaskLoad(at + kw, masks[kw], zero);
                    }
                }
            }
            Store(output, ow, sum / Vector512.Load(divisors + ow), columns.Output);
        }
    }

    /// <summary>Whether every tap of the stride-1 block starting at input <paramref name="column"/> lies inside the row.</summary>
    private static bool IsInsideStride1(int column, in Columns columns) =>
        column >= 0 && column + Lanes + columns.Kernel - 1 <= columns.Length;

    /// <summary>
    /// For stride-1 average: the load mask of tap kw of every output block that reaches past a row's end, at
    /// <c>[block * kernel + kw]</c> (the blocks inside the row need none and their entries are unused). Rented.
    /// </summary>
    private static Vector512<T>[] EdgeTapMasks(in Columns columns)
    {
        int blocks = (columns.Output + Lanes - 1) / Lanes;
        var masks = ScratchArrays<Vector512<T>>.Rent(Math.Max(1, blocks * columns.Kernel));
        for (int block = 0; block < blocks; block++)
        {
            int column = block * Lanes - columns.PadBegin;
            if (IsInsideStride1(column, columns)) continue;
            for (int kw = 0; kw < columns.Kernel; kw++)
                masks[block * columns.Kernel + kw] = Lanes512<T>.InsideMask(column + kw, columns.Length);
        }
        return masks;
    }

    /// <summary><c>row[column .. column + Lanes)</c>, with <paramref name="fill"/> for cells outside <c>[0, length)</c> unless the block is known to be inside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<T> Load(T* row, int column, bool inside, int length, Vector512<T> fill)
    {
        return inside ? Vector512.Load(row + column) : Lanes512<T>.MaskLoad(row + column, Lanes512<T>.InsideMask(column, length), fill);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(T* output, int ow, Vector512<T> value, int outWidth)
    {
        int count = outWidth - ow;
        if (count >= Lanes) value.Store(output + ow);
        else if (typeof(T) == typeof(float)) KernelLanes512.StoreFirst((float*)(output + ow), value.As<T, float>(), count);
        else KernelLanes512.StoreFirst((double*)(output + ow), value.As<T, double>(), count);
    }
}
