// Compiled into both the generator (netstandard2.0) and the runtime, so that [PoolKernel]'s diagnostics and
// PoolDescriptor's exceptions reject the same windows. Each side words its own messages (the generator's name the
// attribute's properties, the runtime's the called method's parameters). Keep it to what netstandard2.0 and C# latest allow.
using System;

namespace KernelGen.Shared;

/// <summary>What is wrong with one spatial axis of a pooling window, in the order the runtime reports them.</summary>
[Flags]
internal enum AxisProblems
{
    None = 0,
    KernelBelowOne = 1 << 0,
    StrideBelowOne = 1 << 1,
    DilationBelowOne = 1 << 2,
    NegativePadding = 1 << 3,

    /// <summary>A pad as long as the effective kernel (k - 1) * d + 1: a window made only of padding.</summary>
    PaddingNotBelowEffectiveKernel = 1 << 4,

    /// <summary>PyTorch's limit: both sides of an axis padded equally.</summary>
    AsymmetricPadding = 1 << 5,

    /// <summary>PyTorch's limit: padding at most half the kernel.</summary>
    PaddingOverHalfKernel = 1 << 6,

    /// <summary>PyTorch's limit: average pooling has no dilation.</summary>
    DilatedAverage = 1 << 7,
}

/// <summary>The limits one spatial axis of a pooling window must meet (ONNX's, and with them PyTorch's).</summary>
internal static class PoolAxisRule
{
    /// <summary>(k - 1) * d + 1, in 64 bits (up to 2^62).</summary>
    public static long EffectiveKernel(int kernel, int dilation) => (long)(kernel - 1) * dilation + 1;

    /// <summary>
    /// The problems of one axis. The padding limits are checked only on an axis whose kernel, dilation and padding
    /// are each in range, and PyTorch's padding limits only where the ONNX one holds.
    /// </summary>
    public static AxisProblems Check(int kernel, int stride, int padBegin, int padEnd, int dilation, bool isAverage, bool pyTorchLimits)
    {
        var problems = AxisProblems.None;
        if (kernel < 1) problems |= AxisProblems.KernelBelowOne;
        if (stride < 1) problems |= AxisProblems.StrideBelowOne;
        if (dilation < 1) problems |= AxisProblems.DilationBelowOne;
        if (padBegin < 0 || padEnd < 0)
        {
            problems |= AxisProblems.NegativePadding;
        }
        else if (kernel >= 1 && dilation >= 1)
        {
            long effective = EffectiveKernel(kernel, dilation);
            if (padBegin >= effective || padEnd >= effective) problems |= AxisProblems.PaddingNotBelowEffectiveKernel;
            else if (pyTorchLimits && padBegin != padEnd) problems |= AxisProblems.AsymmetricPadding;
            else if (pyTorchLimits && padBegin > kernel / 2) problems |= AxisProblems.PaddingOverHalfKernel;
        }
        if (pyTorchLimits && isAverage && dilation != 1) problems |= AxisProblems.DilatedAverage;
        return problems;
    }
}
