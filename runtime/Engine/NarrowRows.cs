using System;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// A pass over planes whose rows are at most <see cref="NarrowRows{T}.MaxRowVectors"/> vectors, compiled for a known
/// window reach and row width in vectors (<see cref="NarrowRowsAverage{T}"/>, <see cref="NarrowRowsMax{T}"/>).
/// </summary>
internal interface INarrowRowsPass<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract void Run<TReach, TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TReach : ITapReach where TVectors : IConstantCount;
}

/// <summary>
/// What the narrow-row paths share: which calls they take (2-d, stride 1, a centred window along rows of at most four
/// vectors, on AVX-512), the dispatch to a pass compiled for the window's reach and the row's vectors, and each output
/// row's window rows.
/// </summary>
internal static class NarrowRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The widest row these paths take, in vectors.</summary>
    public const int MaxRowVectors = 4;

    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether <paramref name="plan"/>'s windows and rows fit these paths on this machine (max or average alike).</summary>
    public static bool Fits(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        return Lanes512<T>.IsSupported && plan.IsPlanar &&
            height.Stride == 1 && height.Dilation == 1 && width.Stride == 1 && width.Dilation == 1 &&
            FlatColumns.KnownReach(width) > 0 && width.Output == width.Length &&
            width.Length <= MaxRowVectors * Lanes;
    }

    /// <summary>Runs <typeparamref name="TPass"/> compiled for the plan's window reach and row width in vectors.</summary>
    public static void Run<TPass>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TPass : INarrowRowsPass<T>
    {
        int vectors = (plan.Width.Length + Lanes - 1) / Lanes;
        switch (FlatColumns.KnownReach(plan.Width))
        {
            case 1: Run<TPass, Reach1>(plan, input, output, firstPlane, planeCount, vectors); break;
            case 2: Run<TPass, Reach2>(plan, input, output, firstPlane, planeCount, vectors); break;
            default: Run<TPass, Reach3>(plan, input, output, firstPlane, planeCount, vectors); break;
        }
    }

    private static void Run<TPass, TReach>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount, int vectors)
        where TPass : INarrowRowsPass<T> where TReach : ITapReach
    {
        switch (vectors)
        {
            case 1: TPass.Run<TReach, Count1>(plan, input, output, firstPlane, planeCount); break;
            case 2: TPass.Run<TReach, Count2>(plan, input, output, firstPlane, planeCount); break;
            case 3: TPass.Run<TReach, Count3>(plan, input, output, firstPlane, planeCount); break;
            default: TPass.Run<TReach, Count4>(plan, input, output, firstPlane, planeCount); break;
        }
    }

    /// <summary>Each output row's first input row inside the input and how many of its window's rows are (rows in the padding are skipped).</summary>
    public static void WindowRows(in AxisPlan height, int[] firstRows, int[] rowCounts)
    {
        for (int oh = 0; oh < height.Output; oh++)
        {
            var (first, end) = height.InsideTaps(oh);
            firstRows[oh] = (int)(height.WindowStart(oh) + first);
            rowCounts[oh] = Math.Max(0, end - first);
        }
    }
}
