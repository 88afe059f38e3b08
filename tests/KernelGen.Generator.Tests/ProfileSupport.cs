using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generator.Tests;

/// <summary>Runs the generator as a build with profiles does.</summary>
internal static class ProfileHarness
{
    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText> files, IEnumerable<string> profilePaths, string? limit = null, bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new PoolKernelGenerator().AsSourceGenerator()],
            files,
            GeneratorHarness.ParseOptions,
            new ProfileOptionsProvider(profilePaths, limit),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs once over <paramref name="source"/> with one profile file; the generator's result and output compilation.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(
        string profileJson, string? limit = null, string source = "namespace App; internal static class Empty { }", string path = "/app/pooling.profile.json")
    {
        var driver = CreateDriver([new MemoryAdditionalText(path, profileJson)], [path], limit)
            .RunGeneratorsAndUpdateCompilation(GeneratorHarness.Compile(source), out var output, out var diagnostics);
        return (driver.GetRunResult(), output, diagnostics);
    }

    /// <summary>The kernel classes a run generated (hint names without ".g.cs"), sorted.</summary>
    public static List<string> Kernels(GeneratorDriverRunResult result) =>
        GeneratorHarness.GeneratedFiles(result).Select(file => file.HintName).Where(name => !name.EndsWith(".PoolKernel.g.cs", System.StringComparison.Ordinal))
            .Select(name => name[..^".g.cs".Length]).ToList();
}
