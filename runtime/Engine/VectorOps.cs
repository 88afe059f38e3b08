using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>A lane-wise binary operation at every vector width, so one loop serves max, sum and division.</summary>
/// <remarks>
/// Each lane's result depends only on that lane's operands, so a result is the same whichever width computes it:
/// this is what makes the engine bit-identical across AVX-512, AVX2, SSE and scalar code.
/// </remarks>
internal interface ILaneOp<T> where T : unmanaged
{
    static abstract T Apply(T left, T right);
    static abstract Vector128<T> Apply(Vector128<T> left, Vector128<T> right);
    static abstract Vector256<T> Apply(Vector256<T> left, Vector256<T> right);
    static abstract Vector512<T> Apply(Vector512<T> left, Vector512<T> right);
}

/// <summary>
/// IEEE 754-2019 <c>maximum</c>: NaN wins, and +0 is above -0. Since .NET 9 both <c>T.Max</c> and
/// <c>Vector*.Max</c> implement exactly this (unlike <c>MaxNative</c>, which drops NaN on x86), so scalar and vector
/// paths agree bit for bit.
/// </summary>
/// <remarks>
/// Every max kernel adds +0 to its final result, so a zero maximum is always +0 (an all -0 window included). That
/// lets the specialized kernels use a cheaper maximum whose zero sign depends on operand order (see
/// <c>KernelLanes512.Max</c>) and still give the same bits as this engine.
/// </remarks>
internal readonly struct MaxOp<T> : ILaneOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T left, T right) => T.Max(left, right);
    public static Vector128<T> Apply(Vector128<T> left, Vector128<T> right) => Vector128.Max(left, right);
    public static Vector256<T> Apply(Vector256<T> left, Vector256<T> right) => Vector256.Max(left, right);
    public static Vector512<T> Apply(Vector512<T> left, Vector512<T> right)
    {
        // On AVX-512 the two-instruction NaN-propagating maximum; its zero sign is settled by the +0 every max kernel
        // adds to its result (see the remarks above), so the bits are the same as with Vector512.Max.
        if (Avx512F.IsSupported && typeof(T) == typeof(float))
            return KernelLanes512.Max(left.As<T, float>(), right.As<T, float>()).As<float, T>();
        if (Avx512F.IsSupported && typeof(T) == typeof(double))
            return KernelLanes512.Max(left.As<T, double>(), right.As<T, double>()).As<double, T>();
        return Vector512.Max(left, right);
    }
}

internal readonly struct AddOp<T> : ILaneOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T left, T right) => left + right;
    public static Vector128<T> Apply(Vector128<T> left, Vector128<T> right) => left + right;
    public static Vector256<T> Apply(Vector256<T> left, Vector256<T> right) => left + right;
    public static Vector512<T> Apply(Vector512<T> left, Vector512<T> right) => left + right;
}

internal readonly struct DivideOp<T> : ILaneOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Apply(T left, T right) => left / right;
    public static Vector128<T> Apply(Vector128<T> left, Vector128<T> right) => left / right;
    public static Vector256<T> Apply(Vector256<T> left, Vector256<T> right) => left / right;
    public static Vector512<T> Apply(Vector512<T> left, Vector512<T> right) => left / right;
}

