using System;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace KernelGen.Engine;

/// <summary>
/// The engine's scratch arrays (window tables, scratch planes, masks), cached per thread: a warm call rents and
/// returns the same arrays and allocates nothing, however long the process runs.
/// </summary>
/// <remarks>
/// <c>ArrayPool.Shared</c> does the same until a gen-2 collection trims its buckets; the next call then allocates
/// again, which the bench saw as 2 and 7 bytes per call on average in some runs. Here nothing is ever trimmed, so the
/// cache is bounded instead: at most <see cref="Slots"/> arrays of at most <see cref="MaxCachedBytes"/> each per
/// thread and element type. Larger arrays (the prepared planes of big feature maps) come from <c>ArrayPool.Shared</c>.
/// </remarks>
internal static class ScratchArrays<T>
{
    /// <summary>Arrays kept per thread: one call rents at most about a dozen of one element type.</summary>
    private const int Slots = 16;

    /// <summary>The largest array kept per thread, in bytes (a power of two, as every cached length is).</summary>
    private const int MaxCachedBytes = 1 << 20;

    [ThreadStatic] private static T[]?[]? t_slots;

    /// <summary>An array of at least <paramref name="minimumLength"/> elements, its contents unspecified.</summary>
    public static T[] Rent(int minimumLength)
    {
        if (!IsCached(minimumLength)) return ArrayPool<T>.Shared.Rent(minimumLength);
        var slots = t_slots ??= new T[]?[Slots];
        int best = -1;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i] is { } array && array.Length >= minimumLength && (best < 0 || array.Length < slots[best]!.Length))
                best = i;
        }
        if (best >= 0)
        {
            var array = slots[best]!;
            slots[best] = null;
            return array;
        }
        // Powers of two, so that a few arrays serve calls of every size up to theirs.
        return new T[(int)Math.Min(int.MaxValue, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, minimumLength)))];
    }

    /// <summary>Gives back an array from <see cref="Rent"/>.</summary>
    public static void Return(T[] array)
    {
        if (!IsCached(array.Length))
        {
            ArrayPool<T>.Shared.Return(array);
            return;
        }
        var slots = t_slots ??= new T[]?[Slots];
        int smallest = -1;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i] is null)
            {
                slots[i] = array;
                return;
            }
            if (smallest < 0 || slots[i]!.Length < slots[smallest]!.Length) smallest = i;
        }
        if (slots[smallest]!.Length < array.Length) slots[smallest] = array; // keep the larger
    }

    private static bool IsCached(int length) => (long)length * Unsafe.SizeOf<T>() <= MaxCachedBytes;
}
