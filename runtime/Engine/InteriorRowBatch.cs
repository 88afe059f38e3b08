using System;
using System.Numerics;

namespace KernelGen.Engine;

/// <summary>
/// Reduces a run of consecutive output rows of a 2-d channels-first plane in one <see cref="VectorOps{T}.Reduce"/>
/// call instead of one call per row: rows whose windows lie wholly inside the input on the height axis read the same
/// taps, each one input-row step further on. A narrow row alone is one or two vectors, each a chain of dependent
/// operations as long as the window; a run of rows keeps four vectors in flight.
/// </summary>
/// <remarks>
/// Every output cell still takes its taps in the same order, so the bits are those of the row-by-row loop. The call
/// also computes the cells between one output row's end and the next row's start, which are dropped: worth it only while
/// the rows are not much further apart than they are wide.
/// </remarks>
internal static class InteriorRowBatch<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// How many output rows from <paramref name="oh"/> on have every window row
    /// inside the input: 0 unless the plane is 2-d, there are at least two such rows, and rows lie at most four times
    /// <paramref name="outWidth"/> cells apart (<paramref name="step"/> cells in the reduced source).
    /// </summary>
    public static int RunLength(in PoolPlan plan, in AxisWindows heightWindows, int oh, int step, int outWidth)
    {
        if (!plan.IsPlanar || step > 4 * outWidth) return 0;
        int kernel = plan.Height.Kernel, end = oh;
        while (end < plan.Height.Output && heightWindows[end] == (0, kernel)) end++;
        return end - oh >= 2 ? end - oh : 0;
    }

    /// <summary>
    /// Output rows <c>0 .. rowCount</c> of <paramref name="output"/> (each <paramref name="outWidth"/> cells, one after
    /// the other) from taps <paramref name="firstRowOffsets"/> of the first row, the next row's taps
    /// <paramref name="step"/> cells further on.
    /// </summary>
    public static void Reduce<TOp>(ReadOnlySpan<T> source, ReadOnlySpan<int> firstRowOffsets, int step, int rowCount, int outWidth,
        Span<T> output, bool startFromZero) where TOp : ILaneOp<T>
    {
        int span = (rowCount - 1) * step + outWidth;
        if (step == outWidth)
        {
            VectorOps<T>.Reduce<TOp>(source, firstRowOffsets, output[..span], startFromZero);
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
}
