using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelGen.Engine;

/// <summary>Splits the rows of a plane into the phases of a stride of 3 or more, for the channels-first engine's prepared planes.</summary>
internal static class StridedRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Copies cell i of every row r of <paramref name="plane"/> (rows of <paramref name="length"/> cells; padded column
    /// <c>x = i + padBegin</c>) to <c>prepared[(x % stride) * phaseStride + r * rowStride + x / stride]</c>, for the
    /// phases in <paramref name="phasesRead"/> (bit p for phase p; a stride above 64 reads every phase). A copy, so the
    /// bits are the same on every instruction set; a phase at a time, with each phase's start worked out once per plane
    /// rather than with a division per cell or per row.
    /// </summary>
    public static void SplitPhases(ReadOnlySpan<T> plane, Span<T> prepared, int length, int stride, int padBegin,
        int phaseStride, int rowStride, ulong phasesRead)
    {
        int rows = plane.Length / length;
        for (int phase = 0; phase < stride; phase++)
        {
            if (stride <= 64 && (phasesRead >> phase & 1) == 0) continue;
            // The first input cell of each row in this phase, how many there are, and where the first one goes.
            int first = ((phase - padBegin) % stride + stride) % stride;
            if (first >= length) continue;
            int count = (length - first + stride - 1) / stride;
            int targetStart = phase * phaseStride + (first + padBegin) / stride;
            for (int row = 0; row < rows; row++)
            {
                ReadOnlySpan<T> source = plane.Slice(row * length + first, (count - 1) * stride + 1);
                Span<T> target = prepared.Slice(targetStart + row * rowStride, count);
                ref T src = ref MemoryMarshal.GetReference(source);
                ref T dst = ref MemoryMarshal.GetReference(target);
                for (int j = 0; j < count; j++)
                    Unsafe.Add(ref dst, j) = Unsafe.Add(ref src, j * stride);
            }
        }
    }
}