/// <summary>Lane-wise loops over contiguous spans, at the widest vector width the machine accelerates.</summary>
internal static class VectorOps<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary><c>target[i] = op(target[i], source[i])</c> for every i of <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Accumulate<TOp>(Span<T> target, ReadOnlySpan<T> source) where TOp : ILaneOp<T>
    {
        if (source.Length < target.Length) ThrowTooShort();
        Combine<TOp>(ref MemoryMarshal.GetReference(target), ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(target), target.Length);
    }

    /// <summary><c>target[i] = op(target[i], value)</c> for every i of <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static void Accumulate<TOp>(Span<T> target, T value) where TOp : ILaneOp<T>
    {
        ref T t = ref MemoryMarshal.GetReference(target);
        nint i = 0, n = target.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(value);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Apply(Vector512.LoadUnsafe(ref t, (nuint)i), v).StoreUnsafe(ref t, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(value);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Apply(Vector256.LoadUnsafe(ref t, (nuint)i), v).StoreUnsafe(ref t, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var v = Vector128.Create(value);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                TOp.Apply(Vector128.LoadUnsafe(ref t, (nuint)i), v).StoreUnsafe(ref t, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref t, i) = TOp.Apply(Unsafe.Add(ref t, i), value);
    }

    /// <summary>
    /// <c>target[j] = op(... op(op(source[offsets[0] + j], source[offsets[1] + j]), ...)</c>: one pass that reduces
    /// every tap of a block in registers, in the order of <paramref name="offsets"/>. With
    /// <paramref name="startFromZero"/> the chain starts from +0 (PyTorch's sums do).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Reduce<TOp>(ReadOnlySpan<T> source, ReadOnlySpan<int> offsets, Span<T> target, bool startFromZero) where TOp : ILaneOp<T>
    {
        if (offsets.IsEmpty) ThrowTooShort();
        foreach (int offset in offsets)
            if ((uint)offset > (uint)source.Length || source.Length - offset < target.Length) ThrowTooShort();

        ref T src = ref MemoryMarshal.GetReference(source);
        ref T dst = ref MemoryMarshal.GetReference(target);
        ref int first = ref MemoryMarshal.GetReference(offsets);
        int taps = offsets.Length;
        nint n = target.Length;
        // Every block is a pure function of the source, so the last block may overlap the previous one instead of
        // falling back to narrower vectors or scalars: it recomputes a few outputs with the same bits.
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            // Four blocks at a time while they fit: four independent chains hide each operation's latency, and the
            // tap loop's overhead is paid once for four vectors. Each lane still reduces its taps in the given order.
            nint j4 = 0;
            for (; j4 <= n - 4 * Vector512<T>.Count; j4 += 4 * Vector512<T>.Count)
            {
                nint at = first + j4;
                var acc0 = Vector512.LoadUnsafe(ref src, (nuint)at);
                var acc1 = Vector512.LoadUnsafe(ref src, (nuint)(at + Vector512<T>.Count));
                var acc2 = Vector512.LoadUnsafe(ref src, (nuint)(at + 2 * Vector512<T>.Count));
                var acc3 = Vector512.LoadUnsafe(ref src, (nuint)(at + 3 * Vector512<T>.Count));
                if (startFromZero)
                {
                    acc0 = Vector512<T>.Zero + acc0; acc1 = Vector512<T>.Zero + acc1;
                    acc2 = Vector512<T>.Zero + acc2; acc3 = Vector512<T>.Zero + acc3;
                }
                for (int t = 1; t < taps; t++)
                {
                    nint tap = Unsafe.Add(ref first, t) + j4;
                    acc0 = TOp.Apply(acc0, Vector512.LoadUnsafe(ref src, (nuint)tap));
                    acc1 = TOp.Apply(acc1, Vector512.LoadUnsafe(ref src, (nuint)(tap + Vector512<T>.Count)));
                    acc2 = TOp.Apply(acc2, Vector512.LoadUnsafe(ref src, (nuint)(tap + 2 * Vector512<T>.Count)));
                    acc3 = TOp.Apply(acc3, Vector512.LoadUnsafe(ref src, (nuint)(tap + 3 * Vector512<T>.Count)));
                }
                if (typeof(TOp) == typeof(MaxOp<T>))
                {
                    acc0 += Vector512<T>.Zero; acc1 += Vector512<T>.Zero; acc2 += Vector512<T>.Zero; acc3 += Vector512<T>.Zero;
                }
                acc0.StoreUnsafe(ref dst, (nuint)j4);
                acc1.StoreUnsafe(ref dst, (nuint)(j4 + Vector512<T>.Count));
                acc2.StoreUnsafe(ref dst, (nuint)(j4 + 2 * Vector512<T>.Count));
                acc3.StoreUnsafe(ref dst, (nuint)(j4 + 3 * Vector512<T>.Count));
            }
            if (j4 == n) return;
            // The rest two blocks at a time (two independent chains), the second one ending at n.
            for (nint j = j4; ; j += 2 * Vector512<T>.Count)
            {
                nint last = n - Vector512<T>.Count, j0 = Math.Min(j, last), j1 = Math.Min(j + Vector512<T>.Count, last);
                var acc0 = Vector512.LoadUnsafe(ref src, (nuint)(first + j0));
                var acc1 = Vector512.LoadUnsafe(ref src, (nuint)(first + j1));
                if (startFromZero) { acc0 = Vector512<T>.Zero + acc0; acc1 = Vector512<T>.Zero + acc1; }
                for (int t = 1; t < taps; t++)
                {
                    nint tap = Unsafe.Add(ref first, t);
                    acc0 = TOp.Apply(acc0, Vector512.LoadUnsafe(ref src, (nuint)(tap + j0)));
                    acc1 = TOp.Apply(acc1, Vector512.LoadUnsafe(ref src, (nuint)(tap + j1)));
                }
                if (typeof(TOp) == typeof(MaxOp<T>)) { acc0 += Vector512<T>.Zero; acc1 += Vector512<T>.Zero; } // a zero maximum is +0 (see MaxOp)
                acc0.StoreUnsafe(ref dst, (nuint)j0);
                acc1.StoreUnsafe(ref dst, (nuint)j1);
                if (j1 == last) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            for (nint j = 0; ; j += 2 * Vector256<T>.Count)
            {
                nint last = n - Vector256<T>.Count, j0 = Math.Min(j, last), j1 = Math.Min(j + Vector256<T>.Count, last);
                var acc0 = Vector256.LoadUnsafe(ref src, (nuint)(first + j0));
                var acc1 = Vector256.LoadUnsafe(ref src, (nuint)(first + j1));
                if (startFromZero) { acc0 = Vector256<T>.Zero + acc0; acc1 = Vector256<T>.Zero + acc1; }
                for (int t = 1; t < taps; t++)
                {
                    nint tap = Unsafe.Add(ref first, t);
                    acc0 = TOp.Apply(acc0, Vector256.LoadUnsafe(ref src, (nuint)(tap + j0)));
                    acc1 = TOp.Apply(acc1, Vector256.LoadUnsafe(ref src, (nuint)(tap + j1)));
                }
                if (typeof(TOp) == typeof(MaxOp<T>)) { acc0 += Vector256<T>.Zero; acc1 += Vector256<T>.Zero; }
                acc0.StoreUnsafe(ref dst, (nuint)j0);
                acc1.StoreUnsafe(ref dst, (nuint)j1);
                if (j1 == last) return;
            }
        }
        if (Vector128.IsHardwareAccelerated && n >= Vector128<T>.Count)
        {
            for (nint j = 0; ; j += Vector128<T>.Count)
            {
                if (j > n - Vector128<T>.Count) j = n - Vector128<T>.Count;
                var acc = Vector128.LoadUnsafe(ref src, (nuint)(first + j));
                if (startFromZero) acc = Vector128<T>.Zero + acc;
                for (int t = 1; t < taps; t++)
                    acc = TOp.Apply(acc, Vector128.LoadUnsafe(ref src, (nuint)(Unsafe.Add(ref first, t) + j)));
                if (typeof(TOp) == typeof(MaxOp<T>)) acc += Vector128<T>.Zero;
                acc.StoreUnsafe(ref dst, (nuint)j);
                if (j == n - Vector128<T>.Count) return;
            }
        }
        for (nint j = 0; j < n; j++)
        {
            T acc = Unsafe.Add(ref src, first + j);
            if (startFromZero) acc = T.Zero + acc;
            for (int t = 1; t < taps; t++)
                acc = TOp.Apply(acc, Unsafe.Add(ref src, Unsafe.Add(ref first, t) + j));
            if (typeof(TOp) == typeof(MaxOp<T>)) acc += T.Zero;
            Unsafe.Add(ref dst, j) = acc;
        }
    }

    // The loop every public helper lands in. Callers have checked the lengths, so the refs stay inside the spans.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Combine<TOp>(ref T left, ref T right, ref T target, int length) where TOp : ILaneOp<T>
    {
        nint i = 0, n = length;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Apply(Vector512.LoadUnsafe(ref left, (nuint)i), Vector512.LoadUnsafe(ref right, (nuint)i)).StoreUnsafe(ref target, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Apply(Vector256.LoadUnsafe(ref left, (nuint)i), Vector256.LoadUnsafe(ref right, (nuint)i)).StoreUnsafe(ref target, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                TOp.Apply(Vector128.LoadUnsafe(ref left, (nuint)i), Vector128.LoadUnsafe(ref right, (nuint)i)).StoreUnsafe(ref target, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref target, i) = TOp.Apply(Unsafe.Add(ref left, i), Unsafe.Add(ref right, i));
    }

    /// <summary>
    /// Splits <paramref name="source"/> into its even and odd elements: <c>even[j] = source[2j]</c>,
    /// <c>odd[j] = source[2j + 1]</c>, for as many j as the targets hold (the source must cover them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Deinterleave2(ReadOnlySpan<T> source, Span<T> even, Span<T> odd)
    {
        int pairs = Math.Min(even.Length, odd.Length);
        if (source.Length < 2 * pairs) ThrowTooShort();
        ref T src = ref MemoryMarshal.GetReference(source);
        ref T evenRef = ref MemoryMarshal.GetReference(even);
        ref T oddRef = ref MemoryMarshal.GetReference(odd);
        nint j = 0;
        if (typeof(T) == typeof(float))
        {
            // Two floats read as one ulong: the low half is the even element, the high half the odd one, so a
            // narrowing conversion (vpmovqd) deinterleaves without a shuffle table.
            ref ulong pairsRef = ref Unsafe.As<T, ulong>(ref src);
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= pairs - Vector512<uint>.Count; j += Vector512<uint>.Count)
                {
                    var a = Vector512.LoadUnsafe(ref pairsRef, (nuint)j);
                    var b = Vector512.LoadUnsafe(ref pairsRef, (nuint)(j + Vector512<ulong>.Count));
                    Vector512.Narrow(a, b).As<uint, T>().StoreUnsafe(ref evenRef, (nuint)j);
                    Vector512.Narrow(a >>> 32, b >>> 32).As<uint, T>().StoreUnsafe(ref oddRef, (nuint)j);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= pairs - Vector256<uint>.Count; j += Vector256<uint>.Count)
                {
                    var a = Vector256.LoadUnsafe(ref pairsRef, (nuint)j);
                    var b = Vector256.LoadUnsafe(ref pairsRef, (nuint)(j + Vector256<ulong>.Count));
                    Vector256.Narrow(a, b).As<uint, T>().StoreUnsafe(ref evenRef, (nuint)j);
                    Vector256.Narrow(a >>> 32, b >>> 32).As<uint, T>().StoreUnsafe(ref oddRef, (nuint)j);
                }
            }
        }
        for (; j < pairs; j++)
        {
            Unsafe.Add(ref evenRef, j) = Unsafe.Add(ref src, 2 * j);
            Unsafe.Add(ref oddRef, j) = Unsafe.Add(ref src, 2 * j + 1);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooShort() => throw new InvalidOperationException("KernelGen internal error: a scratch span is shorter than the row it serves.");
}
