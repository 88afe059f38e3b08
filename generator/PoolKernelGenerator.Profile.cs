using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using KernelGen.Generator.Diagnostics;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;
using KernelGen.Generator.Profile;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generator;

/// <summary>The kernels the profiles ask for, hottest first and at most the project's limit, and what to report about the choice.</summary>
internal sealed record ProfileSelection(EquatableArray<KernelConfiguration> Kernels, EquatableArray<DiagnosticInfo> Diagnostics);

public sealed partial class PoolKernelGenerator
{
    /// <summary>The AdditionalFiles metadata KernelGen's build targets set on each KernelGenProfile item.</summary>
    internal const string ProfileMetadata = "build_metadata.AdditionalFiles.KernelGenProfile";

    /// <summary>The MSBuild property that caps how many kernels the profiles give.</summary>
    internal const string ProfileLimitProperty = "build_property.KernelGenProfileLimit";

    /// <summary>Kernels a profile gives when the project sets no KernelGenProfileLimit.</summary>
    internal const int DefaultProfileLimit = 8;

    /// <summary>
    /// The profile half of the pipeline: each KernelGenProfile file read on its own (so an edit re-reads only that
    /// file), then one selection over all of them, then one output per chosen configuration.
    /// </summary>
    private static IncrementalValuesProvider<KernelConfiguration> ProfileKernels(
        IncrementalGeneratorInitializationContext context, IncrementalValueProvider<bool> allowUnsafe)
    {
        var files = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Where(static pair => pair.Right.GetOptions(pair.Left).TryGetValue(ProfileMetadata, out var flag) &&
                                  string.Equals(flag, "true", System.StringComparison.OrdinalIgnoreCase))
            .Select(static (pair, cancellationToken) => ReadProfile(pair.Left, cancellationToken))
            .WithTrackingName(TrackingNames.ProfileFiles);

        context.RegisterSourceOutput(files, static (context, profile) =>
        {
            foreach (var diagnostic in profile.Diagnostics)
                context.ReportDiagnostic(diagnostic.ToDiagnostic());
        });

        var limit = context.AnalyzerConfigOptionsProvider.Select(static (options, _) =>
            options.GlobalOptions.TryGetValue(ProfileLimitProperty, out var text) ? text : null);

        var selection = files.Collect()
            .Combine(limit.Combine(allowUnsafe))
            .Select(static (input, _) => Choose(input.Left, input.Right.Left, input.Right.Right))
            .WithTrackingName(TrackingNames.ProfileSelection);

        context.RegisterSourceOutput(selection, static (context, chosen) =>
        {
            foreach (var diagnostic in chosen.Diagnostics)
                context.ReportDiagnostic(diagnostic.ToDiagnostic());
        });

        return selection
            .SelectMany(static (chosen, _) => chosen.Kernels.ToImmutableArray())
            .WithTrackingName(TrackingNames.ProfileKernels);
    }

    private static ParsedProfile ReadProfile(AdditionalText file, CancellationToken cancellationToken)
    {
        if (file.GetText(cancellationToken) is { } text)
            return ProfileReader.Read(file.Path, text.ToString());
        var nowhere = new LocationInfo(file.Path, default, default);
        return new ParsedProfile(file.Path, default, new[]
        {
            new DiagnosticInfo(DiagnosticDescriptors.ProfileUnusable, nowhere,
                new[] { $"profile '{System.IO.Path.GetFileName(file.Path)}'", "the file cannot be read (does it exist?)" }.ToEquatableArray()),
        }.ToEquatableArray());
    }

    /// <summary>
    /// The candidates of every profile, one per configuration (its times summed), most time first and at most
    /// <paramref name="limitText"/> of them. Without unsafe code there are none: each would be KG0010's general-engine
    /// wrapper, which a profile has no reason to add.
    /// </summary>
    internal static ProfileSelection Choose(ImmutableArray<ParsedProfile> profiles, string? limitText, bool allowUnsafe)
    {
        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        int limit = DefaultProfileLimit;
        if (!string.IsNullOrWhiteSpace(limitText))
        {
            if (int.TryParse(limitText!.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int parsed))
                limit = parsed;
            else
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.ProfileUnusable, null,
                    new[] { "KernelGenProfileLimit", $"'{limitText}' is not a whole number of kernels (0 or more), so the default of {DefaultProfileLimit} applies" }.ToEquatableArray()));
        }

        var chosen = profiles
            .SelectMany(profile => profile.Candidates)
            .GroupBy(candidate => candidate.Configuration)
            .Select(group => (First: group.First(), Seconds: group.Sum(candidate => candidate.TotalSeconds)))
            .OrderByDescending(candidate => candidate.Seconds)
            .ThenBy(candidate => candidate.First.Configuration.KernelName, System.StringComparer.Ordinal)
            .Take(limit)
            .Select(candidate => candidate.First)
            .ToList();
        if (!allowUnsafe)
        {
            foreach (var candidate in chosen)
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.UnsafeCodeNotAllowed, candidate.Location,
                    new[] { candidate.Entry, candidate.Configuration.KernelName }.ToEquatableArray()));
            chosen.Clear();
        }
        return new ProfileSelection(chosen.Select(candidate => candidate.Configuration).ToEquatableArray(), diagnostics.ToImmutable().ToEquatableArray());
    }
}
