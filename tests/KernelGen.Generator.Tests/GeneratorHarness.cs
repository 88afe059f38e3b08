using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using Basic.Reference.Assemblies;
using KernelGen.Generator;
using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Runs the generator in-process the way the compiler does: a compilation of user source against the .NET 10
/// reference assemblies and the real KernelGen assemblies, a <see cref="CSharpGeneratorDriver"/>, and the output.
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>As strict as a careful user's build: warnings are errors, XML docs are checked, nullable is on.</summary>
    public static readonly CSharpParseOptions ParseOptions =
        new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);

    public static readonly CSharpCompilationOptions CompilationOptions =
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
            .WithAllowUnsafe(true)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error)
            .WithWarningLevel(9999)
            .WithDeterministic(true);

    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(PoolDescriptor).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(PoolKernelAttribute).Assembly.Location),
    ];

    /// <summary>The repository root, found from this file's path so tests read sources and snapshots in place.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));

    public static string ProjectDirectory => Path.Combine(RepositoryRoot, "tests", "KernelGen.Generator.Tests");

    /// <summary>The runtime's own [PoolKernel] declarations (the 22 built-in kernels).</summary>
    public static string BuiltInKernelsSource =>
        File.ReadAllText(Path.Combine(RepositoryRoot, "runtime", "Kernels", "BuiltInKernels.cs"));

    /// <summary>A compilation of <paramref name="sources"/>, named so the runtime grants it no internals.</summary>
    public static CSharpCompilation Compile(params string[] sources) => CompileAs("KernelGen.UserCode", sources);

    public static CSharpCompilation CompileAs(string assemblyName, params string[] sources) =>
        CSharpCompilation.Create(
            assemblyName,
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"Source{i}.cs")),
            References,
            CompilationOptions);

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new PoolKernelGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator once; returns its result and the compilation with the generated files added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(Compilation compilation)
    {
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>The generated files of a run as (hint name, text), sorted by hint name; fails if the generator threw.</summary>
    public static IReadOnlyList<(string HintName, string Text)> GeneratedFiles(GeneratorDriverRunResult result)
    {
        var generator = result.Results.Single();
        if (generator.Exception is not null)
            throw new InvalidOperationException("The generator threw.", generator.Exception);
        return generator.GeneratedSources
            .Select(source => (source.HintName, source.SourceText.ToString()))
            .OrderBy(file => file.HintName, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// What <c>dotnet build</c> shows for <paramref name="compilation"/>: the generator's diagnostics and the compiler's,
    /// then the analyzer's only if the compiler reported no error. (csc skips analyzers after an error such as CS8795
    /// or CS0751; it runs them after some others, so this is the cautious reading. KernelGen.EndToEnd's
    /// UserBuildTests check real builds.)
    /// </summary>
    public static async Task<IReadOnlyList<Diagnostic>> BuildDiagnosticsAsync(Compilation compilation)
    {
        CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var compiler = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        var diagnostics = generatorDiagnostics.Concat(compiler).ToList();
        if (!compiler.Any(d => d.Severity == DiagnosticSeverity.Error))
            diagnostics.AddRange(await output.WithAnalyzers([new PoolKernelAnalyzer()]).GetAnalyzerDiagnosticsAsync());
        return diagnostics;
    }

    /// <summary>What an editor shows: the generator's diagnostics and the analyzer's, whatever else is wrong.</summary>
    public static async Task<IReadOnlyList<Diagnostic>> EditorDiagnosticsAsync(Compilation compilation)
    {
        CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return [.. generatorDiagnostics, .. await output.WithAnalyzers([new PoolKernelAnalyzer()]).GetAnalyzerDiagnosticsAsync()];
    }

    /// <summary>Errors and warnings (all of them errors under these options), formatted for an assertion message.</summary>
    public static string Describe(IEnumerable<Diagnostic> diagnostics) =>
        string.Join(Environment.NewLine, diagnostics.Select(d => d.ToString()));

    /// <summary>
    /// Checks that <paramref name="output"/> has no warning, emits it, loads it and runs its module initializers, so its
    /// generated kernels register with the runtime as they do when an application starts.
    /// </summary>
    public static System.Reflection.Assembly LoadAndRegister(Compilation output)
    {
        Xunit.Assert.Empty(Problems(output));
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Xunit.Assert.True(emit.Success, Describe(emit.Diagnostics));
        var assembly = System.Reflection.Assembly.Load(stream.ToArray());
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        return assembly;
    }

    public static IReadOnlyList<Diagnostic> Problems(Compilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
}
