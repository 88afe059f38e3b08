using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's path for channels-first 2-d max pooling on small planes, on AVX-512: 2x2 stride 2 on an even
/// width (VGG's late layers), and stride 1 with "same" width where <see cref="NarrowRowsMax{T}"/> does not take the
/// rows (wider than four vectors, or a window reaching further than 3 columns to a side). The horizontal pass runs over
/// the whole plane as one flat sequence of vectors, not row by row.
/// </summary>
/// <remarks>
/// <para>On a small plane a path that works row by row spends as much on each row's set-up as on its maxima. Here, max
/// being separable and exact in any order: the vertical pass takes, for every output row at once, the maximum of the
/// window's input rows (row r of the plane is cells <c>r * W</c> on, so window row kh is the flat offset
/// <c>(kh - padTop) * W</c>, one long contiguous loop for all the rows whose window lies inside the plane); the
/// horizontal pass then takes each output's maximum
/// over its columns from that scratch plane, at flat offsets <c>kw - padLeft</c>. A tap that would cross into the
/// neighbouring row is masked off by the lane's column, read from a table made once per call (see
/// <see cref="FlatColumns"/>).</para>
/// <para>The output width equals the input width (padLeft + padRight = kernel width - 1), so output cell q of the
/// plane sits at the same flat index q as the scratch cell it is computed from. The maxima are vmaxps alone; the
/// vertical pass sums the cells it loads, and a plane whose sum is NaN is pooled again with the propagating
/// maximum.</para>
/// </remarks>
internal static class FlatPlaneMax<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Planes up to this size take this path: the scratch plane and the input stay in L1 and L2.</summary>
    private const int MaxPlaneBytes = 16 * 1024;

    /// <summary>Windows one column wide on rows of at least this many cells go to the any-rank path.</summary>
    private const int OneColumnRowCells = 28;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan) => Fits(plan) && !DetourIsFaster(plan);

    /// <summary>Whether this path fits <paramref name="plan"/> but leaves it to the channels-last detour, which is faster there.</summary>
    public static bool LeavesToDetour(in PoolPlan plan) => Fits(plan) && DetourIsFaster(plan);

    private static bool Fits(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && plan.IsMax && plan.IsPlanar &&
        plan.Height.Dilation == 1 && plan.Width.Dilation == 1 && (IsSameStride1(plan) || IsPairs(plan)) &&
        (long)plan.InputPlane * Unsafe.SizeOf<T>() <= MaxPlaneBytes && !IsLongOneColumn(plan);

    /// <summary>
    /// Stride-1 windows on small planes that the channels-last detour (<see cref="ChannelsFirstViaChannelsLast{T}"/>)
    /// takes, where a full vector of channels per tap beat this path's flat passes: float planes of up to 400 cells but
    /// windows of at most 6 taps on planes over 100 cells with fewer than 64 planes, double planes of up to 196 cells;
    /// and float windows of 5 columns or more on any plane the detour takes (measurements in bench/notes.md).
    /// </summary>
    private static bool DetourIsFaster(in PoolPlan plan)
    {
        if (!IsSameStride1(plan) || !ChannelsFirstViaChannelsLast<T>.Applies(plan)) return false;
        int cells = plan.InputPlane;
        if (typeof(T) == typeof(double)) return cells <= DoubleDetourCells;
        if (ChannelsFirstViaChannelsLast<T>.IsWideSameStride1(plan.Height, plan.Width)) return true;
        return cells <= ChannelsFirstViaChannelsLast<T>.SmallPlaneCells &&
            (plan.Height.Kernel * plan.Width.Kernel > FewTaps || plan.Input.PlaneCount >= ManyPlanes || cells <= FewCells);
    }

    private const int DoubleDetourCells = 196, FewTaps = 6, ManyPlanes = 64, FewCells = 100;

    /// <summary>
    /// Windows one column wide on rows of <see cref="OneColumnRowCells"/> or more: this path's horizontal pass
    /// has nothing to do there, and the any-rank path's shared row maxima were faster (measurements in bench/notes.md).
    /// </summary>
    private static bool IsLongOneColumn(in PoolPlan plan) => plan.Width.Kernel == 1 && plan.Width.Length >= OneColumnRowCells;

    /// <summary>Stride 1 both ways, the output as wide as the input: output cell q of the plane is scratch cell q.</summary>
    private static bool IsSameStride1(in PoolPlan plan) =>
        plan.Height.Stride == 1 && plan.Width.Stride == 1 && plan.Width.Output == plan.Width.Length &&
        plan.Width.PadBegin < Lanes && plan.Width.Kernel - 1 - plan.Width.PadBegin < Lanes;

    /// <summary>
    /// 2x2 stride 2 without padding on an even width (VGG's, U-Net's, most CNNs' downsampling), every window whole:
    /// output cell k of the plane is the maximum of scratch cells 2k and 2k + 1. <see cref="FlatPairsAverage{T}"/>
    /// takes the same windows for average.
    /// </summary>
    internal static bool IsPairs(in PoolPlan plan) => plan.Height.IsPairs && plan.Width.IsPairs && plan.Width.Length % 2 == 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        int inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        // The scratch plane has a vector of margin before it and two after (the last, partial vector reads up to a
        // vector past the plane's end, plus its taps' reach), so that horizontal taps near the ends read memory that
        // exists; their lanes are masked off.
        int scratchPlane = plan.Height.Output * plan.Width.Length; // every output row's column maxima, input width
        // After it, for stride 1, the lanes' columns (see Horizontal): they repeat every lcm(w, Lanes) cells.
        int w = plan.Width.Length, columnCells = plan.Height.Stride == 1 ? FlatColumns.Period(w, Lanes) * Lanes : 0;
        T[] scratch = ScratchArrays<T>.Rent(scratchPlane + 4 * Lanes + columnCells); // a vector more to align it
        try
        {
            fixed (T* source = input, target = output, columnMaxima = scratch)
            {
                T* maxima = Lanes512<T>.Aligned(columnMaxima) + Lanes;
                T* columns = maxima + scratchPlane + 2 * Lanes;
                FlatColumns.Write(columns, columnCells, w);
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                    // vmaxps alone, unless the plane turns out to hold a NaN: then again with the propagating maximum.
                    if (!Plane<UncheckedMax512>(plan, plane, maxima, columns, outputPlane))
                        Plane<PropagatingMax512>(plan, plane, maxima, columns, outputPlane);
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(scratch);
        }
    }

    /// <summary>
    /// Pools one plane; false, with nothing written to <paramref name="output"/>, if <typeparamref name="TMax"/> needs a
    /// NaN check (<see cref="UncheckedMax512"/>) and the plane holds a NaN. The check is the sum of the cells the
    /// vertical pass loads anyway (a separate pass over the plane cost about a sixth of googlenet's time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe bool Plane<TMax>(in PoolPlan plan, T* plane, T* maxima, T* columns, T* output) where TMax : IMax512
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (height.Stride == 2) return Pairs<TMax>(plane, maxima, output, height.Output, width.Length);
        int w = width.Length, outHeight = height.Output;

        // Vertical: output rows whose window rows all lie inside the plane form one flat span; the others (at most the
        // padding's height at each end) go one row each, with only their inside rows.
        int firstInterior = Math.Min(outHeight, height.PadBegin);
        int lastInterior = Math.Min(outHeight, height.Length - height.Kernel + height.PadBegin + 1); // exclusive
        if (lastInterior < firstInterior) lastInterior = firstInterior;
        // The span's loads of its windows' first rows and of their last rows together cover the plane when the span
        // starts at input row 0, ends at the last, and has no gap between the two (at least kernel - 1 rows long).
        bool spanSeesPlane = firstInterior == height.PadBegin && lastInterior == height.Length - height.Kernel + height.PadBegin + 1 &&
            lastInterior - firstInterior >= height.Kernel - 1;
        if (TMax.NeedsNaNCheck && !spanSeesPlane && Lanes512<T>.ContainsNaN(plane, height.Length * w)) return false;
        for (int oh = 0; oh < firstInterior; oh++) VerticalRow<TMax>(plane, maxima, oh, w, height);
        var sum = Vector512<T>.Zero;
        if (lastInterior > firstInterior)
        {
            T* rows = plane + (long)(firstInterior - height.PadBegin) * w;
            sum = VerticalSpan<TMax>(rows, maxima + (long)firstInterior * w, (lastInterior - firstInterior) * w, w, height.Kernel);
        }
        if (TMax.NeedsNaNCheck && spanSeesPlane && !Vector512.EqualsAll(sum, sum)) return false; // NaN is unequal to itself
        for (int oh = lastInterior; oh < outHeight; oh++) VerticalRow<TMax>(plane, maxima, oh, w, height);

        int length = outHeight * w;
        // FlatColumns.KnownReach and Lanes512.HasNaN say the same as this switch and the checks above, but with them
        // the JIT compiled this method so that the pairs path ran slower: kept as written.
        bool centred = width.Kernel == 2 * width.PadBegin + 1;
        switch (centred ? width.PadBegin : 0)
        {
            case 1: Horizontal<TMax, Reach1>(maxima, columns, output, length, w, width.Kernel, width.PadBegin); break;
            case 2: Horizontal<TMax, Reach2>(maxima, columns, output, length, w, width.Kernel, width.PadBegin); break;
            case 3: Horizontal<TMax, Reach3>(maxima, columns, output, length, w, width.Kernel, width.PadBegin); break;
            default: Horizontal<TMax, AnyReach>(maxima, columns, output, length, w, width.Kernel, width.PadBegin); break;
        }
        return true;
    }

    /// <summary>
    /// 2x2 stride 2 (see <see cref="IsPairs"/>): each output row's two input rows into the scratch plane, then the
    /// whole scratch plane's even and odd cells at once, which on small planes beats the row-by-row path by far.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe bool Pairs<TMax>(T* plane, T* maxima, T* output, int outHeight, int w) where TMax : IMax512
    {
        int full = w - w % Lanes;
        var lastInside = Lanes512<T>.FirstLanes(w - full);
        var fill = Vector512.Create(T.NegativeInfinity);
        var sum = Vector512<T>.Zero; // of every cell: the windows tile the plane
        for (int oh = 0; oh < outHeight; oh++)
        {
            T* top = plane + (long)2 * oh * w, bottom = top + w, row = maxima + (long)oh * w;
            int i = 0;
            for (; i < full; i += Lanes) Vertical<TMax>(Vector512.Load(top + i), Vector512.Load(bottom + i), ref sum).Store(row + i);
            if (i < w) Lanes512<T>.MaskStore(row + i, lastInside, Vertical<TMax>(Lanes512<T>.MaskLoad(top + i, lastInside, fill), Lanes512<T>.MaskLoad(bottom + i, lastInside, fill), ref sum));
        }
        if (TMax.NeedsNaNCheck && !Vector512.EqualsAll(sum, sum)) return false;
        int length = outHeight * (w / 2), k = 0;
        for (; k <= length - Lanes; k += Lanes)
        {
            var low = Vector512.Load(maxima + 2 * k);
            var high = Vector512.Load(maxima + 2 * k + Lanes);
            (Lanes512<T>.Max<TMax>(Lanes512<T>.Even(low, high), Lanes512<T>.Odd(low, high)) + Vector512<T>.Zero).Store(output + k); // a zero maximum is +0 (see MaxOp)
        }
        if (k < length)
        {
            // The last, partial block: its loads reach past the scratch plane into the margin (lanes not stored).
            var low = Vector512.Load(maxima + 2 * k);
            var high = Vector512.Load(maxima + 2 * k + Lanes);
            Lanes512<T>.MaskStore(output + k, Lanes512<T>.FirstLanes(length - k), Lanes512<T>.Max<TMax>(Lanes512<T>.Even(low, high), Lanes512<T>.Odd(low, high)) + Vector512<T>.Zero);
        }
        return true;
    }

    /// <summary>The maximum of a window's two rows, adding both to <paramref name="sum"/> when the plane needs a NaN check.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Vertical<TMax>(Vector512<T> top, Vector512<T> bottom, ref Vector512<T> sum) where TMax : IMax512
    {
        if (TMax.NeedsNaNCheck) sum += top + bottom;
        return Lanes512<T>.Max<TMax>(top, bottom);
    }

    /// <summary>Output row <paramref name="oh"/>'s column maxima when its window is clipped by the plane's top or bottom.</summary>
    private static unsafe void VerticalRow<TMax>(T* plane, T* maxima, int oh, int w, in AxisPlan height) where TMax : IMax512
    {
        long start = height.WindowStart(oh);
        int first = (int)Math.Max(0, start), end = (int)Math.Min(height.Length, start + height.Kernel);
        if (end <= first)
        {
            new Span<T>(maxima + (long)oh * w, w).Fill(T.NegativeInfinity); // a window made only of padding
            return;
        }
        VerticalSpan<TMax>(plane + (long)first * w, maxima + (long)oh * w, w, w, end - first);
    }

    /// <summary>
    /// <c>maxima[i] = max over r in [0, rows) of source[i + r * w]</c> for i in [0, length): the vertical pass over
    /// a flat span, <paramref name="rows"/> taps a row apart. Returns, if <typeparamref name="TMax"/> needs a NaN
    /// check, the sum of the first and the last row's cells (each span cell's first and last tap).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe Vector512<T> VerticalSpan<TMax>(T* source, T* maxima, int length, int w, int rows) where TMax : IMax512
    {
        var firstSum = Vector512<T>.Zero;
        var lastSum = Vector512<T>.Zero;
        int i = 0;
        for (; i <= length - Lanes; i += Lanes)
        {
            T* at = source + i;
            var first = Vector512.Load(at);
            var acc = first;
            var tap = first;
            for (int r = 1; r < rows; r++)
            {
                tap = Vector512.Load(at + (long)r * w);
                acc = Lanes512<T>.Max<TMax>(acc, tap);
            }
            if (TMax.NeedsNaNCheck)
            {
                firstSum += first;
                lastSum += tap;
            }
            acc.Store(maxima + i);
        }
        if (i < length)
        {
            // The span's last cells: loads masked to the span (it may end at the plane's end), stores too.
            var inside = Lanes512<T>.FirstLanes(length - i);
            var fill = Vector512.Create(T.NegativeInfinity);
            T* at = source + i;
            var first = Lanes512<T>.MaskLoad(at, inside, fill);
            var acc = first;
            var tap = first;
            for (int r = 1; r < rows; r++)
            {
                tap = Lanes512<T>.MaskLoad(at + (long)r * w, inside, fill);
                acc = Lanes512<T>.Max<TMax>(acc, tap);
            }
            if (TMax.NeedsNaNCheck)
            {
                firstSum += first;
                lastSum += tap;
            }
            Lanes512<T>.MaskStore(maxima + i, inside, acc);
        }
        return firstSum + lastSum;
    }

    /// <summary>
    /// <c>output[q] = max over kw of maxima[q + kw - padLeft]</c>, over taps whose column stays inside the row, for q
    /// in [0, length): the horizontal pass over the whole scratch plane. Windows up to 7 wide and centred (3x3 p1,
    /// 5x5 p2, 7x7 p3) name their reach in <typeparamref name="TReach"/>, so the JIT unrolls the taps; others pass
    /// <see cref="AnyReach"/> and loop over them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Horizontal<TMax, TReach>(T* maxima, T* columns, T* output, int length, int w, int kernel, int padLeft)
        where TMax : IMax512 where TReach : ITapReach
    {
        // The lanes' columns repeat every lcm(w, Lanes) cells, so a table of that many vectors' columns, read in turn,
        // gives them at one load per vector (carrying them along cost a compare and a subtraction per wrap).
        int period = FlatColumns.Period(w, Lanes);
        // Tap j columns to the left is inside the row for lanes whose column is at least j; tap j to the right, for
        // lanes whose column is below w - j.
        int left = TReach.IsKnown ? TReach.Reach : padLeft;
        int right = TReach.IsKnown ? TReach.Reach : kernel - 1 - padLeft;
        Vector512<T>* leftBound = stackalloc Vector512<T>[Math.Max(1, left)];
        Vector512<T>* rightBound = stackalloc Vector512<T>[Math.Max(1, right)];
        FlatColumns.WriteBounds(leftBound, left, rightBound, right, w);
        var zero = Vector512<T>.Zero;
        int phase = 0;
        for (int q = 0; q < length; q += Lanes)
        {
            T* at = maxima + q;
            var column = Vector512.Load(columns + phase * Lanes);
            if (++phase == period) phase = 0;
            var acc = Vector512.Load(at); // the tap at the output's own column (padLeft < kernel)
            // Lanes whose tap would read the neighbouring row keep acc.
            if (TReach.IsKnown)
            {
                // The taps come from the aligned vectors before and after, shifted in (valign), not from loads that
                // would split a cache line.
                var centre = acc;
                var before = Vector512.Load(at - Lanes);
                var after = Vector512.Load(at + Lanes);
                acc = Masked<TMax>(acc, Vector512.GreaterThanOrEqual(column, leftBound[0]), Lanes512<T>.Shifted(centre, before, Lanes - 1));
                acc = Masked<TMax>(acc, Vector512.LessThan(column, rightBound[0]), Lanes512<T>.Shifted(after, centre, 1));
                if (TReach.Reach >= 2)
                {
                    acc = Masked<TMax>(acc, Vector512.GreaterThanOrEqual(column, leftBound[1]), Lanes512<T>.Shifted(centre, before, Lanes - 2));
                    acc = Masked<TMax>(acc, Vector512.LessThan(column, rightBound[1]), Lanes512<T>.Shifted(after, centre, 2));
                }
                if (TReach.Reach >= 3)
                {
                    acc = Masked<TMax>(acc, Vector512.GreaterThanOrEqual(column, leftBound[2]), Lanes512<T>.Shifted(centre, before, Lanes - 3));
                    acc = Masked<TMax>(acc, Vector512.LessThan(column, rightBound[2]), Lanes512<T>.Shifted(after, centre, 3));
                }
            }
            else
            {
                for (int j = 1; j <= left; j++) acc = Masked<TMax>(acc, Vector512.GreaterThanOrEqual(column, leftBound[j - 1]), Vector512.Load(at - j));
                for (int j = 1; j <= right; j++) acc = Masked<TMax>(acc, Vector512.LessThan(column, rightBound[j - 1]), Vector512.Load(at + j));
            }
            acc += zero; // a zero maximum is +0 (see MaxOp)
            if (q + Lanes <= length) acc.Store(output + q);
            else Lanes512<T>.MaskStore(output + q, Lanes512<T>.FirstLanes(length - q), acc);
        }
    }

    /// <summary>The maximum of <paramref name="acc"/> and <paramref name="tap"/> in the lanes of <paramref name="inside"/>; acc elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Masked<TMax>(Vector512<T> acc, Vector512<T> inside, Vector512<T> tap) where TMax : IMax512 =>
        Vector512.ConditionalSelect(inside, Lanes512<T>.Max<TMax>(acc, tap), acc);
}
