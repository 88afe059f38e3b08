using System;

namespace KernelGen.EndToEnd;

/// <summary>The pooling layers of an imaginary network, implemented by the KernelGen generator at build time.</summary>
public static partial class Layers
{
    /// <summary>ResNet's stem pooling (also a built-in configuration: the user's kernel replaces the built-in one).</summary>
    [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
    public static partial void StemPool(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>The stem pooling in ceil mode: not a built-in configuration.</summary>
    [PoolKernel(3, 2, PoolMode.Max, Padding = 1, CeilMode = true)]
    public static partial void StemPoolCeil(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>
    /// A size-preserving pooling on double. (Stride 2 on double, the stem's configuration, does not compile today:
    /// see KernelGen.Generator.Tests, CompilationTests.RepresentativeUserKernelsCompileWarningFree.)
    /// </summary>
    [PoolKernel(3, 1, PoolMode.Max, Padding = 1)]
    public static partial void SamePoolDouble(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    /// <summary>YOLO's SPPF pooling on channels-last data.</summary>
    [PoolKernel(5, 1, PoolMode.Max, Padding = 2, Layout = PoolLayout.ChannelsLast)]
    public static partial void SppfPoolNhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>Average pooling in ceil mode with padding left out of the divisor.</summary>
    [PoolKernel(3, 2, PoolMode.Average, Padding = 1, CeilMode = true, CountIncludePad = false)]
    internal static partial void AvgCeilExcludePad(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
}
