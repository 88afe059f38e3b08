using System;
using System.Buffers;
using System.Runtime.InteropServices;

namespace KernelGen.Testing;

/// <summary>
/// A tensor's memory as ML runtimes allocate it: native memory starting on a 64-byte boundary (a cache line and one
/// AVX-512 vector), zeroed, never moved by the GC.
/// </summary>
/// <remarks>
/// ONNX Runtime, PyTorch and oneDNN all hand their kernels 64-byte-aligned tensors. A managed array starts wherever
/// the GC puts it (its data 8 bytes past some multiple of 16 or more, and a 25 MB array lands at the same offset
/// every time), so a benchmark on arrays measures every method at one arbitrary alignment; with these, every
/// method runs on the alignment it meets in practice. Being a <see cref="MemoryManager{T}"/>, the buffer can back an
/// ONNX Runtime <c>OrtValue</c> directly.
/// </remarks>
public sealed unsafe class AlignedBuffer<T> : MemoryManager<T> where T : unmanaged
{
    /// <summary>The alignment of the first element, in bytes.</summary>
    public const int Alignment = 64;

    private T* _data;

    /// <summary>Allocates <paramref name="length"/> zeroed elements.</summary>
    public AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        nuint bytes = (nuint)Math.Max(1, length) * (nuint)sizeof(T);
        _data = (T*)NativeMemory.AlignedAlloc(bytes, Alignment);
        NativeMemory.Clear(_data, bytes);
    }

    /// <summary>The element count.</summary>
    public int Length { get; }

    /// <summary>The elements (valid until the buffer is disposed).</summary>
    public Span<T> Span => new(Data, Length);

    /// <summary>The address of element 0, a multiple of <see cref="Alignment"/>.</summary>
    public T* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(AlignedBuffer<T>));

    /// <inheritdoc/>
    public override Span<T> GetSpan() => Span;

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, Length);
        return new MemoryHandle(Data + elementIndex); // native memory never moves: nothing to pin or release
    }

    /// <inheritdoc/>
    public override void Unpin() { }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (_data == null) return;
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
