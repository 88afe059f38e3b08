using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's path for channels-first 2-d max pooling with stride 1 and a window reaching at most 3 columns
/// to each side, centred or not, along rows at most four vectors wide (GoogLeNet's 28-wide 3x3 p1, YOLO's 20-wide 5x5
/// p2, ONNX's 'same' padding of even windows), on AVX-512, with each input row loaded as whole vectors and reduced in
/// registers. Windows of up to 9 rows whose kept row maxima fit the registers slide down the plane as in the generated
/// kernels' register path: each output row loads the one row that enters its window, the maximum down the window comes
/// from a sparse table of row maxima, and the columns' taps from pairs of columns. Taller windows, or rows too wide for
/// that, go two output rows at a time, the rows both windows hold reduced once. Each output row takes its taps from its
/// column maxima with valign, -inf past the row's ends.
/// </summary>
/// <remarks>
/// <para>Max is exact in any order, so the window's rows are reduced first and its columns second, and consecutive
/// output rows share the maxima of their common rows. Against the flat passes over the plane
/// (<see cref="FlatPlaneMax{T}"/>: a scratch plane of row maxima, then columns with per-lane masks) this keeps
/// everything in registers and needs no masks but the row's last vector's.</para>
/// <para>The maxima are <c>vmaxps</c> alone, with the loaded cells summed as a NaN check: a plane whose sum is NaN is
/// pooled again with the propagating maximum. Every result gets +0, as in every max kernel (see <see cref="MaxOp{T}"/>).</para>
/// </remarks>
internal static class NarrowRowsMax<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) => plan.IsMax && Fits(plan) && !NarrowRows<T>.DetourTakes(plan, ManyPlanes);

    /// <summary>Whether this path fits <paramref name="plan"/> but leaves it to the channels-last detour, which is faster there.</summary>
    public static bool LeavesToDetour(in PoolPlan plan) => plan.IsMax && Fits(plan) && NarrowRows<T>.DetourTakes(plan, ManyPlanes);

    /// <summary>
    /// The narrow rows' shapes (<see cref="NarrowRows{T}.FitsRows"/>) with a window reaching at most 3 columns to each
    /// side of the output's column: centred, or off centre as ONNX's padding makes it for even widths.
    /// </summary>
    private static bool Fits(in PoolPlan plan) =>
        NarrowRows<T>.FitsRows(plan) && plan.Width.PadBegin <= MaxReach && plan.Width.Kernel - 1 - plan.Width.PadBegin <= MaxReach;

    private const int MaxReach = 3;

    /// <summary>
    /// Float calls on planes of at most 8 x 8 cells with this many planes or more go through channels last, which is
    /// faster there for every window (bench/notes.md).
    /// </summary>
    private const int ManyPlanes = 128;

    /// <summary>Runs the pass compiled for the window's reach to each side and the row's width in vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        int left = plan.Width.PadBegin, right = plan.Width.Kernel - 1 - left;
        switch (left)
        {
            case 0: Run<Count0>(plan, input, output, firstPlane, planeCount, right); break;
            case 1: Run<Count1>(plan, input, output, firstPlane, planeCount, right); break;
            case 2: Run<Count2>(plan, input, output, firstPlane, planeCount, right); break;
            default: Run<Count3>(plan, input, output, firstPlane, planeCount, right); break;
        }
    }

    private static void Run<TLeft>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount, int right)
        where TLeft : IConstantCount
    {
        switch (right)
        {
            case 0: NarrowRows<T>.Run<Pass<TLeft, Count0>>(plan, input, output, firstPlane, planeCount); break;
            case 1: NarrowRows<T>.Run<Pass<TLeft, Count1>>(plan, input, output, firstPlane, planeCount); break;
            case 2: NarrowRows<T>.Run<Pass<TLeft, Count2>>(plan, input, output, firstPlane, planeCount); break;
            default: NarrowRows<T>.Run<Pass<TLeft, Count3>>(plan, input, output, firstPlane, planeCount); break;
        }
    }

    /// <summary>The pass for a window reaching <typeparamref name="TLeft"/> columns to the left and <typeparamref name="TRight"/> to the right.</summary>
    private readonly struct Pass<TLeft, TRight> : INarrowRowsPass<T> where TLeft : IConstantCount where TRight : IConstantCount
    {
        public static void Run<TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
            where TVectors : IConstantCount =>
            NarrowRowsMax<T>.Run<TLeft, TRight, TVectors>(plan, input, output, firstPlane, planeCount);
    }

    private static unsafe void Run<TLeft, TRight, TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TLeft : IConstantCount where TRight : IConstantCount where TVectors : IConstantCount
    {
        AxisPlan height = plan.Height;
        int w = plan.Width.Length, h = height.Length, kernel = height.Kernel, padTop = height.PadBegin;
        int outHeight = height.Output, inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        var lastInside = Lanes512<T>.InsideMask((TVectors.Value - 1) * Lanes, w);
        fixed (T* source = input, target = output)
        {
            if (Slides(kernel, TVectors.Value))
            {
                switch (kernel)
                {
                    case 1: Slide<TLeft, TRight, TVectors, Count1>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                    case 2: Slide<TLeft, TRight, TVectors, Count2>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                    case 3: Slide<TLeft, TRight, TVectors, Count3>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                    case 4: Slide<TLeft, TRight, TVectors, Count4>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                    case 5: Slide<TLeft, TRight, TVectors, Count5>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                    case 6: Slide<TLeft, TRight, TVectors, Count6>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                    case 7: Slide<TLeft, TRight, TVectors, Count7>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                    case 8: Slide<TLeft, TRight, TVectors, Count8>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                    default: Slide<TLeft, TRight, TVectors, Count9>(source, target, firstPlane, planeCount, inPlane, outPlane, w, h, padTop, outHeight, lastInside); return;
                }
            }
            for (long p = firstPlane; p < firstPlane + planeCount; p++)
            {
                T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                // vmaxps alone, unless a loaded cell was NaN: then the plane again with the propagating maximum.
                if (!Plane<TLeft, TRight, TVectors, UncheckedMax512>(plane, outputPlane, w, h, kernel, padTop, outHeight, lastInside))
                    Plane<TLeft, TRight, TVectors, PropagatingMax512>(plane, outputPlane, w, h, kernel, padTop, outHeight, lastInside);
            }
        }
    }

    /// <summary>
    /// Whether the window slides down the plane with its rows' maxima in registers (<see cref="SlidePlane"/>): up to
    /// 9 rows, and rows of few enough vectors that the kept maxima (the window's rows less one, per vector) fit.
    /// </summary>
    private static bool Slides(int kernel, int vectors) => kernel <= 9 && vectors <= Math.Min(4, 16 / Math.Max(1, kernel - 1));

    private static unsafe void Slide<TLeft, TRight, TVectors, TRows>(T* source, T* target, long firstPlane, int planeCount, int inPlane, int outPlane,
        int w, int h, int padTop, int outHeight, Vector512<T> lastInside) where TLeft : IConstantCount where TRight : IConstantCount where TVectors : IConstantCount where TRows : IConstantCount
    {
        for (long p = firstPlane; p < firstPlane + planeCount; p++)
        {
            T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
            if (!SlidePlane<TLeft, TRight, TVectors, TRows, UncheckedMax512>(plane, outputPlane, w, h, padTop, outHeight, lastInside))
                SlidePlane<TLeft, TRight, TVectors, TRows, PropagatingMax512>(plane, outputPlane, w, h, padTop, outHeight, lastInside);
        }
    }

    /// <summary>
    /// Pools one plane by sliding the window down one row at a time: each output row loads the one row that enters its
    /// window, and the maximum down the window's rows comes from a sparse table of row maxima kept in registers
    /// (<see cref="Enter"/>). False as <see cref="Plane"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    private static unsafe bool SlidePlane<TLeft, TRight, TVectors, TRows, TMax>(T* plane, T* output, int w, int h, int padTop, int outHeight, Vector512<T> lastInside)
        where TLeft : IConstantCount where TRight : IConstantCount where TVectors : IConstantCount where TRows : IConstantCount where TMax : IMax512
    {
        int count = TVectors.Value, rows = TRows.Value;
        var fill = Vector512.Create(T.NegativeInfinity);
        var loadedSum = Vector512<T>.Zero;
        int checkedEnd = 0; // every row enters once: the NaN check takes it then
        // The kept row maxima of each of the row's vectors (see Enter); -inf until the first rows enter.
        Vector512<T> a1 = fill, a2 = fill, a3 = fill, a4 = fill, a5 = fill, a6 = fill, a7 = fill, a8 = fill;
        Vector512<T> b1 = fill, b2 = fill, b3 = fill, b4 = fill, b5 = fill, b6 = fill, b7 = fill, b8 = fill;
        Vector512<T> c1 = fill, c2 = fill, c3 = fill, c4 = fill, c5 = fill, c6 = fill, c7 = fill, c8 = fill;
        Vector512<T> d1 = fill, d2 = fill, d3 = fill, d4 = fill, d5 = fill, d6 = fill, d7 = fill, d8 = fill;
        // The first output row's window, but its last row, enters.
        for (int entering = -padTop; entering < rows - 1 - padTop; entering++)
        {
            LoadRow<TVectors, TMax>(plane, entering, h, w, lastInside, fill, ref checkedEnd, ref loadedSum, out var cells0, out var cells1, out var cells2, out var cells3);
            _ = Enter<TRows, TMax>(cells0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, ref a8);
            if (count > 1) _ = Enter<TRows, TMax>(cells1, ref b1, ref b2, ref b3, ref b4, ref b5, ref b6, ref b7, ref b8);
            if (count > 2) _ = Enter<TRows, TMax>(cells2, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7, ref c8);
            if (count > 3) _ = Enter<TRows, TMax>(cells3, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7, ref d8);
        }
        for (int oh = 0, entering = rows - 1 - padTop; oh < outHeight; oh++, entering++, output += w)
        {
            LoadRow<TVectors, TMax>(plane, entering, h, w, lastInside, fill, ref checkedEnd, ref loadedSum, out var cells0, out var cells1, out var cells2, out var cells3);
            var column0 = Enter<TRows, TMax>(cells0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, ref a8);
            var column1 = count > 1 ? Enter<TRows, TMax>(cells1, ref b1, ref b2, ref b3, ref b4, ref b5, ref b6, ref b7, ref b8) : fill;
            var column2 = count > 2 ? Enter<TRows, TMax>(cells2, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7, ref c8) : fill;
            var column3 = count > 3 ? Enter<TRows, TMax>(cells3, ref d1, ref d2, ref d3, ref d4, ref d5, ref d6, ref d7, ref d8) : fill;
            StoreRow<TLeft, TRight, TVectors, TMax>(output, lastInside, fill, column0, column1, column2, column3, columnPairs: true);
        }
        return !TMax.NeedsNaNCheck || !Lanes512<T>.HasNaN(loadedSum);
    }

    /// <summary>
    /// A row enters a window of <typeparamref name="TRows"/> rows; returns the maximum down the window's rows.
    /// </summary>
    /// <remarks>
    /// A sparse table, as the generated kernels keep it: level s holds the maximum of s consecutive rows, for s = 1, 2,
    /// 4 up to the top level, the largest power of two not above the window's height. An entering row adds one value to
    /// each level (level 2s from two values of level s, s rows apart), and the window's maximum is that of two values of
    /// the top level, which together cover its rows: log2(top) + 1 maxima a row instead of rows - 1. Each level keeps
    /// the values the next rows still combine, oldest first: s for a lower level (1 in <paramref name="level1"/>, 2 in
    /// level2a-b, 4 in level4a-d), rows - top for the top level (level2a, level4a-c or level8).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Enter<TRows, TMax>(Vector512<T> row, ref Vector512<T> level1, ref Vector512<T> level2a, ref Vector512<T> level2b,
        ref Vector512<T> level4a, ref Vector512<T> level4b, ref Vector512<T> level4c, ref Vector512<T> level4d, ref Vector512<T> level8)
        where TRows : IConstantCount where TMax : IMax512
    {
        int rows = TRows.Value, top = rows >= 8 ? 8 : rows >= 4 ? 4 : rows >= 2 ? 2 : 1, keptAtTop = rows - top;
        // The newest value of each level up to the top: the last is the top level's.
        var newest2 = top >= 2 ? Lanes512<T>.Max<TMax>(level1, row) : row;
        var newest4 = top >= 4 ? Lanes512<T>.Max<TMax>(level2a, newest2) : newest2;
        var newestTop = top >= 8 ? Lanes512<T>.Max<TMax>(level4a, newest4) : newest4;
        var oldestTop = top == 2 ? level2a : top == 4 ? level4a : level8;
        var column = keptAtTop == 0 ? newestTop : Lanes512<T>.Max<TMax>(oldestTop, newestTop);
        // The kept values move on by one.
        if (top > 1) level1 = row;
        if (top > 2) { level2a = level2b; level2b = newest2; }
        else if (keptAtTop > 0) level2a = newest2; // top 2: one kept
        if (top > 4) { level4a = level4b; level4b = level4c; level4c = level4d; level4d = newest4; }
        else if (top == 4 && keptAtTop > 0)
        {
            if (keptAtTop == 1) level4a = newest4;
            else if (keptAtTop == 2) { level4a = level4b; level4b = newest4; }
            else { level4a = level4b; level4b = level4c; level4c = newest4; }
        }
        if (top == 8 && keptAtTop > 0) level8 = newestTop;
        return column;
    }

    /// <summary>
    /// Pools one plane; false when <typeparamref name="TMax"/> needs a NaN check and a loaded cell may have been NaN
    /// (the sum of the loaded cells, -inf past the row's end, is NaN; +inf in the input can also make it so, which
    /// only costs the exact pass).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    private static unsafe bool Plane<TLeft, TRight, TVectors, TMax>(T* plane, T* output, int w, int h, int kernel, int padTop, int outHeight, Vector512<T> lastInside)
        where TLeft : IConstantCount where TRight : IConstantCount where TVectors : IConstantCount where TMax : IMax512
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
            StoreRow<TLeft, TRight, TVectors, TMax>(output, lastInside, fill, WithShared<TVectors, TMax>(0, upper0, shared0), WithShared<TVectors, TMax>(1, upper1, shared1),
                WithShared<TVectors, TMax>(2, upper2, shared2), WithShared<TVectors, TMax>(3, upper3, shared3), columnPairs: false);
            if (oh + 1 < outHeight) // an odd last row goes alone
            {
                LoadRow<TVectors, TMax>(plane, first + kernel, h, w, lastInside, fill, ref checkedEnd, ref loadedSum, out var lower0, out var lower1, out var lower2, out var lower3);
                StoreRow<TLeft, TRight, TVectors, TMax>(output + w, lastInside, fill, WithShared<TVectors, TMax>(0, lower0, shared0), WithShared<TVectors, TMax>(1, lower1, shared1),
                    WithShared<TVectors, TMax>(2, lower2, shared2), WithShared<TVectors, TMax>(3, lower3, shared3), columnPairs: false);
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

    /// <summary>
    /// One output row from its column maxima: each block's taps across the window's columns, then +0. With
    /// <paramref name="columnPairs"/> (a constant), windows of 5 or 7 columns take their taps in pairs (each column's
    /// maximum with the next, one valign and one maximum a vector), so two taps cost one valign and one maximum, as in the
    /// generated kernels; the pairs hold more registers, which the pass of two rows at a time does not have to spare.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow<TLeft, TRight, TVectors, TMax>(T* output, Vector512<T> lastInside, Vector512<T> fill,
        Vector512<T> columns0, Vector512<T> columns1, Vector512<T> columns2, Vector512<T> columns3, bool columnPairs)
        where TLeft : IConstantCount where TRight : IConstantCount where TVectors : IConstantCount where TMax : IMax512
    {
        int count = TVectors.Value;
        // Pairs pay from four columns, as in the generated kernels: for three, they would cost more than they save.
        if (TLeft.Value + TRight.Value + 1 < 4 || !columnPairs)
        {
            NarrowRows<T>.StoreBlock(output, 0, count, lastInside, AcrossColumns<TLeft, TRight, TMax>(fill, columns0, count > 1 ? columns1 : fill));
            if (count > 1) NarrowRows<T>.StoreBlock(output, 1, count, lastInside, AcrossColumns<TLeft, TRight, TMax>(columns0, columns1, count > 2 ? columns2 : fill));
            if (count > 2) NarrowRows<T>.StoreBlock(output, 2, count, lastInside, AcrossColumns<TLeft, TRight, TMax>(columns1, columns2, count > 3 ? columns3 : fill));
            if (count > 3) NarrowRows<T>.StoreBlock(output, 3, count, lastInside, AcrossColumns<TLeft, TRight, TMax>(columns2, columns3, fill));
            return;
        }
        // Lanes past the row hold -inf, and so do the blocks past it: a pair there holds its one column of the row.
        var next1 = count > 1 ? columns1 : fill;
        var next2 = count > 2 ? columns2 : fill;
        var next3 = count > 3 ? columns3 : fill;
        var pairs0 = PairsOf<TMax>(columns0, next1);
        var pairs1 = count > 1 ? PairsOf<TMax>(columns1, next2) : fill;
        var pairs2 = count > 2 ? PairsOf<TMax>(columns2, next3) : fill;
        var pairs3 = count > 3 ? PairsOf<TMax>(columns3, fill) : fill;
        var pairsBefore = Lanes512<T>.Shifted(columns0, fill, 1); // the pair of columns -1 and 0 in its last lane
        NarrowRows<T>.StoreBlock(output, 0, count, lastInside, AcrossPairs<TLeft, TRight, TMax>(pairsBefore, pairs0, pairs1, columns0, next1));
        if (count > 1) NarrowRows<T>.StoreBlock(output, 1, count, lastInside, AcrossPairs<TLeft, TRight, TMax>(pairs0, pairs1, pairs2, columns1, next2));
        if (count > 2) NarrowRows<T>.StoreBlock(output, 2, count, lastInside, AcrossPairs<TLeft, TRight, TMax>(pairs1, pairs2, pairs3, columns2, next3));
        if (count > 3) NarrowRows<T>.StoreBlock(output, 3, count, lastInside, AcrossPairs<TLeft, TRight, TMax>(pairs2, pairs3, fill, columns3, fill));
    }

    /// <summary>Lane i: the maximum of columns i and i + 1 of the block, the next block's first lane for the last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> PairsOf<TMax>(Vector512<T> columns, Vector512<T> next) where TMax : IMax512 =>
        Lanes512<T>.Max<TMax>(columns, Lanes512<T>.Shifted(next, columns, 1));

    /// <summary>
    /// The maximum over the window's columns for a block's lanes (lane i: columns i - left to i + right), from the column
    /// pairs of the block and its neighbours, pairs from the window's first column on, and the block's columns for a
    /// last column left over; +0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> AcrossPairs<TLeft, TRight, TMax>(Vector512<T> previousPairs, Vector512<T> pairs, Vector512<T> nextPairs, Vector512<T> columns, Vector512<T> nextColumns)
        where TLeft : IConstantCount where TRight : IConstantCount where TMax : IMax512
    {
        int left = TLeft.Value, right = TRight.Value;
        // The pairs start at columns i - left, i - left + 2, i - left + 4 while both their columns are in the window,
        // and an odd number of columns leaves the last, i + right, alone: at most three pairs and a column, for seven.
        // Every shift is a constant, so each tap is one valign with its immediate; the maxima are taken as a tree.
        bool second = 2 - left + 1 <= right, third = 4 - left + 1 <= right, single = (left + right) % 2 == 0;
        var first = PairsAt(-left, previousPairs, pairs, nextPairs);
        if (second) first = Lanes512<T>.Max<TMax>(first, PairsAt(2 - left, previousPairs, pairs, nextPairs));
        var last = right == 0 ? columns : Lanes512<T>.Shifted(nextColumns, columns, right);
        if (third) last = single ? Lanes512<T>.Max<TMax>(PairsAt(4 - left, previousPairs, pairs, nextPairs), last) : PairsAt(4 - left, previousPairs, pairs, nextPairs);
        return Lanes512<T>.PlusZero(third || single ? Lanes512<T>.Max<TMax>(first, last) : first);
    }

    /// <summary>Lane i: the pair of columns starting at i + <paramref name="offset"/> (a constant).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> PairsAt(int offset, Vector512<T> previousPairs, Vector512<T> pairs, Vector512<T> nextPairs) =>
        offset < 0 ? Lanes512<T>.Shifted(pairs, previousPairs, Vector512<T>.Count + offset)
        : offset == 0 ? pairs
        : Lanes512<T>.Shifted(nextPairs, pairs, offset);

    /// <summary>The maximum over the window's columns for <paramref name="current"/>'s lanes, from it and its neighbours, +0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> AcrossColumns<TLeft, TRight, TMax>(Vector512<T> previous, Vector512<T> current, Vector512<T> next)
        where TLeft : IConstantCount where TRight : IConstantCount where TMax : IMax512
    {
        int left = TLeft.Value, right = TRight.Value, lanes = Vector512<T>.Count;
        // Each shift a constant (valign takes it as an immediate), so the taps are written out; the taps to the left and
        // to the right make two chains of maxima, joined at the end.
        var leftTaps = left >= 1 ? Lanes512<T>.Shifted(current, previous, lanes - 1) : current;
        var rightTaps = right >= 1 ? Lanes512<T>.Shifted(next, current, 1) : current;
        if (left >= 2) leftTaps = Lanes512<T>.Max<TMax>(leftTaps, Lanes512<T>.Shifted(current, previous, lanes - 2));
        if (right >= 2) rightTaps = Lanes512<T>.Max<TMax>(rightTaps, Lanes512<T>.Shifted(next, current, 2));
        if (left >= 3) leftTaps = Lanes512<T>.Max<TMax>(leftTaps, Lanes512<T>.Shifted(current, previous, lanes - 3));
        if (right >= 3) rightTaps = Lanes512<T>.Max<TMax>(rightTaps, Lanes512<T>.Shifted(next, current, 3));
        var result = left >= 1 && right >= 1 ? Lanes512<T>.Max<TMax>(current, Lanes512<T>.Max<TMax>(leftTaps, rightTaps))
            : left >= 1 ? Lanes512<T>.Max<TMax>(current, leftTaps)
            : right >= 1 ? Lanes512<T>.Max<TMax>(current, rightTaps)
            : current;
        return Lanes512<T>.PlusZero(result);
    }
}
