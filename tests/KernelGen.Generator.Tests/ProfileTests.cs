using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using KernelGen.Monitoring;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Profile-guided specialization: a profile saved by <see cref="PoolingMonitor.SaveProfile"/> and given to the generator
/// as a KernelGenProfile additional file becomes registered kernels for the hot configurations the general engine
/// served, at most KernelGenProfileLimit of them; what cannot be specialized gets KG0009 and what cannot be read KG0011,
/// each on its line of the file, and the generator never throws.
/// </summary>
public class ProfileTests
{
    private const string Path = "/app/pooling.profile.json";

    /// <summary>One profile entry as PoolingMonitor writes it (a window operation), on lines of its own.</summary>
    internal static string Entry(string mode, int kernel, int stride, int padding = 0, string element = "float", string layout = "channelsFirst",
        string path = "general", double seconds = 0.1, bool generalRequested = false, string extra = "") => $$"""
            {
              "configuration": "{{mode}}-{{kernel}}-{{stride}}-{{padding}}",
              "operation": "window",
              "mode": "{{mode}}",
              "element": "{{element}}",
              "layout": "{{layout}}",
              "kernel": [{{kernel}}, {{kernel}}],
              "stride": [{{stride}}, {{stride}}],
              "padBegin": [{{padding}}, {{padding}}],
              "padEnd": [{{padding}}, {{padding}}],
              "dilation": [1, 1],
              "ceilMode": false,
              "countIncludePad": true,
              "divisorOverride": 0,
              "path": "{{path}}",
              "kernelName": "general",
              "generalRequested": {{(generalRequested ? "true" : "false")}},{{extra}}
              "calls": 10,
              "totalSeconds": {{seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}}
            }
            """;

    internal static string Profile(params string[] entries) =>
        "{\n  \"format\": \"KernelGen.PoolingProfile\",\n  \"version\": 1,\n  \"startedAt\": \"2026-01-01T00:00:00+00:00\",\n  \"elapsedSeconds\": 1,\n  \"entries\": [\n" +
        string.Join(",\n", entries) + "\n  ]\n}\n";

