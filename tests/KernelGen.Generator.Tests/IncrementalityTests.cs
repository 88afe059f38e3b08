using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The pipeline's named steps stay cached across edits that do not touch a [PoolKernel] attribute, and re-run for
/// edits that do (LibraryImportGenerator's IncrementalGenerationTests, in miniature).
/// </summary>
public class IncrementalityTests
{
    private const string Kernels = """
        using System;
        using KernelGen;

        namespace App;

        internal static partial class Pools
        {
            [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
            internal static partial void Stem(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

            [PoolKernel(2, 2, PoolMode.Average, Layout = PoolLayout.ChannelsLast)]
            internal static partial void Head(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);
        }
        """;

    private const string Other = "namespace App; internal static class Other { internal static int Value => 1; }";

    private static readonly IncrementalStepRunReason[] Cached = [IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged];

    [Fact]
    public void UnrelatedEditKeepsEveryStepCached()
    {
        var reasons = ReasonsAfterEdit(compilation => ReplaceTree(compilation, 1, Other.Replace("=> 1", "=> 2")));
        AssertAll(reasons, Cached);
    }

    [Fact]
    public void AddedTypeKeepsEveryStepCached()
    {
        var reasons = ReasonsAfterEdit(compilation => compilation.AddSyntaxTrees(
            CSharpSyntaxTree.ParseText("namespace App; internal struct Added { }", GeneratorHarness.ParseOptions)));
        AssertAll(reasons, Cached);
    }

    [Fact]
    public void AddedCommentKeepsEveryStepCached()
    {
        var reasons = ReasonsAfterEdit(compilation => ReplaceTree(compilation, 0,
            Kernels.Replace("    [PoolKernel(3, 2", "    // The stem of the network.\n    [PoolKernel(3, 2")));
        AssertAll(reasons, Cached);
    }

    [Fact]
    public void ChangedAttributeArgumentModifiesTheMethodAndItsKernel()
    {
        var reasons = ReasonsAfterEdit(compilation => ReplaceTree(compilation, 0, Kernels.Replace("Padding = 1", "Padding = 0")));
        Assert.True(reasons[TrackingNames.Methods].Contains(IncrementalStepRunReason.Modified), "Methods: " + string.Join(", ", reasons[TrackingNames.Methods]) + "; Configurations: " + string.Join(", ", reasons[TrackingNames.Configurations]));
        Assert.Contains(reasons[TrackingNames.Methods], Cached.Contains); // Head
        Assert.True(reasons[TrackingNames.Configurations].Any(r => r is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New),
            string.Join(", ", reasons[TrackingNames.Configurations]));
    }

    [Fact]
    public void DriverDoesNotKeepAnOldCompilationAlive()
    {
        var (reference, driver) = RunOnTwoCompilationsAndReturnTheFirst();
        for (int i = 0; i < 3 && reference.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(reference.IsAlive, "The generator driver keeps an earlier Compilation alive.");
        GC.KeepAlive(driver);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Reference, GeneratorDriver Driver) RunOnTwoCompilationsAndReturnTheFirst()
    {
        Compilation first = GeneratorHarness.Compile(Kernels, Other);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(first);
        Compilation second = first.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App; internal struct Added { }", GeneratorHarness.ParseOptions));
        driver = driver.RunGenerators(second);
        return (new WeakReference(first), driver);
    }

    /// <summary>Runs, edits, runs again; returns the run reasons of every output of each named step in the second run.</summary>
    private static Dictionary<string, List<IncrementalStepRunReason>> ReasonsAfterEdit(Func<Compilation, Compilation> edit)
    {
        Compilation compilation = GeneratorHarness.Compile(Kernels, Other);
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        driver = driver.RunGenerators(edit(compilation));
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        return new[] { TrackingNames.Methods, TrackingNames.Configurations }.ToDictionary(
            name => name,
            name => steps[name].SelectMany(step => step.Outputs).Select(output => output.Reason).ToList());
    }

    private static void AssertAll(Dictionary<string, List<IncrementalStepRunReason>> reasons, IncrementalStepRunReason[] allowed)
    {
        foreach (var (step, list) in reasons)
        {
            Assert.NotEmpty(list);
            Assert.True(list.All(allowed.Contains), $"{step}: {string.Join(", ", list)}");
        }
    }

    private static Compilation ReplaceTree(Compilation compilation, int index, string text)
    {
        var old = compilation.SyntaxTrees.ElementAt(index);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path: old.FilePath));
    }
}
