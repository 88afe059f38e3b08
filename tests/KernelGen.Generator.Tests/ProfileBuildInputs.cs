// Linked into the tool's tests too: both feed profiles to the generator as a build does.
using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generator.Tests;

/// <summary>A file the build passes as AdditionalFiles, held in memory.</summary>
internal sealed class MemoryAdditionalText(string path, string text) : AdditionalText
{
    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
}

/// <summary>
/// The options KernelGen's build targets make compiler-visible: KernelGenProfile="true" on each profile file and the
/// KernelGenProfileLimit property when the project sets it.
/// </summary>
internal sealed class ProfileOptionsProvider(IEnumerable<string> profilePaths, string? limit) : AnalyzerConfigOptionsProvider
{
    private readonly HashSet<string> _profiles = [.. profilePaths];

    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(limit is null
        ? []
        : new Dictionary<string, string> { ["build_property.KernelGenProfileLimit"] = limit });

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options([]);

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options(_profiles.Contains(textFile.Path)
        ? new Dictionary<string, string> { ["build_metadata.AdditionalFiles.KernelGenProfile"] = "true" }
        : []);

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
            values.TryGetValue(key, out value);
    }
}
