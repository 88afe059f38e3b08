using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's fast path for channels-first 2-d (or 1-d) pooling with a horizontal stride of 2 and no
/// horizontal dilation, on AVX-512 (VGG's and DenseNet's 2x2, ResNet's 3x3 stride 2, ...). It is the generated kernels' structure with run-time
/// parameters: the window's input rows are read in place, each block of 16 (float) or 8 (double) outputs reduces
/// every tap in a register, and only blocks that reach past a row's ends load masked, with the identity outside.
/// </summary>
/// <remarks>
/// Compared with preparing a padded, phase-split copy of the plane (<see cref="ChannelsFirstPooling{T}"/>), there is
/// no extra pass over the data and no per-row call: on rows of a few dozen outputs those dominated (VGG16 pool1 went
/// from 1,344 to 545 us, DenseNet's transition from 129 to 84 us, stopwatch). Stride 1 stays on the prepared-plane
/// path: there max is separable and reuses row maxima, which tap-by-tap blocks cannot (SPPF 5x5 measured 161 us
/// there against 421 us here). Taps are visited
/// in row-major window order and padding contributes the identity, so sums round exactly as in the other paths, and
/// the result is bit-identical to them (the cross-ISA fingerprints in CI compare this path with the others).
/// </remarks>
internal static class ChannelsFirstRowBlocks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported &&
        (typeof(T) == typeof(float) || typeof(T) == typeof(double)) &&
        plan.Depth.Length == 1 && plan.Depth.Kernel == 1 && plan.Depth.Output == 1 &&
        plan.Width.Dilation == 1 && plan.Width.Stride == 2;

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
                            MaxRow(plane, rows, count, outputRow, columns);
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
