using System;

namespace KernelGen.Kernels;

/// <summary>
/// The specialized kernels KernelGen ships: the pooling layers of common networks (ResNet and VGG 2x2 / 3x3 stride 2,
/// GoogLeNet 3x3 stride 1, YOLO's SPPF 5x5, 7x7 stride 1, Inception's 3x3 average without padding in the divisor),
/// max and average, both layouts, float and double; not the 5x5 and 7x7 channels-last averages, where the general
/// engine is faster (bench/notes.md, issue 17). The generator writes their bodies and registers them, so
/// <see cref="Pooling.Run(in PoolDescriptor, ReadOnlySpan{float}, Span{float}, PoolShape, int)"/> picks them without the
/// user writing an attribute.
/// </summary>
internal static partial class BuiltInKernels
{
    [PoolKernel(2, 2, PoolMode.Max)]
    internal static partial void MaxPool2x2S2Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(2, 2, PoolMode.Max, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool2x2S2Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
    internal static partial void MaxPool3x3S2P1Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 2, PoolMode.Max, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool3x3S2P1Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Max, Padding = 1)]
    internal static partial void MaxPool3x3S1P1Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Max, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool3x3S1P1Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(5, 1, PoolMode.Max, Padding = 2)]
    internal static partial void MaxPool5x5S1P2Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(5, 1, PoolMode.Max, Padding = 2, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool5x5S1P2Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(7, 1, PoolMode.Max, Padding = 3)]
    internal static partial void MaxPool7x7S1P3Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(7, 1, PoolMode.Max, Padding = 3, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool7x7S1P3Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(2, 2, PoolMode.Average)]
    internal static partial void AvgPool2x2S2Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(2, 2, PoolMode.Average, Layout = PoolLayout.ChannelsLast)]
    internal static partial void AvgPool2x2S2Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 2, PoolMode.Average, Padding = 1)]
    internal static partial void AvgPool3x3S2P1Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 2, PoolMode.Average, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    internal static partial void AvgPool3x3S2P1Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Average, Padding = 1)]
    internal static partial void AvgPool3x3S1P1Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Average, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    internal static partial void AvgPool3x3S1P1Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    // Inception's branch pooling (torchvision's Inception3 uses count_include_pad=False).
    [PoolKernel(3, 1, PoolMode.Average, Padding = 1, CountIncludePad = false)]
    internal static partial void AvgPool3x3S1P1ExcludePadNchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Average, Padding = 1, CountIncludePad = false, Layout = PoolLayout.ChannelsLast)]
    internal static partial void AvgPool3x3S1P1ExcludePadNhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(5, 1, PoolMode.Average, Padding = 2)]
    internal static partial void AvgPool5x5S1P2Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    [PoolKernel(7, 1, PoolMode.Average, Padding = 3)]
    internal static partial void AvgPool7x7S1P3Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

    // The same configurations in double.
    [PoolKernel(2, 2, PoolMode.Max)]
    internal static partial void MaxPool2x2S2NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(2, 2, PoolMode.Max, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool2x2S2NhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
    internal static partial void MaxPool3x3S2P1NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 2, PoolMode.Max, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool3x3S2P1NhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Max, Padding = 1)]
    internal static partial void MaxPool3x3S1P1NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Max, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool3x3S1P1NhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(5, 1, PoolMode.Max, Padding = 2)]
    internal static partial void MaxPool5x5S1P2NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(5, 1, PoolMode.Max, Padding = 2, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool5x5S1P2NhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(7, 1, PoolMode.Max, Padding = 3)]
    internal static partial void MaxPool7x7S1P3NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(7, 1, PoolMode.Max, Padding = 3, Layout = PoolLayout.ChannelsLast)]
    internal static partial void MaxPool7x7S1P3NhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(2, 2, PoolMode.Average)]
    internal static partial void AvgPool2x2S2NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(2, 2, PoolMode.Average, Layout = PoolLayout.ChannelsLast)]
    internal static partial void AvgPool2x2S2NhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 2, PoolMode.Average, Padding = 1)]
    internal static partial void AvgPool3x3S2P1NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 2, PoolMode.Average, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    internal static partial void AvgPool3x3S2P1NhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Average, Padding = 1)]
    internal static partial void AvgPool3x3S1P1NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Average, Padding = 1, Layout = PoolLayout.ChannelsLast)]
    internal static partial void AvgPool3x3S1P1NhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Average, Padding = 1, CountIncludePad = false)]
    internal static partial void AvgPool3x3S1P1ExcludePadNchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(3, 1, PoolMode.Average, Padding = 1, CountIncludePad = false, Layout = PoolLayout.ChannelsLast)]
    internal static partial void AvgPool3x3S1P1ExcludePadNhwcF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(5, 1, PoolMode.Average, Padding = 2)]
    internal static partial void AvgPool5x5S1P2NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

    [PoolKernel(7, 1, PoolMode.Average, Padding = 3)]
    internal static partial void AvgPool7x7S1P3NchwF64(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);
}
