using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's path for channels-first 2-d max pooling with stride 1 and a centred window along rows at most
/// four vectors wide (GoogLeNet's 28-wide 3x3 p1, YOLO's 20-wide 5x5 p2), on AVX-512: two output rows at a time, each
/// input row their windows read is loaded once as whole vectors, the rows both windows hold reduced once into maxima
/// both rows take; each output row then takes its taps from its column maxima with valign, -inf past the row's ends.
/// </summary>
/// <remarks>
/// <para>Max is exact in any order, so the window's rows are reduced first and its columns second, and the two output
/// rows' windows share the maxima of their common rows' cells. Against the flat passes over the plane
/// (<see cref="FlatPlaneMax{T}"/>: a scratch plane of row maxima, then columns with per-lane masks) this keeps
/// everything in registers and needs no masks but the row's last vector's.</para>
/// <para>The maxima are <c>vmaxps</c> alone, with the loaded cells summed as a NaN check: a plane whose sum is NaN is
/// pooled again with the propagating maximum. Every result gets +0, as in every max kernel (see <see cref="MaxOp{T}"/>).</para>
/// </remarks>
internal static class NarrowRowsMax<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) => plan.IsMax && NarrowRows<T>.Fits(plan) && !NarrowRows<T>.DetourTakes(plan, ManyPlanes);

    /// <summary>Whether this path fits <paramref name="plan"/> but leaves it to the channels-last detour, which is faster there.</summary>
    public static bool LeavesToDetour(in PoolPlan plan) => plan.IsMax && NarrowRows<T>.Fits(plan) && NarrowRows<T>.DetourTakes(plan, ManyPlanes);

    /// <summary>
    /// Float calls on planes of at most 8 x 8 cells with this many planes or more go through channels last, which is
    /// faster there for every window (bench/notes.md).
    /// </summary>
    private const int ManyPlanes = 64;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount) =>
        NarrowRows<T>.Run<Pass>(plan, input, output, firstPlane, planeCount);

    private readonly struct Pass : INarrowRowsPass<T>
    {
        public static void Run<TReach, TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
            where TReach : ITapReach where TVectors : IConstantCount =>
            NarrowRowsMax<T>.Run<TReach, TVectors>(plan, input, output, firstPlane, planeCount);
    }

    private static unsafe void Run<TReach, TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TReach : ITapReach where TVectors : IConstantCount
    {
        AxisPlan height = plan.Height;
        int w = plan.Width.Length, h = height.Length, kernel = height.Kernel, padTop = height.PadBegin;
        int outHeight = height.Output, inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        var lastInside = Lanes512<T>.InsideMask((TVectors.Value - 1) * Lanes, w);
        fixed (T* source = input, target = output)
        {
            for (long p = firstPlane; p < firstPlane + planeCount; p++)
            {
                T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                // vmaxps alone, unless a loaded cell was NaN: then the plane again with the propagating maximum.
                if (!Plane<TReach, TVectors, UncheckedMax512>(plane, outputPlane, w, h, kernel, padTop, outHeight, lastInside))
                    Plane<TReach, TVectors, PropagatingMax512>(plane, outputPlane, w, h, kernel, padTop, outHeight, lastInside);
            }
        }
    }

    /// <summary>
    /// Pools one plane; false when <typeparamref name="TMax"/> needs a NaN check and a loaded cell may have been NaN
    /// (the sum of the loaded cells, -inf past the row's end, is NaN; +inf in the input can also make it so, which
    /// only costs the exact pass).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    private static unsafe bool Plane<TReach, TVectors, TMax>(T* plane, T* output, int w, int h, int kernel, int padTop, int outHeight, Vector512<T> lastInside)
        where TReach : ITapReach where TVectors : IConstantCount where TMax : IMax512
    {
        int count = TVectors.Value;
        var fill = Vector512.Create(T.NegativeInfinity);
        var loadedSum = Vector512<T>.Zero;
        int checkedEnd = 0; // the rows up to here are in loadedSum
        // Two output rows at a time, upper and lower: at stride 1 their windows span kernel + 1 rows, the first the
        // upper's alone, the last the lower's alone, those between shared and reduced once; rows outside the plane are -inf.
        for (int oh = 0; oh < outHeight; oh += 2, output += 2 * w)
        {
            int first = oh - padTop;
            LoadRow<TVectors, TMax>(plane, first, h, w, lastInside, fill, ref checkedEnd, ref loadedSum, out var upper0, out var upper1, out var upper2, out var upper3);
            Vector512<T> shared0 = fill, shared1 = fill, shared2 = fill, shared3 = fill;
            for (int ih = Math.Max(first + 1, 0), end = Math.Min(first + kernel, h); ih < end; ih++)
            {
                NarrowRows<T>.LoadRow<TVectors>(plane + (long)ih * w, lastInside, fill, out var cells0, out var cells1, out var cells2, out var cells3);
                CheckRow<TVectors, TMax>(ih, cells0, cells1, cells2, cells3, ref checkedEnd, ref loadedSum);
                shared0 = Lanes512<T>.Max<TMax>(shared0, cells0);
                if (count > 1) shared1 = Lanes512<T>.Max<TMax>(shared1, cells1);
                if (count > 2) shared2 = Lanes512<T>.Max<TMax>(shared2, cells2);
                if (count > 3) shared3 = Lanes512<T>.Max<TMax>(shared3, cells3);
            }
            StoreRow<TReach, TVectors, TMax>(output, lastInside, fill, WithShared<TVectors, TMax>(0, upper0, shared0), WithShared<TVectors, TMax>(1, upper1, shared1),
                WithShared<TVectors, TMax>(2, upper2, shared2), WithShared<TVectors, TMax>(3, upper3, shared3));
            if (oh + 1 < outHeight) // an odd last row goes alone
            {
                LoadRow<TVectors, TMax>(plane, first + kernel, h, w, lastInside, fill, ref checkedEnd, ref loadedSum, out var lower0, out var lower1, out var lower2, out var lower3);
                StoreRow<TReach, TVectors, TMax>(output + w, lastInside, fill, WithShared<TVectors, TMax>(0, lower0, shared0), WithShared<TVectors, TMax>(1, lower1, shared1),
                    WithShared<TVectors, TMax>(2, lower2, shared2), WithShared<TVectors, TMax>(3, lower3, shared3));
            }
        }
        return !TMax.NeedsNaNCheck || !Lanes512<T>.HasNaN(loadedSum);
    }

    /// <summary>Vector <paramref name="vector"/> of one window's own row with the shared rows' maxima; nothing for a vector past the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> WithShared<TVectors, TMax>(int vector, Vector512<T> own, Vector512<T> shared) where TVectors : IConstantCount where TMax : IMax512 =>
        vector < TVectors.Value ? Lanes512<T>.Max<TMax>(own, shared) : own;

    /// <summary>
    /// Input row <paramref name="row"/> as <typeparamref name="TVectors"/> vectors, -inf for a row outside the plane;
    /// a row not checked yet goes into <paramref name="loadedSum"/> when <typeparamref name="TMax"/> needs a NaN check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void LoadRow<TVectors, TMax>(T* plane, int row, int h, int w, Vector512<T> lastInside, Vector512<T> fill, ref int checkedEnd, ref Vector512<T> loadedSum,
        out Vector512<T> cells0, out Vector512<T> cells1, out Vector512<T> cells2, out Vector512<T> cells3) where TVectors : IConstantCount where TMax : IMax512
    {
        if ((uint)row >= (uint)h)
        {
            cells0 = cells1 = cells2 = cells3 = fill;
            return;
        }
        NarrowRows<T>.LoadRow<TVectors>(plane + (long)row * w, lastInside, fill, out cells0, out cells1, out cells2, out cells3);
        CheckRow<TVectors, TMax>(row, cells0, cells1, cells2, cells3, ref checkedEnd, ref loadedSum);
    }

    /// <summary>Adds input row <paramref name="row"/> to <paramref name="loadedSum"/> if <typeparamref name="TMax"/> needs a NaN check and the row is not in it yet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckRow<TVectors, TMax>(int row, Vector512<T> cells0, Vector512<T> cells1, Vector512<T> cells2, Vector512<T> cells3,
        ref int checkedEnd, ref Vector512<T> loadedSum) where TVectors : IConstantCount where TMax : IMax512
    {
        int count = TVectors.Value;
        if (TMax.NeedsNaNCheck && row >= checkedEnd)
        {
            // Each row once (the next pair loads some again), its vectors summed apart from the running sum: one
            // chained addition a row. On the FMA pipes, leaving the others to the maxima.
            var rowSum = count == 1 ? cells0 : Lanes512<T>.Add(cells0, cells1);
            if (count > 2) rowSum = Lanes512<T>.Add(rowSum, count > 3 ? Lanes512<T>.Add(cells2, cells3) : cells2);
            loadedSum = Lanes512<T>.Add(loadedSum, rowSum);
            checkedEnd = row + 1;
        }
    }

    /// <summary>One output row from its column maxima: each block's taps across the window's columns, then +0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow<TReach, TVectors, TMax>(T* output, Vector512<T> lastInside, Vector512<T> fill,
        Vector512<T> columns0, Vector512<T> columns1, Vector512<T> columns2, Vector512<T> columns3)
        where TReach : ITapReach where TVectors : IConstantCount where TMax : IMax512
    {
        int count = TVectors.Value;
        NarrowRows<T>.StoreBlock(output, 0, count, lastInside, AcrossColumns<TReach, TMax>(fill, columns0, count > 1 ? columns1 : fill));
        if (count > 1) NarrowRows<T>.StoreBlock(output, 1, count, lastInside, AcrossColumns<TReach, TMax>(columns0, columns1, count > 2 ? columns2 : fill));
        if (count > 2) NarrowRows<T>.StoreBlock(output, 2, count, lastInside, AcrossColumns<TReach, TMax>(columns1, columns2, count > 3 ? columns3 : fill));
        if (count > 3) NarrowRows<T>.StoreBlock(output, 3, count, lastInside, AcrossColumns<TReach, TMax>(columns2, columns3, fill));
    }

    /// <summary>The maximum over the window's columns for <paramref name="current"/>'s lanes, from it and its neighbours, +0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> AcrossColumns<TReach, TMax>(Vector512<T> previous, Vector512<T> current, Vector512<T> next)
        where TReach : ITapReach where TMax : IMax512
    {
        int r = TReach.Reach, lanes = Vector512<T>.Count;
        // Each shift a constant (valign takes it as an immediate), so the taps are written out.
        var left = Lanes512<T>.Shifted(current, previous, lanes - 1);
        var right = Lanes512<T>.Shifted(next, current, 1);
        if (r >= 2)
        {
            left = Lanes512<T>.Max<TMax>(left, Lanes512<T>.Shifted(current, previous, lanes - 2));
            right = Lanes512<T>.Max<TMax>(right, Lanes512<T>.Shifted(next, current, 2));
        }
        if (r >= 3)
        {
            left = Lanes512<T>.Max<TMax>(left, Lanes512<T>.Shifted(current, previous, lanes - 3));
            right = Lanes512<T>.Max<TMax>(right, Lanes512<T>.Shifted(next, current, 3));
        }
        return Lanes512<T>.PlusZero(Lanes512<T>.Max<TMax>(current, Lanes512<T>.Max<TMax>(left, right)));
    }
}
