using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Basic.Reference.Assemblies;
using KernelGen.CodeFixes;
using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// KG0012 and its code fix, through Roslyn's code-fix test framework: the diagnostic where a Pooling.Run descriptor is
/// a compile-time constant the generator specializes, none elsewhere, and source before and after the fix. The fixed
/// source is compiled with the generator running, so the [PoolKernel] method it writes must get its body.
/// </summary>
public class CodeFixTests
{
    private sealed class FixTest : CSharpCodeFixTest<ConstantDescriptorAnalyzer, PoolKernelCodeFixProvider, DefaultVerifier>
    {
        public FixTest(string source, string fixedSource, OutputKind kind = OutputKind.DynamicallyLinkedLibrary)
        {
            TestCode = source;
            FixedCode = fixedSource;
            Configure(TestState, kind);
            Configure(FixedState, kind);
            // The generated kernels are checked by the snapshot tests; here they must only compile without a warning.
            TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        }

        protected override IEnumerable<Type> GetSourceGenerators() => [typeof(PoolKernelGenerator)];

        protected override CompilationOptions CreateCompilationOptions() =>
            ((CSharpCompilationOptions)base.CreateCompilationOptions()).WithAllowUnsafe(true);
    }

    /// <summary>Only the analyzer: the source must have exactly the diagnostics its markup shows (none here).</summary>
    private sealed class AnalyzerTest : CSharpCodeFixTest<ConstantDescriptorAnalyzer, PoolKernelCodeFixProvider, DefaultVerifier>
    {
        public AnalyzerTest(string source)
        {
            TestCode = source;
            Configure(TestState, OutputKind.DynamicallyLinkedLibrary);
        }
    }

    /// <summary>.NET 10's reference assemblies from Basic.Reference.Assemblies (nothing downloaded), KernelGen's own.</summary>
    private static void Configure(SolutionState state, OutputKind kind)
    {
        state.ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        state.AdditionalReferences.AddRange(GeneratorHarness.References);
        state.OutputKind = kind;
    }

    [Fact]
    public async Task InlineDescriptorBecomesAPoolKernelMethodInTheNowPartialClass()
    {
        const string source = """
            using System;
            using KernelGen;

            namespace App;

            public class Model
            {
                public void Forward(float[] input, float[] output, PoolShape shape)
                {
                    {|KG0012:Pooling.Run(PoolDescriptor.MaxPool2d(3, 2), input, output, shape)|};
                }
            }
            """;
        const string fixedSource = """
            using System;
            using KernelGen;

            namespace App;

            public partial class Model
            {
                public void Forward(float[] input, float[] output, PoolShape shape)
                {
                    MaxPoolK3x3S2F32Nchw(input, output, shape);
                }

                [PoolKernel(3, 2, PoolMode.Max)]
                private static partial void MaxPoolK3x3S2F32Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
            }
            """;
        await new FixTest(source, fixedSource).RunAsync();
    }

    [Fact]
    public async Task AsymmetricOnnxPaddingBecomesPaddingEnd()
    {
        // ResNet-18's stem: ONNX pads [1,1,0,0], built with Create from constant axes.
        const string source = """
            using System;
            using KernelGen;

            namespace App;

            public class Stem
            {
                public void Forward(float[] input, float[] output, PoolShape shape)
                {
                    {|KG0012:Pooling.Run(PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 2, 1, 0, 1), new PoolAxis(3, 2, 1, 0, 1)]), input, output, shape, 1)|};
                }
            }
            """;
        const string fixedSource = """
            using System;
            using KernelGen;

            namespace App;

            public partial class Stem
            {
                public void Forward(float[] input, float[] output, PoolShape shape)
                {
                    MaxPoolK3x3S2P1PE0F32Nchw(input, output, shape);
                }

                [PoolKernel(3, 2, PoolMode.Max, Padding = 1, PaddingEnd = 0)]
                private static partial void MaxPoolK3x3S2P1PE0F32Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
            }
            """;
        await new FixTest(source, fixedSource).RunAsync();
    }

    [Fact]
    public async Task StaticReadonlyDoubleDescriptorInALambda()
    {
        const string source = """
            using System;
            using KernelGen;

            namespace App;

            public static partial class Pipeline
            {
                private static readonly PoolDescriptor Smooth = PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false);

                public static Action<double[], double[]> Make(PoolShape shape) =>
                    (input, output) => {|KG0012:Pooling.Run(Smooth, input, output, shape)|};
            }
            """;
        const string fixedSource = """
            using System;
            using KernelGen;

            namespace App;

            public static partial class Pipeline
            {
                private static readonly PoolDescriptor Smooth = PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false);

                public static Action<double[], double[]> Make(PoolShape shape) =>
                    (input, output) => AvgPoolK3x3S1P1ExcludePadF64Nchw(input, output, shape);

                [PoolKernel(3, 1, PoolMode.Average, Padding = 1, CountIncludePad = false)]
                private static partial void AvgPoolK3x3S1P1ExcludePadF64Nchw(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);
            }
            """;
        await new FixTest(source, fixedSource).RunAsync();
    }

