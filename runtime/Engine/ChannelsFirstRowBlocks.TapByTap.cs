using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

// Tap-by-tap rows: max where the sliding paths do not fit, average at stride 2 and stride 1.
internal static partial class ChannelsFirstRowBlocks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SumRow(T* plane, int* rows, int count, T* output, T* divisors, in Columns columns)
    {
        var zero = Vector512<T>.Zero;
        for (int ow = 0; ow < columns.Output; ow += Lanes)
        {
            int column = 2 * ow - columns.PadBegin;
            var sum = zero; // PyTorch's order: from +0, row by row, tap by tap
            // Inside the row or not is decided once per block: a choice per load costs more than the loads.
            if (columns.Inside(column))
            {
                for (int r = 0; r < count; r++)
                {
                    T* at = plane + rows[r] + column;
                    for (int kw = 0; kw < columns.Kernel; kw += 2)
                        sum = AddPair(sum, Vector512.Load(at + kw), Vector512.Load(at + kw + Lanes), kw + 1 < columns.Kernel);
                }
            }
            else
            {
                for (int r = 0; r < count; r++)
                {
                    T* at = plane + rows[r] + column;
                    for (int kw = 0; kw < columns.Kernel; kw += 2)
                    {
                        var low = Lanes512<T>.MaskLoad(at + kw, Lanes512<T>.InsideMask(column + kw, columns.Length), zero);
                        var high = Lanes512<T>.MaskLoad(at + kw + Lanes, Lanes512<T>.InsideMask(column + kw + Lanes, columns.Length), zero);
                        sum = AddPair(sum, low, high, kw + 1 < columns.Kernel);
                    }
                }
            }
            Store(output, ow, sum / Vector512.Load(divisors + ow), columns.Output);
        }
    }

    /// <summary><paramref name="sum"/> plus the even cells of the pair of vectors, then the odd ones if <paramref name="odd"/>: two taps at a stride of 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> AddPair(Vector512<T> sum, Vector512<T> low, Vector512<T> high, bool odd)
    {
        sum += Lanes512<T>.Even(low, high);
        return odd ? sum + Lanes512<T>.Odd(low, high) : sum;
    }

    /// <summary>
    /// Average along one output row with a horizontal stride of 1 (Inception's 3x3): tap kw of output block ow is the
    /// vector at column ow + kw - PadBegin, loaded unaligned, added row by row and tap by tap from +0 as PyTorch
    /// does, with no padded copy of the plane and no call per output row (what the any-rank path needs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
                // below: the tap loop alone is markedly slower on it.
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

    /// <summary>Output rows summed together by <see cref="SumFourRows"/> and <see cref="SumFourRowsStride1"/>: four independent sums hide the add's latency.</summary>
    private const int RowsInFlight = 4;

    /// <summary>
    /// <see cref="SumRow"/> on four consecutive output rows with as many window rows and the same divisors: the same
    /// taps in the same order for each, the four sums interleaved.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SumFourRows(T* plane, int* rows, int rowPitch, int count, T* output, T* divisors, in Columns columns)
    {
        var zero = Vector512<T>.Zero;
        int outWidth = columns.Output;
        int* rows1 = rows + rowPitch, rows2 = rows1 + rowPitch, rows3 = rows2 + rowPitch;
        for (int ow = 0; ow < outWidth; ow += Lanes)
        {
            int column = 2 * ow - columns.PadBegin;
            Vector512<T> sum0 = zero, sum1 = zero, sum2 = zero, sum3 = zero; // PyTorch's order: from +0, row by row, tap by tap
            if (columns.Inside(column))
            {
                for (int r = 0; r < count; r++)
                {
                    T* at0 = plane + rows[r] + column, at1 = plane + rows1[r] + column, at2 = plane + rows2[r] + column, at3 = plane + rows3[r] + column;
                    for (int kw = 0; kw < columns.Kernel; kw += 2)
                    {
                        Vector512<T> low0 = Vector512.Load(at0 + kw), high0 = Vector512.Load(at0 + kw + Lanes);
                        Vector512<T> low1 = Vector512.Load(at1 + kw), high1 = Vector512.Load(at1 + kw + Lanes);
                        Vector512<T> low2 = Vector512.Load(at2 + kw), high2 = Vector512.Load(at2 + kw + Lanes);
                        Vector512<T> low3 = Vector512.Load(at3 + kw), high3 = Vector512.Load(at3 + kw + Lanes);
                        bool odd = kw + 1 < columns.Kernel;
                        sum0 = AddPair(sum0, low0, high0, odd);
                        sum1 = AddPair(sum1, low1, high1, odd);
                        sum2 = AddPair(sum2, low2, high2, odd);
                        sum3 = AddPair(sum3, low3, high3, odd);
                    }
                }
            }
            else
            {
                for (int r = 0; r < count; r++)
                {
                    T* at0 = plane + rows[r] + column, at1 = plane + rows1[r] + column, at2 = plane + rows2[r] + column, at3 = plane + rows3[r] + column;
                    for (int kw = 0; kw < columns.Kernel; kw += 2)
                    {
                        Vector512<T> lowMask = Lanes512<T>.InsideMask(column + kw, columns.Length), highMask = Lanes512<T>.InsideMask(column + kw + Lanes, columns.Length);
                        Vector512<T> low0 = Lanes512<T>.MaskLoad(at0 + kw, lowMask, zero), high0 = Lanes512<T>.MaskLoad(at0 + kw + Lanes, highMask, zero);
                        Vector512<T> low1 = Lanes512<T>.MaskLoad(at1 + kw, lowMask, zero), high1 = Lanes512<T>.MaskLoad(at1 + kw + Lanes, highMask, zero);
                        Vector512<T> low2 = Lanes512<T>.MaskLoad(at2 + kw, lowMask, zero), high2 = Lanes512<T>.MaskLoad(at2 + kw + Lanes, highMask, zero);
                        Vector512<T> low3 = Lanes512<T>.MaskLoad(at3 + kw, lowMask, zero), high3 = Lanes512<T>.MaskLoad(at3 + kw + Lanes, highMask, zero);
                        bool odd = kw + 1 < columns.Kernel;
                        sum0 = AddPair(sum0, low0, high0, odd);
                        sum1 = AddPair(sum1, low1, high1, odd);
                        sum2 = AddPair(sum2, low2, high2, odd);
                        sum3 = AddPair(sum3, low3, high3, odd);
                    }
                }
            }
            StoreFourRows(output, ow, outWidth, Vector512.Load(divisors + ow), sum0, sum1, sum2, sum3);
        }
    }

    /// <summary>Four output rows' block at <paramref name="ow"/>: each sum divided by the rows' shared divisors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreFourRows(T* output, int ow, int outWidth, Vector512<T> divisor,
        Vector512<T> sum0, Vector512<T> sum1, Vector512<T> sum2, Vector512<T> sum3)
    {
        Store(output, ow, sum0 / divisor, outWidth);
        Store(output + outWidth, ow, sum1 / divisor, outWidth);
        Store(output + 2 * outWidth, ow, sum2 / divisor, outWidth);
        Store(output + 3 * outWidth, ow, sum3 / divisor, outWidth);
    }

    /// <summary><see cref="SumRowStride1"/> on four consecutive output rows, as <see cref="SumFourRows"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SumFourRowsStride1(T* plane, int* rows, int rowPitch, int count, T* output, T* divisors, in Columns columns, Vector512<T>* edgeMasks)
    {
        var zero = Vector512<T>.Zero;
        int kernel = columns.Kernel, outWidth = columns.Output;
        int* rows1 = rows + rowPitch, rows2 = rows1 + rowPitch, rows3 = rows2 + rowPitch;
        for (int ow = 0, block = 0; ow < outWidth; ow += Lanes, block++)
        {
            int column = ow - columns.PadBegin;
            Vector512<T> sum0 = zero, sum1 = zero, sum2 = zero, sum3 = zero; // PyTorch's order: from +0, row by row, tap by tap
            if (IsInsideStride1(column, columns))
            {
                for (int r = 0; r < count; r++)
                {
                    T* at0 = plane + rows[r] + column, at1 = plane + rows1[r] + column, at2 = plane + rows2[r] + column, at3 = plane + rows3[r] + column;
                    for (int kw = 0; kw < kernel; kw++)
                    {
                        sum0 += Vector512.Load(at0 + kw);
                        sum1 += Vector512.Load(at1 + kw);
                        sum2 += Vector512.Load(at2 + kw);
                        sum3 += Vector512.Load(at3 + kw);
                    }
                }
            }
            else
            {
                Vector512<T>* masks = edgeMasks + block * kernel;
                for (int r = 0; r < count; r++)
                {
                    T* at0 = plane + rows[r] + column, at1 = plane + rows1[r] + column, at2 = plane + rows2[r] + column, at3 = plane + rows3[r] + column;
                    for (int kw = 0; kw < kernel; kw++)
                    {
                        var mask = masks[kw];
                        sum0 += Lanes512<T>.MaskLoad(at0 + kw, mask, zero);
                        sum1 += Lanes512<T>.MaskLoad(at1 + kw, mask, zero);
                        sum2 += Lanes512<T>.MaskLoad(at2 + kw, mask, zero);
                        sum3 += Lanes512<T>.MaskLoad(at3 + kw, mask, zero);
                    }
                }
            }
            StoreFourRows(output, ow, outWidth, Vector512.Load(divisors + ow), sum0, sum1, sum2, sum3);
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
}
