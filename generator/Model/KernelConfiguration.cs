using System.Collections.Generic;
using System.Globalization;

namespace KernelGen.Generator.Model;

/// <summary>The generator's copy of <c>KernelGen.PoolMode</c> (the generator cannot reference the runtime).</summary>
internal enum PoolMode { Max = 0, Average = 1 }

/// <summary>The generator's copy of <c>KernelGen.PoolLayout</c>.</summary>
internal enum PoolLayout { ChannelsFirst = 0, ChannelsLast = 1 }

internal enum ElementKind { Float, Double }

/// <summary>
/// Everything a generated kernel is specialized for: one [PoolKernel] attribute resolved to per-axis values, plus the
/// element type. Value-equatable: two methods with the same configuration share one kernel class.
/// </summary>
internal sealed record KernelConfiguration(
    PoolMode Mode,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadHeight, int PadWidth,
    int Dilation,
    bool CeilMode,
    bool CountIncludePad,
    int DivisorOverride,
    PoolLayout Layout,
    ElementKind Element)
{
    /// <summary>Unrolling stops here: a 7x7 window is 49 taps per output, beyond that code size outgrows the gain.</summary>
    public const int MaxUnrolledTaps = 49;

    public bool IsMax => Mode == PoolMode.Max;

    public string ElementType => Element == ElementKind.Float ? "float" : "double";

    public long EffectiveKernelHeight => (KernelHeight - 1L) * Dilation + 1;

    public long EffectiveKernelWidth => (KernelWidth - 1L) * Dilation + 1;

    /// <summary>
    /// The kernel's name, XNNPACK style: what it is, readable from the name alone. For example
    /// <c>MaxPool_K3x3_S2_P1_F32_Nchw</c> or <c>AvgPool_K3x3_S1_P1_Ceil_ExcludePad_F64_Nhwc</c>.
    /// </summary>
    public string KernelName
    {
        get
        {
            var parts = new List<string>
            {
                IsMax ? "MaxPool" : "AvgPool",
                "K" + Pair(KernelHeight, KernelWidth),
                "S" + (StrideHeight == StrideWidth ? Number(StrideHeight) : Pair(StrideHeight, StrideWidth)),
            };
            if (PadHeight != 0 || PadWidth != 0)
                parts.Add("P" + (PadHeight == PadWidth ? Number(PadHeight) : Pair(PadHeight, PadWidth)));
            if (Dilation != 1) parts.Add("D" + Number(Dilation));
            if (CeilMode) parts.Add("Ceil");
            if (!IsMax && !CountIncludePad) parts.Add("ExcludePad");
            if (!IsMax && DivisorOverride != 0) parts.Add("Div" + Number(DivisorOverride).Replace('-', 'm'));
            parts.Add(Element == ElementKind.Float ? "F32" : "F64");
            parts.Add(Layout == PoolLayout.ChannelsFirst ? "Nchw" : "Nhwc");
            return string.Join("_", parts);
        }
    }

    /// <summary>
    /// Why this (valid) configuration is not specialized, or null when it is: the generator cannot, or its kernel would be
    /// slower than the general engine. The method then calls the general engine, and the analyzer reports the reason.
    /// </summary>
    public string? UnsupportedReason
    {
        get
        {
            if ((long)KernelHeight * KernelWidth > MaxUnrolledTaps)
                return $"a {KernelHeight}x{KernelWidth} window has more than {MaxUnrolledTaps} taps to unroll";
            if (Layout == PoolLayout.ChannelsFirst)
            {
                if (Dilation != 1)
                    return "dilated windows are specialized only in the channels-last layout";
                if (StrideWidth > 2)
                    return $"channels-first kernels are specialized for a horizontal stride of 1 or 2, not {StrideWidth}";
            }
            return Emitters.ChannelsLastEmitter.SlowerThanGeneralEngine(this) ?? Emitters.SeparableMaxEmitter.SlowerThanGeneralEngine(this);
        }
    }

    /// <summary>Problems that make the configuration invalid (PyTorch's limits), each as (parameter, message). Empty when valid.</summary>
    public IEnumerable<(string Parameter, string Message)> Problems()
    {
        if (Mode is not (PoolMode.Max or PoolMode.Average))
            yield return ("mode", $"the mode must be PoolMode.Max or PoolMode.Average, not {(int)Mode}");
        if (Layout is not (PoolLayout.ChannelsFirst or PoolLayout.ChannelsLast))
            yield return ("Layout", $"the layout must be PoolLayout.ChannelsFirst or PoolLayout.ChannelsLast, not {(int)Layout}");
        if (KernelHeight < 1 || KernelWidth < 1)
            yield return ("size", $"the window must be at least 1x1, not {KernelHeight}x{KernelWidth}");
        if (StrideHeight < 1 || StrideWidth < 1)
            yield return ("stride", $"the stride must be at least 1 on both axes, not {StrideHeight}x{StrideWidth}");
        if (Dilation < 1)
            yield return ("Dilation", $"the dilation must be at least 1, not {Dilation}");
        if (PadHeight < 0 || PadWidth < 0)
            yield return ("Padding", $"padding must not be negative, got {PadHeight}x{PadWidth}");
        else if (KernelHeight >= 1 && KernelWidth >= 1 && Dilation >= 1)
        {
            if (PadHeight >= EffectiveKernelHeight || PadWidth >= EffectiveKernelWidth)
                yield return ("Padding", $"padding {PadHeight}x{PadWidth} must be smaller than the effective kernel {EffectiveKernelHeight}x{EffectiveKernelWidth}");
            else if (PadHeight > KernelHeight / 2 || PadWidth > KernelWidth / 2)
                yield return ("Padding", $"padding {PadHeight}x{PadWidth} must be at most half the kernel {KernelHeight}x{KernelWidth} (PyTorch's limit)");
        }
        if (!IsMax && Dilation != 1)
            yield return ("Dilation", "average pooling has no dilation (PyTorch's avg_pool2d); remove Dilation");
        if (IsMax && DivisorOverride != 0)
            yield return ("DivisorOverride", "DivisorOverride applies to average pooling only");
        if (IsMax && !CountIncludePad)
            yield return ("CountIncludePad", "CountIncludePad applies to average pooling only");
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Pair(int height, int width) => Number(height) + "x" + Number(width);
}
