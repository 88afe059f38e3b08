using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Engine;

/// <summary>Splits a row into the phases of a stride of 3 or more, for the channels-first engine's prepared planes.</summary>
internal static class StridedRows
{
    /// <summary>
    /// Copies input cell i of <paramref name="source"/> (padded column <c>x = i + padBegin</c>) to
    /// <c>prepared[rowStart + (x % stride) * phaseStride + x / stride]</c>, for the phases in
    /// <paramref name="phasesRead"/> (bit p for phase p; stride above 64: every phase). A copy, so the bits are the
    /// same on every instruction set; one phase at a time, so no division per cell.
    /// </summary>
    public static unsafe void SplitPhases<T>(ReadOnlySpan<T> source, Span<T> prepared, int stride, int padBegin, int phaseStride, int rowStart, ulong phasesRead)
        where T : unmanaged
    {
        int length = source.Length;
        for (int phase = 0; phase < stride; phase++)
        {
            if (stride <= 64 && (phasesRead >> phase & 1) == 0) continue;
            // The first input cell in this phase, and where it goes.
            int first = ((phase - padBegin) % stride + stride) % stride;
            if (first >= length) continue;
            int count = (length - first + stride - 1) / stride;
            Span<T> target = prepared.Slice(rowStart + phase * phaseStride + (first + padBegin) / stride, count);
            ref T src = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), first);
            ref T dst = ref MemoryMarshal.GetReference(target);
            int j = 0;
            if (Avx2.IsSupported && typeof(T) == typeof(float) && count >= Vector256<float>.Count)
            {
                var indices = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * stride;
                fixed (T* from = &src)
                {
                    float* cells = (float*)from;
                    for (; j <= count - Vector256<float>.Count; j += Vector256<float>.Count)
                        Avx2.GatherVector256(cells + (long)j * stride, indices, 4).StoreUnsafe(ref Unsafe.As<T, float>(ref dst), (nuint)j);
                }
            }
            else if (Avx2.IsSupported && typeof(T) == typeof(double) && count >= Vector256<double>.Count)
            {
                var indices = Vector128.Create(0, 1, 2, 3) * stride;
                fixed (T* from = &src)
                {
                    double* cells = (double*)from;
                    for (; j <= count - Vector256<double>.Count; j += Vector256<double>.Count)
                        Avx2.GatherVector256(cells + (long)j * stride, indices, 8).StoreUnsafe(ref Unsafe.As<T, double>(ref dst), (nuint)j);
                }
            }
            for (; j < count; j++)
                Unsafe.Add(ref dst, j) = Unsafe.Add(ref src, j * stride);
        }
    }
}
