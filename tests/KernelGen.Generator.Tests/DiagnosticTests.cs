using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Every KG diagnostic, reported by the analyzer where it should be and nowhere else. The analyzer runs on the
/// compilation after the generator, as in a build.
/// </summary>
public class DiagnosticTests
{
    private const string Valid = "public static partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);";

    /// <summary>(id, class member declaration, text the diagnostic must point at).</summary>
    public static TheoryData<string, string, string> Positive() => new()
    {
        { "KG0001", "[PoolKernel(0, 2, PoolMode.Max)] " + Valid, "PoolKernel(0, 2, PoolMode.Max)" },
        { "KG0001", "[PoolKernel(2, 0, PoolMode.Max)] " + Valid, "PoolKernel(2, 0, PoolMode.Max)" },
        { "KG0001", "[PoolKernel(3, 1, PoolMode.Max, Dilation = 0)] " + Valid, "PoolKernel(3, 1, PoolMode.Max, Dilation = 0)" },
        { "KG0001", "[PoolKernel(3, 1, PoolMode.Max, KernelWidth = -1)] " + Valid, "PoolKernel(3, 1, PoolMode.Max, KernelWidth = -1)" },
        { "KG0002", "[PoolKernel(3, 1, PoolMode.Max, Padding = 2)] " + Valid, "PoolKernel(3, 1, PoolMode.Max, Padding = 2)" },
        { "KG0002", "[PoolKernel(3, 1, PoolMode.Max, Padding = -2)] " + Valid, "PoolKernel(3, 1, PoolMode.Max, Padding = -2)" },
        { "KG0002", "[PoolKernel(4, 1, PoolMode.Average, PaddingWidth = 3)] " + Valid, "PoolKernel(4, 1, PoolMode.Average, PaddingWidth = 3)" },
        { "KG0003", "[PoolKernel(3, 1, PoolMode.Average, Dilation = 2)] " + Valid, "PoolKernel(3, 1, PoolMode.Average, Dilation = 2)" },
        { "KG0003", "[PoolKernel(3, 1, PoolMode.Max, DivisorOverride = 3)] " + Valid, "PoolKernel(3, 1, PoolMode.Max, DivisorOverride = 3)" },
        { "KG0003", "[PoolKernel(3, 1, PoolMode.Max, CountIncludePad = false)] " + Valid, "PoolKernel(3, 1, PoolMode.Max, CountIncludePad = false)" },
        { "KG0004", "[PoolKernel(2, 2, PoolMode.Max)] public partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0004", "[PoolKernel(2, 2, PoolMode.Max)] static partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0004", "[PoolKernel(2, 2, PoolMode.Max)] public static void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape) { }", "M" },
        { "KG0005", "[PoolKernel(2, 2, PoolMode.Max)] public static partial int M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(ReadOnlySpan<float> input, Span<float> output);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(Span<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(ReadOnlySpan<float> input, Span<double> output, PoolShape shape);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(ReadOnlySpan<float> input, Span<float> output, int shape);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(ReadOnlySpan<float> input, Span<float> output, ref PoolShape shape);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M<T>(ReadOnlySpan<T> input, Span<T> output, PoolShape shape);", "M" },
        { "KG0007", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(ReadOnlySpan<int> input, Span<int> output, PoolShape shape);", "M" },
        { "KG0007", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(ReadOnlySpan<Half> input, Span<Half> output, PoolShape shape);", "M" },
        { "KG0009", "[PoolKernel(3, 3, PoolMode.Max)] " + Valid, "M" },
        { "KG0009", "[PoolKernel(3, 1, PoolMode.Max, Padding = 1, Dilation = 2)] " + Valid, "M" },
        { "KG0009", "[PoolKernel(8, 1, PoolMode.Average, Layout = PoolLayout.ChannelsLast)] " + Valid, "M" },
    };

    /// <summary>Valid methods close to each diagnostic's edge: none may report anything.</summary>
    public static TheoryData<string> Negative() => new()
    {
        "[PoolKernel(1, 1, PoolMode.Max)] " + Valid,
        "[PoolKernel(3, 1, PoolMode.Max, Padding = 1)] " + Valid,
        "[PoolKernel(4, 1, PoolMode.Average, PaddingHeight = 2, PaddingWidth = 0)] " + Valid,
        "[PoolKernel(3, 1, PoolMode.Average, Padding = 1, DivisorOverride = 3, CountIncludePad = false)] " + Valid,
        "[PoolKernel(3, 1, PoolMode.Max, Padding = 1, Dilation = 2, Layout = PoolLayout.ChannelsLast)] " + Valid,
        "[PoolKernel(3, 3, PoolMode.Max, Layout = PoolLayout.ChannelsLast)] " + Valid,
        "[PoolKernel(7, 1, PoolMode.Average, Padding = 3)] " + Valid,
        "[PoolKernel(0, 2, PoolMode.Max, KernelHeight = 1, KernelWidth = 7, StrideWidth = 1)] " + Valid,
        "[PoolKernel(2, 2, PoolMode.Max)] internal static partial void M(ReadOnlySpan<double> input, Span<double> output, in PoolShape shape);",
        "[PoolKernel(2, 2, PoolMode.Max)] private static partial void M(ReadOnlySpan<float> @in, Span<float> @out, PoolShape @fixed); static void Use() => M(default, default, default);",
    };

    [Theory]
    [MemberData(nameof(Positive))]
    public async Task ReportsDiagnostic(string id, string member, string location)
    {
        var diagnostics = await AnalyzeAsync(InClass(member));
        var reported = diagnostics.Where(d => d.Id == id).ToList();
        Assert.True(reported.Count == 1, $"Expected one {id}, got: {GeneratorHarness.Describe(diagnostics)}");
        var diagnostic = reported[0];
        Assert.Equal(location, diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan));
        Assert.Equal(id == "KG0009" ? DiagnosticSeverity.Info : DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("'M'", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ContainingTypeNotPartialIsKG0008()
    {
        var diagnostics = await AnalyzeAsync("""
            using System;
            using KernelGen;

            public static partial class Outer
            {
                public static class Inner
                {
                    [PoolKernel(2, 2, PoolMode.Max)]
                    public static partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
                }
            }
            """);
        var reported = diagnostics.Where(d => d.Id == "KG0008").ToList();
        Assert.True(reported.Count == 1, GeneratorHarness.Describe(diagnostics));
        Assert.Contains("'Inner'", reported[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Negative))]
    public async Task ValidMethodReportsNothing(string member)
    {
        var source = InClass(member);
        var diagnostics = await AnalyzeAsync(source);
        Assert.True(diagnostics.Length == 0, GeneratorHarness.Describe(diagnostics));
    }

    /// <summary>
    /// Localizes the KG0009 failures above: on the user's code alone the analyzer reports KG0009. After the generator
    /// ran (a real build), the partial method's merged attributes include the implementation's [GeneratedCode], so the
    /// analyzer driver treats the method as generated code (GeneratedCodeAnalysisFlags.None) and skips it.
    /// </summary>
    [Fact]
    public async Task NotSpecializedIsReportedOnTheUserCodeAlone()
    {
        var diagnostics = await GeneratorHarness.Compile(InClass("[PoolKernel(3, 3, PoolMode.Max)] " + Valid))
            .WithAnalyzers([new PoolKernelAnalyzer()])
            .GetAnalyzerDiagnosticsAsync();
        Assert.Single(diagnostics, d => d.Id == "KG0009");
    }

    [Fact]
    public void EveryDescriptorIsTested()
    {
        var tested = Positive().Select(row => (string)row[0]).Append("KG0008").ToHashSet();
        var supported = new PoolKernelAnalyzer().SupportedDiagnostics.Select(d => d.Id).ToHashSet();
        Assert.Equal(supported.OrderBy(id => id), tested.OrderBy(id => id));
    }

    [Fact]
    public void ReleaseTrackingListsEveryId()
    {
        string releases = System.IO.File.ReadAllText(System.IO.Path.Combine(GeneratorHarness.RepositoryRoot, "generator", "AnalyzerReleases.Shipped.md")) +
                          System.IO.File.ReadAllText(System.IO.Path.Combine(GeneratorHarness.RepositoryRoot, "generator", "AnalyzerReleases.Unshipped.md"));
        foreach (var descriptor in new PoolKernelAnalyzer().SupportedDiagnostics)
            Assert.Contains(descriptor.Id, releases);
    }

    private static string InClass(string member) => $$"""
        using System;
        using KernelGen;

        namespace App;

        internal static partial class Pools
        {
            {{member}}
        }
        """;

    /// <summary>The KG diagnostics of the analyzer, on the compilation after the generator ran.</summary>
    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string source)
    {
        var (_, output) = GeneratorHarness.Run(GeneratorHarness.Compile(source));
        var diagnostics = await output
            .WithAnalyzers([new PoolKernelAnalyzer()])
            .GetAnalyzerDiagnosticsAsync();
        return diagnostics.Where(d => d.Id.StartsWith("KG", System.StringComparison.Ordinal)).OrderBy(d => d.Location.SourceSpan.Start).ToImmutableArray();
    }
}
