namespace KernelGen.Generator.Tests;

/// <summary>User code the tests feed to the generator.</summary>
internal static class UserSources
{
    /// <summary>
    /// A representative set of user configurations beyond the built-ins, one method each, in a namespace and nested
    /// types as user code often is. The comment after each says what it covers.
    /// </summary>
    public const string Representative = """
        using System;
        using KernelGen;

        namespace MyApp.Vision;

        /// <summary>Pooling layers of a model.</summary>
        public static partial class Layers
        {
            /// <summary>Nested, to cover enclosing types in the generated partial.</summary>
            internal static partial class Custom
            {
                // Non-square window, stride and padding.
                [PoolKernel(0, 0, PoolMode.Max, KernelHeight = 2, KernelWidth = 3, StrideHeight = 1, StrideWidth = 2, PaddingHeight = 1, PaddingWidth = 1)]
                internal static partial void NonSquare(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

                // Dilation, channels last: specialized.
                [PoolKernel(3, 1, PoolMode.Max, Padding = 1, Dilation = 2, Layout = PoolLayout.ChannelsLast)]
                internal static partial void DilatedNhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

                // Dilation, channels first: the general engine (KG0009).
                [PoolKernel(3, 1, PoolMode.Max, Padding = 1, Dilation = 2)]
                internal static partial void DilatedNchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

                // Ceil mode, average: divisors vary at the overhang.
                [PoolKernel(3, 2, PoolMode.Average, CeilMode = true)]
                internal static partial void AvgCeil(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

                // Padding left out of the divisor.
                [PoolKernel(3, 2, PoolMode.Average, Padding = 1, CountIncludePad = false)]
                internal static partial void AvgExcludePad(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

                // A divisor override that is not a power of two.
                [PoolKernel(3, 1, PoolMode.Average, Padding = 1, DivisorOverride = 5)]
                internal static partial void AvgDivisor5(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

                // Double.
                [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
                internal static partial void MaxDouble(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

                // Channels last, average, double, non-square, ceil mode, padding excluded.
                [PoolKernel(0, 2, PoolMode.Average, KernelHeight = 2, KernelWidth = 3, PaddingWidth = 1, CeilMode = true, CountIncludePad = false, Layout = PoolLayout.ChannelsLast)]
                public static partial void AvgNhwcDouble(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

                // Stride 3, channels first: the general engine (KG0009).
                [PoolKernel(3, 3, PoolMode.Max)]
                private static partial void Stride3(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

                // A parameter named with a keyword, and the same configuration as NonSquare: one kernel for both.
                [PoolKernel(0, 0, PoolMode.Max, KernelHeight = 2, KernelWidth = 3, StrideHeight = 1, StrideWidth = 2, PaddingHeight = 1, PaddingWidth = 1)]
                internal static partial void SharesKernel(ReadOnlySpan<float> @in, Span<float> @out, PoolShape @fixed);

                /// <summary>Keeps the private method used.</summary>
                internal static void UseStride3(float[] input, float[] output, PoolShape shape) => Stride3(input, output, shape);
            }
        }
        """;

    /// <summary>Padding that differs at the end, as ONNX models have it: ResNet-18's stem and SAME_UPPER layers.</summary>
    public const string Asymmetric = """
        using System;
        using KernelGen;

        namespace MyApp.Onnx;

        /// <summary>Pooling layers of an ONNX model.</summary>
        public static partial class Layers
        {
            // ResNet-18's MaxPool: pads [1,1,0,0], padding at the beginning only.
            [PoolKernel(3, 2, PoolMode.Max, Padding = 1, PaddingEnd = 0)]
            public static partial void ResNetStem(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

            // auto_pad SAME_UPPER on an even input: the odd padding cell at the end.
            [PoolKernel(3, 2, PoolMode.Max, PaddingEnd = 1)]
            public static partial void SameUpperMax(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

            // Average SAME_UPPER, padding counted in the divisor up to the end padding; only the width padded at the end.
            [PoolKernel(2, 1, PoolMode.Average, PaddingWidthEnd = 1)]
            public static partial void SameUpperAverage(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
        }
        """;
}
