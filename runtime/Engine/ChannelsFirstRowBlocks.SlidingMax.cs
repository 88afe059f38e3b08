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
            var acc = TTaps.IsKnown
                ? TTaps.Window<TMax>(oddPrevious, evenCurrent, oddCurrent, evenNext)
                : AnyWindow<TMax>(taps, fill, evenPrevious, oddPrevious, evenCurrent, oddCurrent, evenNext, oddNext);
            Store(output, ow, acc + Vector512<T>.Zero, columns.Output); // a zero maximum is +0 (see MaxOp)
            (evenPrevious, oddPrevious, evenCurrent, oddCurrent) = (evenCurrent, oddCurrent, evenNext, oddNext);
        }
        if (TMax.NeedsNaNCheck) cellSum += rowSum;
    }

    /// <summary>
    /// An output block's maximum over any stride-2 window's columns: the taps grouped by the two phase blocks they take
    /// lanes from, one permute and one maximum a tap, with no branch per tap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> AnyWindow<TMax>(TapPermutes taps, Vector512<T> fill, Vector512<T> evenPrevious, Vector512<T> oddPrevious,
        Vector512<T> evenCurrent, Vector512<T> oddCurrent, Vector512<T> evenNext, Vector512<T> oddNext) where TMax : IMax512
    {
        // A local per group: the JIT keeps one local carried through all four loops in memory, a store and a reload per tap.
        var evenBehind = taps.EvenAt ? evenCurrent : fill;
        int tap = 0;
        for (; tap < taps.EvenBehindEnd; tap++) evenBehind = Lanes512<T>.Max<TMax>(evenBehind, Lanes512<T>.Permute(evenPrevious, taps.Index(tap), evenCurrent));
        var evenAhead = fill;
        for (; tap < taps.EvenAheadEnd; tap++) evenAhead = Lanes512<T>.Max<TMax>(evenAhead, Lanes512<T>.Permute(evenCurrent, taps.Index(tap), evenNext));
        var oddBehind = taps.OddAt ? oddCurrent : fill;
        for (; tap < taps.OddBehindEnd; tap++) oddBehind = Lanes512<T>.Max<TMax>(oddBehind, Lanes512<T>.Permute(oddPrevious, taps.Index(tap), oddCurrent));
        var oddAhead = fill;
        for (; tap < taps.OddAheadEnd; tap++) oddAhead = Lanes512<T>.Max<TMax>(oddAhead, Lanes512<T>.Permute(oddCurrent, taps.Index(tap), oddNext));
        return Lanes512<T>.Max<TMax>(Lanes512<T>.Max<TMax>(evenBehind, evenAhead), Lanes512<T>.Max<TMax>(oddBehind, oddAhead));
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
            var behind = taps.EvenAt ? current : fill; // a local per group of taps, as in AnyWindow
            int tap = 0;
            for (; tap < taps.EvenBehindEnd; tap++) behind = Lanes512<T>.Max<TMax>(behind, Lanes512<T>.Permute(previous, taps.Index(tap), current));
            var ahead = fill;
            for (; tap < taps.EvenAheadEnd; tap++) ahead = Lanes512<T>.Max<TMax>(ahead, Lanes512<T>.Permute(current, taps.Index(tap), next));
            var acc = Lanes512<T>.Max<TMax>(behind, ahead);
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
    /// The permute index of every tap of the window's width that shifts its phase, grouped by the phase it reads (even,
    /// odd; stride 1 has only the even one) and by whether it reaches into the previous block ("behind":
    /// previous:current) or the next ("ahead": current:next), so that the tap loops need no branch per tap; maxima do
    /// not depend on the order of their taps. A tap that takes a phase as it is ("at") needs no permute.
    /// Passed by value with its table behind a pointer, so that the tap loops keep it in registers.
    /// </summary>
    private readonly unsafe struct TapPermutes
    {
        private readonly Vector512<T>* _indices;

        /// <summary>The ends of the four groups in the table, in order: even behind, even ahead, odd behind, odd ahead.</summary>
        public int EvenBehindEnd { get; }
        public int EvenAheadEnd { get; }
        public int OddBehindEnd { get; }
        public int OddAheadEnd { get; }

        /// <summary>Whether a tap takes the even (odd) phase as it is, unshifted.</summary>
        public bool EvenAt { get; }
        public bool OddAt { get; }

        public TapPermutes(int kernel, int padBegin, int stride, Vector512<T>* indices)
        {
            _indices = indices;
            int count = 0;
            Span<int> ends = stackalloc int[4];
            for (int group = 0; group < 4; group++)
            {
                bool odd = group >= 2, ahead = (group & 1) != 0;
                for (int kw = 0; kw < kernel; kw++)
                {
                    int shift = ShiftOf(kw, padBegin, stride);
                    if (IsOdd(kw, padBegin, stride) != odd) continue;
                    if (shift == 0)
                    {
                        if (odd) OddAt = true;
                        else EvenAt = true;
                        continue;
                    }
                    if (shift > 0 != ahead) continue;
                    // Lane i takes element i + shift of a 2 * Lanes concatenation: current:next for a positive shift,
                    // previous:current (counted from previous's lane Lanes + shift) for a negative one.
                    int start = ahead ? shift : Lanes + shift;
                    _indices[count++] = typeof(T) == typeof(float)
                        ? (Vector512<int>.Indices + Vector512.Create(start)).As<int, T>()
                        : (Vector512<long>.Indices + Vector512.Create((long)start)).As<long, T>();
                }
                ends[group] = count;
            }
            (EvenBehindEnd, EvenAheadEnd, OddBehindEnd, OddAheadEnd) = (ends[0], ends[1], ends[2], ends[3]);
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

        private static bool IsOdd(int kw, int padBegin, int stride) => stride == 2 && ((kw - padBegin) & 1) != 0;

        /// <summary>Whether every tap's shift reaches only the neighbouring phase blocks.</summary>
        public static bool Fits(int kernel, int padBegin, int stride) =>
            ShiftOf(0, padBegin, stride) >= -Lanes && ShiftOf(kernel - 1, padBegin, stride) <= Lanes;

        public Vector512<T> Index(int tap) => _indices[tap]; // tap < OddAheadEnd, checked by the callers' loops
    }
}
