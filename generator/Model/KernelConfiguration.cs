using System.Collections.Generic;
using KernelGen.Shared;

namespace KernelGen.Generator.Model;

internal enum ElementKind { Float, Double }

/// <summary>
/// Everything a generated kernel is specialized for: one [PoolKernel] attribute resolved to per-axis values, plus the
/// element type. Value-equatable: two methods with the same configuration share one kernel class.
/// </summary>
/// <remarks><see cref="PadHeight"/>/<see cref="PadWidth"/> pad the top and left, <see cref="PadHeightEnd"/>/<see cref="PadWidthEnd"/> the bottom and right.</remarks>
internal sealed record KernelConfiguration(
    PoolMode Mode,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadHeight, int PadWidth,
    int PadHeightEnd, int PadWidthEnd,
    int Dilation,
    bool CeilMode,
    bool CountIncludePad,
    int DivisorOverride,
    PoolLayout Layout,
    ElementKind Element)
{
    public bool IsMax => Mode == PoolMode.Max;

    /// <summary>Whether the bottom or right padding differs from the top or left.</summary>
    public bool AsymmetricPadding => Spec.AsymmetricPadding;

    public string ElementType => Element == ElementKind.Float ? "float" : "double";

    public long EffectiveKernelHeight => PoolAxisRule.EffectiveKernel(KernelHeight, Dilation);

    public long EffectiveKernelWidth => PoolAxisRule.EffectiveKernel(KernelWidth, Dilation);

    /// <summary>
    /// The kernel's name, XNNPACK style: what it is, readable from the name alone. For example
    /// <c>MaxPool_K3x3_S2_P1_F32_Nchw</c> or <c>AvgPool_K3x3_S1_P1_Ceil_ExcludePad_F64_Nhwc</c>.
    /// </summary>
    public string KernelName => SpecializationRule.KernelName(Spec);

    /// <summary>
    /// Why this (valid) configuration is not specialized, or null when it is: the generator cannot, or its kernel would be
    /// slower than the general engine. The method then calls the general engine, and the analyzer reports the reason as
    /// a warning (KG0009). The rule lives in shared-src/ so that the runtime's monitor gives the same reason.
    /// </summary>
    public string? UnsupportedReason => SpecializationRule.UnsupportedReason(Spec);

    /// <summary>This configuration in the shared rule's terms.</summary>
    public PoolKernelSpec Spec => new(IsMax, KernelHeight, KernelWidth, StrideHeight, StrideWidth, PadHeight, PadWidth,
        PadHeightEnd, PadWidthEnd, Dilation, CeilMode, CountIncludePad, DivisorOverride, Layout == PoolLayout.ChannelsLast, Element == ElementKind.Double);

    /// <summary>What would specialize a configuration with an <see cref="UnsupportedReason"/>, for the KG0009 message.</summary>
    public string? HowToSpecialize => SpecializationRule.HowToSpecialize(Spec);

    /// <summary>Problems that make the configuration invalid (PyTorch's limits), each as (parameter, message). Empty when valid.</summary>
    public IEnumerable<(string Parameter, string Message)> Problems()
    {
        if (Mode is not (PoolMode.Max or PoolMode.Average))
            yield return ("mode", $"the mode must be PoolMode.Max or PoolMode.Average, not {(int)Mode}");
        if (Layout is not (PoolLayout.ChannelsFirst or PoolLayout.ChannelsLast))
            yield return ("Layout", $"the layout must be PoolLayout.ChannelsFirst or PoolLayout.ChannelsLast, not {(int)Layout}");
        // Each axis against the limits PoolDescriptor enforces (shared-src/PoolAxisRule.cs); [PoolKernel] follows PyTorch's.
        var axes = PoolAxisRule.Check(KernelHeight, StrideHeight, PadHeight, PadHeight, Dilation, !IsMax, pyTorchLimits: true)
            | PoolAxisRule.Check(KernelWidth, StrideWidth, PadWidth, PadWidth, Dilation, !IsMax, pyTorchLimits: true);
        if (Has(axes, AxisProblems.KernelBelowOne))
            yield return ("size", $"the window must be at least 1x1, not {KernelHeight}x{KernelWidth}");
        if (Has(axes, AxisProblems.StrideBelowOne))
            yield return ("stride", $"the stride must be at least 1 on both axes, not {StrideHeight}x{StrideWidth}");
        if (Has(axes, AxisProblems.DilationBelowOne))
            yield return ("Dilation", $"the dilation must be at least 1, not {Dilation}");
        if (Has(axes, AxisProblems.NegativePadding))
            yield return ("Padding", $"padding must not be negative, got {PadHeight}x{PadWidth}");
        else if (!Has(axes, AxisProblems.KernelBelowOne | AxisProblems.DilationBelowOne))
        {
            if (Has(axes, AxisProblems.PaddingNotBelowEffectiveKernel))
                yield return ("Padding", $"padding {PadHeight}x{PadWidth} must be smaller than the effective kernel {EffectiveKernelHeight}x{EffectiveKernelWidth}");
            else if (Has(axes, AxisProblems.PaddingOverHalfKernel))
                yield return ("Padding", $"padding {PadHeight}x{PadWidth} must be at most half the kernel {KernelHeight}x{KernelWidth} (PyTorch's limit)");
        }
        if (AsymmetricPadding && !Has(axes, AxisProblems.KernelBelowOne | AxisProblems.DilationBelowOne) && EndPaddingProblem() is { } end)
            yield return ("PaddingEnd", end);
        if (Has(axes, AxisProblems.DilatedAverage))
            yield return ("Dilation", "average pooling has no dilation (PyTorch's avg_pool2d); remove Dilation");
        if (IsMax && DivisorOverride != 0)
            yield return ("DivisorOverride", "DivisorOverride applies to average pooling only");
        if (IsMax && !CountIncludePad)
            yield return ("CountIncludePad", "CountIncludePad applies to average pooling only");
    }

    /// <summary>
    /// What is wrong with the end padding, each side held to the limits the beginning's are (PyTorch's, per side), naming
    /// the property that sets it; null when it is valid. Only asked when an end differs from its beginning.
    /// </summary>
    private string? EndPaddingProblem()
    {
        const AxisProblems padding = AxisProblems.NegativePadding | AxisProblems.PaddingNotBelowEffectiveKernel | AxisProblems.PaddingOverHalfKernel;
        var height = PoolAxisRule.Check(KernelHeight, StrideHeight, PadHeightEnd, PadHeightEnd, Dilation, !IsMax, pyTorchLimits: true) & padding;
        var width = PoolAxisRule.Check(KernelWidth, StrideWidth, PadWidthEnd, PadWidthEnd, Dilation, !IsMax, pyTorchLimits: true) & padding;
        if ((height | width) == AxisProblems.None) return null;
        string property = height != AxisProblems.None && width != AxisProblems.None && PadHeightEnd == PadWidthEnd
            ? $"PaddingEnd = {PadHeightEnd}"
            : height != AxisProblems.None ? $"PaddingHeightEnd = {PadHeightEnd}" : $"PaddingWidthEnd = {PadWidthEnd}";
        var problems = height | width;
        if (Has(problems, AxisProblems.NegativePadding))
            return $"the end padding must not be negative, got {property} (bottom x right {PadHeightEnd}x{PadWidthEnd})";
        if (Has(problems, AxisProblems.PaddingNotBelowEffectiveKernel))
            return $"the end padding must be smaller than the effective kernel {EffectiveKernelHeight}x{EffectiveKernelWidth}, got {property} (bottom x right {PadHeightEnd}x{PadWidthEnd})";
        return $"the end padding must be at most half the kernel {KernelHeight}x{KernelWidth} (PyTorch's limit, on each side), got {property} (bottom x right {PadHeightEnd}x{PadWidthEnd})";
    }

    private static bool Has(AxisProblems problems, AxisProblems problem) => (problems & problem) != 0;
}
