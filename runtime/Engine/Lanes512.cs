using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The AVX-512 lane operations of the general engine's fast paths, for <typeparamref name="T"/> float or double: each
/// picks the float or double instruction (the JIT keeps only the one for <typeparamref name="T"/>). Callers check
/// <see cref="IsSupported"/> first.
/// </summary>
internal static class Lanes512<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether these operations run here: AVX-512, and <typeparamref name="T"/> float or double.</summary>
    public static bool IsSupported =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double));

    /// <summary>Lanes per vector: 16 floats or 8 doubles.</summary>
    public static int Count => Vector512<T>.Count;

    /// <summary><typeparamref name="TMax"/>'s maximum of two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Max<TMax>(Vector512<T> left, Vector512<T> right) where TMax : IMax512 => typeof(T) == typeof(float)
        ? TMax.Max(left.As<T, float>(), right.As<T, float>()).As<float, T>()
        : TMax.Max(left.As<T, double>(), right.As<T, double>()).As<double, T>();

    /// <summary><paramref name="left"/> + <paramref name="right"/> on the FMA pipes (<see cref="KernelLanes512.Add(Vector512{float}, Vector512{float})"/>): the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> left, Vector512<T> right) => typeof(T) == typeof(float)
        ? KernelLanes512.Add(left.As<T, float>(), right.As<T, float>()).As<float, T>()
        : KernelLanes512.Add(left.As<T, double>(), right.As<T, double>()).As<double, T>();

    /// <summary><paramref name="left"/> * <paramref name="right"/> + <paramref name="sum"/> (<see cref="KernelLanes512.AddProduct(Vector512{float}, Vector512{float}, Vector512{float})"/>): one instruction of a NaN check for two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> AddProduct(Vector512<T> left, Vector512<T> right, Vector512<T> sum) => typeof(T) == typeof(float)
        ? KernelLanes512.AddProduct(left.As<T, float>(), right.As<T, float>(), sum.As<T, float>()).As<float, T>()
        : KernelLanes512.AddProduct(left.As<T, double>(), right.As<T, double>(), sum.As<T, double>()).As<double, T>();

    /// <summary><paramref name="value"/> + 0 on the FMA pipes (<see cref="KernelLanes512.PlusZero(Vector512{float})"/>): a zero maximum becomes +0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> PlusZero(Vector512<T> value) => typeof(T) == typeof(float)
        ? KernelLanes512.PlusZero(value.As<T, float>()).As<float, T>()
        : KernelLanes512.PlusZero(value.As<T, double>()).As<double, T>();

    /// <summary>The even lanes of the concatenation low:high.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Even(Vector512<T> low, Vector512<T> high) => typeof(T) == typeof(float)
        ? KernelLanes512.Even(low.As<T, float>(), high.As<T, float>()).As<float, T>()
        : KernelLanes512.Even(low.As<T, double>(), high.As<T, double>()).As<double, T>();

    /// <summary>The odd lanes of the concatenation low:high.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Odd(Vector512<T> low, Vector512<T> high) => typeof(T) == typeof(float)
        ? KernelLanes512.Odd(low.As<T, float>(), high.As<T, float>()).As<float, T>()
        : KernelLanes512.Odd(low.As<T, double>(), high.As<T, double>()).As<double, T>();

    /// <summary>Lanes [shift, shift + Count) of the concatenation low:high (valignd / valignq): a tap <paramref name="shift"/> lanes on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
#pragma warning disable CA1857 // shift is a constant at every call, which inlines: valign then takes it as its immediate
    public static Vector512<T> Shifted(Vector512<T> high, Vector512<T> low, int shift) => typeof(T) == typeof(float)
        ? Avx512F.AlignRight32(high.AsUInt32(), low.AsUInt32(), (byte)shift).As<uint, T>()
        : Avx512F.AlignRight64(high.AsUInt64(), low.AsUInt64(), (byte)shift).As<ulong, T>();
