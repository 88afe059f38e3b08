using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's fast path for channels-first 2-d (or 1-d) pooling on AVX-512 with no horizontal dilation:
/// every horizontal stride of 2 (VGG's and DenseNet's 2x2, ResNet's 3x3 stride 2, ...) and max with a horizontal
/// stride of 1 up to 5 wide. It is the generated kernels' structure with run-time parameters: the window's input rows
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
/// <para>Average keeps block-by-block sums with the taps in row-major window order; padding contributes the identity,
/// so sums round exactly as in the other paths, and the result is bit-identical to them (the cross-ISA fingerprints
/// in CI compare this path with the others).</para>
/// </remarks>
internal static class ChannelsFirstRowBlocks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported &&
        (typeof(T) == typeof(float) || typeof(T) == typeof(double)) &&
        plan.Depth.Length == 1 && plan.Depth.Kernel == 1 && plan.Depth.Output == 1 &&
        plan.Width.Dilation == 1 &&
        (plan.Width.Stride == 2 || (plan.Width.Stride == 1 && plan.IsMax && plan.Width.Kernel <= MaxStride1Taps));

    /// <summary>
    /// Stride-1 max takes this path up to windows this wide. Measured against the prepared-plane path (stopwatch
    /// minimums, one process): 3 wide 131 -> 112 us (googlenet) and 378 -> 354 us (112-wide rows), 5 wide 153 -> 148
    /// and 1025 -> 1016 us, but 7 wide 204 -> 238 us, where the prepared path's one horizontal pass wins.
    /// </summary>
    private const int MaxStride1Taps = 5;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        int inPlane = plan.InputPlane, outPlane = plan.OutputPlane, outWidth = width.Output;
        int[] rows = ArrayPool<int>.Shared.Rent(height.Kernel);
        T[] divisors = plan.IsMax ? [] : ArrayPool<T>.Shared.Rent(outWidth + Lanes);
        using var heightWindows = new AxisWindows(height);
        try
        {
            var columns = new Columns(width);
            bool sliding = plan.IsMax && TapPermutes.Fits(width.Kernel, width.PadBegin, width.Stride);
            using var taps = new TapPermutes(sliding ? width.Kernel : 0, width.PadBegin, width.Stride);
            fixed (T* source = input, target = output, divisorRow = divisors)
            {
                long lastRowFactor = -1;
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                    for (int oh = 0; oh < height.Output; oh++)
                    {
                        // The window's rows inside the input, in order; rows in the padding add nothing.
                        var (first, end) = heightWindows[oh];
                        int count = 0;
                        for (int kh = first; kh < end; kh++)
                            rows[count++] = (int)(height.WindowStart(oh) + (long)kh * height.Dilation) * width.Length;
                        T* outputRow = outputPlane + (long)oh * outWidth;
                        if (plan.IsMax)
                        {
                            if (sliding && width.Stride == 1) MaxRowSlidingStride1(plane, rows, count, outputRow, columns, taps);
                            else if (sliding) MaxRowSliding(plane, rows, count, outputRow, columns, taps);
                            else MaxRow(plane, rows, count, outputRow, columns);
                        }
                        else
                        {
                            long rowFactor = plan.Descriptor.DivisorOverride != 0 ? 0 : plan.RowDivisorFactor(0, oh);
                            if (rowFactor != lastRowFactor)
                            {
                                for (int ow = 0; ow < outWidth; ow++)
                                    divisorRow[ow] = T.CreateTruncating(plan.Divisor(rowFactor, ow));
                                for (int ow = outWidth; ow < outWidth + Lanes; ow++) divisorRow[ow] = T.One;
                                lastRowFactor = rowFactor;
                            }
                            SumRow(plane, rows, count, outputRow, divisorRow, columns);
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rows);
            if (divisors.Length > 0) ArrayPool<T>.Shared.Return(divisors);
        }
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
    /// Max along one output row, sliding three phase blocks (previous, current, next: the column maxima of the
    /// window's rows over 2 * Lanes cells each, split into even and odd cells) so that every input vector is loaded
    /// and reduced over the rows once. Tap kw of an output block is its even or odd phase shifted by
    /// floor((kw - PadBegin) / 2) lanes, taken from two neighbouring phase blocks with one two-source permute whose
    /// index vector was built once per call (a run-time shift cannot be valign's immediate).
    /// </summary>
    private static unsafe void MaxRowSliding(T* plane, int[] rows, int count, T* output, in Columns columns, in TapPermutes taps)
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        int vectors = (columns.Length + Lanes - 1) / Lanes;
        var (evenPrevious, oddPrevious) = (fill, fill);
        var (evenCurrent, oddCurrent) = Phase(plane, rows, count, 0, vectors, columns.Length, fill);
        for (int ow = 0, block = 0; ow < columns.Output; ow += Lanes, block++)
        {
            var (evenNext, oddNext) = Phase(plane, rows, count, 2 * (block + 1), vectors, columns.Length, fill);
            var acc = fill;
            for (int kw = 0; kw < columns.Kernel; kw++)
            {
                bool odd = taps.IsOdd(kw);
                int shift = taps.Shift(kw);
                Vector512<T> tap = shift == 0
                    ? (odd ? oddCurrent : evenCurrent)
                    : shift > 0
                        ? Permute(odd ? oddCurrent : evenCurrent, taps.Index(kw), odd ? oddNext : evenNext)
                        : Permute(odd ? oddPrevious : evenPrevious, taps.Index(kw), odd ? oddCurrent : evenCurrent);
                acc = MaxOp<T>.Apply(acc, tap);
            }
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
            (evenPrevious, oddPrevious, evenCurrent, oddCurrent) = (evenCurrent, oddCurrent, evenNext, oddNext);
        }
    }

    /// <summary>
    /// <see cref="MaxRowSliding"/> for a horizontal stride of 1: the blocks are the column maxima of one input vector
    /// each, so the maximum is separable here too (each cell reduced over the window's rows once, then across the
    /// window's columns by permutes), unlike a tap-by-tap reduction of every window cell.
    /// </summary>
    private static unsafe void MaxRowSlidingStride1(T* plane, int[] rows, int count, T* output, in Columns columns, in TapPermutes taps)
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        int vectors = (columns.Length + Lanes - 1) / Lanes;
        var previous = fill;
        var current = ColumnMaxima(plane, rows, count, 0, vectors, columns.Length, fill);
        for (int ow = 0, block = 0; ow < columns.Output; ow += Lanes, block++)
        {
            var next = ColumnMaxima(plane, rows, count, block + 1, vectors, columns.Length, fill);
            var acc = fill;
            for (int kw = 0; kw < columns.Kernel; kw++)
            {
                int shift = taps.Shift(kw);
                acc = MaxOp<T>.Apply(acc, shift == 0 ? current
                    : shift > 0 ? Permute(current, taps.Index(kw), next)
                    : Permute(previous, taps.Index(kw), current));
            }
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
            (previous, current) = (current, next);
        }
    }

    /// <summary>Input vector <paramref name="index"/>'s maximum over the window's rows: -inf past the row's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<T> ColumnMaxima(T* plane, int[] rows, int count, int index, int vectors, int length, Vector512<T> fill)
    {
        var maxima = fill;
        if (index < vectors - 1)
        {
            for (int r = 0; r < count; r++)
                maxima = MaxOp<T>.Apply(maxima, Vector512.Load(plane + rows[r] + index * Lanes));
        }
        else if (index == vectors - 1)
        {
            for (int r = 0; r < count; r++)
                maxima = MaxOp<T>.Apply(maxima, Load(plane + rows[r], index * Lanes, inside: false, length, fill));
        }
        return maxima;
    }

    /// <summary>The even and odd cells of input vectors <paramref name="first"/> and the next, each the maximum over the window's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector512<T> Even, Vector512<T> Odd) Phase(T* plane, int[] rows, int count, int first, int vectors, int length, Vector512<T> fill)
    {
        var low = fill;
        var high = fill;
        if (first + 1 < vectors - 1)
        {
            // Both vectors whole and inside the row (the last vector may be partial): plain loads.
            for (int r = 0; r < count; r++)
            {
                T* at = plane + rows[r] + first * Lanes;
                low = MaxOp<T>.Apply(low, Vector512.Load(at));
                high = MaxOp<T>.Apply(high, Vector512.Load(at + Lanes));
            }
        }
        else if (first < vectors)
        {
            for (int r = 0; r < count; r++)
            {
                T* row = plane + rows[r];
                low = MaxOp<T>.Apply(low, Load(row, first * Lanes, inside: false, length, fill));
                if (first + 1 < vectors) high = MaxOp<T>.Apply(high, Load(row, (first + 1) * Lanes, inside: false, length, fill));
            }
        }
        return (Even(low, high), Odd(low, high));
    }

    /// <summary>Per tap of the window's width: its phase, its shift in lanes, and the permute index that applies the shift.</summary>
    private readonly struct TapPermutes : IDisposable
    {
        private readonly int _padBegin;
        private readonly int[] _shifts; // rented, like the indices: a warm call allocates nothing
        private readonly Vector512<T>[] _indices;

        public TapPermutes(int kernel, int padBegin, int stride)
        {
            _padBegin = padBegin;
            _shifts = ArrayPool<int>.Shared.Rent(kernel);
            _indices = ArrayPool<Vector512<T>>.Shared.Rent(kernel);
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

        public int Shift(int kw) => _shifts[kw];

        public Vector512<T> Index(int kw) => _indices[kw];

        public void Dispose()
        {
            ArrayPool<int>.Shared.Return(_shifts);
            ArrayPool<Vector512<T>>.Shared.Return(_indices);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Permute(Vector512<T> low, Vector512<T> index, Vector512<T> high) => typeof(T) == typeof(float)
        ? Avx512F.PermuteVar16x32x2(low.As<T, float>(), index.As<T, int>(), high.As<T, float>()).As<float, T>()
        : Avx512F.PermuteVar8x64x2(low.As<T, double>(), index.As<T, long>(), high.As<T, double>()).As<double, T>();

    private static unsafe void MaxRow(T* plane, int[] rows, int count, T* output, in Columns columns)
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
                    acc = MaxOp<T>.Apply(acc, Even(low, high));
                    if (kw + 1 < columns.Kernel) acc = MaxOp<T>.Apply(acc, Odd(low, high));
                }
            }
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
        }
    }

    private static unsafe void SumRow(T* plane, int[] rows, int count, T* output, T* divisors, in Columns columns)
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
                    sum += Even(low, high);
                    if (kw + 1 < columns.Kernel) sum += Odd(low, high);
                }
            }
            Store(output, ow, sum / Vector512.Load(divisors + ow), columns.Output);
        }
    }

    /// <summary><c>row[column .. column + Lanes)</c>, with <paramref name="fill"/> for cells outside <c>[0, length)</c> unless the block is known to be inside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<T> Load(T* row, int column, bool inside, int length, Vector512<T> fill)
    {
        if (inside) return Vector512.Load(row + column);
        if (typeof(T) == typeof(float))
            return KernelLanes512.LoadInside((float*)row, column, KernelLanes512.InsideMask32(column, length), fill.As<T, float>()).As<float, T>();
        return KernelLanes512.LoadInside((double*)row, column, KernelLanes512.InsideMask64(column, length), fill.As<T, double>()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Even(Vector512<T> low, Vector512<T> high) => typeof(T) == typeof(float)
        ? KernelLanes512.Even(low.As<T, float>(), high.As<T, float>()).As<float, T>()
        : KernelLanes512.Even(low.As<T, double>(), high.As<T, double>()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Odd(Vector512<T> low, Vector512<T> high) => typeof(T) == typeof(float)
        ? KernelLanes512.Odd(low.As<T, float>(), high.As<T, float>()).As<float, T>()
        : KernelLanes512.Odd(low.As<T, double>(), high.As<T, double>()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(T* output, int ow, Vector512<T> value, int outWidth)
    {
        int count = outWidth - ow;
        if (count >= Lanes) value.Store(output + ow);
        else if (typeof(T) == typeof(float)) KernelLanes512.StoreFirst((float*)(output + ow), value.As<T, float>(), count);
        else KernelLanes512.StoreFirst((double*)(output + ow), value.As<T, double>(), count);
    }
}
