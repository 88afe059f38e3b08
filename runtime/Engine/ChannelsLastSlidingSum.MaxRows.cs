using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The separable max's pass along a row of column maxima (<see cref="ChannelsLastPooling{T}.RunSeparableMax"/>) on the
/// sums' column-order steps: four cells a step, each column loaded once for every cell whose window holds it.
/// </summary>
internal static partial class ChannelsLastSlidingSum<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Whether <see cref="RunMaxRow"/> takes the rows of column maxima of the separable max
    /// (<see cref="ChannelsLastPooling{T}.RunSeparableMax"/>): AVX-512, a vector of channels or more, undilated windows of
    /// 2 to 9 columns at strides 2 to 4 (at stride 1 one flat reduction does the row), output rows of eight cells or more.
    /// </summary>
    public static bool TakesMaxRows(in PoolPlan plan)
    {
        AxisPlan width = plan.Width;
        return Lanes512<T>.IsSupported && plan.IsMax && width.Dilation == 1 && width.Kernel is >= 2 and <= 9 && width.Stride is >= 2 and <= 4
            && width.Output >= 8 && plan.Input.Channels >= Vector512<T>.Count;
    }

    /// <summary>
    /// The separable max's pass along one row (where <see cref="TakesMaxRows"/>): each output cell's maximum over its
    /// window's columns of <paramref name="columnMaxima"/> (the row of maxima down the window's rows), four cells a step
    /// in the column order <see cref="RunRow"/> averages in, each column loaded once for all the cells whose windows hold it.
    /// </summary>
    public static void RunMaxRow(in PoolPlan plan, ReadOnlySpan<T> columnMaxima, Span<T> outputRow)
    {
        ReadOnlySpan<int> inPlace = [0];
        RunRow<MaxOp<T>>(plan, columnMaxima, inPlace, default, outputRow);
    }

    /// <summary>
    /// One channel vector of four cells' maxima along a row of column maxima (the separable max's second pass), each
    /// input cell loaded once for the cells whose windows hold it. Four cells, not eight: with eight, the JIT's inlining
    /// budget ran out and some columns became calls. Not inlined itself, for the same reason as <see cref="PoolStep"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxStep<TColumns, TStride, TClipped>(T* row, int channels, int lo, int hi, T* to)
        where TColumns : IConstantCount where TStride : IConstantCount where TClipped : IConstantCount
    {
        Vector512<T> m0 = Vector512.Create(T.NegativeInfinity), m1 = m0, m2 = m0, m3 = m0;
        MaxColumns<TColumns, TStride, TClipped>(row, channels, lo, hi, ref m0, ref m1, ref m2, ref m3);
        // A zero maximum is +0 (see MaxOp).
        nint c = channels;
        (m0 + Vector512<T>.Zero).Store(to); (m1 + Vector512<T>.Zero).Store(to + c);
        (m2 + Vector512<T>.Zero).Store(to + 2 * c); (m3 + Vector512<T>.Zero).Store(to + 3 * c);
    }

    /// <summary>The row's 3 x stride + kw input cells of a max step, each loaded once (<see cref="AddRowToStep"/> for maxima of four cells).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MaxColumns<TColumns, TStride, TClipped>(T* row, nint c, int lo, int hi,
        ref Vector512<T> m0, ref Vector512<T> m1, ref Vector512<T> m2, ref Vector512<T> m3)
        where TColumns : IConstantCount where TStride : IConstantCount where TClipped : IConstantCount
    {
        MaxColumn<TColumns, TStride, TClipped>(row, c, 0, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 1, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 2, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 3, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 4, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 5, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 6, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 7, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 8, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 9, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 10, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 11, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 12, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 13, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 14, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 15, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 16, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 17, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 18, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 19, lo, hi, ref m0, ref m1, ref m2, ref m3);
        MaxColumn<TColumns, TStride, TClipped>(row, c, 20, lo, hi, ref m0, ref m1, ref m2, ref m3);
    }

    /// <summary>Input cell <paramref name="j"/> into the maxima of the step's cells whose windows hold it (<see cref="Column"/> for max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MaxColumn<TColumns, TStride, TClipped>(T* row, nint c, int j, int lo, int hi,
        ref Vector512<T> m0, ref Vector512<T> m1, ref Vector512<T> m2, ref Vector512<T> m3)
        where TColumns : IConstantCount where TStride : IConstantCount where TClipped : IConstantCount
    {
        int kw = TColumns.Value, s = TStride.Value;
        if (!StepReads<TColumns, TStride, TClipped>(j, 4, lo, hi)) return;
        var v = Vector512.Load(row + j * c);
        if ((uint)j < (uint)kw) m0 = Max(m0, v);
        if ((uint)(j - s) < (uint)kw) m1 = Max(m1, v);
        if ((uint)(j - 2 * s) < (uint)kw) m2 = Max(m2, v);
        if ((uint)(j - 3 * s) < (uint)kw) m3 = Max(m3, v);
    }

    /// <summary>The NaN-propagating maximum of <see cref="MaxOp{T}"/>, called directly: one inlining level less per column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Max(Vector512<T> left, Vector512<T> right) => typeof(T) == typeof(float)
        ? KernelLanes512.Max(left.As<T, float>(), right.As<T, float>()).As<float, T>()
        : KernelLanes512.Max(left.As<T, double>(), right.As<T, double>()).As<double, T>();
}
