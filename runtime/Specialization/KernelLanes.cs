using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Specialization;

// Vector building blocks that generated kernels share, one class per vector width. They live here rather than in
// every generated file so that a kernel reads as its algorithm; each is a few instructions and always inlined.
//
// Edge loads: a window at the border of a row reads columns outside [0, width). Such lanes are loaded masked, with
// the reduction's identity (-inf for max, +0 for sums) in place of the missing cells, which is what padding means;
// masked-off lanes are never touched, so reading "before" or "after" a row cannot fault.

/// <summary>
/// Vector512 building blocks for generated kernels (AVX-512F), and the few 256-bit ones (AVX-512VL) their register
/// paths use for a row's last vector when it holds half a vector of cells or fewer.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class KernelLanes512
{
    /// <summary>Lane i is set when <c>column + i</c> lies in <c>[0, width)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> InsideMask32(int column, int width)
    {
        var at = Vector512<int>.Indices + Vector512.Create(column);
        return Vector512.GreaterThanOrEqual(at, Vector512<int>.Zero) & Vector512.LessThan(at, Vector512.Create(width));
    }

    /// <summary>Lane i is set when <c>column + i</c> lies in <c>[0, width)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<long> InsideMask64(int column, int width)
    {
        var at = Vector512<long>.Indices + Vector512.Create((long)column);
        return Vector512.GreaterThanOrEqual(at, Vector512<long>.Zero) & Vector512.LessThan(at, Vector512.Create((long)width));
    }

    /// <summary>Loads <c>row[column + i]</c> into the lanes set in <paramref name="inside"/> and <paramref name="fill"/> into the others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadInside(float* row, int column, Vector512<int> inside, Vector512<float> fill) =>
        Avx512F.MaskLoad(row + column, inside.AsSingle(), fill);

    /// <summary>Loads <c>row[column + i]</c> into the lanes set in <paramref name="inside"/> and <paramref name="fill"/> into the others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> LoadInside(double* row, int column, Vector512<long> inside, Vector512<double> fill) =>
        Avx512F.MaskLoad(row + column, inside.AsDouble(), fill);

    /// <summary>Stores the first <paramref name="count"/> lanes of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(float* target, Vector512<float> value, int count) =>
        Avx512F.MaskStore(target, FirstLanes32(count), value);

    /// <summary>
    /// The store mask of the first <paramref name="count"/> lanes (every lane from 16 on, none at 0 or below), for
    /// kernels that store the same partial block in every row and compute its mask once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FirstLanes32(int count) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <inheritdoc cref="FirstLanes32(int)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> FirstLanes64(int count) =>
        Vector512.LessThan(Vector512<long>.Indices, Vector512.Create((long)count)).AsDouble();

    /// <summary>Stores the first <paramref name="count"/> lanes of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(double* target, Vector512<double> value, int count) =>
        Avx512F.MaskStore(target, FirstLanes64(count), value);

    /// <summary>
    /// <paramref name="left"/> + <paramref name="right"/>, computed as <c>left * 1 + right</c> in one <c>vfmadd</c>: the
    /// same bits as the addition (the product by 1 is exact, and the fused operation rounds once), NaN and signed zeros
    /// included. On Zen 4 <c>vaddps</c> and <c>vmaxps</c> share two pipes while <c>vfmadd</c> runs on two others, so
    /// max kernels take their NaN-check sums and their final +0 this way and leave the add pipes to the maxima.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) =>
        Avx512F.FusedMultiplyAdd(left, Vector512<float>.One, right);

    /// <inheritdoc cref="Add(Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Add(Vector512<double> left, Vector512<double> right) =>
        Avx512F.FusedMultiplyAdd(left, Vector512<double>.One, right);

    /// <summary>
    /// <paramref name="left"/> * <paramref name="right"/> + <paramref name="sum"/> in one <c>vfmadd</c>, for the NaN checks
    /// of max kernels: the result is NaN when either factor is, so one instruction checks two vectors of loaded cells
    /// where a sum of them takes two. It is also NaN for inf * 0 and when products overflow to opposite infinities;
    /// those false alarms only send a plane to the exact path, as a sum's inf + -inf does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> AddProduct(Vector512<float> left, Vector512<float> right, Vector512<float> sum) =>
        Avx512F.FusedMultiplyAdd(left, right, sum);

    /// <inheritdoc cref="AddProduct(Vector512{float}, Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> AddProduct(Vector512<double> left, Vector512<double> right, Vector512<double> sum) =>
        Avx512F.FusedMultiplyAdd(left, right, sum);

    /// <summary><paramref name="value"/> + 0 (see <see cref="Add(Vector512{float}, Vector512{float})"/>): a zero maximum becomes +0, every other value is kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> PlusZero(Vector512<float> value) => Add(value, Vector512<float>.Zero);

    /// <inheritdoc cref="PlusZero(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> PlusZero(Vector512<double> value) => Add(value, Vector512<double>.Zero);

    /// <inheritdoc cref="Add(Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => Fma.MultiplyAdd(left, Vector256<float>.One, right);

    /// <inheritdoc cref="Add(Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Add(Vector256<double> left, Vector256<double> right) => Fma.MultiplyAdd(left, Vector256<double>.One, right);

    /// <inheritdoc cref="PlusZero(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> PlusZero(Vector256<float> value) => Add(value, Vector256<float>.Zero);

    /// <inheritdoc cref="PlusZero(Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> PlusZero(Vector256<double> value) => Add(value, Vector256<double>.Zero);

    /// <summary>
    /// The maximum with NaN propagation in two instructions: <c>vmaxps</c> returns its second operand when either is
    /// NaN, and one <c>vfixupimmps</c> puts back a NaN first operand. Equal values may come back as either operand, so
    /// of two zeros either sign may win; kernels add +0 to their final result, which makes a zero maximum +0 however
    /// the window was reduced. (<c>Vector512.Max</c>, IEEE maximum, needs three instructions.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) =>
        Avx512F.Fixup(Avx512F.Max(left, right), left, Vector512.Create(NaNKeepsSource), 0);

    /// <inheritdoc cref="Max(Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Max(Vector512<double> left, Vector512<double> right) =>
        Avx512F.Fixup(Avx512F.Max(left, right), left, Vector512.Create((long)NaNKeepsSource), 0);

    /// <inheritdoc cref="Max(Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) =>
        Avx512F.VL.Fixup(Avx.Max(left, right), left, Vector256.Create(NaNKeepsSource), 0);

    /// <inheritdoc cref="Max(Vector512{float}, Vector512{float})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Max(Vector256<double> left, Vector256<double> right) =>
        Avx512F.VL.Fixup(Avx.Max(left, right), left, Vector256.Create((long)NaNKeepsSource), 0);

    // vfixupimm's table: for a quiet or signalling NaN source, take the quieted source; for every other class keep
    // the destination (the vmax result).
    private const int NaNKeepsSource = 0x22;

    /// <summary>Elements 0, 2, 4, ... of the 32 floats <c>low:high</c> (one <c>vpermt2ps</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Even(Vector512<float> low, Vector512<float> high) =>
        Avx512F.PermuteVar16x32x2(low, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), high);

    /// <summary>Elements 1, 3, 5, ... of the 32 floats <c>low:high</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Odd(Vector512<float> low, Vector512<float> high) =>
        Avx512F.PermuteVar16x32x2(low, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), high);

    /// <summary>Elements 0, 2, 4, ... of the 16 doubles <c>low:high</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Even(Vector512<double> low, Vector512<double> high) =>
        Avx512F.PermuteVar8x64x2(low, Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14), high);

    /// <summary>Elements 1, 3, 5, ... of the 16 doubles <c>low:high</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Odd(Vector512<double> low, Vector512<double> high) =>
        Avx512F.PermuteVar8x64x2(low, Vector512.Create(1L, 3, 5, 7, 9, 11, 13, 15), high);
}

