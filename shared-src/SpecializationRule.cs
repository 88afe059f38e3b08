// Compiled into both the generator (netstandard2.0) and the runtime, so that the build's KG0009 reason, the kernel
// names and the runtime monitor's advice come from one rule. Keep it to what netstandard2.0 and C# latest allow.
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace KernelGen.Shared;

/// <summary>A 2-d pooling configuration as [PoolKernel] expresses it, with plain types both assemblies have.</summary>
/// <remarks><c>PadHeight</c>/<c>PadWidth</c> are the begin (top, left) padding, <c>PadHeightEnd</c>/<c>PadWidthEnd</c> the end (bottom, right).</remarks>
internal readonly record struct PoolKernelSpec(
    bool IsMax, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadHeight, int PadWidth,
    int PadHeightEnd, int PadWidthEnd,
    int Dilation, bool CeilMode, bool CountIncludePad, int DivisorOverride, bool ChannelsLast, bool IsDouble)
{
    /// <summary>Whether an axis is padded differently at its end than at its beginning (ONNX pads, SAME_UPPER/LOWER).</summary>
    public bool AsymmetricPadding => PadHeightEnd != PadHeight || PadWidthEnd != PadWidth;
}

/// <summary>Which configurations the generator specializes, what it names their kernels, and the attribute that asks for one.</summary>
internal static class SpecializationRule
{
    /// <summary>Unrolling stops here: a 7x7 window is 49 taps per output, beyond that code size outgrows the gain.</summary>
    public const int MaxUnrolledTaps = 49;

    /// <summary>
    /// Why this (valid) configuration cannot be specialized, or null when it can. The method then calls the general
    /// engine, and the analyzer reports the reason as a warning (KG0009).
    /// </summary>
    public static string? UnsupportedReason(in PoolKernelSpec spec) => Explain(spec)?.Reason;

    /// <summary>What would specialize a configuration with an <see cref="UnsupportedReason"/>, for the KG0009 message.</summary>
    public static string? HowToSpecialize(in PoolKernelSpec spec) => Explain(spec)?.Remedy;

    private const string ChannelsLastRemedy = "the channels-last layout (Layout = PoolLayout.ChannelsLast, NHWC data)";

    /// <summary>Why a configuration is not specialized and what would change that, or null when it is specialized.</summary>
    private static (string Reason, string Remedy)? Explain(in PoolKernelSpec spec)
    {
        if ((long)spec.KernelHeight * spec.KernelWidth > MaxUnrolledTaps)
            return ($"a {spec.KernelHeight}x{spec.KernelWidth} window has more than {MaxUnrolledTaps} taps to unroll",
                $"a window of at most {MaxUnrolledTaps} taps (7x7) would specialize it");
        if (!spec.ChannelsLast)
        {
            if (spec.Dilation != 1)
                return ("dilated windows are specialized only in the channels-last layout", ChannelsLastRemedy + " would specialize it");
            if (spec.StrideWidth > 2)
                return ($"channels-first kernels are specialized for a horizontal stride of 1 or 2, not {spec.StrideWidth}",
                    $"a horizontal stride of 1 or 2, or {ChannelsLastRemedy}, would specialize it");
        }
        return SlowerThanGeneralEngine(spec) is { } slower
            ? (slower, "nothing needs to change: the general engine is the faster path here (suppress KG0009 by ID to keep it)")
            : null;
    }

