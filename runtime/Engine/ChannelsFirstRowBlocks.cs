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
/// stride of 1, and max with a horizontal stride of 1 up to 5 wide. It follows the generated kernels' structure with
/// run-time parameters: the window's input rows are read in place, each block of 16 (float) or 8 (double) outputs
/// reduces its taps in registers, and only blocks that reach past a row's ends load masked, with the identity outside.
/// </summary>
/// <remarks>
/// <para>Compared with preparing a padded, phase-split copy of the plane (<see cref="ChannelsFirstAnyRank{T}"/>), there
/// is no extra pass over the data and no per-row call, which dominate on rows of a few dozen outputs.</para>
/// <para>Max slides phase blocks along the row (<see cref="MaxRowSliding"/>, and <see cref="MaxRowSlidingStride1"/>
/// for stride 1; ChannelsFirstRowBlocks.SlidingMax.cs): each input vector is reduced over the window's rows once and
/// the taps are permutes of those registers, so max stays separable. Wider stride-1 max windows stay on the any-rank
/// path, whose one horizontal pass wins there.</para>
/// <para>Rows of at most two vectors (late layers' 7- to 28-wide maps) take <see cref="TwoVectorRows"/>
/// (ChannelsFirstRowBlocks.TwoVectorRows.cs): two loads per input row with masks made once per call.</para>
/// <para>The sliding paths take vmaxps alone (<see cref="UncheckedMax512"/>) and sum every cell they load; a plane
/// whose sum is NaN is pooled again with the two-instruction NaN-propagating maximum (see <see cref="MaxPlane"/>).
/// The tap-by-tap path (ChannelsFirstRowBlocks.TapByTap.cs) scans planes of up to 16 KB for NaN first.</para>
/// <para>Each output row's window rows and divisors are tabled once per call (<see cref="OutputRows"/>), not recomputed
/// for every row of every plane.</para>
/// <para>Average with a horizontal stride of 1 (Inception's 3x3) adds unaligned loads tap by tap, with the tap masks
/// of the blocks at the rows' ends made once per call.</para>
/// <para>Average sums four output rows at a time where their windows have as many rows (the adds of one chain wait on
/// each other; four chains keep the pipes busy), each block in registers.</para>
/// <para>Average keeps block-by-block sums with the taps in row-major window order; padding contributes the identity,
/// so sums round exactly as in the other paths, and the result is bit-identical to them (the cross-ISA fingerprints
/// compare this path with the others).</para>
/// </remarks>
internal static partial class ChannelsFirstRowBlocks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) =>
        Pools(plan) && (plan.IsMax ? !SeparableMaxIsFaster(plan) : !AnyRankAddsFaster(plan));

    /// <summary>
    /// Whether <see cref="Run"/> pools <paramref name="plan"/> exactly, where the table sends it or not: the route audit
    /// times it there too, so a condition measurement has outgrown shows.
    /// </summary>
    public static bool Handles(in PoolPlan plan) => Pools(plan);

    private static bool Pools(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && plan.IsPlanar && plan.Width.Dilation == 1 &&
        (plan.Width.Stride == 2 || (plan.Width.Stride == 1 && (!plan.IsMax || plan.Width.Kernel <= MaxStride1Taps)));

    /// <summary>
    /// Max the any-rank path pools faster: it reduces each input row horizontally once for every output row that covers
    /// it, where this path takes every tap of every window. At height stride 1 over windows of two rows or more that
    /// was faster for float but on rows of 128 cells or more with windows of up to 9 taps, for double at width stride 1
    /// from 10 taps or one column wide, and for windows dilated down the rows; also for float 1x1 windows at stride 1, which it copies.
    /// At height stride 2, since the any-rank path splits stride-2 rows with permutes: at width stride 1 on unpadded rows
    /// (which it reads in place) float always and double from 3 columns or 5 rows, on padded rows float from 15 taps; at
    /// width stride 2 float from 20 taps or 7 columns, double from 7 columns or 4 in a window one row tall (measurements
    /// in bench/notes.md).
    /// </summary>
    private static bool SeparableMaxIsFaster(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        int taps = height.Kernel * width.Kernel;
        bool isFloat = typeof(T) == typeof(float);
        return height.Stride switch
        {
            1 when taps == 1 => isFloat && width.Stride == 1,
            1 => height.Kernel >= 2 && (height.Dilation > 1 || (isFloat ? taps > 9 || width.Length < 128 : width.Stride == 1 && (taps >= 10 || width.Kernel == 1))),
            2 when width.Stride == 1 => width.IsUnpadded
                ? isFloat || width.Kernel >= 3 || height.Kernel >= 5
                : isFloat && taps >= 15,
            2 => isFloat ? taps >= 20 || width.Kernel >= 7 : width.Kernel >= 7 || (height.Kernel == 1 && width.Kernel >= 4),
            _ => false,
        };
    }

    /// <summary>
    /// Averages the any-rank path adds faster: its flat passes over prepared rows keep four vectors of a run of output
    /// rows in flight, as this path does with four output rows. That wins from <see cref="ManyTaps"/> taps, for float at
    /// height stride 1 and width stride 2 from five taps (each tap pair here costs two loads and a permute), and for
    /// windows one column wide and several rows tall at height stride 1 and width stride 2 (measurements in bench/notes.md).
    /// </summary>
    private static bool AnyRankAddsFaster(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        long taps = (long)height.Kernel * width.Kernel;
        if (taps >= ManyTaps) return true;
        bool rowRuns = height.Stride == 1 && height.Length > 1; // 2-d: consecutive output rows form one flat run there
        if (!rowRuns || width.Stride != 2) return false;
        return (width.Kernel == 1 && height.Kernel >= 2) || (taps > 4 && typeof(T) == typeof(float));
    }

    private const int ManyTaps = 20;

    /// <summary>
    /// Stride-1 max takes this path up to windows this wide; from 7 wide the any-rank path's one horizontal pass is
    /// faster (measurements in bench/notes.md).
    /// </summary>
    private const int MaxStride1Taps = 5;

    /// <summary>
    /// Whether <paramref name="plan"/> is max at width stride 2 that the route would pool with a loop over the window's
    /// taps: on rows of at most two vectors (<see cref="TwoVectorRowStride2"/>), or sliding with neither known window
    /// (<see cref="MaxRowSliding"/> with <see cref="AnyTaps"/>); the same choices as <see cref="MaxPlane"/>. The
    /// channels-last detour takes some double ones at height stride 1 first, where it measured faster (bench/notes.md).
    /// </summary>
    public static bool LoopsOverStrideTwoTaps(in PoolPlan plan)
    {
        AxisPlan width = plan.Width;
        var columns = new Columns(width);
        return plan.IsMax && width.Stride == 2 && Applies(plan) && TapPermutes.Fits(width.Kernel, width.PadBegin, width.Stride)
            && (TwoVectorRows.Fits(columns, width.Stride) || (!Taps3Pad1.Matches(columns) && !Taps2Pad0.Matches(columns)));
    }

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
        Vector512<T>* tapIndices = stackalloc Vector512<T>[Math.Max(1, tapCount)];
        var taps = new TapPermutes(tapCount, width.PadBegin, width.Stride, tapIndices);
        Vector512<T>[] edgeMasks = !plan.IsMax && width.Stride == 1 ? EdgeTapMasks(columns) : [];
        try
        {
            fixed (Vector512<T>* masks = edgeMasks)
            fixed (T* source = input, target = output, divisors = outputRows.Divisors)
            fixed (int* offsets = outputRows.Offsets, counts = outputRows.Counts, divisorRow = outputRows.DivisorRow)
            {
                var rows = new RowTable(offsets, counts, divisorRow, divisors, outputRows.Kernel);
                bool scanForNaN = Lanes512<T>.WorthScanningForNaN(inPlane);
                // Planes of one output row (1-d) are summed four at a time: their rows lie a plane apart, and their outputs one row apart.
                int* planeRows = stackalloc int[RowsInFlight * MaxRowsAcrossPlanes];
                bool acrossPlanes = !plan.IsMax && AcrossPlanes(plan, rows, planeRows);
                rows.Rows(0, out int windowRows);
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                    if (acrossPlanes && p + RowsInFlight <= firstPlane + planeCount)
                    {
                        if (width.Stride == 1) SumFourRowsStride1(plane, planeRows, rows.Kernel, windowRows, outputPlane, rows.Divisors(0), columns, masks);
                        else SumFourRows(plane, planeRows, rows.Kernel, windowRows, outputPlane, rows.Divisors(0), columns);
                        p += RowsInFlight - 1;
                    }
                    else if (!plan.IsMax)
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

        /// <summary>Rows per window: row oh + 1's window rows start this many entries after row oh's.</summary>
        public int Kernel => _kernel;

        /// <summary>Whether output rows <c>[oh, oh + rowCount)</c> have as many window rows and the same divisors (average only).</summary>
        public bool SharesWindowShape(int oh, int rowCount)
        {
            for (int i = oh + 1; i < oh + rowCount; i++)
                if (_counts[i] != _counts[oh] || _divisorRow[i] != _divisorRow[oh]) return false;
            return true;
        }
    }

    /// <summary>Window rows at most for which <see cref="AcrossPlanes"/> groups planes.</summary>
    private const int MaxRowsAcrossPlanes = 8;

    /// <summary>
    /// Whether planes of <paramref name="plan"/> are to be summed four at a time (one output row each, a window of at
    /// most <see cref="MaxRowsAcrossPlanes"/> rows, every row's offset from the group's first plane fits an int) and,
    /// if so, the window rows of each plane of a group as offsets from the first plane, <c>Kernel</c> entries a plane.
    /// </summary>
    private static unsafe bool AcrossPlanes(in PoolPlan plan, in RowTable table, int* planeRows)
    {
        if (plan.Height.Output != 1 || table.Kernel > MaxRowsAcrossPlanes || (long)RowsInFlight * plan.InputPlane > int.MaxValue) return false;
        int* rows = table.Rows(0, out int count);
        for (int i = 0; i < RowsInFlight; i++)
            for (int r = 0; r < count; r++)
                planeRows[i * table.Kernel + r] = i * plan.InputPlane + rows[r];
        return true;
    }

    /// <summary>Average pooling of one plane, every output row, in PyTorch's summation order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AveragePlane(in PoolPlan plan, in RowTable table, T* plane, T* outputPlane, in Columns columns, Vector512<T>* edgeMasks)
    {
        int outWidth = columns.Output, outHeight = plan.Height.Output;
        for (int oh = 0; oh < outHeight;)
        {
            int* rows = table.Rows(oh, out int count);
            T* divisorRow = table.Divisors(oh);
            T* outputRow = outputPlane + (long)oh * outWidth;
            if (oh + RowsInFlight <= outHeight && table.SharesWindowShape(oh, RowsInFlight))
            {
                if (plan.Width.Stride == 1) SumFourRowsStride1(plane, rows, table.Kernel, count, outputRow, divisorRow, columns, edgeMasks);
                else SumFourRows(plane, rows, table.Kernel, count, outputRow, divisorRow, columns);
                oh += RowsInFlight;
                continue;
            }
            if (plan.Width.Stride == 1) SumRowStride1(plane, rows, count, outputRow, divisorRow, columns, edgeMasks);
            else SumRow(plane, rows, count, outputRow, divisorRow, columns);
            oh++;
        }
    }

    /// <summary>
    /// Max pooling of one plane, every output row, with <typeparamref name="TMax"/>'s maximum. On the sliding paths,
    /// when <typeparamref name="TMax"/> needs a NaN check (<see cref="UncheckedMax512"/>), it sums every cell it loads
    /// and returns false if the sum is NaN (its output is then to be redone). The sum costs less than a separate scan
    /// of the plane (which stays in L1 only for small planes) or the propagating maximum's second instruction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe bool MaxPlane<TMax>(in PoolPlan plan, in RowTable table, T* plane, T* outputPlane,
        in Columns columns, bool sliding, TapPermutes taps) where TMax : IMax512
    {
        AxisPlan height = plan.Height;
        var cellSum = Vector512<T>.Zero;
        if (sliding && TwoVectorRows.Fits(columns, plan.Width.Stride))
        {
            var narrow = new TwoVectorRows(columns);
            for (int oh = 0; oh < height.Output; oh++)
            {
                int* rows = table.Rows(oh, out int count);
                T* outputRow = outputPlane + (long)oh * columns.Output;
                if (plan.Width.Stride == 1) TwoVectorRowStride1<TMax>(plane, rows, count, outputRow, narrow, columns, taps, ref cellSum);
                else TwoVectorRowStride2<TMax>(plane, rows, count, outputRow, narrow, columns, taps, ref cellSum);
            }
        }
        else
        {
            for (int oh = 0; oh < height.Output; oh++)
            {
                int* rows = table.Rows(oh, out int count);
                T* outputRow = outputPlane + (long)oh * columns.Output;
                if (sliding && plan.Width.Stride == 1) MaxRowSlidingStride1<TMax>(plane, rows, count, outputRow, columns, taps, ref cellSum);
                else if (sliding && Taps3Pad1.Matches(columns)) MaxRowSliding<TMax, Taps3Pad1>(plane, rows, count, outputRow, columns, taps, ref cellSum);
                else if (sliding && Taps2Pad0.Matches(columns)) MaxRowSliding<TMax, Taps2Pad0>(plane, rows, count, outputRow, columns, taps, ref cellSum);
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
