using System;
using System.Runtime.InteropServices;

namespace KernelGen.Testing;

/// <summary>
/// Readable, writable memory between two inaccessible pages (Linux: mmap + mprotect), so that a kernel reading one
/// element before or after its input faults instead of reading a neighbour's data. Elsewhere it falls back to a
/// managed array, which catches nothing (<see cref="Guarded"/> says which).
/// </summary>
public sealed unsafe class GuardedMemory : IDisposable
{
    private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20;

    private static readonly nuint Page = (nuint)Environment.SystemPageSize;

    private nint _base;
    private nuint _dataBytes;
    private byte[] _fallback = [];

    public static bool Guarded => OperatingSystem.IsLinux();

    /// <summary>The placements <see cref="OnBothSides"/> names: the input ending at the trailing guard page, or starting after the leading one.</summary>
    public const string AtEnd = "input before a guard page", AtStart = "input after a guard page";

    /// <summary>
    /// <paramref name="length"/> elements ending exactly at the trailing inaccessible page (<paramref name="atEnd"/>)
    /// or starting exactly after the leading one. Holds until the next call.
    /// </summary>
    public Span<T> Place<T>(int length, bool atEnd) where T : unmanaged
    {
        nuint bytes = (nuint)length * (nuint)sizeof(T);
        if (!Guarded)
        {
            if (_fallback.Length < (int)bytes) _fallback = new byte[bytes];
            return MemoryMarshal.Cast<byte, T>(_fallback.AsSpan(0, (int)bytes));
        }
        if (bytes > _dataBytes) Map(bytes);
        nint data = _base + (nint)Page;
        nint start = atEnd ? data + (nint)_dataBytes - (nint)bytes : data;
        return new Span<T>((void*)start, length);
    }

    /// <summary>
    /// Runs <paramref name="run"/> on a copy of <paramref name="input"/> that ends exactly at the trailing inaccessible
    /// page, then on one that starts exactly after the leading one: a read past either end faults. The second argument
    /// names the placement, for a failure's message.
    /// </summary>
    public void OnBothSides<T>(ReadOnlySpan<T> input, GuardedRun<T> run) where T : unmanaged
    {
        foreach (bool atEnd in new[] { true, false })
        {
            var guarded = Place<T>(input.Length, atEnd);
            input.CopyTo(guarded);
            run(guarded, atEnd ? AtEnd : AtStart);
        }
    }

    private void Map(nuint bytes)
    {
        Unmap();
        nuint dataBytes = (bytes + Page - 1) / Page * Page;
        nint region = mmap(0, dataBytes + 2 * Page, ProtNone, MapPrivate | MapAnonymous, -1, 0);
        if (region == -1) throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
        if (mprotect(region + (nint)Page, dataBytes, ProtRead | ProtWrite) != 0)
            throw new InvalidOperationException($"mprotect failed: errno {Marshal.GetLastPInvokeError()}");
        _base = region;
        _dataBytes = dataBytes;
    }

    private void Unmap()
    {
        if (_base != 0) munmap(_base, _dataBytes + 2 * Page);
        _base = 0;
        _dataBytes = 0;
    }

    public void Dispose() => Unmap();

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint address, nuint length, int protection, int flags, int descriptor, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(nint address, nuint length, int protection);

    [DllImport("libc", SetLastError = true)]
    private static extern int munmap(nint address, nuint length);
}

/// <summary>A check run on guarded input (<see cref="GuardedMemory.OnBothSides"/>); <paramref name="placement"/> says where the input lies.</summary>
public delegate void GuardedRun<T>(ReadOnlySpan<T> input, string placement) where T : unmanaged;
