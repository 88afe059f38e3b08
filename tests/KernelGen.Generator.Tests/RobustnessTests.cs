using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>The generator never throws on broken user code, and writes no kernel for a method it cannot implement.</summary>
public class RobustnessTests
{
    public static TheoryData<string> BrokenMembers() => new()
    {
        "[PoolKernel(\"3\", 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, (PoolMode)7)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max, Layout = (PoolLayout)5)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max, Padding = Missing.Value)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max, Padding = int.MinValue)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<Unknown> input, Span<Unknown> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial Unknown Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, Unknown shape);",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken();",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape, int extra);",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape) { }",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape) => throw null;",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float>, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max)] public int Broken { get; }",
        "[PoolKernel(3, 2, PoolMode.Max)] public static extern void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "[PoolKernel(3, 2, PoolMode.Max)][PoolKernel(2, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
        "public static void Outer() { [PoolKernel(3, 2, PoolMode.Max)] static void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape) { } }",
    };

    /// <summary>
    /// Errors the compiler reports at the declaration itself, whatever the generator does: a missing semicolon, an
    /// unknown named argument. The generator must not throw; whether it also writes a body does not change the build's
    /// outcome, so that is not asserted.
    /// </summary>
    public static TheoryData<string> CompilerRejectedMembers() => new()
    {
        "[PoolKernel(3, 2, PoolMode.Max)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape)",
        "[PoolKernel(3, 2, PoolMode.Max, Nonexistent = 1)] public static partial void Broken(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);",
    };

    [Theory]
    [MemberData(nameof(BrokenMembers))]
    [MemberData(nameof(CompilerRejectedMembers))]
    public void GeneratorDoesNotThrowOnBrokenCode(string member)
    {
        var result = RunOn(member);
        var generator = result.Results.Single();
        Assert.True(generator.Exception is null, generator.Exception?.ToString());
        Assert.DoesNotContain(result.Diagnostics, d => d.Id is "CS8784" or "CS8785");
    }

    /// <summary>
    /// A broken method gets no kernel: no body, or (when its declaration allows one) a body that throws, so the build
    /// shows what is wrong rather than CS8795.
    /// </summary>
    [Theory]
    [MemberData(nameof(BrokenMembers))]
    public void BrokenMethodGetsNoKernel(string member)
    {
        var generator = RunOn(member).Results.Single();
        var bodies = generator.GeneratedSources.Where(s => s.HintName.Contains(".Broken", System.StringComparison.Ordinal)).Select(s => s.SourceText.ToString()).ToList();
        Assert.True(bodies.All(body => body.Contains("=> throw new global::System.InvalidOperationException(", System.StringComparison.Ordinal) && !body.Contains(".Run(", System.StringComparison.Ordinal)),
            string.Join("\n", bodies));
        Assert.All(generator.GeneratedSources.Where(s => !s.HintName.EndsWith(".PoolKernel.g.cs", System.StringComparison.Ordinal)),
            s => Assert.StartsWith("MaxPool_K2x2_S2_F32", s.HintName, System.StringComparison.Ordinal)); // Fine's kernel only
    }

    [Fact]
    public void HugeWindowFallsBackToTheGeneralEngineInsteadOfUnrolling()
    {
        // int.MaxValue x int.MaxValue taps once overflowed the tap count and asked for a 2^62-tap unrolled kernel.
        var generator = RunOn("[PoolKernel(int.MaxValue, int.MaxValue, PoolMode.Max)] public static partial void Huge(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);").Results.Single();
        Assert.Null(generator.Exception);
        var kernel = generator.GeneratedSources.Single(s => s.HintName.StartsWith("MaxPool_K2147483647x2147483647", System.StringComparison.Ordinal));
        string text = kernel.SourceText.ToString();
        Assert.Contains("Pooling.RunGeneral", text, System.StringComparison.Ordinal);
        Assert.True(text.Length < 5000, $"the fallback kernel should be short, not {text.Length} characters");
    }

    private static GeneratorDriverRunResult RunOn(string member)
    {
        string source = $$"""
            using System;
            using KernelGen;

            namespace App;

            public static partial class Pools
            {
                {{member}}

                [PoolKernel(2, 2, PoolMode.Max)]
                public static partial void Fine(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
            }
            """;
        return GeneratorHarness.CreateDriver().RunGenerators(GeneratorHarness.Compile(source)).GetRunResult();
    }

    [Fact]
    public void GeneratorDoesNotThrowWithoutTheAttributeAssembly()
    {
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("NoKernelGen",
            [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class C { [PoolKernel(3, 2, 0)] static partial void M(); }", GeneratorHarness.ParseOptions)],
            Basic.Reference.Assemblies.Net100.References.All, GeneratorHarness.CompilationOptions);
        var result = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult();
        Assert.Null(result.Results.Single().Exception);
        Assert.Empty(result.GeneratedTrees);
    }
}
