using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Every KG diagnostic, where it should be and nowhere else, as the user meets it: the diagnostics a command-line build
/// shows (generator, compiler, and the analyzer only when nothing else failed) and those an editor shows (generator and
/// analyzer, each problem once).
/// </summary>
public class DiagnosticTests
{
    private const string Valid = "public static partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);";

    private const string ValidDouble = "public static partial void M(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);";

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
        // End padding: each side keeps the limits (at most half the kernel, not negative).
        { "KG0002", "[PoolKernel(3, 2, PoolMode.Max, PaddingEnd = 2)] " + Valid, "PoolKernel(3, 2, PoolMode.Max, PaddingEnd = 2)" },
        { "KG0002", "[PoolKernel(3, 2, PoolMode.Max, Padding = 1, PaddingHeightEnd = -3)] " + Valid, "PoolKernel(3, 2, PoolMode.Max, Padding = 1, PaddingHeightEnd = -3)" },
        { "KG0002", "[PoolKernel(4, 1, PoolMode.Average, PaddingWidthEnd = 3)] " + Valid, "PoolKernel(4, 1, PoolMode.Average, PaddingWidthEnd = 3)" },
        { "KG0003", "[PoolKernel(3, 1, PoolMode.Average, Dilation = 2)] " + Valid, "PoolKernel(3, 1, PoolMode.Average, Dilation = 2)" },
        { "KG0003", "[PoolKernel(3, 1, PoolMode.Max, DivisorOverride = 3)] " + Valid, "PoolKernel(3, 1, PoolMode.Max, DivisorOverride = 3)" },
        { "KG0003", "[PoolKernel(3, 1, PoolMode.Max, CountIncludePad = false)] " + Valid, "PoolKernel(3, 1, PoolMode.Max, CountIncludePad = false)" },
        { "KG0004", "[PoolKernel(2, 2, PoolMode.Max)] public partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0004", "[PoolKernel(2, 2, PoolMode.Max)] static partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0004", "[PoolKernel(2, 2, PoolMode.Max)] public static void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape) { }", "M" },
        { "KG0005", "[PoolKernel(2, 2, PoolMode.Max)] public static partial int M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0005", "[PoolKernel(2, 2, PoolMode.Max)] public static partial string? M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0005", "[PoolKernel(2, 2, PoolMode.Max)] public static partial ref readonly int M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(ReadOnlySpan<float> input, Span<float> output);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M(ReadOnlySpan<float> input, Span<float> output, out PoolShape shape, params int[] rest);", "M" },
        { "KG0006", "[PoolKernel(2, 2, PoolMode.Max)] public static partial void M<T>(ReadOnlySpan<T> input, Span<T> output, PoolShape shape) where T : unmanaged, System.Numerics.INumber<T>;", "M" },
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
        // Slower than the general engine: its separable max takes 18 maxima per output against the kernel's 36 ...
        { "KG0009", "[PoolKernel(6, 2, PoolMode.Max, Padding = 3, Dilation = 2, Layout = PoolLayout.ChannelsLast)] " + Valid, "M" },
        // ... and its sliding sum shares the loads of windows up to 5 columns wide.
        { "KG0009", "[PoolKernel(4, 1, PoolMode.Average, KernelWidth = 5, Layout = PoolLayout.ChannelsLast)] " + Valid, "M" },
        // ... and, on double, its four 2-wide sums at once beat the sliding kernel's one.
        { "KG0009", "[PoolKernel(7, 3, PoolMode.Average, KernelWidth = 2, StrideWidth = 1, Layout = PoolLayout.ChannelsLast)] " + ValidDouble, "M" },
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
        // The neighbours of the slower-than-the-engine ones above that the kernel wins: 25 taps against 15 maxima, and
        // 6 columns, which the engine's sliding sum does not take.
        "[PoolKernel(5, 2, PoolMode.Max, Padding = 2, Dilation = 2, Layout = PoolLayout.ChannelsLast)] " + Valid,
        "[PoolKernel(3, 1, PoolMode.Average, KernelWidth = 6, Layout = PoolLayout.ChannelsLast)] " + Valid,
        // The same 7x2 window on float, and 6x2 (12 cells, two channel vectors a sweep) on double.
        "[PoolKernel(7, 3, PoolMode.Average, KernelWidth = 2, StrideWidth = 1, Layout = PoolLayout.ChannelsLast)] " + Valid,
        "[PoolKernel(6, 3, PoolMode.Average, KernelWidth = 2, StrideWidth = 1, Layout = PoolLayout.ChannelsLast)] " + ValidDouble,
        "[PoolKernel(7, 1, PoolMode.Average, Padding = 3)] " + Valid,
        // Padding that differs at the end, each side within half the kernel: ResNet-18's stem and SAME_UPPER.
        "[PoolKernel(3, 2, PoolMode.Max, Padding = 1, PaddingEnd = 0)] " + Valid,
        "[PoolKernel(3, 2, PoolMode.Average, PaddingEnd = 1, CountIncludePad = false)] " + Valid,
        "[PoolKernel(4, 1, PoolMode.Average, PaddingHeight = 1, PaddingHeightEnd = 2, PaddingWidthEnd = 2)] " + Valid,
        "[PoolKernel(0, 2, PoolMode.Max, KernelHeight = 1, KernelWidth = 7, StrideWidth = 1)] " + Valid,
        "[PoolKernel(2, 2, PoolMode.Max)] internal static partial void M(ReadOnlySpan<double> input, Span<double> output, in PoolShape shape);",
        "[PoolKernel(2, 2, PoolMode.Max)] private static partial void M(ReadOnlySpan<float> @in, Span<float> @out, PoolShape @fixed); static void Use() => M(default, default, default);",
    };

    [Theory]
    [MemberData(nameof(Positive))]
    public async Task ReportsDiagnostic(string id, string member, string location)
    {
        var compilation = Compile(InClass(member));
        var build = await GeneratorHarness.BuildDiagnosticsAsync(compilation);
        var reported = build.Where(d => d.Id == id).ToList();
        Assert.True(reported.Count == 1, $"Expected one {id} in the build, got: {GeneratorHarness.Describe(build)}");
        var diagnostic = reported[0];
        Assert.Equal(location, TextAt(compilation, diagnostic.Location));
        Assert.Equal(id == "KG0009" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("'M'", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        // Nothing else: in particular no CS8795 for a body the generator did not write.
        Assert.True(build.All(d => d.Id == id), GeneratorHarness.Describe(build));

        var editor = await GeneratorHarness.EditorDiagnosticsAsync(compilation);
        Assert.True(editor.Count(d => d.Id == id) == 1, $"Expected one {id} in the editor, got: {GeneratorHarness.Describe(editor)}");
    }

    [Theory]
    [InlineData("PaddingEnd = 2", "the end padding must be at most half the kernel 3x3 (PyTorch's limit, on each side), got PaddingEnd = 2 (bottom x right 2x2)")]
    [InlineData("Padding = 1, PaddingHeightEnd = -3", "the end padding must not be negative, got PaddingHeightEnd = -3 (bottom x right -3x1)")]
    [InlineData("PaddingWidthEnd = 2", "the end padding must be at most half the kernel 3x3 (PyTorch's limit, on each side), got PaddingWidthEnd = 2 (bottom x right 0x2)")]
    public async Task InvalidEndPaddingNamesThePropertyAndValue(string properties, string message)
    {
        var build = await GeneratorHarness.BuildDiagnosticsAsync(Compile(InClass($"[PoolKernel(3, 2, PoolMode.Max, {properties})] " + Valid)));
        var diagnostic = Assert.Single(build);
        Assert.Equal("KG0002", diagnostic.Id);
        Assert.Equal($"[PoolKernel] on 'M': {message}", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ContainingTypeNotPartialIsKG0008()
    {
        var compilation = Compile("""
            using System;
            using KernelGen;

            internal static partial class Outer
            {
                internal static class Inner
                {
                    [PoolKernel(2, 2, PoolMode.Max)]
                    public static partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
                }
            }
            """);
        var build = await GeneratorHarness.BuildDiagnosticsAsync(compilation);
        var reported = build.Where(d => d.Id == "KG0008").ToList();
        Assert.True(reported.Count == 1, GeneratorHarness.Describe(build));
        Assert.Contains("'Inner'", reported[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        // No body can join a type that is not partial, so the compiler's CS0751 and CS8795 stay (README says so).
        Assert.Equal(["CS0751", "CS8795", "KG0008"], build.Select(d => d.Id).Distinct().Order());
        Assert.Single(await GeneratorHarness.EditorDiagnosticsAsync(compilation), d => d.Id == "KG0008");
    }

    [Theory]
    [MemberData(nameof(Negative))]
    public async Task ValidMethodReportsNothing(string member)
    {
        var build = await GeneratorHarness.BuildDiagnosticsAsync(Compile(InClass(member)));
        Assert.True(build.Count == 0, GeneratorHarness.Describe(build));
    }

    [Fact]
    public async Task WithoutUnsafeCodeTheKernelRunsTheGeneralEngineAndKG0010SaysSo()
    {
        var compilation = Compile(InClass("[PoolKernel(3, 2, PoolMode.Max, Padding = 1)] " + Valid))
            .WithOptions(Options.WithAllowUnsafe(false));
        var build = await GeneratorHarness.BuildDiagnosticsAsync(compilation);
        var diagnostic = Assert.Single(build);
        Assert.Equal(("KG0010", DiagnosticSeverity.Warning), (diagnostic.Id, diagnostic.Severity));
        Assert.Contains("<AllowUnsafeBlocks>true</AllowUnsafeBlocks>", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        var kernel = GeneratorHarness.GeneratedFiles(GeneratorHarness.Run(compilation).Result).Single(file => file.HintName.StartsWith("MaxPool_", System.StringComparison.Ordinal));
        Assert.Contains("Pooling.RunGeneral", kernel.Text, System.StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe class", kernel.Text, System.StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutUnsafeCodeAnUnspecializedConfigurationIsKG0009Only()
    {
        var compilation = Compile(InClass("[PoolKernel(3, 3, PoolMode.Max)] " + Valid)).WithOptions(Options.WithAllowUnsafe(false));
        Assert.Equal(["KG0009"], (await GeneratorHarness.BuildDiagnosticsAsync(compilation)).Select(d => d.Id));
    }

    [Fact]
    public void EveryDescriptorIsTested()
    {
        var tested = Positive().Select(row => (string)row[0]).Append("KG0008").Append("KG0010").ToHashSet();
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

        internal partial class Pools
        {
            {{member}}
        }
        """;

    /// <summary>The harness's options with warnings left as warnings, as in a default project.</summary>
    private static readonly CSharpCompilationOptions Options = GeneratorHarness.CompilationOptions.WithGeneralDiagnosticOption(ReportDiagnostic.Default);

    /// <summary>The source text a diagnostic points at; the generator's diagnostics carry a path and span, not a tree.</summary>
    private static string TextAt(Compilation compilation, Location location)
    {
        var tree = location.SourceTree ?? compilation.SyntaxTrees.Single(tree => tree.FilePath == location.GetLineSpan().Path);
        return tree.GetText().ToString(location.SourceSpan);
    }

    private static Compilation Compile(string source) => GeneratorHarness.Compile(source).WithOptions(Options);
}
