using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's path for channels-first 2-d average pooling with stride 1 and "same" width on small planes
/// (Inception's 3x3 p1, with or without the padding in the divisor), on AVX-512: every output of the plane is summed
/// in one flat pass, 16 (float) or 8 (double) at a time regardless of where rows end.
/// </summary>
/// <remarks>
/// <para>It takes the small planes <see cref="NarrowRowsAverage{T}"/> does not: rows wider than four vectors (of
/// doubles, Inception's 35-wide maps already), and windows that are not centred or reach further than 3. Windows one
/// column wide are left to the any-rank path, whose plain vertical sums are faster. Row by row, a
/// row's last vector is mostly empty and each row pays its own set-up. Here the plane is
/// first copied into a scratch plane between rows of zeros (the window's padding rows), so that tap (kh, kw) of output
/// q is scratch cell <c>q + kh * W + kw - padLeft</c> for every output; taps that would cross into the neighbouring
/// row load zero instead, by the lane's column (a table of columns, as in <see cref="FlatPlaneMax{T}"/>).</para>
/// <para>The sum runs in PyTorch's order, from +0, row by row, tap by tap. PyTorch skips the padding cells where this
/// adds zeros: the same bits, since the running sum, started at +0, is never -0 and so adding +0 leaves it unchanged.
/// Each output is then divided by its own divisor (count_include_pad, the override and clipped windows included),
/// from a table made once per call.</para>
/// </remarks>
internal static class FlatSameAverage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Planes up to this size take this path: the scratch plane and the divisors stay in L1.</summary>
    private const int MaxPlaneBytes = 16 * 1024;

    /// <summary>Whether this path handles <paramref name="plan"/> on this machine.</summary>
    public static bool Applies(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        return Lanes512<T>.IsSupported && !plan.IsMax && plan.IsPlanar &&
            height.Stride == 1 && height.Dilation == 1 && width.Stride == 1 && width.Dilation == 1 && width.Kernel >= 2 &&
            width.Output == width.Length && width.PadBegin < Lanes && width.Kernel - 1 - width.PadBegin < Lanes &&
            (long)plan.InputPlane * Unsafe.SizeOf<T>() <= MaxPlaneBytes &&
            (long)(height.Output + height.Kernel - 1) * width.Length * Unsafe.SizeOf<T>() <= 2 * MaxPlaneBytes; // padding rows too
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        int w = width.Length, inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        // Scratch rows: padTop rows of zeros, the plane, then zeros down to the last window's last row.
        int padTop = height.PadBegin, scratchRows = height.Output + height.Kernel - 1;
        int rowsBelow = Math.Max(0, scratchRows - padTop - height.Length);
        int scratchCells = (padTop + height.Length + rowsBelow) * w;
        // Lanes' columns repeat every lcm(w, Lanes) cells; one divisor per output cell.
        int period = FlatColumns.Period(w, Lanes), columnCells = period * Lanes;
        // Layout, each part on a cache line: margin vector, scratch, two margin vectors, divisors, columns.
        int divisorCells = (outPlane + Lanes - 1) / Lanes * Lanes;
        int scratchSpan = (scratchCells + 3 * Lanes + Lanes - 1) / Lanes * Lanes;
        T[] buffer = ScratchArrays<T>.Rent(Lanes + scratchSpan + divisorCells + columnCells);
        // The bounds of the taps beside the centre (fewer than Lanes each side, see Applies).
        int left = width.PadBegin, right = width.Kernel - 1 - width.PadBegin;
        Vector512<T>* leftBound = stackalloc Vector512<T>[Math.Max(1, left)];
        Vector512<T>* rightBound = stackalloc Vector512<T>[Math.Max(1, right)];
        FlatColumns.WriteBounds(leftBound, left, rightBound, right, w);
        try
        {
            fixed (T* source = input, target = output, rented = buffer)
            {
                T* scratch = Lanes512<T>.Aligned(rented) + Lanes;
                T* divisors = scratch + scratchSpan - Lanes;
                T* columns = divisors + divisorCells;
                new Span<T>(scratch - Lanes, scratchSpan).Clear(); // the zero rows and margins, written once per call
                FlatColumns.Write(columns, columnCells, w);
                plan.WritePlaneDivisors(divisors, w);
                T* planeCopy = scratch + (long)padTop * w;
                for (long p = firstPlane; p < firstPlane + planeCount; p++)
                {
                    new ReadOnlySpan<T>(source + p * inPlane, inPlane).CopyTo(new Span<T>(planeCopy, inPlane));
                    T* outputPlane = target + p * outPlane;
                    switch (FlatColumns.KnownReach(width))
                    {
                        case 1: Plane<Reach1>(scratch, divisors, columns, period, leftBound, rightBound, outputPlane, outPlane, w, height.Kernel, width.Kernel, width.PadBegin); break;
                        case 2: Plane<Reach2>(scratch, divisors, columns, period, leftBound, rightBound, outputPlane, outPlane, w, height.Kernel, width.Kernel, width.PadBegin); break;
                        case 3: Plane<Reach3>(scratch, divisors, columns, period, leftBound, rightBound, outputPlane, outPlane, w, height.Kernel, width.Kernel, width.PadBegin); break;
                        default: Plane<AnyReach>(scratch, divisors, columns, period, leftBound, rightBound, outputPlane, outPlane, w, height.Kernel, width.Kernel, width.PadBegin); break;
                    }
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(buffer);
        }
    }

    private static unsafe void Plane<TReach>(T* scratch, T* divisors, T* columns, int period, Vector512<T>* leftBound, Vector512<T>* rightBound,
        T* output, int length, int w, int kernelHeight, int kernelWidth, int padLeft) where TReach : ITapReach
    {
        Vector512<T>* tapInside = stackalloc Vector512<T>[TReach.IsKnown ? 1 : kernelWidth]; // AnyReach's tap masks
        var zero = Vector512<T>.Zero;
        int phase = 0;
        int q = 0;
        if (TReach.IsKnown)
        {
            // Two output vectors per step: two independent chains of adds for the out-of-order core to overlap
            // (one vector's sum is a chain of kernel-size dependent adds, then a division).
            for (; q + 2 * Lanes <= length; q += 2 * Lanes)
            {
                var first = Vector512.Load(columns + phase * Lanes);
                if (++phase == period) phase = 0;
                var second = Vector512.Load(columns + phase * Lanes);
                if (++phase == period) phase = 0;
                var edges = new EdgeMasks<TReach>(first, leftBound, rightBound);
                var edges2 = new EdgeMasks<TReach>(second, leftBound, rightBound);
                var sum = zero; // PyTorch's order: from +0, row by row, tap by tap
                var sum2 = zero;
                T* at = scratch + q; // the window's centre column in its first row
                for (int kh = 0; kh < kernelHeight; kh++, at += w)
                {
                    sum = edges.AddRow(sum, at);
                    sum2 = edges2.AddRow(sum2, at + Lanes);
                }
                (sum / Vector512.Load(divisors + q)).Store(output + q);
                (sum2 / Vector512.Load(divisors + q + Lanes)).Store(output + q + Lanes);
            }
        }
        for (; q < length; q += Lanes)
        {
            var column = Vector512.Load(columns + phase * Lanes);
            if (++phase == period) phase = 0;
            var sum = zero; // PyTorch's order: from +0, row by row, tap by tap
            T* at = scratch + q; // the window's centre column in its first row
            if (TReach.IsKnown)
            {
                var edges = new EdgeMasks<TReach>(column, leftBound, rightBound);
                for (int kh = 0; kh < kernelHeight; kh++, at += w) sum = edges.AddRow(sum, at);
            }
            else
            {
                // Tap kw is d = kw - padLeft columns from the centre: inside the row for lanes whose column is at least
                // -d (left) or below w - d (right). Its mask serves every window row.
                for (int kw = 0; kw < kernelWidth; kw++)
                {
                    int d = kw - padLeft;
                    tapInside[kw] = d < 0 ? Vector512.GreaterThanOrEqual(column, leftBound[-d - 1])
                        : d > 0 ? Vector512.LessThan(column, rightBound[d - 1]) : Vector512<T>.AllBitsSet;
                }
                at -= padLeft;
                for (int kh = 0; kh < kernelHeight; kh++, at += w)
                {
                    for (int kw = 0; kw < kernelWidth; kw++)
                        sum += kw == padLeft ? Vector512.Load(at + kw) : Lanes512<T>.MaskLoad(at + kw, tapInside[kw], zero);
                }
            }
            sum /= Vector512.Load(divisors + q);
            if (q + Lanes <= length) sum.Store(output + q);
            else Lanes512<T>.MaskStore(output + q, Lanes512<T>.FirstLanes(length - q), sum);
        }
    }

    /// <summary>
    /// For one output vector with a centred window of known reach, which lanes' taps 1 to 3 columns to the left and
    /// to the right stay inside their row (see <see cref="FlatColumns"/>): made once per vector, they serve every
    /// window row.
    /// </summary>
    private readonly unsafe struct EdgeMasks<TReach> where TReach : ITapReach
    {
        private readonly Vector512<T> _left1, _left2, _left3, _right1, _right2, _right3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public EdgeMasks(Vector512<T> column, Vector512<T>* leftBound, Vector512<T>* rightBound)
        {
            int r = TReach.Reach;
            _left1 = Vector512.GreaterThanOrEqual(column, leftBound[0]);
            _right1 = Vector512.LessThan(column, rightBound[0]);
            _left2 = r >= 2 ? Vector512.GreaterThanOrEqual(column, leftBound[1]) : default;
            _right2 = r >= 2 ? Vector512.LessThan(column, rightBound[1]) : default;
            _left3 = r >= 3 ? Vector512.GreaterThanOrEqual(column, leftBound[2]) : default;
            _right3 = r >= 3 ? Vector512.LessThan(column, rightBound[2]) : default;
        }

        /// <summary><paramref name="sum"/> plus the taps of the window row centred at <paramref name="at"/>, left to right; taps outside the row add zero.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<T> AddRow(Vector512<T> sum, T* at)
        {
            int r = TReach.Reach;
            var zero = Vector512<T>.Zero;
            if (r >= 3) sum += Lanes512<T>.MaskLoad(at - 3, _left3, zero);
            if (r >= 2) sum += Lanes512<T>.MaskLoad(at - 2, _left2, zero);
            sum += Lanes512<T>.MaskLoad(at - 1, _left1, zero);
            sum += Vector512.Load(at);
            sum += Lanes512<T>.MaskLoad(at + 1, _right1, zero);
            if (r >= 2) sum += Lanes512<T>.MaskLoad(at + 2, _right2, zero);
            if (r >= 3) sum += Lanes512<T>.MaskLoad(at + 3, _right3, zero);
            return sum;
        }
    }
}
