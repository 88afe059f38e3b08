using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// Reduces a run of consecutive output rows of a 2-d channels-first plane together instead of one
/// <see cref="VectorOps{T}.Reduce"/> call per row: rows whose windows lie wholly inside the input on the height axis read
/// the same taps, each one input-row step further on. A narrow row alone is one or two vectors, each a chain of
/// dependent operations as long as the window; a run of rows keeps four vectors in flight.
/// </summary>
/// <remarks>
/// Every output cell still takes its taps in the same order, so the bits are those of the row-by-row loop. One flat call
/// also computes the cells between one output row's end and the next row's start, which are dropped: worth it while the
/// rows are not much further apart than they are wide. With AVX-512 the rows' vectors are reduced where they lie
/// (<see cref="SpacedRows"/>) unless flat computes clearly fewer cells than those vectors hold.
/// </remarks>
internal static class InteriorRowBatch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// How many output rows from <paramref name="oh"/> on have every window row inside the input: 0 unless the plane
    /// is 2-d and there are at least two such rows, and, without AVX-512, rows lie at most four times
    /// <paramref name="outWidth"/> cells apart (<paramref name="step"/> cells in the reduced source).
    /// </summary>
    public static int RunLength(in PoolPlan plan, in AxisWindows heightWindows, int oh, int step, int outWidth)
    {
        if (!plan.IsPlanar || (step > 4 * outWidth && !Lanes512<T>.IsSupported)) return 0;
        int kernel = plan.Height.Kernel, end = oh;
        while (end < plan.Height.Output && heightWindows[end] == (0, kernel)) end++;
        return end - oh >= 2 ? end - oh : 0;
    }

    /// <summary>
    /// Output rows <c>0 .. rowCount</c> of <paramref name="output"/> (each <paramref name="outWidth"/> cells, one after
    /// the other) from taps <paramref name="firstRowOffsets"/> of the first row, the next row's taps
    /// <paramref name="step"/> cells further on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Reduce<TOp>(ReadOnlySpan<T> source, ReadOnlySpan<int> firstRowOffsets, int step, int rowCount, int outWidth,
        Span<T> output, bool startFromZero) where TOp : ILaneOp<T>
    {
        int span = (rowCount - 1) * step + outWidth;
        if (step == outWidth)
        {
            VectorOps<T>.Reduce<TOp>(source, firstRowOffsets, output[..span], startFromZero);
            return;
        }
        if (Lanes512<T>.IsSupported && !FlatIsNarrower(step, outWidth))
        {
            // The rows whose vector reads stay inside the source together, any left one by one.
            for (int row = SpacedRows.Reduce<TOp>(source, firstRowOffsets, step, rowCount, outWidth, output, startFromZero); row < rowCount; row++)
                VectorOps<T>.Reduce<TOp>(source[(row * step)..], firstRowOffsets, output.Slice(row * outWidth, outWidth), startFromZero);
            return;
        }
        T[] scratch = ScratchArrays<T>.Rent(span);
        try
        {
            VectorOps<T>.Reduce<TOp>(source, firstRowOffsets, scratch.AsSpan(0, span), startFromZero);
            for (int r = 0; r < rowCount; r++)
                scratch.AsSpan(r * step, outWidth).CopyTo(output.Slice(r * outWidth, outWidth));
        }
        finally
        {
            ScratchArrays<T>.Return(scratch);
        }
    }

    /// <summary>
    /// Whether one flat reduction, which computes <paramref name="step"/> cells per row (the gap to the next row's start
    /// included), is clearly narrower than each row's own vectors (a row of 17-19 outputs at width stride 3 takes two).
    /// </summary>
    private static bool FlatIsNarrower(int step, int outWidth)
    {
        int lanes = Vector512<T>.Count, rowLanes = (outWidth + lanes - 1) / lanes * lanes; // a row of outWidth >= 1 cells
        return step + lanes / 4 <= rowLanes;
    }

    /// <summary>
    /// AVX-512: each output row's vectors (the last one overlapping the one before, or one masked vector for a row
    /// narrower than a vector) reduced where the row's taps lie, four vectors of any rows at a time. Each lane takes
    /// its taps in the order <see cref="VectorOps{T}.Reduce"/> does, so the bits are the same.
    /// </summary>
    private static class SpacedRows
    {
        private static int Count => Vector512<T>.Count;

        /// <summary>Reduces the rows from 0 on whose vector reads stay inside <paramref name="source"/>; returns how many.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe int Reduce<TOp>(ReadOnlySpan<T> source, ReadOnlySpan<int> offsets, int step, int rowCount, int outWidth,
            Span<T> output, bool startFromZero) where TOp : ILaneOp<T>
        {
            if (offsets.IsEmpty || output.Length < (long)rowCount * outWidth) return 0;
            int maxOffset = 0;
            foreach (int offset in offsets)
            {
                if (offset < 0) return 0;
                maxOffset = Math.Max(maxOffset, offset);
            }
            long room = (long)source.Length - maxOffset - Math.Max(outWidth, Count);
            int rows = room < 0 ? 0 : (int)Math.Min(rowCount, room / step + 1);
            int perRow = outWidth < Count ? 1 : (outWidth + Count - 1) / Count, lastBlock = Math.Max(outWidth - Count, 0);
            bool masked = outWidth < Count;
            var storeMask = Lanes512<T>.FirstLanes(outWidth);
            int units = rows * perRow, taps = offsets.Length;
            fixed (T* src = source)
            fixed (T* dst = output)
            fixed (int* tap = offsets)
            {
                int u = 0;
                for (; u <= units - 4; u += 4)
                {
                    var (in0, out0) = Place(u, perRow, step, outWidth, lastBlock);
                    var (in1, out1) = Place(u + 1, perRow, step, outWidth, lastBlock);
                    var (in2, out2) = Place(u + 2, perRow, step, outWidth, lastBlock);
                    var (in3, out3) = Place(u + 3, perRow, step, outWidth, lastBlock);
                    T* at = src + tap[0];
                    var acc0 = Vector512.Load(at + in0);
                    var acc1 = Vector512.Load(at + in1);
                    var acc2 = Vector512.Load(at + in2);
                    var acc3 = Vector512.Load(at + in3);
                    if (startFromZero)
                    {
                        acc0 = Vector512<T>.Zero + acc0; acc1 = Vector512<T>.Zero + acc1;
                        acc2 = Vector512<T>.Zero + acc2; acc3 = Vector512<T>.Zero + acc3;
                    }
                    for (int t = 1; t < taps; t++)
                    {
                        at = src + tap[t];
                        acc0 = TOp.Apply(acc0, Vector512.Load(at + in0));
                        acc1 = TOp.Apply(acc1, Vector512.Load(at + in1));
                        acc2 = TOp.Apply(acc2, Vector512.Load(at + in2));
                        acc3 = TOp.Apply(acc3, Vector512.Load(at + in3));
                    }
                    Store<TOp>(acc0, dst + out0, masked, storeMask);
                    Store<TOp>(acc1, dst + out1, masked, storeMask);
                    Store<TOp>(acc2, dst + out2, masked, storeMask);
                    Store<TOp>(acc3, dst + out3, masked, storeMask);
                }
                for (; u < units; u++)
                {
                    var (in0, out0) = Place(u, perRow, step, outWidth, lastBlock);
                    var acc = Vector512.Load(src + tap[0] + in0);
                    if (startFromZero) acc = Vector512<T>.Zero + acc;
                    for (int t = 1; t < taps; t++)
                        acc = TOp.Apply(acc, Vector512.Load(src + tap[t] + in0));
                    Store<TOp>(acc, dst + out0, masked, storeMask);
                }
            }
            return rows;
        }

        /// <summary>Where vector <paramref name="unit"/> (row by row, <paramref name="perRow"/> to a row) reads its first tap and stores.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static (nint In, nint Out) Place(int unit, int perRow, int step, int outWidth, int lastBlock)
        {
            int row = unit / perRow, column = Math.Min((unit - row * perRow) * Count, lastBlock);
            return (row * step + column, row * outWidth + column);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Store<TOp>(Vector512<T> value, T* target, bool masked, Vector512<T> mask) where TOp : ILaneOp<T>
        {
            if (typeof(TOp) == typeof(MaxOp<T>)) value += Vector512<T>.Zero; // a zero maximum is +0 (see MaxOp)
            if (masked) Lanes512<T>.MaskStore(target, mask, value);
            else Vector512.Store(value, target);
        }
    }
}
