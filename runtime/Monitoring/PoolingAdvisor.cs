using System;
using System.Globalization;
using System.Linq;
using KernelGen.Shared;

namespace KernelGen.Monitoring;

/// <summary>
/// What the monitor says about a configuration the general engine served: the [PoolKernel] attribute that would
/// specialize it, or why none can. The generator's own rule (shared-src/SpecializationRule.cs) decides, so the
/// reason is KG0009's.
/// </summary>
internal static class PoolingAdvisor
{
    /// <summary>A short name for the configuration: the kernel name the generator would give it, or a description.</summary>
    public static string ConfigurationKey(in PoolingCallKey key)
    {
        string element = key.IsDouble ? "F64" : "F32";
        string layout = key.Layout == PoolLayout.ChannelsLast ? "Nhwc" : "Nchw";
        if (key.Global)
            return $"Global{(key.Mode == PoolMode.Max ? "Max" : "Avg")}Pool_{element}_{layout}";
        string name = Spec(key.Descriptor, key.IsDouble) is { } spec && Inexpressible(key.Descriptor) is null
            ? SpecializationRule.KernelName(spec)
            : OtherKey(key.Descriptor, element, layout);
        return key.WithIndices ? name + "_Indices" : name;
    }

    /// <summary>The same style for what [PoolKernel] cannot express: <c>MaxPool2d_K3x3_S2x2_P0-2x0-2_D1x1_F32_Nchw</c>.</summary>
    private static string OtherKey(in PoolDescriptor d, string element, string layout)
    {
        var axes = new PoolAxis[d.SpatialRank];
        for (int i = 0; i < axes.Length; i++) axes[i] = d.GetAxis(i);
        string Join(Func<PoolAxis, string> part) => string.Join("x", axes.Select(part));
        string text = string.Create(CultureInfo.InvariantCulture,
            $"{(d.Mode == PoolMode.Max ? "Max" : "Avg")}Pool{d.SpatialRank}d_K{Join(a => $"{a.Kernel}")}_S{Join(a => $"{a.Stride}")}_P{Join(a => $"{a.PadBegin}-{a.PadEnd}")}_D{Join(a => $"{a.Dilation}")}");
        if (d.CeilMode) text += "_Ceil";
        if (d.Mode == PoolMode.Average && !d.CountIncludePad) text += "_ExcludePad";
        if (d.DivisorOverride != 0) text += "_Div" + d.DivisorOverride.ToString(CultureInfo.InvariantCulture).Replace('-', 'm');
        return $"{text}_{element}_{layout}";
    }

    /// <summary>(attribute, method signature, null) when [PoolKernel] would specialize the configuration, else (null, null, reason).</summary>
    public static (string? Attribute, string? Signature, string? Reason) Advise(in PoolingCallKey key)
    {
        if (key.Global)
            return (null, null, SpecializationRule.GlobalPoolingReason);
        if (key.WithIndices)
            return (null, null, SpecializationRule.WithIndicesReason);
        if (Inexpressible(key.Descriptor) is { } reason)
            return (null, null, reason);
        var spec = Spec(key.Descriptor, key.IsDouble)!.Value;
        if (SpecializationRule.UnsupportedReason(spec) is { } unsupported)
            return (null, null, unsupported);
        return (SpecializationRule.AttributeText(spec), SpecializationRule.MethodSignature(spec), null);
    }

    /// <summary>Why [PoolKernel] cannot express the descriptor at all (it has PyTorch's 2-d options only), or null.</summary>
    internal static string? Inexpressible(in PoolDescriptor descriptor) =>
        SpecializationRule.InexpressibleReason(descriptor.Mode == PoolMode.Max, Axes(descriptor));

    /// <summary>The descriptor's axes, outermost first, as the shared rule reads them.</summary>
    internal static (int Kernel, int PadBegin, int PadEnd, int Dilation)[] Axes(in PoolDescriptor descriptor)
    {
        var axes = new (int, int, int, int)[descriptor.SpatialRank];
        for (int i = 0; i < axes.Length; i++)
        {
            var axis = descriptor.GetAxis(i);
            axes[i] = (axis.Kernel, axis.PadBegin, axis.PadEnd, axis.Dilation);
        }
        return axes;
    }

    /// <summary>The descriptor in the shared rule's terms (meaningful for 2-d descriptors).</summary>
    internal static PoolKernelSpec? Spec(in PoolDescriptor descriptor, bool isDouble)
    {
        if (descriptor.SpatialRank != 2) return null;
        var height = descriptor.GetAxis(0);
        var width = descriptor.GetAxis(1);
        bool isMax = descriptor.Mode == PoolMode.Max;
        return new PoolKernelSpec(isMax, height.Kernel, width.Kernel, height.Stride, width.Stride, height.PadBegin, width.PadBegin,
            height.PadEnd, width.PadEnd, height.Dilation, descriptor.CeilMode, isMax || descriptor.CountIncludePad, descriptor.DivisorOverride,
            descriptor.Layout == PoolLayout.ChannelsLast, isDouble);
    }
}