#pragma warning restore CA1857

    /// <summary>Lane i is lane <c>index[i]</c> of the concatenation low:high (vpermt2ps / vpermt2pd; the index's low 5 or 4 bits count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Permute(Vector512<T> low, Vector512<T> index, Vector512<T> high) => typeof(T) == typeof(float)
        ? Avx512F.PermuteVar16x32x2(low.As<T, float>(), index.As<T, int>(), high.As<T, float>()).As<float, T>()
        : Avx512F.PermuteVar8x64x2(low.As<T, double>(), index.As<T, long>(), high.As<T, double>()).As<double, T>();

    /// <summary>
    /// Lane j = <c>cells[j * stride]</c> for a stride of 2-4, from the <paramref name="stride"/> vectors at
    /// <paramref name="cells"/> (two for stride 2): two two-source permutes, the first two vectors and the next two, and a
    /// blend (one permute for stride 2). <paramref name="pick"/> comes from <see cref="StridePick.For"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<T> EveryNth(T* cells, int stride, StridePick pick)
    {
        var fromFirstTwo = Permute(Vector512.Load(cells), pick.Low, Vector512.Load(cells + Count));
        if (stride == 2) return fromFirstTwo; // every lane's cell lies in the first two vectors
        var v2 = Vector512.Load(cells + 2 * Count);
        var v3 = stride == 4 ? Vector512.Load(cells + 3 * Count) : v2; // stride 3: the last lanes lie in the third vector
        return Vector512.ConditionalSelect(pick.FromFirstTwo, fromFirstTwo, Permute(v2, pick.High, v3));
    }

    /// <summary>
    /// The permute indices of <see cref="EveryNth"/>: lane j's cell <c>j * stride + offset</c> within the first two
    /// vectors (<see cref="Low"/>) or the next two (<see cref="High"/>), and which lanes take the first.
    /// </summary>
    public readonly record struct StridePick(Vector512<T> Low, Vector512<T> High, Vector512<T> FromFirstTwo)
    {
        /// <summary>The indices for a stride of 2-4, every lane's cell <paramref name="offset"/> (below the stride) on.</summary>
        public static StridePick For(int stride, int offset)
        {
            int pair = 2 * Count;
            if (typeof(T) == typeof(float))
            {
                var cell = Vector512<int>.Indices * stride + Vector512.Create(offset);
                var wrap = Vector512.Create(pair - 1);
                return new((cell & wrap).As<int, T>(), ((cell - Vector512.Create(pair)) & wrap).As<int, T>(),
                    Vector512.LessThan(cell, Vector512.Create(pair)).As<int, T>());
            }
            var cell64 = Vector512<long>.Indices * stride + Vector512.Create((long)offset);
            var wrap64 = Vector512.Create((long)pair - 1);
            return new((cell64 & wrap64).As<long, T>(), ((cell64 - Vector512.Create((long)pair)) & wrap64).As<long, T>(),
                Vector512.LessThan(cell64, Vector512.Create((long)pair)).As<long, T>());
        }
    }

    /// <summary>The mask of the first <paramref name="count"/> lanes (all of them from <see cref="Count"/> on, none at 0 or below).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> FirstLanes(int count) => typeof(T) == typeof(float)
        ? KernelLanes512.FirstLanes32(count).As<float, T>()
        : KernelLanes512.FirstLanes64(count).As<double, T>();

    /// <summary>The lanes of the vector at <paramref name="column"/> of a row that lie inside <c>[0, length)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> InsideMask(int column, int length) => typeof(T) == typeof(float)
        ? KernelLanes512.InsideMask32(column, length).As<int, T>()
        : KernelLanes512.InsideMask64(column, length).As<long, T>();

    /// <summary>Loads the lanes set in <paramref name="mask"/> (the others are not read) and <paramref name="fill"/> elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<T> MaskLoad(T* address, Vector512<T> mask, Vector512<T> fill) => typeof(T) == typeof(float)
        ? Avx512F.MaskLoad((float*)address, mask.As<T, float>(), fill.As<T, float>()).As<float, T>()
        : Avx512F.MaskLoad((double*)address, mask.As<T, double>(), fill.As<T, double>()).As<double, T>();

    /// <summary>Stores the lanes set in <paramref name="mask"/> only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void MaskStore(T* address, Vector512<T> mask, Vector512<T> value)
    {
        if (typeof(T) == typeof(float)) Avx512F.MaskStore((float*)address, mask.As<T, float>(), value.As<T, float>());
        else Avx512F.MaskStore((double*)address, mask.As<T, double>(), value.As<T, double>());
    }

    /// <summary>
    /// The first 64-byte-aligned address at or after <paramref name="cells"/>, at most <see cref="Count"/> - 1 cells
    /// on: where a scratch plane starts, so that its whole-vector loads and stores never split a cache line (a rented
    /// array starts wherever the GC put it). Rent <see cref="Count"/> cells more than the plane needs.
    /// </summary>
    public static unsafe T* Aligned(T* cells) => (T*)(((nuint)cells + 63) & ~(nuint)63);

    /// <summary>
    /// Whether <paramref name="sum"/>, a running sum of loaded cells kept as a NaN check, is NaN in any lane: if so a
    /// cell was NaN (or, rarely, the cells held both infinities, which only sends the caller down its exact path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HasNaN(Vector512<T> sum) => !Vector512.EqualsAll(sum, sum); // NaN is the one value unequal to itself

    /// <summary>
    /// Whether a plane of <paramref name="cells"/> is worth a <see cref="ContainsNaN"/> scan before max pooling: up to
    /// 16 KB the scan leaves the plane in L1 for the pooling, and a plane without NaN then takes vmaxps alone. Larger
    /// planes would be read from L2 twice, which costs more than the two-instruction NaN-propagating maximum saves
    /// (resnet50.stem's 49 KB planes).
    /// </summary>
    public static bool WorthScanningForNaN(int cells) => (long)cells * Unsafe.SizeOf<T>() <= NaNScanBytes;

    private const int NaNScanBytes = 16 * 1024;

    /// <summary>
    /// Whether the <paramref name="length"/> cells hold a NaN, from their sum: NaN if a cell is NaN (or, rarely, if
    /// they hold both infinities, which then only costs a caller its slower exact path). Lets a plane without NaN take
    /// <c>vmaxps</c> alone (<see cref="UncheckedMax512"/>); small planes stay in L1 for the pooling that follows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe bool ContainsNaN(T* cells, int length)
    {
        var sum0 = Vector512<T>.Zero;
        var sum1 = Vector512<T>.Zero;
        int i = 0;
        for (; i <= length - 2 * Count; i += 2 * Count)
        {
            sum0 += Vector512.Load(cells + i);
            sum1 += Vector512.Load(cells + i + Count);
        }
        var sum = sum0 + sum1;
        for (; i < length; i += Count) sum += MaskLoad(cells + i, FirstLanes(length - i), Vector512<T>.Zero);
        return HasNaN(sum);
    }
}