    /// <summary>
    /// Why the kernel the generator would write is slower than the general engine it displaces (bench
    /// <c>--specialization</c>, bench/notes.md), or null. The plain channels-last kernel reduces every tap of every
    /// window, which loses beyond 36 taps; for max where the engine's separable reduction takes clearly fewer maxima; for
    /// average with a horizontal stride of 1 where the engine shares neighbouring windows' loads (up to
    /// <see cref="EngineSlidingSumWidth"/> columns wide); and with a horizontal stride of 1 from 15 taps in a window at
    /// least as tall as wide. The
    /// channels-last sliding average saves the fewest loads over the engine's on 2-wide windows (its 1 a row against the
    /// engine's 5 for four outputs); on double, with one output row and one channel vector per sweep (a vertical stride
    /// above 1, more than 12 cells), its single chain of additions is slower than the engine's four.
    /// Channels-first separable max computes every input row's maxima, which a vertical stride of 4 (3 for double) no
    /// longer pays for.
    /// </summary>
    private static string? SlowerThanGeneralEngine(in PoolKernelSpec spec)
    {
        int taps = spec.KernelHeight * spec.KernelWidth;
        if (spec.ChannelsLast && !SeparableMaxChannelsLast(spec) && !SlidingAverageChannelsLast(spec))
        {
            if (taps > 36)
                return $"the channels-last kernel reduces all {taps} taps of each window, which is slower than the general engine beyond 36 taps";
            if (spec.IsMax && EngineSeparableMaxIsCheaper(spec))
                return $"the channels-last kernel takes all {taps} taps of each window, and the general engine's separable max (the window's rows along a whole row, then its columns) about {SeparableMaxima(spec)} per output, which is faster from 4/7 of the kernel's";
            if (!spec.IsMax && spec.StrideWidth == 1 && spec.KernelWidth >= 2 && spec.KernelWidth <= EngineSlidingSumWidth)
                return $"with a horizontal stride of 1 the general engine shares the loads of neighbouring windows up to {EngineSlidingSumWidth} columns wide, which is faster than the channels-last kernel's {taps} loads per window ({spec.KernelHeight}x{spec.KernelWidth})";
            if (spec.StrideWidth == 1 && taps >= 15 && spec.KernelHeight >= spec.KernelWidth)
                return $"with a horizontal stride of 1 the channels-last kernel is slower than the general engine's sliding windows for a window of 15 taps or more at least as tall as wide ({spec.KernelHeight}x{spec.KernelWidth})";
        }
        if (spec.ChannelsLast && SlidingAverageChannelsLast(spec) && spec.IsDouble && spec.StrideWidth == 1 && spec.KernelWidth == 2 && spec.StrideHeight > 1 &&
            spec.KernelHeight * spec.KernelWidth > 12)
            return $"on double, the channels-last sliding kernel sums one output of a {spec.KernelHeight}x2 window at a time (more than 12 cells, a vertical stride of {spec.StrideHeight}), and the general engine, which sums four neighbouring 2-wide windows at once from 5 loads a row, is faster";
        if (!spec.ChannelsLast && spec.IsMax && spec.StrideWidth == 1)
        {
            int limit = spec.IsDouble ? 3 : 4;
            if (spec.StrideHeight >= limit)
                return $"the channels-first separable max kernel with a vertical stride of {spec.StrideHeight} (from {limit} on {(spec.IsDouble ? "double" : "float")}) is slower than the general engine";
        }
        return null;
    }

    /// <summary>The widest window whose loads the general engine's channels-last sliding sum shares between neighbours (ChannelsLastSlidingSum).</summary>
    private const int EngineSlidingSumWidth = 5;

    /// <summary>
    /// Maxima per output cell of the general engine's channels-last separable max (ChannelsLastPooling.MaxSeparable):
    /// the window's rows over StrideWidth input cells per output, then the window's columns.
    /// </summary>
    private static int SeparableMaxima(in PoolKernelSpec spec) => spec.KernelHeight * spec.StrideWidth + spec.KernelWidth;

    /// <summary>
    /// Whether the engine's separable max takes at most 4/7 of the plain kernel's maxima (KernelHeight x KernelWidth per
    /// cell). The engine goes separable from 3/4 (against its own tap-by-tap path); the kernel's unrolled taps are
    /// faster than the engine's, and were measured to lose from about 4/7 (bench --specialization).
    /// </summary>
    private static bool EngineSeparableMaxIsCheaper(in PoolKernelSpec spec) =>
        spec.KernelHeight > 1 && 7L * SeparableMaxima(spec) <= 4L * spec.KernelHeight * spec.KernelWidth;

    /// <summary>Why global pooling has no [PoolKernel]: it runs an engine of its own.</summary>
    public const string GlobalPoolingReason = "global pooling runs Pooling.GlobalMax/GlobalAverage's own engine; [PoolKernel] specializes windowed pooling";

    /// <summary>Why max pooling with indices has no [PoolKernel].</summary>
    public const string WithIndicesReason = "specialized kernels do not return indices; max pooling with indices always runs on the general engine";

    /// <summary>
    /// Why [PoolKernel] cannot express a 1-d to 3-d configuration at all (it has PyTorch's 2-d options only), or null.
    /// Each axis is (kernel, begin padding, end padding, dilation), outermost first.
    /// </summary>
    public static string? InexpressibleReason(bool isMax, IReadOnlyList<(int Kernel, int PadBegin, int PadEnd, int Dilation)> axes)
    {
        if (axes.Count != 2)
            return $"[PoolKernel] specializes 2-d pooling; this is {axes.Count}-d";
        var (height, width) = (axes[0], axes[1]);
        foreach (var axis in new[] { height, width })
        {
            // Begin and end may differ (PaddingEnd...), but each keeps PyTorch's limit of half the kernel.
            int larger = System.Math.Max(axis.PadBegin, axis.PadEnd);
            if (larger > axis.Kernel / 2)
                return $"padding {Number(larger)} above half the kernel {Number(axis.Kernel)} is ONNX-only; [PoolKernel] keeps PyTorch's limit on each side";
        }
        if (height.Dilation != width.Dilation)
            return $"per-axis dilation ({Number(height.Dilation)}x{Number(width.Dilation)}) cannot be written in [PoolKernel], which has one Dilation";
        if (!isMax && height.Dilation != 1)
            return "dilated average pooling is ONNX-only; [PoolKernel] follows PyTorch's avg_pool2d, which has no dilation";
        return null;
    }

    /// <summary>Channels-last max windows that overlap, without dilation, go to the separable sweeping kernel.</summary>
    public static bool SeparableMaxChannelsLast(in PoolKernelSpec spec) =>
        spec.IsMax && spec.Dilation == 1 && (spec.StrideHeight < spec.KernelHeight || spec.StrideWidth < spec.KernelWidth);