    /// <summary>The whole loop in one process: run on the general engine, save the profile, generate, load, run again specialized.</summary>
    [Fact]
    public void SavedProfileBecomesRegisteredKernelsThatRunSpecialized()
    {
        // None has a kernel yet; the last three cannot be specialized (horizontal stride 3 channels first, 1-d, global).
        var hot = new (PoolDescriptor Descriptor, bool IsDouble, string Name)[]
        {
            (PoolDescriptor.MaxPool2d((2, 3), (1, 1), (1, 1)), false, "MaxPool_K2x3_S1_P1_F32_Nchw"),
            (PoolDescriptor.AvgPool2d(2, 1, layout: PoolLayout.ChannelsLast), true, "AvgPool_K2x2_S1_F64_Nhwc"),
        };
        var unspecializable = PoolDescriptor.AvgPool2d(3, 3, 1, countIncludePad: false);
        var oneD = PoolDescriptor.MaxPool1d(5, 2);
        var shape = new PoolShape(2, 3, 13, 17);
        var file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kernelgen-profile-{Guid.NewGuid():N}.json");
        try
        {
            using (var monitor = PoolingMonitor.Start())
            {
                foreach (var (descriptor, isDouble, _) in hot)
                {
                    Assert.False(isDouble ? PoolKernelRegistry.IsSpecialized<double>(descriptor) : PoolKernelRegistry.IsSpecialized<float>(descriptor));
                    Run(descriptor, isDouble, shape);
                }
                Run(unspecializable, false, shape);
                var line = new PoolShape(1, 2, 40);
                Pooling.Run(oneD, new float[line.ElementCount], new float[oneD.GetOutputShape(line).ElementCount], line, 1);
                Pooling.GlobalAverage(new float[shape.ElementCount], new float[shape.Batch * shape.Channels], shape);
                monitor.Stop();
                monitor.SaveProfile(file);
            }
            string json = File.ReadAllText(file);
            var (result, output, diagnostics) = ProfileHarness.Run(json, limit: "100", path: file);

            var kernels = ProfileHarness.Kernels(result);
            Assert.All(hot, h => Assert.Contains(h.Name, kernels));
            Assert.DoesNotContain(kernels, name => name.StartsWith("AvgPool_K3x3_S3_P1", StringComparison.Ordinal));
            var lines = json.Split('\n');
            // The line (from 0) that opens an entry: the one above its "configuration".
            int EntryLine(string configuration) => Array.FindIndex(lines, l => l.Contains($"\"configuration\": \"{configuration}\"", StringComparison.Ordinal)) - 1;
            foreach (var configuration in new[] { "AvgPool_K3x3_S3_P1_ExcludePad_F32_Nchw", "MaxPool1d_K5_S2_P0-0_D1_F32_Nchw", "GlobalAvgPool_F32_Nchw" })
            {
                // KG0009 on the line that opens the entry (the line above its "configuration"), naming the entry.
                var warning = Assert.Single(diagnostics, d => d.Id == "KG0009" && d.GetMessage().Contains($"({configuration})", StringComparison.Ordinal));
                Assert.Equal(file, warning.Location.GetLineSpan().Path);
                Assert.Equal(EntryLine(configuration), warning.Location.GetLineSpan().StartLinePosition.Line);
                Assert.Matches(@"^'entry \d+ of profile 'kernelgen-profile-[0-9a-f]+\.json''", warning.GetMessage());
            }
            Assert.DoesNotContain(diagnostics, d => d.Id == "KG0011");

            GeneratorHarness.LoadAndRegister(output);

            using var second = PoolingMonitor.Start();
            foreach (var (descriptor, isDouble, name) in hot)
            {
                var (expected, actual) = Compare(descriptor, shape, isDouble);
                Assert.Equal(expected, actual);
            }
            var snapshot = second.GetSnapshot();
            foreach (var (descriptor, isDouble, name) in hot)
            {
                var entry = Assert.Single(snapshot.Entries, e => e.Configuration == name && e.Element == (isDouble ? "double" : "float") && !e.Descriptor.Contains("indices", StringComparison.Ordinal) && e.Path == "specialized");
                Assert.Equal(name, entry.Kernel);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static void Run(PoolDescriptor descriptor, bool isDouble, PoolShape shape)
    {
        int outputLength = checked((int)descriptor.GetOutputShape(shape).ElementCount);
        if (isDouble) Pooling.Run(descriptor, new double[shape.ElementCount], new double[outputLength], shape, 1);
        else Pooling.Run(descriptor, new float[shape.ElementCount], new float[outputLength], shape, 1);
    }

    /// <summary>Pooling.Run (now specialized) and the general engine on the same random input, as text of every value.</summary>
    private static (string Expected, string Actual) Compare(PoolDescriptor descriptor, PoolShape shape, bool isDouble)
    {
        var random = new Random(5);
        double[] input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => random.NextDouble() * 10 - 5).ToArray();
        int outputLength = checked((int)descriptor.GetOutputShape(shape).ElementCount);
        if (isDouble)
        {
            double[] expected = new double[outputLength], actual = new double[outputLength];
            Pooling.RunGeneral(descriptor, input, expected, shape, 1);
            Pooling.Run(descriptor, input, actual, shape, 1);
            return (string.Join(",", expected), string.Join(",", actual));
        }
        float[] single = input.Select(x => (float)x).ToArray(), expectedSingle = new float[outputLength], actualSingle = new float[outputLength];
        Pooling.RunGeneral(descriptor, single, expectedSingle, shape, 1);
        Pooling.Run(descriptor, single, actualSingle, shape, 1);
        return (string.Join(",", expectedSingle), string.Join(",", actualSingle));
    }

    [Fact]
    public void HottestGeneralEntriesUpToTheLimit()
    {
        string json = Profile(
            Entry("max", 2, 1, seconds: 0.1),
            Entry("max", 4, 2, padding: 1, seconds: 0.3),
            Entry("average", 3, 1, padding: 1, element: "double", seconds: 0.2),
            Entry("average", 4, 4, layout: "channelsLast", path: "specialized", seconds: 9),    // already specialized
            Entry("max", 2, 2, element: "double", seconds: 5, generalRequested: true));          // Pooling.RunGeneral on purpose

        Assert.Equal(["AvgPool_K3x3_S1_P1_F64_Nchw", "MaxPool_K2x2_S1_F32_Nchw", "MaxPool_K4x4_S2_P1_F32_Nchw"], ProfileHarness.Kernels(ProfileHarness.Run(json).Result));
        Assert.Equal(["AvgPool_K3x3_S1_P1_F64_Nchw", "MaxPool_K4x4_S2_P1_F32_Nchw"], ProfileHarness.Kernels(ProfileHarness.Run(json, limit: "2").Result));
        Assert.Equal(["MaxPool_K4x4_S2_P1_F32_Nchw"], ProfileHarness.Kernels(ProfileHarness.Run(json, limit: "1").Result));
        Assert.Empty(ProfileHarness.Kernels(ProfileHarness.Run(json, limit: "0").Result));

        var (result, _, diagnostics) = ProfileHarness.Run(json, limit: "lots");
        Assert.Equal(3, ProfileHarness.Kernels(result).Count);
        var warning = Assert.Single(diagnostics);
        Assert.Equal("KG0011", warning.Id);
        Assert.Contains("KernelGenProfileLimit: 'lots' is not a whole number", warning.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void AttributeAndProfileAskingForOneConfigurationShareOneKernel()
    {
        const string source = """
            using System;
            using KernelGen;

            namespace App;

            /// <summary>Pools.</summary>
            public static partial class Pools
            {
                /// <summary>A layer.</summary>
                [PoolKernel(4, 2, PoolMode.Max, Padding = 1)]
                public static partial void Pool(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
            }
            """;
        var (result, output, diagnostics) = ProfileHarness.Run(Profile(Entry("max", 4, 2, padding: 1), Entry("max", 2, 1)), source: source);
        Assert.Equal(["MaxPool_K2x2_S1_F32_Nchw", "MaxPool_K4x4_S2_P1_F32_Nchw"], ProfileHarness.Kernels(result));
        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.Problems(output));
    }

    [Fact]
    public void WithoutUnsafeCodeTheProfileGivesNoKernelAndSaysWhy()
    {
        string json = Profile(Entry("max", 2, 1));
        var compilation = GeneratorHarness.Compile("namespace App; internal static class Empty { }").WithOptions(GeneratorHarness.CompilationOptions.WithAllowUnsafe(false));
        ProfileHarness.CreateDriver([new MemoryAdditionalText(Path, json)], [Path])
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        Assert.Empty(GeneratorHarness.Problems(output));
        var warning = Assert.Single(diagnostics);
        Assert.Equal("KG0010", warning.Id);
        Assert.StartsWith("'entry 1 of profile 'pooling.profile.json'' (MaxPool_K2x2_S1_F32_Nchw)", warning.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(6, warning.Location.GetLineSpan().StartLinePosition.Line);
    }

    /// <summary>(what is wrong, the profile text, the 1-based line KG0011 must point at, words its message must hold).</summary>
    public static TheoryData<string, string, int, string> Malformed() => new()
    {
        { "not JSON", "{\n  \"format\": \"KernelGen.PoolingProfile\",\n  \"version\": 1\n  \"entries\": []\n}", 4, "profile 'pooling.profile.json': it is not valid JSON: expected '}', found '\"'" },
        { "cut short", Profile(Entry("max", 2, 1))[..Profile(Entry("max", 2, 1)).IndexOf("\"element\"", StringComparison.Ordinal)], 11, "it is not valid JSON: expected a property name" },
        { "empty", "", 1, "it is not valid JSON: the JSON ends where a value was expected" },
        { "not a profile", "{\n  \"format\": \"Something.Else\",\n  \"version\": 1,\n  \"entries\": []\n}", 2, "its \"format\" is not \"KernelGen.PoolingProfile\"" },
        { "unknown version", Profile(Entry("max", 2, 1)).Replace("\"version\": 1", "\"version\": 2"), 3, "its version 2 is not the version 1 this KernelGen reads" },
        { "no entries", "{\n  \"format\": \"KernelGen.PoolingProfile\",\n  \"version\": 1\n}", 1, "it has no \"entries\" array" },
        { "invalid configuration", Profile(Entry("max", 3, 1, padding: 3)), 7, "entry 1 of profile 'pooling.profile.json': it is not a valid configuration: padding 3 is not smaller than the window 3" },
        { "unknown mode", Profile(Entry("min", 2, 1)), 10, "\"mode\" is \"min\", not one of \"max\", \"average\"" },
        { "missing field", Profile(Entry("max", 2, 1).Replace("  \"ceilMode\": false,\n", "")), 7, "entry 1 of profile 'pooling.profile.json': it has no \"ceilMode\"" },
        { "axes disagree", Profile(Entry("max", 2, 1).Replace("\"stride\": [1, 1]", "\"stride\": [1, 1, 1]")), 14, "\"stride\" has 3 values; it needs 2" },
        { "fraction", Profile(Entry("max", 2, 1).Replace("\"kernel\": [2, 2]", "\"kernel\": [2.5, 2]")), 13, "a value of \"kernel\" is 2.5, not a whole number" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedOrStaleProfileWarnsOnItsLineAndTheBuildGoesOn(string what, string json, int line, string message)
    {
        var (result, output, diagnostics) = ProfileHarness.Run(json);
        Assert.Null(result.Results.Single().Exception);
        var warning = Assert.Single(diagnostics);
        Assert.True(warning.Id == "KG0011" && warning.DefaultSeverity == DiagnosticSeverity.Warning, what + ": " + warning);
        Assert.Contains(message, warning.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(Path, warning.Location.GetLineSpan().Path);
        Assert.Equal(line, warning.Location.GetLineSpan().StartLinePosition.Line + 1);
        Assert.Empty(ProfileHarness.Kernels(result));
        Assert.Empty(GeneratorHarness.Problems(output));
    }

    [Fact]
    public void BadEntryIsSkippedAndTheOthersStillGiveKernels()
    {
        string json = Profile(Entry("max", 2, 1), Entry("max", 0, 1), Entry("average", 2, 1, layout: "channelsLast"));
        var (result, _, diagnostics) = ProfileHarness.Run(json);
        Assert.Equal(["AvgPool_K2x2_S1_F32_Nhwc", "MaxPool_K2x2_S1_F32_Nchw"], ProfileHarness.Kernels(result));
        var warning = Assert.Single(diagnostics);
        Assert.Equal("KG0011", warning.Id);
        Assert.StartsWith("entry 2 of profile 'pooling.profile.json': it is not a valid configuration: the window must be at least 1 on every axis, not 0", warning.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(27, warning.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Fact]
    public void UnspecializableEntryGetsKG0009NamingIt()
    {
        var (result, _, diagnostics) = ProfileHarness.Run(Profile(Entry("max", 3, 1), Entry("max", 9, 1, padding: 4)));
        Assert.Equal(["MaxPool_K3x3_S1_F32_Nchw"], ProfileHarness.Kernels(result));
        var warning = Assert.Single(diagnostics);
        Assert.Equal("KG0009", warning.Id);
        Assert.Equal("'entry 2 of profile 'pooling.profile.json'' (MaxPool_K9x9_S1_P4_F32_Nchw) is not specialized because a 9x9 window has more than 49 taps to unroll, so it calls the general engine, which gives the same results; a window of at most 49 taps (7x7) would specialize it",
            warning.GetMessage());
        Assert.Equal(27, warning.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Fact]
    public void PaddingThatDiffersAtTheEndGetsAKernelOfItsOwn()
    {
        string beginOnly = Entry("max", 3, 2, padding: 1).Replace("\"padEnd\": [1, 1]", "\"padEnd\": [0, 0]", StringComparison.Ordinal);
        string endOnly = Entry("average", 3, 2).Replace("\"padEnd\": [0, 0]", "\"padEnd\": [1, 1]", StringComparison.Ordinal);
        // ONNX allows an end padding up to the kernel less one; [PoolKernel] keeps PyTorch's half kernel on each side.
        string overHalf = Entry("average", 3, 1).Replace("\"padEnd\": [0, 0]", "\"padEnd\": [0, 2]", StringComparison.Ordinal);
        Assert.Contains("\"padEnd\": [0, 0]", beginOnly, StringComparison.Ordinal);
        Assert.Contains("\"padEnd\": [1, 1]", endOnly, StringComparison.Ordinal);
        Assert.Contains("\"padEnd\": [0, 2]", overHalf, StringComparison.Ordinal);

        var (result, _, diagnostics) = ProfileHarness.Run(Profile(beginOnly, endOnly, overHalf));

        // ResNet-18's pads [1,1,0,0] and SAME_UPPER's [0,0,1,1], each registered under its exact descriptor.
        Assert.Equal(["AvgPool_K3x3_S2_PE1_F32_Nchw", "MaxPool_K3x3_S2_P1_PE0_F32_Nchw"], ProfileHarness.Kernels(result).Order(StringComparer.Ordinal));
        var warning = Assert.Single(diagnostics);
        Assert.Equal("KG0009", warning.Id);
        Assert.Contains("padding 2 above half the kernel 3 is ONNX-only", warning.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void NoProfileMetadataNoKernels()
    {
        var driver = ProfileHarness.CreateDriver([new MemoryAdditionalText(Path, Profile(Entry("max", 2, 1)))], profilePaths: [])
            .RunGenerators(GeneratorHarness.Compile("namespace App; internal static class Empty { }"));
        Assert.Empty(ProfileHarness.Kernels(driver.GetRunResult()));
    }
}

/// <summary>
/// The profile steps stay cached across source edits, and an edit of the profile re-runs only what it changed (as
/// <see cref="IncrementalityTests"/> shows for the attribute steps).
/// </summary>
public class ProfileIncrementalityTests
{
    private const string Path = "/app/pooling.profile.json";
    private const string Source = "namespace App; internal static class Other { internal static int Value => 1; }";
    private static readonly IncrementalStepRunReason[] Cached = [IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged];
    private static readonly string[] Steps = [TrackingNames.ProfileFiles, TrackingNames.ProfileSelection, TrackingNames.ProfileKernels, TrackingNames.Configurations];

    // Hottest first: MaxPool_K2x2_S1, MaxPool_K4x4_S2_P1, AvgPool_K3x3_S1_P1_F64.
    private static string Profile(int averagePadding = 1, double averageSeconds = 0.1) => ProfileTests.Profile(
        ProfileTests.Entry("max", 2, 1, seconds: 0.3),
        ProfileTests.Entry("max", 4, 2, padding: 1, seconds: 0.2),
        ProfileTests.Entry("average", 3, 1, padding: averagePadding, element: "double", seconds: averageSeconds));

    private static Dictionary<string, List<IncrementalStepRunReason>> ReasonsAfterEdit(string? editedProfile, Func<Compilation, Compilation> editSource)
    {
        var profile = new MemoryAdditionalText(Path, Profile());
        Compilation compilation = GeneratorHarness.Compile(Source);
        var driver = ProfileHarness.CreateDriver([profile], [Path], trackSteps: true).RunGenerators(compilation);
        Assert.Equal(3, ProfileHarness.Kernels(driver.GetRunResult()).Count);
        if (editedProfile is not null)
            driver = driver.ReplaceAdditionalText(profile, new MemoryAdditionalText(Path, editedProfile));
        driver = driver.RunGenerators(editSource(compilation));
        var steps = driver.GetRunResult().Results.Single().TrackedSteps;
        return Steps.ToDictionary(name => name, name => steps[name].SelectMany(step => step.Outputs).Select(output => output.Reason).ToList());
    }

    private static string Describe(Dictionary<string, List<IncrementalStepRunReason>> reasons) =>
        string.Join("; ", reasons.Select(pair => pair.Key + ": " + string.Join(", ", pair.Value)));

    [Fact]
    public void SourceEditKeepsEveryProfileStepCached()
    {
        var reasons = ReasonsAfterEdit(null, compilation => compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(Source.Replace("=> 1", "=> 2"), GeneratorHarness.ParseOptions, path: compilation.SyntaxTrees.Single().FilePath)));
        Assert.All(reasons, pair => Assert.True(pair.Value.Count > 0 && pair.Value.All(Cached.Contains), Describe(reasons)));
    }

    [Fact]
    public void ChangedTimesReReadTheProfileButRegenerateNoKernel()
    {
        var reasons = ReasonsAfterEdit(Profile(averageSeconds: 0.15), compilation => compilation);
        Assert.Equal([IncrementalStepRunReason.Modified], reasons[TrackingNames.ProfileFiles]);
        Assert.True(reasons[TrackingNames.ProfileKernels].All(Cached.Contains), Describe(reasons));
        Assert.True(reasons[TrackingNames.Configurations].All(Cached.Contains), Describe(reasons));
    }

    [Fact]
    public void ChangedEntryRegeneratesOnlyItsKernel()
    {
        var reasons = ReasonsAfterEdit(Profile(averagePadding: 0), compilation => compilation);
        Assert.Equal([IncrementalStepRunReason.Modified], reasons[TrackingNames.ProfileFiles]);
        foreach (var step in new[] { TrackingNames.ProfileKernels, TrackingNames.Configurations })
        {
            Assert.Equal(3, reasons[step].Count);
            Assert.True(reasons[step].Count(reason => reason == IncrementalStepRunReason.Modified) == 1 && reasons[step].Count(Cached.Contains) == 2, Describe(reasons));
        }
    }
}