    [Fact]
    public async Task CreateWithConstantAxesInANestedTypeMakesBothPartial()
    {
        const string source = """
            using System;
            using KernelGen;

            namespace App;

            public class Outer
            {
                internal struct Layer
                {
                    public static void Run(ReadOnlySpan<float> input, Span<float> output, PoolShape shape) =>
                        {|KG0012:Pooling.Run(PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 1), new PoolAxis(3, 2, 1)], layout: PoolLayout.ChannelsLast), input, output, shape, maxDegreeOfParallelism: 1)|};
                }
            }
            """;
        const string fixedSource = """
            using System;
            using KernelGen;

            namespace App;

            public partial class Outer
            {
                internal partial struct Layer
                {
                    public static void Run(ReadOnlySpan<float> input, Span<float> output, PoolShape shape) =>
                        MaxPoolK2x3S1x2P0x1F32Nhwc(input, output, shape);

                    [PoolKernel(2, 1, PoolMode.Max, KernelWidth = 3, StrideWidth = 2, PaddingHeight = 0, PaddingWidth = 1, Layout = PoolLayout.ChannelsLast)]
                    private static partial void MaxPoolK2x3S1x2P0x1F32Nhwc(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
                }
            }
            """;
        await new FixTest(source, fixedSource).RunAsync();
    }

    [Fact]
    public async Task TopLevelStatementsGetAPoolKernelsClass()
    {
        const string source = """
            using System;
            using KernelGen;

            var shape = new PoolShape(1, 1, 4, 4);
            float[] input = new float[16], output = new float[4];
            {|KG0012:Pooling.Run(PoolDescriptor.AvgPool2d(2), input, output, shape)|};
            Console.WriteLine(output[0]);
            """;
        const string fixedSource = """
            using System;
            using KernelGen;

            var shape = new PoolShape(1, 1, 4, 4);
            float[] input = new float[16], output = new float[4];
            PoolKernels.AvgPoolK2x2S2F32Nchw(input, output, shape);
            Console.WriteLine(output[0]);

            internal static partial class PoolKernels
            {
                [PoolKernel(2, 2, PoolMode.Average)]
                internal static partial void AvgPoolK2x2S2F32Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
            }
            """;
        await new FixTest(source, fixedSource, OutputKind.ConsoleApplication).RunAsync();
    }

    [Fact]
    public async Task SecondCallOfAConfigurationReusesItsMethod()
    {
        const string source = """
            using System;
            using KernelGen;

            namespace App;

            public static partial class Model
            {
                public static void Forward(float[] input, float[] output, PoolShape shape) =>
                    {|KG0012:Pooling.Run(PoolDescriptor.MaxPool2d(3, 2), input, output, shape)|};

                [PoolKernel(3, 2, PoolMode.Max)]
                private static partial void MaxPoolK3x3S2F32Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
            }
            """;
        const string fixedSource = """
            using System;
            using KernelGen;

            namespace App;

            public static partial class Model
            {
                public static void Forward(float[] input, float[] output, PoolShape shape) =>
                    MaxPoolK3x3S2F32Nchw(input, output, shape);

                [PoolKernel(3, 2, PoolMode.Max)]
                private static partial void MaxPoolK3x3S2F32Nchw(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
            }
            """;
        await new FixTest(source, fixedSource).RunAsync();
    }

    /// <summary>No KG0012 where the descriptor is not known at compile time, the call asks for threads, or the generator would not specialize.</summary>
    [Fact]
    public async Task NoDiagnosticWithoutAConstantSpecializableSingleThreadedCall()
    {
        const string source = """
            using System;
            using KernelGen;

            namespace App;

            public static class Calls
            {
                private static PoolDescriptor s_mutable = PoolDescriptor.MaxPool2d(3, 2);
                private static readonly PoolDescriptor FromArgument = Make(3);

                private static PoolDescriptor Make(int kernel) => PoolDescriptor.MaxPool2d(kernel, 2);

                public static void Run(int kernel, float[] input, float[] output, PoolShape shape)
                {
                    Pooling.Run(PoolDescriptor.MaxPool2d(kernel, 2), input, output, shape);    // a parameter
                    Pooling.Run(s_mutable, input, output, shape);                              // not readonly
                    Pooling.Run(FromArgument, input, output, shape);                           // not built from constants here
                    Pooling.Run(PoolDescriptor.MaxPool2d(3, 2), input, output, shape, 4);      // asks for threads
                    Pooling.Run(PoolDescriptor.MaxPool2d(3, 3), input, output, shape);         // KG0009: channels-first stride 3
                    Pooling.Run(PoolDescriptor.MaxPool1d(3, 2), input, output, shape);         // 1-d
                    Pooling.RunGeneral(PoolDescriptor.MaxPool2d(3, 2), input, output, shape);  // the general engine on purpose
                }
            }
            """;
        await new AnalyzerTest(source).RunAsync();
    }
}
