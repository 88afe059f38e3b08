using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

// Max sliding phase blocks along the row (stride 2, and stride 1 up to 5 wide): each input vector reduced over the
// window's rows once, the taps permutes of those registers.
internal static partial class ChannelsFirstRowBlocks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Max along one output row, sliding three phase blocks (previous, current, next: the column maxima of the
    /// window's rows over 2 * Lanes cells each, split into even and odd cells) so that every input vector is loaded
    /// and reduced over the rows once. Tap kw of an output block is its even or odd phase shifted by
    /// floor((kw - PadBegin) / 2) lanes, taken from two neighbouring phase blocks with one two-source permute whose
    /// index vector was built once per call (a run-time shift cannot be valign's immediate).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxRowSliding<TMax, TTaps>(T* plane, int* rows, int count, T* output, in Columns columns, TapPermutes taps,
        ref Vector512<T> cellSum) where TMax : IMax512 where TTaps : IStrideTwoTaps
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        int vectors = (columns.Length + Lanes - 1) / Lanes;
        var (evenPrevious, oddPrevious) = (fill, fill);
        var rowSum = Vector512<T>.Zero; // a register: cellSum, by reference, would be a memory round trip per block
        var (evenCurrent, oddCurrent) = Phase<TMax>(plane, rows, count, 0, vectors, columns.Length, fill, ref rowSum);
        for (int ow = 0, block = 0; ow < columns.Output; ow += Lanes, block++)
        {
            var (evenNext, oddNext) = Phase<TMax>(plane, rows, count, 2 * (block + 1), vectors, columns.Length, fill, ref rowSum);
            var acc = fill;
            if (TTaps.IsKnown) acc = TTaps.Window<TMax>(oddPrevious, evenCurrent, oddCurrent, evenNext);
            else for (int kw = 0; kw < columns.Kernel; kw++)
            {
                bool odd = taps.IsOdd(kw);
                int shift = taps.Shift(kw);
                Vector512<T> tap = shift == 0
                    ? (odd ? oddCurrent : evenCurrent)
                    : shift > 0
                        ? Lanes512<T>.Permute(odd ? oddCurrent : evenCurrent, taps.Index(kw), odd ? oddNext : evenNext)
                        : Lanes512<T>.Permute(odd ? oddPrevious : evenPrevious, taps.Index(kw), odd ? oddCurrent : evenCurrent);
                acc = Lanes512<T>.Max<TMax>(acc, tap);
            }
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
            (evenPrevious, oddPrevious, evenCurrent, oddCurrent) = (evenCurrent, oddCurrent, evenNext, oddNext);
        }
        if (TMax.NeedsNaNCheck) cellSum += rowSum;
    }

    /// <summary>
    /// The taps of the commonest stride-2 windows as types, so that <see cref="MaxRowSliding"/> makes them with
    /// valign (an immediate shift) in straight-line code, as the generated kernels do, instead of a loop over
    /// permutes with index vectors; other windows loop.
    /// </summary>
    private interface IStrideTwoTaps
    {
        static abstract bool IsKnown { get; }

        /// <summary>Whether the row's window is this one.</summary>
        static abstract bool Matches(in Columns columns);

        /// <summary>An output block's maximum over its window's columns, from the phase blocks around it.</summary>
        static abstract Vector512<T> Window<TMax>(Vector512<T> oddPrevious, Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext)
            where TMax : IMax512;
    }

    /// <summary>3 wide, padded by 1 (ResNet's stem): cells 2ow - 1, 2ow, 2ow + 1, the odd cell before and the pair.</summary>
    private readonly struct Taps3Pad1 : IStrideTwoTaps
    {
        public static bool IsKnown => true;

        public static bool Matches(in Columns columns) => columns.Kernel == 3 && columns.PadBegin == 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> Window<TMax>(Vector512<T> oddPrevious, Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext)
            where TMax : IMax512 =>
            Lanes512<T>.Max<TMax>(Lanes512<T>.Shifted(oddCurrent, oddPrevious, Lanes - 1), Lanes512<T>.Max<TMax>(evenCurrent, oddCurrent));
    }

    /// <summary>2 wide, unpadded (VGG's): cells 2ow and 2ow + 1.</summary>
    private readonly struct Taps2Pad0 : IStrideTwoTaps
    {
        public static bool IsKnown => true;

        public static bool Matches(in Columns columns) => columns.Kernel == 2 && columns.PadBegin == 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> Window<TMax>(Vector512<T> oddPrevious, Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext)
            where TMax : IMax512 => Lanes512<T>.Max<TMax>(evenCurrent, oddCurrent);
    }

    /// <summary>Any other window: the taps from the per-call table, in a loop.</summary>
    private readonly struct AnyTaps : IStrideTwoTaps
    {
        public static bool IsKnown => false;

        public static bool Matches(in Columns columns) => true;

        public static Vector512<T> Window<TMax>(Vector512<T> oddPrevious, Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext)
            where TMax : IMax512 => throw new InvalidOperationException("AnyTaps has no fixed window.");
    }

    /// <summary>
    /// <see cref="MaxRowSliding"/> for a horizontal stride of 1: the blocks are the column maxima of one input vector
    /// each, so the maximum is separable here too (each cell reduced over the window's rows once, then across the
    /// window's columns by permutes), unlike a tap-by-tap reduction of every window cell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxRowSlidingStride1<TMax>(T* plane, int* rows, int count, T* output, in Columns columns, TapPermutes taps,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var fill = Vector512.Create(T.NegativeInfinity);
        int vectors = (columns.Length + Lanes - 1) / Lanes;
        var previous = fill;
        var rowSum = Vector512<T>.Zero; // a register: cellSum, by reference, would be a memory round trip per block
        var current = ColumnMaxima<TMax>(plane, rows, count, 0, vectors, columns.Length, fill, ref rowSum);
        for (int ow = 0, block = 0; ow < columns.Output; ow += Lanes, block++)
        {
            var next = ColumnMaxima<TMax>(plane, rows, count, block + 1, vectors, columns.Length, fill, ref rowSum);
            var acc = fill;
            for (int kw = 0; kw < columns.Kernel; kw++)
            {
                int shift = taps.Shift(kw);
                acc = Lanes512<T>.Max<TMax>(acc, shift == 0 ? current
                    : shift > 0 ? Lanes512<T>.Permute(current, taps.Index(kw), next)
                    : Lanes512<T>.Permute(previous, taps.Index(kw), current));
            }
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
            (previous, current) = (current, next);
        }
        if (TMax.NeedsNaNCheck) cellSum += rowSum;
    }

    /// <summary>
    /// Input vector <paramref name="index"/>'s maximum over the window's rows: -inf past the row's end. Adds the cells
    /// to <paramref name="cellSum"/> if <typeparamref name="TMax"/> needs a NaN check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<T> ColumnMaxima<TMax>(T* plane, int* rows, int count, int index, int vectors, int length, Vector512<T> fill,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var maxima = fill;
        var sum = Vector512<T>.Zero;
        if (index < vectors - 1 && count > 0)
        {
            maxima = Vector512.Load(plane + rows[0] + index * Lanes); // as it is: a maximum with -inf would cost an instruction
            if (TMax.NeedsNaNCheck) sum = maxima;
            for (int r = 1; r < count; r++)
            {
                var cells = Vector512.Load(plane + rows[r] + index * Lanes);
                maxima = Lanes512<T>.Max<TMax>(maxima, cells);
                if (TMax.NeedsNaNCheck) sum += cells;
            }
        }
        else if (index == vectors - 1)
        {
            for (int r = 0; r < count; r++)
            {
                var cells = Load(plane + rows[r], index * Lanes, inside: false, length, fill);
                maxima = Lanes512<T>.Max<TMax>(maxima, cells);
                if (TMax.NeedsNaNCheck) sum += cells;
            }
        }
        if (TMax.NeedsNaNCheck) cellSum += sum; // one dependent add per block; the rows' adds chain only within it
        return maxima;
    }

    /// <summary>
    /// The even and odd cells of input vectors <paramref name="first"/> and the next, each the maximum over the
    /// window's rows. Adds the cells to <paramref name="cellSum"/> if <typeparamref name="TMax"/> needs a NaN check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector512<T> Even, Vector512<T> Odd) Phase<TMax>(T* plane, int* rows, int count, int first, int vectors, int length, Vector512<T> fill,
        ref Vector512<T> cellSum) where TMax : IMax512
    {
        var low = fill;
        var high = fill;
        var sum = Vector512<T>.Zero;
        if (first + 1 < vectors - 1 && count > 0)
        {
            // Both vectors whole and inside the row (the last vector may be partial): plain loads, the first row's
            // cells taken as they are (a maximum with -inf would be one more instruction per vector). Every cell here
            // is an input cell, so the NaN check takes each row's two vectors as one product on the FMA pipes (NaN if
            // either is; inf * 0 and overflow only send the plane to the exact path), not two additions on the pipes
            // the maxima use.
            low = Vector512.Load(plane + rows[0] + first * Lanes);
            high = Vector512.Load(plane + rows[0] + first * Lanes + Lanes);
            if (TMax.NeedsNaNCheck) sum = Lanes512<T>.AddProduct(low, high, sum);
            for (int r = 1; r < count; r++)
            {
                T* at = plane + rows[r] + first * Lanes;
                var lowCells = Vector512.Load(at);
                var highCells = Vector512.Load(at + Lanes);
                low = Lanes512<T>.Max<TMax>(low, lowCells);
                high = Lanes512<T>.Max<TMax>(high, highCells);
                if (TMax.NeedsNaNCheck) sum = Lanes512<T>.AddProduct(lowCells, highCells, sum);
            }
        }
        else if (first < vectors)
        {
            for (int r = 0; r < count; r++)
            {
                T* row = plane + rows[r];
                var lowCells = Load(row, first * Lanes, inside: false, length, fill);
                low = Lanes512<T>.Max<TMax>(low, lowCells);
                if (TMax.NeedsNaNCheck) sum += lowCells;
                if (first + 1 < vectors)
                {
                    var highCells = Load(row, (first + 1) * Lanes, inside: false, length, fill);
                    high = Lanes512<T>.Max<TMax>(high, highCells);
                    if (TMax.NeedsNaNCheck) sum += highCells;
                }
            }
        }
        if (TMax.NeedsNaNCheck) cellSum += sum; // one dependent add per block; the rows' adds chain only within it
        return (Lanes512<T>.Even(low, high), Lanes512<T>.Odd(low, high));
    }

    /// <summary>
    /// Per tap of the window's width: its phase, its shift in lanes, and the permute index that applies the shift.
    /// Passed by value with its tables behind pointers, so that the tap loops keep it in registers (through a
    /// reference to rented arrays, every tap reloaded and null-checked them).
    /// </summary>
    private readonly unsafe struct TapPermutes
    {
        private readonly int _padBegin;
        private readonly int* _shifts;
        private readonly Vector512<T>* _indices;

        public TapPermutes(int kernel, int padBegin, int stride, int* shifts, Vector512<T>* indices)
        {
            _padBegin = padBegin;
            _shifts = shifts;
            _indices = indices;
            for (int kw = 0; kw < kernel; kw++)
            {
                int shift = ShiftOf(kw, padBegin, stride);
                _shifts[kw] = shift;
                // Lane i takes element i + shift of a 2 * Lanes concatenation: current:next for a positive shift,
                // previous:current (counted from previous's lane Lanes + shift) for a negative one.
                int start = shift > 0 ? shift : Lanes + shift;
                _indices[kw] = typeof(T) == typeof(float)
                    ? (Vector512<int>.Indices + Vector512.Create(start)).As<int, T>()
                    : (Vector512<long>.Indices + Vector512.Create((long)start)).As<long, T>();
            }
        }

        /// <summary>
        /// Stride 2: cell 2 * ow + kw - padBegin is lane ow + floor((kw - padBegin) / 2) of the even or odd phase.
        /// Stride 1: cell ow + kw - padBegin is lane ow + kw - padBegin of the row's column maxima.
        /// </summary>
        private static int ShiftOf(int kw, int padBegin, int stride)
        {
            int d = kw - padBegin;
            return stride == 1 ? d : d >= 0 ? d / 2 : -((1 - d) / 2);
        }

        /// <summary>Whether every tap's shift reaches only the neighbouring phase blocks.</summary>
        public static bool Fits(int kernel, int padBegin, int stride) =>
            ShiftOf(0, padBegin, stride) >= -Lanes && ShiftOf(kernel - 1, padBegin, stride) <= Lanes;

        public bool IsOdd(int kw) => ((kw - _padBegin) & 1) != 0;

        public int Shift(int kw) => _shifts[kw]; // kw < kernel, checked by the caller's loop

        public Vector512<T> Index(int kw) => _indices[kw];
    }
}