/// <summary>Vector256 building blocks for generated kernels (AVX2).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class KernelLanes256
{
    /// <summary>Lane i is set when <c>column + i</c> lies in <c>[0, width)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> InsideMask32(int column, int width)
    {
        var at = Vector256<int>.Indices + Vector256.Create(column);
        return Vector256.GreaterThanOrEqual(at, Vector256<int>.Zero) & Vector256.LessThan(at, Vector256.Create(width));
    }

    /// <summary>Lane i is set when <c>column + i</c> lies in <c>[0, width)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<long> InsideMask64(int column, int width)
    {
        var at = Vector256<long>.Indices + Vector256.Create((long)column);
        return Vector256.GreaterThanOrEqual(at, Vector256<long>.Zero) & Vector256.LessThan(at, Vector256.Create((long)width));
    }

    /// <summary>Loads <c>row[column + i]</c> into the lanes set in <paramref name="inside"/> and <paramref name="fill"/> into the others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadInside(float* row, int column, Vector256<int> inside, Vector256<float> fill) =>
        Vector256.ConditionalSelect(inside.AsSingle(), Avx.MaskLoad(row + column, inside.AsSingle()), fill);

    /// <summary>Loads <c>row[column + i]</c> into the lanes set in <paramref name="inside"/> and <paramref name="fill"/> into the others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LoadInside(double* row, int column, Vector256<long> inside, Vector256<double> fill) =>
        Vector256.ConditionalSelect(inside.AsDouble(), Avx.MaskLoad(row + column, inside.AsDouble()), fill);

    /// <summary>Stores the first <paramref name="count"/> lanes of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(float* target, Vector256<float> value, int count) =>
        Avx.MaskStore(target, Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle(), value);

    /// <summary>Stores the first <paramref name="count"/> lanes of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(double* target, Vector256<double> value, int count) =>
        Avx.MaskStore(target, Vector256.LessThan(Vector256<long>.Indices, Vector256.Create((long)count)).AsDouble(), value);

    /// <summary>Elements 0, 2, 4, ... of the 16 floats <c>low:high</c>: two floats read as a ulong, narrowed to its low half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Even(Vector256<float> low, Vector256<float> high) =>
        Vector256.Narrow(low.AsUInt64(), high.AsUInt64()).AsSingle();

    /// <summary>Elements 1, 3, 5, ... of the 16 floats <c>low:high</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Odd(Vector256<float> low, Vector256<float> high) =>
        Vector256.Narrow(low.AsUInt64() >>> 32, high.AsUInt64() >>> 32).AsSingle();

    /// <summary>Elements 0, 2 of <paramref name="low"/> then 0, 2 of <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Even(Vector256<double> low, Vector256<double> high) =>
        Vector256.Create(Vector256.Shuffle(low, Vector256.Create(0L, 2, 1, 3)).GetLower(), Vector256.Shuffle(high, Vector256.Create(0L, 2, 1, 3)).GetLower());

    /// <summary>Elements 1, 3 of <paramref name="low"/> then 1, 3 of <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Odd(Vector256<double> low, Vector256<double> high) =>
        Vector256.Create(Vector256.Shuffle(low, Vector256.Create(0L, 2, 1, 3)).GetUpper(), Vector256.Shuffle(high, Vector256.Create(0L, 2, 1, 3)).GetUpper());
}

