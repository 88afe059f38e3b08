using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using KernelGen.Generator.Diagnostics;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;
using KernelGen.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generator.Profile;

/// <summary>A configuration from a profile that ran on the general engine and that the generator specializes.</summary>
/// <param name="TotalSeconds">Time the general engine spent on it while the profile was recorded; ranks the candidates.</param>
/// <param name="Entry">"entry 3 of pooling.profile.json", for diagnostics.</param>
internal sealed record ProfileKernel(KernelConfiguration Configuration, double TotalSeconds, string Entry, LocationInfo? Location);

/// <summary>What one profile file gives: the kernels it asks for and the diagnostics about it.</summary>
internal sealed record ParsedProfile(string Path, EquatableArray<ProfileKernel> Candidates, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// Reads a profile written by <c>PoolingMonitor.SaveProfile</c> (docs/profile-format.md). Never throws for bad input:
/// a file it cannot read gives KG0011 and no kernels; an entry it cannot read gives KG0011 and is skipped; a
/// configuration the generator cannot or should not specialize gives KG0009, as an attribute would.
/// </summary>
internal static class ProfileReader
{
    public const string Format = "KernelGen.PoolingProfile";
    public const int Version = 1;

    public static ParsedProfile Read(string path, string text)
    {
        string name = System.IO.Path.GetFileName(path);
        var candidates = new List<ProfileKernel>();
        var diagnostics = new List<DiagnosticInfo>();
        void Unusable(string what, int start, int end, LinePosition from, LinePosition to, string message) =>
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.ProfileUnusable,
                new LocationInfo(path, TextSpan.FromBounds(start, Math.Max(start, end)), new LinePositionSpan(from, to)),
                new[] { what, message }.ToEquatableArray()));

        string file = $"profile '{name}'";
        JsonValue root;
        try
        {
            root = ProfileJson.Parse(text);
        }
        catch (JsonSyntaxException error)
        {
            Unusable(file, error.Offset, error.Offset, error.Position, error.Position, "it is not valid JSON: " + error.Message);
            return new ParsedProfile(path, default, diagnostics.ToEquatableArray());
        }

        void FileProblem(JsonValue at, string message) => Unusable(file, at.Start, at.End, at.Position, at.EndPosition, message);
        if (root.Kind != JsonKind.Object)
            FileProblem(root, "it is not a JSON object");
        else if (root.Member("format") is not { Kind: JsonKind.String, Text: Format })
            FileProblem(root.Member("format") ?? root, $"its \"format\" is not \"{Format}\"; it was not written by PoolingMonitor.SaveProfile");
        else if (root.Member("version") is not { Kind: JsonKind.Number } version)
            FileProblem(root, "it has no \"version\"");
        else if (version.Text != Version.ToString(CultureInfo.InvariantCulture))
            FileProblem(version, $"its version {version.Text} is not the version {Version} this KernelGen reads; record it again with this KernelGen's PoolingMonitor.SaveProfile");
        else if (root.Member("entries") is not { Kind: JsonKind.Array } entries)
            FileProblem(root.Member("entries") ?? root, "it has no \"entries\" array");
        else
        {
            for (int i = 0; i < entries.Items.Count; i++)
            {
                var entry = entries.Items[i];
                string label = $"entry {i + 1} of profile '{name}'";
                var location = new LocationInfo(path, TextSpan.FromBounds(entry.Start, entry.End), new LinePositionSpan(entry.Position, entry.EndPosition));
                try
                {
                    ReadEntry(entry, label, location, candidates, diagnostics);
                }
                catch (EntryException problem)
                {
                    var at = problem.At ?? entry;
                    Unusable(label, at.Start, at.End, at.Position, at.EndPosition, problem.Message);
                }
            }
        }
        return new ParsedProfile(path, candidates.ToEquatableArray(), diagnostics.ToEquatableArray());
    }

    /// <summary>What is wrong with one entry, and the value to point at.</summary>
    private sealed class EntryException(string message, JsonValue? at) : Exception(message)
    {
        public JsonValue? At { get; } = at;
    }

    private static void ReadEntry(JsonValue entry, string label, LocationInfo location, List<ProfileKernel> candidates, List<DiagnosticInfo> diagnostics)
    {
        if (entry.Kind != JsonKind.Object) throw new EntryException("it is not a JSON object", entry);
        string operation = Choice(entry, "operation", "window", "global", "maxWithIndices");
        bool isMax = Choice(entry, "mode", "max", "average") == "max";
        bool isDouble = Choice(entry, "element", "float", "double") == "double";
        bool channelsLast = Choice(entry, "layout", "channelsFirst", "channelsLast") == "channelsLast";
        bool general = Choice(entry, "path", "general", "specialized") == "general";
        bool generalRequested = entry.Member("generalRequested") is not null && Bool(entry, "generalRequested");
        long calls = Integer(entry, "calls");
        double seconds = Seconds(entry, "totalSeconds");
        if (calls < 0) throw new EntryException($"\"calls\" is {calls}, below 0", entry.Member("calls"));
        string key = entry.Member("configuration") is { Kind: JsonKind.String } configurationName ? configurationName.Text : operation;

        int[]? kernel = null, stride = null, padBegin = null, padEnd = null, dilation = null;
        bool ceilMode = false, countIncludePad = true;
        int divisorOverride = 0;
        if (operation != "global")
        {
            kernel = Axes(entry, "kernel", null);
            stride = Axes(entry, "stride", kernel.Length);
            padBegin = Axes(entry, "padBegin", kernel.Length);
            padEnd = Axes(entry, "padEnd", kernel.Length);
            dilation = Axes(entry, "dilation", kernel.Length);
            ceilMode = Bool(entry, "ceilMode");
            countIncludePad = Bool(entry, "countIncludePad");
            divisorOverride = (int)Integer(entry, "divisorOverride", int.MinValue, int.MaxValue);
            if (ConfigurationProblem(isMax, kernel, stride, padBegin, padEnd, dilation, divisorOverride) is { } problem)
                throw new EntryException($"it is not a valid configuration: {problem}", entry);
        }

        // Only what ran on the general engine asks for a kernel; Pooling.RunGeneral asked for that engine on purpose.
        if (!general || generalRequested) return;
        void NotSpecialized(string configuration, string reason, string remedy) =>
            diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.NotSpecialized, location, new[] { label, configuration, reason, remedy }.ToEquatableArray()));
        const string NoAttribute = "[PoolKernel] cannot express it, so the profile gives it no kernel";
        if (operation == "global") { NotSpecialized(key, SpecializationRule.GlobalPoolingReason, NoAttribute); return; }
        if (operation == "maxWithIndices") { NotSpecialized(key, SpecializationRule.WithIndicesReason, NoAttribute); return; }

        // Padding that differs at the end (ONNX's pads [1,1,0,0], SAME_UPPER) gets a kernel of its own, registered under
        // exactly that descriptor.
        var axes = Enumerable.Range(0, kernel!.Length).Select(i => (kernel[i], padBegin![i], padEnd![i], dilation![i])).ToList();
        if (SpecializationRule.InexpressibleReason(isMax, axes) is { } inexpressible)
        {
            NotSpecialized(key, inexpressible, NoAttribute);
            return;
        }
        var configuration = new KernelConfiguration(
            isMax ? PoolMode.Max : PoolMode.Average, kernel[0], kernel[1], stride![0], stride[1], padBegin![0], padBegin[1],
            padEnd![0], padEnd[1], dilation![0], ceilMode, isMax || countIncludePad, divisorOverride,
            channelsLast ? PoolLayout.ChannelsLast : PoolLayout.ChannelsFirst, isDouble ? ElementKind.Double : ElementKind.Float);
        if (configuration.Problems().FirstOrDefault() is { Message: { } invalid })
            throw new EntryException($"it is not a valid configuration: {invalid}", entry);
        if (configuration.UnsupportedReason is { } reason)
        {
            NotSpecialized(configuration.KernelName, reason, configuration.HowToSpecialize!);
            return;
        }
        candidates.Add(new ProfileKernel(configuration, seconds, label, location));
    }

    /// <summary>What makes a configuration invalid under every convention (ONNX's, the widest), or null.</summary>
    private static string? ConfigurationProblem(bool isMax, int[] kernel, int[] stride, int[] padBegin, int[] padEnd, int[] dilation, int divisorOverride)
    {
        for (int i = 0; i < kernel.Length; i++)
        {
            if (kernel[i] < 1) return $"the window must be at least 1 on every axis, not {kernel[i]}";
            if (stride[i] < 1) return $"the stride must be at least 1 on every axis, not {stride[i]}";
            if (dilation[i] < 1) return $"the dilation must be at least 1 on every axis, not {dilation[i]}";
            long window = (kernel[i] - 1L) * dilation[i] + 1;
            if (padBegin[i] >= window || padEnd[i] >= window)
                return $"padding {System.Math.Max(padBegin[i], padEnd[i])} is not smaller than the window {window}";
        }
        if (isMax && divisorOverride != 0) return "a divisor override applies to average pooling only";
        return null;
    }

    private static JsonValue Required(JsonValue entry, string name, JsonKind kind, string what) =>
        entry.Member(name) is { } value && value.Kind == kind ? value
        : throw new EntryException(entry.Member(name) is null ? $"it has no \"{name}\"" : $"\"{name}\" is not {what}", entry.Member(name));

    private static string Choice(JsonValue entry, string name, params string[] choices)
    {
        var value = Required(entry, name, JsonKind.String, "a string");
        return choices.Contains(value.Text)
            ? value.Text
            : throw new EntryException($"\"{name}\" is \"{value.Text}\", not one of {string.Join(", ", choices.Select(c => "\"" + c + "\""))}", value);
    }

    private static bool Bool(JsonValue entry, string name) =>
        entry.Member(name) is { Kind: JsonKind.True or JsonKind.False } value
            ? value.Kind == JsonKind.True
            : throw new EntryException(entry.Member(name) is null ? $"it has no \"{name}\"" : $"\"{name}\" is not true or false", entry.Member(name));

    private static long Integer(JsonValue entry, string name, long min = long.MinValue, long max = long.MaxValue) =>
        Whole(Required(entry, name, JsonKind.Number, "a number"), $"\"{name}\"", min, max);

    private static long Whole(JsonValue value, string what, long min, long max) =>
        long.TryParse(value.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number) && number >= min && number <= max
            ? number
            : throw new EntryException($"{what} is {value.Text}, not a whole number from {min} to {max}", value);

    private static double Seconds(JsonValue entry, string name)
    {
        var value = Required(entry, name, JsonKind.Number, "a number");
        double seconds = double.Parse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return seconds >= 0 && !double.IsInfinity(seconds) ? seconds : throw new EntryException($"\"{name}\" is {value.Text}, not a duration in seconds", value);
    }

    /// <summary>One whole number per spatial axis (1 to 3 of them; <paramref name="rank"/> when another field fixed it).</summary>
    private static int[] Axes(JsonValue entry, string name, int? rank)
    {
        var array = Required(entry, name, JsonKind.Array, "an array of whole numbers, one per spatial axis");
        if (array.Items.Count is < 1 or > 3 || (rank is { } expected && array.Items.Count != expected))
            throw new EntryException($"\"{name}\" has {array.Items.Count} values; it needs {(rank is { } r ? r.ToString(CultureInfo.InvariantCulture) : "1 to 3")}, one per spatial axis", array);
        return array.Items.Select(item => item.Kind == JsonKind.Number
            ? (int)Whole(item, $"a value of \"{name}\"", 0, int.MaxValue)
            : throw new EntryException($"a value of \"{name}\" is not a number", item)).ToArray();
    }
}
