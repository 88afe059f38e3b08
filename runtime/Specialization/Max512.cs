using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Specialization;

/// <summary>
/// How a generated kernel takes the maximum of two AVX-512 vectors. Kernels that are generic over it compile (the JIT
/// specializes each struct) into a fast pass that assumes no NaN and an exact pass, from one body.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IMax512
{
    /// <summary>The maximum of <paramref name="left"/> and <paramref name="right"/>, lane by lane.</summary>
    static abstract Vector512<float> Max(Vector512<float> left, Vector512<float> right);

    /// <inheritdoc cref="Max(Vector512{float}, Vector512{float})"/>
    static abstract Vector512<double> Max(Vector512<double> left, Vector512<double> right);

    /// <summary>
    /// The same maximum on a 256-bit half (AVX-512VL), which register paths use for a row's last vector when it holds
    /// half a vector of cells or fewer.
    /// </summary>
    static abstract Vector256<float> Max(Vector256<float> left, Vector256<float> right);

    /// <inheritdoc cref="Max(Vector256{float}, Vector256{float})"/>
    static abstract Vector256<double> Max(Vector256<double> left, Vector256<double> right);

    /// <summary>Whether the kernel must check its input for NaN (and redo the work with <see cref="PropagatingMax512"/> if it finds one).</summary>
    static abstract bool NeedsNaNCheck { get; }
}

/// <summary>
/// <c>vmaxps</c> alone: one instruction instead of two, and exactly <see cref="PropagatingMax512"/> when no operand is
/// NaN (a NaN first operand would be lost). A kernel using it sums the cells it reads and, if the sum is NaN, pools
/// the plane again with <see cref="PropagatingMax512"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct UncheckedMax512 : IMax512
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Avx512F.Max(left, right);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Max(Vector512<double> left, Vector512<double> right) => Avx512F.Max(left, right);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Avx.Max(left, right);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Max(Vector256<double> left, Vector256<double> right) => Avx.Max(left, right);

    /// <inheritdoc/>
    public static bool NeedsNaNCheck => true;
}

/// <summary>The NaN-propagating maximum, <see cref="KernelLanes512.Max(Vector512{float}, Vector512{float})"/>.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct PropagatingMax512 : IMax512
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => KernelLanes512.Max(left, right);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Max(Vector512<double> left, Vector512<double> right) => KernelLanes512.Max(left, right);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => KernelLanes512.Max(left, right);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Max(Vector256<double> left, Vector256<double> right) => KernelLanes512.Max(left, right);

    /// <inheritdoc/>
    public static bool NeedsNaNCheck => false;
}
