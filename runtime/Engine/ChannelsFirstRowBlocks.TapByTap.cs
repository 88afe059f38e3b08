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
