using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The generated code compiles together with its input without a single warning, under the strictest settings a user
/// might build with: every warning an error, warning wave 9999, nullable enabled, XML documentation checked.
/// </summary>
public class CompilationTests
{
    [Fact]
    public void BuiltInKernelsCompileWarningFree() => _ = AssertCompilesCleanly(GeneratorHarness.BuiltInKernelsSource);

    [Fact]
    public void RepresentativeUserKernelsCompileWarningFree() => _ = AssertCompilesCleanly(UserSources.Representative);

    [Fact]
    public void KernelInTheGlobalNamespaceInAStructCompilesWarningFree() => _ = AssertCompilesCleanly("""
        using System;
        using KernelGen;

        /// <summary>No namespace, a struct, a private method.</summary>
        public partial struct Pools
        {
            [PoolKernel(2, 2, PoolMode.Average, DivisorOverride = 4, Layout = PoolLayout.ChannelsLast)]
            private static partial void Average(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

            /// <summary>Uses the private kernel.</summary>
            public static void Use(double[] input, double[] output, PoolShape shape) => Average(input, output, shape);
        }
        """);

    [Fact]
    public void ShapePassedByInCompilesWarningFree() => _ = AssertCompilesCleanly("""
        using System;
        using KernelGen;

        namespace App;

        internal static partial class Pools
        {
            // The parser accepts 'in PoolShape'; the implementation must repeat the modifier.
            [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
            internal static partial void Pool(ReadOnlySpan<float> input, Span<float> output, in PoolShape shape);
        }
        """);

    [Fact]
    public void FloatAndDoubleOverloadsGetAKernelAndAFileEach()
    {
        string Overload(string element) =>
            $"[PoolKernel(3, 2, PoolMode.Max, Padding = 1)] internal static partial void Pool(ReadOnlySpan<{element}> input, Span<{element}> output, PoolShape shape);";
        var files = AssertCompilesCleanly(
            $"using System; using KernelGen; namespace App; internal static partial class Pools {{ {Overload("float")} {Overload("double")} }}");
        Assert.Equal(
            ["App.Pools.Pool(ReadOnlySpan{double},Span{double},PoolShape).PoolKernel.g.cs", "App.Pools.Pool(ReadOnlySpan{float},Span{float},PoolShape).PoolKernel.g.cs",
             "MaxPool_K3x3_S2_P1_F32_Nchw.g.cs", "MaxPool_K3x3_S2_P1_F64_Nchw.g.cs"],
            files);
    }

    [Fact]
    public void EveryOverloadGetsItsOwnFileEvenAnInvalidOne()
    {
        // 'in' and by-value shapes, a generic and an int overload (KG0006 and KG0007, bodies that throw): one file each.
        string Overload(string parameters) => $"[PoolKernel(2, 2, PoolMode.Max)] internal static partial void Pool{parameters};";
        var files = AssertCompilesCleanly(
            "using System; using KernelGen; namespace App; internal static partial class Pools { " +
            Overload("(ReadOnlySpan<float> input, Span<float> output, PoolShape shape)") +
            Overload("(ReadOnlySpan<float> input, Span<float> output, in PoolShape shape)") +
            Overload("(ReadOnlySpan<int> input, Span<int> output, PoolShape shape)") +
            Overload("<T>(ReadOnlySpan<T> input, Span<T> output, PoolShape shape) where T : struct") + " }");
        Assert.Equal(5, files.Count);
        Assert.Equal(4, files.Count(file => file.StartsWith("App.Pools.Pool", System.StringComparison.Ordinal)));
        Assert.Contains("MaxPool_K2x2_S2_F32_Nchw.g.cs", files);
    }

    /// <summary>Asserts the generated code compiles without a warning; returns the generated files' hint names, sorted.</summary>
    internal static IReadOnlyList<string> AssertCompilesCleanly(string source)
    {
        var input = GeneratorHarness.Compile(source);
        var (result, output) = GeneratorHarness.Run(input);
        Assert.Null(result.Results.Single().Exception);
        Assert.Empty(result.Diagnostics);
        Assert.NotEmpty(result.GeneratedTrees);
        var problems = GeneratorHarness.Problems(output);
        Assert.True(problems.Count == 0, "The generated code does not compile cleanly:\n" + GeneratorHarness.Describe(problems));
        return GeneratorHarness.GeneratedFiles(result).Select(file => file.HintName).ToList();
    }
}
