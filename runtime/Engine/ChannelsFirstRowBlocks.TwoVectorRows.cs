using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

// Max on rows of at most two vectors: each input row two loads, masks made once per call.
internal static partial class ChannelsFirstRowBlocks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Rows of at most two vectors (the small feature maps of late layers: 7, 14, 20, 28 wide): each input row is
    /// exactly two loads, the second masked, and the output row one vector (stride 2) or two (stride 1). Their masks
    /// are made once per call; the general sliding path would rebuild them at every load, and on rows this short that
    /// bookkeeping costs more than the maxima.
    /// </summary>
    private readonly struct TwoVectorRows
    {
        public TwoVectorRows(in Columns columns)
        {
            First = Lanes512<T>.FirstLanes(Math.Min(columns.Length, Lanes));
            Second = Lanes512<T>.FirstLanes(columns.Length - Lanes);
            FirstStore = Lanes512<T>.FirstLanes(Math.Min(columns.Output, Lanes));
            SecondStore = Lanes512<T>.FirstLanes(columns.Output - Lanes);
        }

        /// <summary>Whether a row of <paramref name="columns"/> fits: two input vectors, and the output in one block per input vector (stride 1) or one block (stride 2).</summary>
        public static bool Fits(in Columns columns, int stride) =>
            columns.Length <= 2 * Lanes && columns.Output <= (stride == 1 ? 2 * Lanes : Lanes);

        /// <summary>The lanes of the first and second input vectors inside the row.</summary>
        public Vector512<T> First { get; }
        public Vector512<T> Second { get; }

        /// <summary>The lanes of the first and second output blocks inside the output row.</summary>
        public Vector512<T> FirstStore { get; }
        public Vector512<T> SecondStore { get; }

        public Vector512<T> Fill => Vector512.Create(T.NegativeInfinity);
    }

    /// <summary>The maxima over the window's rows of a narrow row's two input vectors (-inf past the row's end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector512<T> Low, Vector512<T> High) TwoVectorColumnMaxima<TMax>(T* plane, int* rows, int count, in TwoVectorRows narrow,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var low = narrow.Fill;
        var high = narrow.Fill;
        var sum = Vector512<T>.Zero;
        for (int r = 0; r < count; r++)
        {
            T* row = plane + rows[r];
            var first = Lanes512<T>.MaskLoad(row, narrow.First, narrow.Fill);
            var second = Lanes512<T>.MaskLoad(row + Lanes, narrow.Second, narrow.Fill);
            low = Lanes512<T>.Max<TMax>(low, first);
            high = Lanes512<T>.Max<TMax>(high, second);
            if (TMax.NeedsNaNCheck) sum += first + second;
        }
        if (TMax.NeedsNaNCheck) cellSum += sum; // one dependent add per block; the rows' adds chain only within it
        return (low, high);
    }

    /// <summary>Stride 2 on a narrow row: the even and odd cells of the column maxima, each tap a permute of one of them with -inf.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TwoVectorRowStride2<TMax>(T* plane, int* rows, int count, T* output, in TwoVectorRows narrow, in Columns columns, TapPermutes taps,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var (low, high) = TwoVectorColumnMaxima<TMax>(plane, rows, count, narrow, ref cellSum);
        Vector512<T> even = Lanes512<T>.Even(low, high), odd = Lanes512<T>.Odd(low, high), fill = narrow.Fill;
        var acc = Lanes512<T>.Max<TMax>(taps.EvenAt ? even : fill, taps.OddAt ? odd : fill);
        int tap = 0;
        for (; tap < taps.EvenBehindEnd; tap++) acc = Lanes512<T>.Max<TMax>(acc, Lanes512<T>.Permute(fill, taps.Index(tap), even));
        for (; tap < taps.EvenAheadEnd; tap++) acc = Lanes512<T>.Max<TMax>(acc, Lanes512<T>.Permute(even, taps.Index(tap), fill));
        for (; tap < taps.OddBehindEnd; tap++) acc = Lanes512<T>.Max<TMax>(acc, Lanes512<T>.Permute(fill, taps.Index(tap), odd));
        for (; tap < taps.OddAheadEnd; tap++) acc = Lanes512<T>.Max<TMax>(acc, Lanes512<T>.Permute(odd, taps.Index(tap), fill));
        Lanes512<T>.MaskStore(output, narrow.FirstStore, acc + Vector512<T>.Zero); // a zero maximum is +0 (see MaxOp)
    }

    /// <summary>Stride 1 on a narrow row: both output blocks from the two column maxima and -inf on either side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TwoVectorRowStride1<TMax>(T* plane, int* rows, int count, T* output, in TwoVectorRows narrow, in Columns columns, TapPermutes taps,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var (low, high) = TwoVectorColumnMaxima<TMax>(plane, rows, count, narrow, ref cellSum);
        var fill = narrow.Fill;
        var first = fill;
        var second = fill;
        if (taps.EvenAt) (first, second) = (low, high);
        int tap = 0;
        for (; tap < taps.EvenBehindEnd; tap++)
        {
            var index = taps.Index(tap);
            first = Lanes512<T>.Max<TMax>(first, Lanes512<T>.Permute(fill, index, low));
            second = Lanes512<T>.Max<TMax>(second, Lanes512<T>.Permute(low, index, high));
        }
        for (; tap < taps.EvenAheadEnd; tap++)
        {
            var index = taps.Index(tap);
            first = Lanes512<T>.Max<TMax>(first, Lanes512<T>.Permute(low, index, high));
            second = Lanes512<T>.Max<TMax>(second, Lanes512<T>.Permute(high, index, fill));
        }
        Lanes512<T>.MaskStore(output, narrow.FirstStore, first + Vector512<T>.Zero); // a zero maximum is +0 (see MaxOp)
        if (columns.Output > Lanes) Lanes512<T>.MaskStore(output + Lanes, narrow.SecondStore, second + Vector512<T>.Zero);
    }
}