/// <summary>
/// Vector128 building blocks for generated kernels: portable (SSE, Arm64 AdvSimd), with AVX's masked moves for the
/// border loads and stores where the machine has them and lane by lane elsewhere.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class KernelLanes128
{
    /// <summary>Lane i is set when <c>column + i</c> lies in <c>[0, width)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> InsideMask32(int column, int width)
    {
        var at = Vector128<int>.Indices + Vector128.Create(column);
        return Vector128.GreaterThanOrEqual(at, Vector128<int>.Zero) & Vector128.LessThan(at, Vector128.Create(width));
    }

    /// <summary>Lane i is set when <c>column + i</c> lies in <c>[0, width)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<long> InsideMask64(int column, int width)
    {
        var at = Vector128<long>.Indices + Vector128.Create((long)column);
        return Vector128.GreaterThanOrEqual(at, Vector128<long>.Zero) & Vector128.LessThan(at, Vector128.Create((long)width));
    }

    /// <summary>Loads <c>row[column + i]</c> into the lanes set in <paramref name="inside"/> and <paramref name="fill"/> into the others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadInside(float* row, int column, Vector128<int> inside, Vector128<float> fill)
    {
        if (Avx.IsSupported)
            return Vector128.ConditionalSelect(inside.AsSingle(), Avx.MaskLoad(row + column, inside.AsSingle()), fill);
        float* cells = row + column;
        return Vector128.Create(
            inside.GetElement(0) != 0 ? cells[0] : fill.GetElement(0), inside.GetElement(1) != 0 ? cells[1] : fill.GetElement(1),
            inside.GetElement(2) != 0 ? cells[2] : fill.GetElement(2), inside.GetElement(3) != 0 ? cells[3] : fill.GetElement(3));
    }

    /// <summary>Loads <c>row[column + i]</c> into the lanes set in <paramref name="inside"/> and <paramref name="fill"/> into the others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> LoadInside(double* row, int column, Vector128<long> inside, Vector128<double> fill)
    {
        if (Avx.IsSupported)
            return Vector128.ConditionalSelect(inside.AsDouble(), Avx.MaskLoad(row + column, inside.AsDouble()), fill);
        double* cells = row + column;
        return Vector128.Create(
            inside.GetElement(0) != 0 ? cells[0] : fill.GetElement(0), inside.GetElement(1) != 0 ? cells[1] : fill.GetElement(1));
    }

    /// <summary>Stores the first <paramref name="count"/> lanes of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(float* target, Vector128<float> value, int count)
    {
        if (Avx.IsSupported)
            Avx.MaskStore(target, Vector128.LessThan(Vector128<int>.Indices, Vector128.Create(count)).AsSingle(), value);
        else
            for (int i = 0; i < Math.Min(count, Vector128<float>.Count); i++) target[i] = value.GetElement(i);
    }

    /// <summary>Stores the first <paramref name="count"/> lanes of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(double* target, Vector128<double> value, int count)
    {
        if (Avx.IsSupported)
            Avx.MaskStore(target, Vector128.LessThan(Vector128<long>.Indices, Vector128.Create((long)count)).AsDouble(), value);
        else
            for (int i = 0; i < Math.Min(count, Vector128<double>.Count); i++) target[i] = value.GetElement(i);
    }

    /// <summary>Elements 0, 2, 4, 6 of the 8 floats <c>low:high</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Even(Vector128<float> low, Vector128<float> high) =>
        Vector128.Narrow(low.AsUInt64(), high.AsUInt64()).AsSingle();

    /// <summary>Elements 1, 3, 5, 7 of the 8 floats <c>low:high</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Odd(Vector128<float> low, Vector128<float> high) =>
        Vector128.Narrow(low.AsUInt64() >>> 32, high.AsUInt64() >>> 32).AsSingle();

    /// <summary>Element 0 of <paramref name="low"/> and element 0 of <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Even(Vector128<double> low, Vector128<double> high) =>
        Vector128.Create(low.ToScalar(), high.ToScalar());

    /// <summary>Element 1 of <paramref name="low"/> and element 1 of <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Odd(Vector128<double> low, Vector128<double> high) =>
        Vector128.Create(low.GetElement(1), high.GetElement(1));
}
