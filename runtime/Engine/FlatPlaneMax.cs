using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's path for channels-first 2-d max pooling on small planes, on AVX-512, with stride 1 and "same"
/// width (GoogLeNet's 3x3 p1, YOLO's SPPF 5x5 p2, 7x7 p3, ...) or 2x2 stride 2 on an even width (VGG's): the
/// horizontal pass runs over the whole plane as one flat sequence of vectors, not row by row.
/// </summary>
/// <remarks>
/// <para>The late layers' feature maps are 7 to 40 cells wide, so a row is one to three vectors, and a path that works
/// row by row spends as much on each row's set-up as on its maxima. Here, max being separable and exact in any order:
/// the vertical pass takes, for every output row at once, the maximum of the window's input rows (row r of the plane
/// is cells <c>r * W</c> on, so window row kh is the flat offset <c>(kh - padTop) * W</c>, one long contiguous
/// loop for all the rows whose window lies inside the plane); the horizontal pass then takes each output's maximum
/// over its columns from that scratch plane, at flat offsets <c>kw - padLeft</c>. A tap that would cross into the
/// neighbouring row is masked off by the lane's column, which the pass carries along (column = flat index mod W).</para>
/// <para>The output width equals the input width (padLeft + padRight = kernel width - 1), so output cell q of the
/// plane sits at the same flat index q as the scratch cell it is computed from. A plane without NaN uses vmaxps
/// alone, as <see cref="ChannelsFirstRowBlocks{T}"/> does; one with NaN the propagating maximum.</para>
/// </remarks>
internal static class FlatPlaneMax<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Planes up to this size take this path: the scratch plane and the input stay in L1 and L2.</summary>
    private const int MaxPlaneBytes = 16 * 1024;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan)
    {
        return Lanes512<T>.IsSupported && plan.IsMax && plan.IsPlanar &&
            plan.Height.Dilation == 1 && plan.Width.Dilation == 1 && (IsSameStride1(plan) || IsPairs(plan)) &&
            (long)plan.InputPlane * Unsafe.SizeOf<T>() <= MaxPlaneBytes;
    }

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
        T[] scratch = ArrayPool<T>.Shared.Rent(scratchPlane + 3 * Lanes);
        try
        {
            fixed (T* source = input, target = output, columnMaxima = scratch)
            {
                T* maxima = columnMaxima + Lanes;
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    T* plane = source + p * inPlane, outputPlane = target + p * outPlane;
                    if (Lanes512<T>.ContainsNaN(plane, inPlane)) Plane<PropagatingMax512>(plan, plane, maxima, outputPlane);
                    else Plane<UncheckedMax512>(plan, plane, maxima, outputPlane);
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    private static unsafe void Plane<TMax>(in PoolPlan plan, T* plane, T* maxima, T* output) where TMax : IMax512
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (height.Stride == 2)
        {
            Pairs<TMax>(plane, maxima, output, height.Output, width.Length);
            return;
        }
        int w = width.Length, outHeight = height.Output;

        // Vertical: output rows whose window rows all lie inside the plane form one flat span; the others (at most the
        // padding's height at each end) go one row each, with only their inside rows.
        int firstInterior = Math.Min(outHeight, height.PadBegin);
        int lastInterior = Math.Min(outHeight, height.Length - height.Kernel + height.PadBegin + 1); // exclusive
        if (lastInterior < firstInterior) lastInterior = firstInterior;
        for (int oh = 0; oh < firstInterior; oh++) VerticalRow<TMax>(plane, maxima, oh, w, height);
        if (lastInterior > firstInterior)
        {
            T* rows = plane + (long)(firstInterior - height.PadBegin) * w;
            VerticalSpan<TMax>(rows, maxima + (long)firstInterior * w, (lastInterior - firstInterior) * w, w, height.Kernel);
        }
        for (int oh = lastInterior; oh < outHeight; oh++) VerticalRow<TMax>(plane, maxima, oh, w, height);

        Horizontal<TMax>(maxima, output, outHeight * w, w, width.Kernel, width.PadBegin);
    }

    /// <summary>
    /// 2x2 stride 2 (see <see cref="IsPairs"/>): each output row's two input rows into the scratch plane, then the
    /// whole scratch plane's even and odd cells at once. Measured against the row-by-row path on vgg16.pool4 (general,
    /// stopwatch): a hand-written version of this ran in 24 us, 36 us with the NaN scan, against 80 us.
    /// </summary>
    private static unsafe void Pairs<TMax>(T* plane, T* maxima, T* output, int outHeight, int w) where TMax : IMax512
    {
        int full = w - w % Lanes;
        var lastInside = Lanes512<T>.FirstLanes(w - full);
        var fill = Vector512.Create(T.NegativeInfinity);
        for (int oh = 0; oh < outHeight; oh++)
        {
            T* top = plane + (long)2 * oh * w, bottom = top + w, row = maxima + (long)oh * w;
            int i = 0;
            for (; i < full; i += Lanes) Lanes512<T>.Max<TMax>(Vector512.Load(top + i), Vector512.Load(bottom + i)).Store(row + i);
            if (i < w) Lanes512<T>.MaskStore(row + i, lastInside, Lanes512<T>.Max<TMax>(Lanes512<T>.MaskLoad(top + i, lastInside, fill), Lanes512<T>.MaskLoad(bottom + i, lastInside, fill)));
        }
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
    /// a flat span, <paramref name="rows"/> taps a row apart.
    /// </summary>
    private static unsafe void VerticalSpan<TMax>(T* source, T* maxima, int length, int w, int rows) where TMax : IMax512
    {
        int i = 0;
        for (; i <= length - Lanes; i += Lanes)
        {
            T* at = source + i;
            var acc = Vector512.Load(at);
            for (int r = 1; r < rows; r++) acc = Lanes512<T>.Max<TMax>(acc, Vector512.Load(at + (long)r * w));
            acc.Store(maxima + i);
        }
        if (i < length)
        {
            // The span's last cells: loads masked to the span (it may end at the plane's end), stores too.
            var inside = Lanes512<T>.FirstLanes(length - i);
            var fill = Vector512.Create(T.NegativeInfinity);
            T* at = source + i;
            var acc = Lanes512<T>.MaskLoad(at, inside, fill);
            for (int r = 1; r < rows; r++) acc = Lanes512<T>.Max<TMax>(acc, Lanes512<T>.MaskLoad(at + (long)r * w, inside, fill));
            Lanes512<T>.MaskStore(maxima + i, inside, acc);
        }
    }

    /// <summary>
    /// <c>output[q] = max over kw of maxima[q + kw - padLeft]</c>, over taps whose column stays inside the row, for q
    /// in [0, length): the horizontal pass over the whole scratch plane.
    /// </summary>
    private static unsafe void Horizontal<TMax>(T* maxima, T* output, int length, int w, int kernel, int padLeft) where TMax : IMax512
    {
        // The column of each lane, carried from vector to vector: +Lanes, minus w as often as it wraps.
        var step = Vector512.Create(T.CreateTruncating(Lanes));
        var rowLength = Vector512.Create(T.CreateTruncating(w));
        var zero = Vector512<T>.Zero;
        // A lane's column grows by Lanes per vector, so it passes w at most ceil(Lanes / w) times: that many
        // branch-free conditional subtractions (a loop until no lane wraps mispredicted on every other vector).
        int wraps = (Lanes + w - 1) / w;
        var column = Wrap(Vector512<T>.Indices, rowLength, wraps); // columns are small integers, exact in either type
        // Tap j columns to the left is inside the row for lanes whose column is at least j; tap j to the right, for
        // lanes whose column is below w - j.
        int left = padLeft, right = kernel - 1 - padLeft;
        Vector512<T>* leftBound = stackalloc Vector512<T>[Math.Max(1, left)];
        Vector512<T>* rightBound = stackalloc Vector512<T>[Math.Max(1, right)];
        for (int j = 1; j <= left; j++) leftBound[j - 1] = Vector512.Create(T.CreateTruncating(j));
        for (int j = 1; j <= right; j++) rightBound[j - 1] = Vector512.Create(T.CreateTruncating(w - j));
        for (int q = 0; q < length; q += Lanes)
        {
            T* at = maxima + q;
            var acc = Vector512.Load(at); // the tap at the output's own column (padLeft < kernel)
            // Lanes whose tap would read the neighbouring row keep acc.
            for (int j = 1; j <= left; j++)
                acc = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(column, leftBound[j - 1]), Lanes512<T>.Max<TMax>(acc, Vector512.Load(at - j)), acc);
            for (int j = 1; j <= right; j++)
                acc = Vector512.ConditionalSelect(Vector512.LessThan(column, rightBound[j - 1]), Lanes512<T>.Max<TMax>(acc, Vector512.Load(at + j)), acc);
            acc += zero; // a zero maximum is +0 (see MaxOp)
            if (q + Lanes <= length) acc.Store(output + q);
            else Lanes512<T>.MaskStore(output + q, Lanes512<T>.FirstLanes(length - q), acc);
            column = Wrap(column + step, rowLength, wraps);
        }
    }

    /// <summary>Each lane's column reduced below the row's length: <paramref name="times"/> conditional subtractions of w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Wrap(Vector512<T> column, Vector512<T> rowLength, int times)
    {
        for (int i = 0; i < times; i++)
            column = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(column, rowLength), column - rowLength, column);
        return column;
    }

}
