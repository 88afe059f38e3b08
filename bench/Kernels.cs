using System;

namespace KernelGen.Bench;

/// <summary>
/// The cases' kernels declared the way a user would: one <c>[PoolKernel]</c> method per configuration and layout. The
/// generator writes their bodies and registers them; they register the same code the runtime's built-in kernels have.
/// </summary>
public static partial class BenchKernels
{
    /// <summary>resnet50.stem, batch32.</summary>
    [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
    public static partial void MaxK3S2P1Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>resnet50.stem, batch32, channels last.</summary>
    [PoolKernel(3, 2, PoolMode.Max, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    public static partial void MaxK3S2P1Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>vgg16.pool1, vgg16.pool4.</summary>
    [PoolKernel(2, 2, PoolMode.Max)]
    public static partial void MaxK2S2Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>vgg16.pool1, vgg16.pool4, channels last.</summary>
    [PoolKernel(2, 2, PoolMode.Max, Layout = PoolLayout.ChannelsLast)]
    public static partial void MaxK2S2Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>googlenet.pool.</summary>
    [PoolKernel(3, 1, PoolMode.Max, Padding = 1)]
    public static partial void MaxK3S1P1Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>googlenet.pool, channels last.</summary>
    [PoolKernel(3, 1, PoolMode.Max, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    public static partial void MaxK3S1P1Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>yolov8.sppf.</summary>
    [PoolKernel(5, 1, PoolMode.Max, Padding = 2)]
    public static partial void MaxK5S1P2Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>yolov8.sppf, channels last.</summary>
    [PoolKernel(5, 1, PoolMode.Max, Padding = 2, Layout = PoolLayout.ChannelsLast)]
    public static partial void MaxK5S1P2Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>densenet.transition.</summary>
    [PoolKernel(2, 2, PoolMode.Average)]
    public static partial void AvgK2S2Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>densenet.transition, channels last.</summary>
    [PoolKernel(2, 2, PoolMode.Average, Layout = PoolLayout.ChannelsLast)]
    public static partial void AvgK2S2Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>inception.pool.</summary>
    [PoolKernel(3, 1, PoolMode.Average, Padding = 1, CountIncludePad = false)]
    public static partial void AvgK3S1P1ExcludePadNchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    /// <summary>inception.pool, channels last.</summary>
    [PoolKernel(3, 1, PoolMode.Average, Padding = 1, CountIncludePad = false, Layout = PoolLayout.ChannelsLast)]
    public static partial void AvgK3S1P1ExcludePadNhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
}
