using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// One explicit SIMD path of a generated kernel: the vector type, the condition the JIT folds to pick it, and how
/// the path spells the few operations that differ between widths.
/// </summary>
internal sealed class VectorIsa
{
    private VectorIsa(int bits, string condition, bool hasAlignRight)
    {
        Bits = bits;
        Condition = condition;
        HasAlignRight = hasAlignRight;
    }

    /// <summary>AVX-512F: two-source permutes for stride 2 and <c>valignd</c>/<c>valignq</c> to shift taps across vectors.</summary>
    public static VectorIsa V512 { get; } = new(512, "Vector512.IsHardwareAccelerated && Avx512F.IsSupported", hasAlignRight: true);

    /// <summary>AVX2 (with AVX's masked moves for the borders).</summary>
    public static VectorIsa V256 { get; } = new(256, "Vector256.IsHardwareAccelerated", hasAlignRight: false);

    /// <summary>128-bit vectors: SSE, or Arm64's AdvSimd (border loads and stores use AVX's masked moves where there are any).</summary>
    public static VectorIsa V128 { get; } = new(128, "Vector128.IsHardwareAccelerated", hasAlignRight: false);

    public static VectorIsa[] All { get; } = [V512, V256, V128];

    /// <summary>
    /// 256-bit vectors inside an AVX-512 path (AVX-512VL: <c>valignd</c> and masked moves on ymm registers), for a
    /// row's last vector when it holds half a vector of cells or fewer. On Zen 4 a 256-bit operation takes half the
    /// pipe time of a 512-bit one. Not a path of its own: it runs under <see cref="V512"/>'s condition.
    /// </summary>
    public static VectorIsa V512Half { get; } = new(256, V512.Condition, hasAlignRight: true);

    public int Bits { get; }

    /// <summary>The JIT-time constant condition under which this path runs; the JIT keeps one path.</summary>
    public string Condition { get; }

    /// <summary>Whether taps shifted across two vectors come from one cross-lane align instruction.</summary>
    public bool HasAlignRight { get; }

    /// <summary><c>Vector512</c>, <c>Vector256</c> or <c>Vector128</c>.</summary>
    public string Vector => "Vector" + Bits;

    /// <summary>The runtime helper class for this width (<c>KernelLanes512</c>, ...).</summary>
    public string Lanes => "KernelLanes" + Bits;

    public int LaneCount(ElementKind element) => Bits / (element == ElementKind.Float ? 32 : 64);

    /// <summary>The vector type of the element, e.g. <c>Vector512&lt;float&gt;</c>.</summary>
    public string Type(string element) => $"{Vector}<{element}>";

    /// <summary>
    /// The NaN-propagating maximum: on AVX-512 the two-instruction <c>KernelLanes512.Max</c>, elsewhere IEEE
    /// <c>Vector*.Max</c>. They differ only in the sign of a zero maximum, which kernels settle by adding +0 at the end.
    /// </summary>
    public string Max => Bits == 512 ? "KernelLanes512.Max" : Vector + ".Max";

    /// <summary>The lane-mask helper for the element's width.</summary>
    public string InsideMask(ElementKind element) => Lanes + (element == ElementKind.Float ? ".InsideMask32" : ".InsideMask64");

    /// <summary>
    /// Shifts the phase vector <paramref name="current"/> down by <paramref name="lanes"/>, filling from
    /// <paramref name="next"/>: <c>valignd</c>/<c>valignq</c> with the count as an immediate.
    /// </summary>
    public string AlignRight(ElementKind element, string next, string current, int lanes)
    {
        // valign reads its count modulo the vector's lanes, so a count of a whole vector would give current, not next.
        if (lanes == LaneCount(element)) return next;
        if (lanes == 0) return current;
        return element == ElementKind.Float
            ? $"{Avx512Class}.AlignRight32({next}.AsInt32(), {current}.AsInt32(), {lanes}).AsSingle()"
            : $"{Avx512Class}.AlignRight64({next}.AsInt64(), {current}.AsInt64(), {lanes}).AsDouble()";
    }

    /// <summary>The class of this width's AVX-512 instructions (valign, masked moves): <c>Avx512F</c>, or <c>Avx512F.VL</c> on 256 bits.</summary>
    public string Avx512Class => Bits == 512 ? "Avx512F" : "Avx512F.VL";
}
