using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>Which of two output rows a window row feeds, as a type: each combination compiles to its own additions.</summary>
internal interface IOutputRows
{
    static abstract bool Upper { get; }
    static abstract bool Lower { get; }
}

internal readonly struct UpperRow : IOutputRows { public static bool Upper => true; public static bool Lower => false; }
internal readonly struct LowerRow : IOutputRows { public static bool Upper => false; public static bool Lower => true; }
internal readonly struct BothRows : IOutputRows { public static bool Upper => true; public static bool Lower => true; }

/// <summary>
/// The general engine's path for channels-first 2-d average pooling with stride 1 and a centred window along rows at
/// most four vectors wide (Inception's 35-wide 3x3 p1), on AVX-512: two output rows at a time, each input row their
/// windows read is loaded once as whole vectors, and every tap is a valign of neighbouring vectors (zero vectors beyond
/// the row's ends), made once for both output rows. 3x3 windows on rows of up to three vectors go to
/// <see cref="NarrowRowsAverage3x3{T}"/>, which keeps every tap in registers.
/// </summary>
/// <remarks>
/// <para>The plane is read in place, without per-lane masks: taps past a row's end come from the zero vectors (or the
/// masked load of the row's last vector), and rows outside the input are skipped. Both add +0 where
/// PyTorch skips a padding cell, which leaves a sum started at +0 unchanged, so the bits are the same. Two output rows
/// at a time, a 3x3 window's four input rows serve both, which halves the valigns (they share pipes with the
/// additions).</para>
/// <para>The sums run in PyTorch's order, from +0, row by row, tap by tap; each output then divides by its own
/// divisor from a table made once per call.</para>
/// </remarks>
internal static class NarrowRowsAverage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) => !plan.IsMax && NarrowRows<T>.Fits(plan) && !DetourIsFaster(plan);

    /// <summary>Whether this path fits <paramref name="plan"/> but leaves it to the channels-last detour, which is faster there.</summary>
    public static bool LeavesToDetour(in PoolPlan plan) => !plan.IsMax && NarrowRows<T>.Fits(plan) && DetourIsFaster(plan);

    /// <summary>
    /// Float windows of three rows or more, other than 3x3, on planes of at most 8 x 8 cells, 128 planes or more, go
    /// through channels last, which is faster there (bench/notes.md).
    /// </summary>
    private static bool DetourIsFaster(in PoolPlan plan) =>
        plan.Height.Kernel >= 3 && plan.Height.Kernel * plan.Width.Kernel > 9 && NarrowRows<T>.DetourTakes(plan, ManyPlanes);

    /// <summary>The fewest planes <see cref="DetourIsFaster"/> considers: four groups of channels-last vectors.</summary>
    private const int ManyPlanes = 128;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        switch (FlatColumns.KnownReach(plan.Width))
        {
            case 1: NarrowRows<T>.Run<Pass<Reach1>>(plan, input, output, firstPlane, planeCount); break;
            case 2: NarrowRows<T>.Run<Pass<Reach2>>(plan, input, output, firstPlane, planeCount); break;
            default: NarrowRows<T>.Run<Pass<Reach3>>(plan, input, output, firstPlane, planeCount); break;
        }
    }

    /// <summary>The pass for a centred window of <typeparamref name="TReach"/>.</summary>
    private readonly struct Pass<TReach> : INarrowRowsPass<T> where TReach : ITapReach
    {
        public static void Run<TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
            where TVectors : IConstantCount =>
            NarrowRowsAverage<T>.Run<TReach, TVectors>(plan, input, output, firstPlane, planeCount);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Run<TReach, TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TReach : ITapReach where TVectors : IConstantCount
    {
        if (NarrowRowsAverage3x3<T>.Takes<TReach, TVectors>(plan))
        {
            NarrowRowsAverage3x3<T>.Run<TVectors>(plan, input, output, firstPlane, planeCount);
            return;
        }
        AxisPlan height = plan.Height;
        int w = plan.Width.Length, outHeight = height.Output, inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        int rowCells = TVectors.Value * Lanes;
        // One divisor per output cell, rows padded to whole vectors (with 1, never stored).
        T[] divisors = ScratchArrays<T>.Rent(outHeight * rowCells + Lanes);
        int[] firstRows = ScratchArrays<int>.Rent(outHeight), rowCounts = ScratchArrays<int>.Rent(outHeight);
        try
        {
            height.WriteInsideWindows(firstRows, rowCounts);
            var lastInside = Lanes512<T>.InsideMask((TVectors.Value - 1) * Lanes, w);
            fixed (T* source = input, target = output, divisorTable = divisors)
            fixed (int* windowFirst = firstRows, windowRows = rowCounts)
            {
                plan.WritePlaneDivisors(divisorTable, rowCells);
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputRow = target + p * outPlane;
                    T* divisorRow = divisorTable;
                    // Two output rows at a time: the input rows their windows share make their taps once for both.
                    for (int oh = 0; oh < outHeight; oh += 2, outputRow += 2 * w, divisorRow += 2 * rowCells)
                    {
                        Vector512<T> upper0 = Vector512<T>.Zero, upper1 = upper0, upper2 = upper0, upper3 = upper0; // PyTorch's order: from +0
                        Vector512<T> lower0 = upper0, lower1 = upper0, lower2 = upper0, lower3 = upper0;
                        var pair = new OutputRowPair(windowFirst, windowRows, oh, outHeight);
                        for (int ih = pair.First, end = pair.End; ih < end; ih++)
                        {
                            T* row = plane + (long)ih * w;
                            bool upper = pair.InUpper(ih), lower = pair.InLower(ih);
                            if (upper && lower)
                                AddRow<TReach, TVectors, BothRows>(row, lastInside, ref upper0, ref upper1, ref upper2, ref upper3, ref lower0, ref lower1, ref lower2, ref lower3);
                            else if (upper)
                                AddRow<TReach, TVectors, UpperRow>(row, lastInside, ref upper0, ref upper1, ref upper2, ref upper3, ref lower0, ref lower1, ref lower2, ref lower3);
                            else if (lower)
                                AddRow<TReach, TVectors, LowerRow>(row, lastInside, ref upper0, ref upper1, ref upper2, ref upper3, ref lower0, ref lower1, ref lower2, ref lower3);
                        }
                        Store<TVectors>(outputRow, divisorRow, lastInside, upper0, upper1, upper2, upper3);
                        if (pair.HasLower) Store<TVectors>(outputRow + w, divisorRow + rowCells, lastInside, lower0, lower1, lower2, lower3);
                    }
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(divisors);
            ScratchArrays<int>.Return(firstRows);
            ScratchArrays<int>.Return(rowCounts);
        }
    }

    /// <summary>
    /// Adds one window row's taps, left to right, to each block's sum of the upper output row, of the lower one, or of
    /// both (<typeparamref name="TRows"/>): the row's vectors are loaded once, each tap is made once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddRow<TReach, TVectors, TRows>(T* row, Vector512<T> lastInside,
        ref Vector512<T> upper0, ref Vector512<T> upper1, ref Vector512<T> upper2, ref Vector512<T> upper3,
        ref Vector512<T> lower0, ref Vector512<T> lower1, ref Vector512<T> lower2, ref Vector512<T> lower3)
        where TReach : ITapReach where TVectors : IConstantCount where TRows : IOutputRows
    {
        int count = TVectors.Value;
        var zero = Vector512<T>.Zero; // past the row's end: adding +0 to a sum started at +0 changes nothing
        NarrowRows<T>.LoadRow<TVectors>(row, lastInside, zero, out var cells0, out var cells1, out var cells2, out var cells3);
        AddTaps<TReach, TRows>(ref upper0, ref lower0, zero, cells0, cells1);
        if (count > 1) AddTaps<TReach, TRows>(ref upper1, ref lower1, cells0, cells1, cells2);
        if (count > 2) AddTaps<TReach, TRows>(ref upper2, ref lower2, cells1, cells2, cells3);
        if (count > 3) AddTaps<TReach, TRows>(ref upper3, ref lower3, cells2, cells3, zero);
    }

    /// <summary>Adds the taps of <paramref name="current"/>'s cells, left to right, made from it and its neighbours.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTaps<TReach, TRows>(ref Vector512<T> upper, ref Vector512<T> lower, Vector512<T> previous, Vector512<T> current, Vector512<T> next)
        where TReach : ITapReach where TRows : IOutputRows
    {
        int r = TReach.Reach, lanes = Vector512<T>.Count;
        // Each shift a constant (valign takes it as an immediate), so the taps are written out.
        if (r >= 3) Add<TRows>(ref upper, ref lower, Lanes512<T>.Shifted(current, previous, lanes - 3));
        if (r >= 2) Add<TRows>(ref upper, ref lower, Lanes512<T>.Shifted(current, previous, lanes - 2));
        Add<TRows>(ref upper, ref lower, Lanes512<T>.Shifted(current, previous, lanes - 1));
        Add<TRows>(ref upper, ref lower, current);
        Add<TRows>(ref upper, ref lower, Lanes512<T>.Shifted(next, current, 1));
        if (r >= 2) Add<TRows>(ref upper, ref lower, Lanes512<T>.Shifted(next, current, 2));
        if (r >= 3) Add<TRows>(ref upper, ref lower, Lanes512<T>.Shifted(next, current, 3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add<TRows>(ref Vector512<T> upper, ref Vector512<T> lower, Vector512<T> tap) where TRows : IOutputRows
    {
        if (TRows.Upper) upper += tap;
        if (TRows.Lower) lower += tap;
    }

    /// <summary>Divides each block's sum by its cells' divisors and stores the cells inside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Store<TVectors>(T* output, T* divisors, Vector512<T> lastInside,
        Vector512<T> sum0, Vector512<T> sum1, Vector512<T> sum2, Vector512<T> sum3) where TVectors : IConstantCount
    {
        int count = TVectors.Value;
        StoreBlock(output, divisors, 0, count, lastInside, sum0);
        if (count > 1) StoreBlock(output, divisors, 1, count, lastInside, sum1);
        if (count > 2) StoreBlock(output, divisors, 2, count, lastInside, sum2);
        if (count > 3) StoreBlock(output, divisors, 3, count, lastInside, sum3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreBlock(T* output, T* divisors, int block, int count, Vector512<T> lastInside, Vector512<T> sum) =>
        NarrowRows<T>.StoreBlock(output, block, count, lastInside, sum / Vector512.Load(divisors + block * Lanes));
}
