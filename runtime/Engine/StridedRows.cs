using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Engine;

/// <summary>Splits the rows of a plane into the phases of a stride of 2 or more, for the channels-first engine's prepared planes.</summary>
internal static class StridedRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether rows split into <paramref name="stride"/> phases with vector permutes here (AVX-512, strides 2-4); otherwise a cell at a time.</summary>
    public static bool Permutes(int stride) => Permuted.Applies(stride);

    /// <summary>
    /// Copies cell i of each of the first <paramref name="rows"/> rows r of <paramref name="plane"/> (rows of <paramref name="length"/> cells; padded column
    /// <c>x = i + padBegin</c>) to <c>prepared[(x % stride) * phaseStride + r * rowStride + x / stride]</c>, for the
    /// phases in <paramref name="phasesRead"/> (bit p for phase p; a stride above 64 reads every phase). A copy, so the
    /// bits are the same on every instruction set; a phase at a time, with each phase's start worked out once per plane
    /// rather than with a division per cell or per row. Cells of <paramref name="plane"/> after those rows (the next
    /// planes) may be read, never copied: they let the last rows take whole-vector reads too. Rows false in
    /// <paramref name="rowsRead"/> (when it is not empty) are skipped: no window reads them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SplitPhases(ReadOnlySpan<T> plane, int rows, Span<T> prepared, int length, int stride, int padBegin,
        int phaseStride, int rowStride, ulong phasesRead, ReadOnlySpan<bool> rowsRead = default)
    {
        if (!rowsRead.IsEmpty && rowsRead.Length < rows) ThrowTooShort();
        if ((long)rows * length > plane.Length) ThrowTooShort();
        for (int phase = 0; phase < stride; phase++)
        {
            if (stride <= 64 && (phasesRead >> phase & 1) == 0) continue;
            // The first input cell of each row in this phase, how many there are, and where the first one goes.
            int first = ((phase - padBegin) % stride + stride) % stride;
            if (first >= length) continue;
            int count = (length - first + stride - 1) / stride;
            int targetStart = phase * phaseStride + (first + padBegin) / stride;
            if (prepared.Length < targetStart + (rows - 1) * rowStride + count) ThrowTooShort();
            int row = Permuted.Applies(stride) ? Permuted.CopyRows(plane, rows, prepared, length, stride, first, count, targetStart, rowStride, rowsRead) : 0;
            for (; row < rows; row++)
            {
                if (!rowsRead.IsEmpty && !rowsRead[row]) continue;
                ReadOnlySpan<T> source = plane.Slice(row * length + first, (count - 1) * stride + 1);
                Span<T> target = prepared.Slice(targetStart + row * rowStride, count);
                ref T src = ref MemoryMarshal.GetReference(source);
                ref T dst = ref MemoryMarshal.GetReference(target);
                for (int j = 0; j < count; j++)
                    Unsafe.Add(ref dst, j) = Unsafe.Add(ref src, j * stride);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooShort() => throw new InvalidOperationException("KernelGen internal error: a prepared plane is shorter than its phases.");

    /// <summary>
    /// The phase copy for strides 2-4 with AVX-512: a vector of every stride-th cell from <c>stride</c> consecutive
    /// vectors at a time (<see cref="Lanes512{T}.EveryNth"/>).
    /// </summary>
    private static class Permuted
    {
        private static int Count => Vector512<T>.Count;

        public static bool Applies(int stride) => Lanes512<T>.IsSupported && Avx512F.IsSupported && stride is 2 or 3 or 4;

        /// <summary>
        /// Copies the phase (input cells <c>first + j * stride</c>, <c>j &lt; count</c>, of each row to
        /// <c>targetStart + row * rowStride + j</c>) for the rows from 0 on whose vector reads stay inside
        /// <paramref name="plane"/>; returns how many rows it copied.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe int CopyRows(ReadOnlySpan<T> plane, int rows, Span<T> prepared, int length, int stride, int first, int count,
            int targetStart, int rowStride, ReadOnlySpan<bool> rowsRead)
        {
            int lastBlock = Math.Max(count - Count, 0);
            // A block reads stride vectors from cell first + j0 * stride of its row.
            int readEnd = first + lastBlock * stride + stride * Count;
            int vectorRows = readEnd > plane.Length ? 0 : Math.Min(rows, (plane.Length - readEnd) / length + 1);
            var pick = Lanes512<T>.StridePick.For(stride, 0);
            var partial = Lanes512<T>.FirstLanes(count);
            fixed (T* source = plane)
            fixed (T* target = prepared)
            {
                for (int row = 0; row < vectorRows; row++)
                {
                    if (!rowsRead.IsEmpty && !rowsRead[row]) continue;
                    T* from = source + row * length + first;
                    T* to = target + targetStart + row * rowStride;
                    if (count < Count)
                    {
                        Lanes512<T>.MaskStore(to, partial, Lanes512<T>.EveryNth(from, stride, pick));
                        continue;
                    }
                    for (int j = 0; ; j += Count)
                    {
                        int j0 = Math.Min(j, lastBlock);
                        Vector512.Store(Lanes512<T>.EveryNth(from + j0 * stride, stride, pick), to + j0);
                        if (j0 == lastBlock) break;
                    }
                }
            }
            return vectorRows;
        }
    }
}