    /// <summary>Channels-last averages whose windows overlap across, of at most 16 taps, go to the sliding-sum kernel.</summary>
    public static bool SlidingAverageChannelsLast(in PoolKernelSpec spec) =>
        !spec.IsMax && spec.Dilation == 1 && spec.StrideWidth < spec.KernelWidth && spec.KernelHeight * spec.KernelWidth <= 16;

    /// <summary>
    /// The kernel's name, XNNPACK style: what it is, readable from the name alone. For example
    /// <c>MaxPool_K3x3_S2_P1_F32_Nchw</c> or <c>AvgPool_K3x3_S1_P1_Ceil_ExcludePad_F64_Nhwc</c>.
    /// </summary>
    public static string KernelName(in PoolKernelSpec spec)
    {
        var parts = new List<string>
        {
            spec.IsMax ? "MaxPool" : "AvgPool",
            "K" + Pair(spec.KernelHeight, spec.KernelWidth),
            "S" + SquareOrPair(spec.StrideHeight, spec.StrideWidth),
        };
        if (spec.PadHeight != 0 || spec.PadWidth != 0)
            parts.Add("P" + SquareOrPair(spec.PadHeight, spec.PadWidth));
        // Padding at the end that differs from the beginning's: "PE" and the end (bottom x right) padding.
        if (spec.AsymmetricPadding)
            parts.Add("PE" + SquareOrPair(spec.PadHeightEnd, spec.PadWidthEnd));
        if (spec.Dilation != 1) parts.Add("D" + Number(spec.Dilation));
        if (spec.CeilMode) parts.Add("Ceil");
        if (!spec.IsMax && !spec.CountIncludePad) parts.Add("ExcludePad");
        if (!spec.IsMax && spec.DivisorOverride != 0) parts.Add("Div" + Number(spec.DivisorOverride).Replace('-', 'm'));
        parts.Add(spec.IsDouble ? "F64" : "F32");
        parts.Add(spec.ChannelsLast ? "Nhwc" : "Nchw");
        return string.Join("_", parts);
    }

    /// <summary>
    /// The <c>[PoolKernel(...)]</c> attribute that the generator reads back as exactly this configuration: square
    /// values as the constructor's size and stride, the rest as named properties, defaults left out.
    /// </summary>
    public static string AttributeText(in PoolKernelSpec spec)
    {
        var text = new StringBuilder("[PoolKernel(");
        text.Append(Number(spec.KernelHeight)).Append(", ").Append(Number(spec.StrideHeight)).Append(", ")
            .Append(spec.IsMax ? "PoolMode.Max" : "PoolMode.Average");
        if (spec.KernelWidth != spec.KernelHeight) Named(text, "KernelWidth", Number(spec.KernelWidth));
        if (spec.StrideWidth != spec.StrideHeight) Named(text, "StrideWidth", Number(spec.StrideWidth));
        if (spec.PadHeight == spec.PadWidth)
        {
            if (spec.PadHeight != 0) Named(text, "Padding", Number(spec.PadHeight));
        }
        else
        {
            Named(text, "PaddingHeight", Number(spec.PadHeight));
            Named(text, "PaddingWidth", Number(spec.PadWidth));
        }
        if (spec.AsymmetricPadding)
        {
            if (spec.PadHeightEnd == spec.PadWidthEnd)
                Named(text, "PaddingEnd", Number(spec.PadHeightEnd));
            else
            {
                if (spec.PadHeightEnd != spec.PadHeight) Named(text, "PaddingHeightEnd", Number(spec.PadHeightEnd));
                if (spec.PadWidthEnd != spec.PadWidth) Named(text, "PaddingWidthEnd", Number(spec.PadWidthEnd));
            }
        }
        if (spec.Dilation != 1) Named(text, "Dilation", Number(spec.Dilation));
        if (spec.CeilMode) Named(text, "CeilMode", "true");
        if (!spec.IsMax && !spec.CountIncludePad) Named(text, "CountIncludePad", "false");
        if (!spec.IsMax && spec.DivisorOverride != 0) Named(text, "DivisorOverride", Number(spec.DivisorOverride));
        if (spec.ChannelsLast) Named(text, "Layout", "PoolLayout.ChannelsLast");
        return text.Append(")]").ToString();
    }

    /// <summary>The declaration that goes under <see cref="AttributeText"/>, named after the kernel.</summary>
    public static string MethodSignature(in PoolKernelSpec spec)
    {
        string element = spec.IsDouble ? "double" : "float";
        return $"public static partial void {KernelName(spec).Replace("_", "")}(ReadOnlySpan<{element}> input, Span<{element}> output, PoolShape shape);";
    }

    private static void Named(StringBuilder text, string name, string value) => text.Append(", ").Append(name).Append(" = ").Append(value);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Pair(int height, int width) => Number(height) + "x" + Number(width);

    private static string SquareOrPair(int height, int width) => height == width ? Number(height) : Pair(height, width);
}
