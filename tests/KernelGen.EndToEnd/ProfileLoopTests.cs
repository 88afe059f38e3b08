using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.EndToEnd;

/// <summary>
/// Profile-guided specialization as a user does it, with the command-line SDK: run an application with the monitor
/// and save its profile, list the profile in the project (<c>&lt;KernelGenProfile Include="..." /&gt;</c>, mapped by
/// KernelGen's build targets), build again, run again: the hot layers the general engine served now run specialized.
/// The times are measured and logged, never asserted (bench/ is where speed is proven).
/// </summary>
[Trait("Category", "Build")]
public class ProfileLoopTests(ITestOutputHelper log)
{
    /// <summary>An application with five layers no built-in kernel covers; the last one [PoolKernel] cannot express.</summary>
    private const string Program = """
        using System.Globalization;
        using KernelGen;
        using KernelGen.Monitoring;

        var layers = new (string Name, PoolDescriptor Descriptor, bool IsDouble, PoolShape Shape)[]
        {
            ("alexnet.pool1", PoolDescriptor.MaxPool2d(3, 2), false, new PoolShape(1, 64, 55, 55)),
            ("stem.f64", PoolDescriptor.MaxPool2d(3, 2), true, new PoolShape(1, 64, 112, 112)),
            ("smooth.nhwc", PoolDescriptor.AvgPool2d(2, 1, layout: PoolLayout.ChannelsLast), false, new PoolShape(1, 128, 28, 28)),
            ("tf.same", PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 2, 0, 1, 1), new PoolAxis(3, 2, 0, 1, 1)]), false, new PoolShape(1, 64, 56, 56)),
            ("onnx.wide", PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 2, 0, 2, 1), new PoolAxis(3, 2, 0, 2, 1)]), false, new PoolShape(1, 64, 56, 56)),
        };
        var random = new Random(1);
        bool agree = true;
        var work = layers.Select(layer =>
        {
            int inputs = (int)layer.Shape.ElementCount, outputs = (int)layer.Descriptor.GetOutputShape(layer.Shape).ElementCount;
            if (layer.IsDouble)
            {
                double[] input = Enumerable.Range(0, inputs).Select(_ => random.NextDouble()).ToArray(), output = new double[outputs], general = new double[outputs];
                Pooling.Run(layer.Descriptor, input, output, layer.Shape, 1);
                Pooling.RunGeneral(layer.Descriptor, input, general, layer.Shape, 1);
                agree &= output.SequenceEqual(general);
                return (Action)(() => Pooling.Run(layer.Descriptor, input, output, layer.Shape, 1));
            }
            float[] single = Enumerable.Range(0, inputs).Select(_ => (float)random.NextDouble()).ToArray(), singleOut = new float[outputs], singleGeneral = new float[outputs];
            Pooling.Run(layer.Descriptor, single, singleOut, layer.Shape, 1);
            Pooling.RunGeneral(layer.Descriptor, single, singleGeneral, layer.Shape, 1);
            agree &= singleOut.SequenceEqual(singleGeneral);
            return () => Pooling.Run(layer.Descriptor, single, singleOut, layer.Shape, 1);
        }).ToList();
        for (int warm = 0; warm < 20; warm++) work.ForEach(run => run());

        using var monitor = PoolingMonitor.Start();
        for (int call = 0; call < 200; call++) work.ForEach(run => run());
        monitor.Stop();
        foreach (var e in monitor.GetSnapshot().Entries)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ENTRY {e.Configuration}|{e.Element}|{e.Path}|{e.Kernel}|{e.MeanSeconds * 1e6:F1}"));
        Console.WriteLine($"AGREE {agree}");
        if (args is ["--save-profile", var path])
            monitor.SaveProfile(path);
        """;

    private sealed record Entry(string Configuration, string Element, string Path, string Kernel, double MeanMicroseconds);

    private static Dictionary<string, Entry> Entries(string output) =>
        output.Split('\n').Select(line => line.Trim()).Where(line => line.StartsWith("ENTRY ", StringComparison.Ordinal))
            .Select(line => line["ENTRY ".Length..].Split('|'))
            .Select(p => new Entry(p[0], p[1], p[2], p[3], double.Parse(p[4], CultureInfo.InvariantCulture)))
            .ToDictionary(e => e.Configuration);

    [Fact]
    public async Task ProfiledBuildRunsTheHotGeneralLayersSpecialized()
    {
        using var project = new UserProject("profile-loop", executable: true, ("Program.cs", Program));
        project.ImportKernelGenBuildFiles(); // as the package's buildTransitive props and targets are

        var first = await project.BuildAsync(log, "Release");
        Assert.True(first.ExitCode == 0, first.Output);
        var firstRun = await project.RunAsync(log, "Release", "--save-profile", "pooling.profile.json");
        Assert.True(firstRun.ExitCode == 0, firstRun.Output);
        Assert.Contains("AGREE True", firstRun.Output, StringComparison.Ordinal);
        var before = Entries(firstRun.Output);
        string[] hot = ["MaxPool_K3x3_S2_F32_Nchw", "MaxPool_K3x3_S2_F64_Nchw", "AvgPool_K2x2_S1_F32_Nhwc", "MaxPool_K3x3_S2_PE1_F32_Nchw"];
        const string Inexpressible = "MaxPool2d_K3x3_S2x2_P0-2x0-2_D1x1_F32_Nchw";
        Assert.All(hot.Append(Inexpressible), name => Assert.Equal("general", before[name].Path));
        string profile = Path.Combine(project.Directory, "pooling.profile.json");
        Assert.True(File.Exists(profile));

        project.WriteProject("""
              <ItemGroup>
                <KernelGenProfile Include="pooling.profile.json" />
              </ItemGroup>
            """);
        var second = await project.BuildAsync(log, "Release");
        Assert.True(second.ExitCode == 0, second.Output);
        // The layer [PoolKernel] cannot express: KG0009 on its entry's line of the profile, naming the entry.
        var lines = File.ReadAllLines(profile);
        int entryLine = Array.FindIndex(lines, line => line.Contains($"\"configuration\": \"{Inexpressible}\"", StringComparison.Ordinal));
        var warning = Assert.Single(second.Diagnostics, d => d.Id == "KG0009");
        Assert.Equal((profile, entryLine), (warning.File, warning.Line)); // the entry opens on the line above its configuration (from 1 vs from 0)
        Assert.Contains("of profile 'pooling.profile.json'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("padding 2 above half the kernel 3 is ONNX-only", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(second.Diagnostics, d => d.Id is "KG0011" or "KG0010");

        var secondRun = await project.RunAsync(log, "Release");
        Assert.True(secondRun.ExitCode == 0, secondRun.Output);
        Assert.Contains("AGREE True", secondRun.Output, StringComparison.Ordinal);
        var after = Entries(secondRun.Output);
        foreach (var name in hot)
        {
            Assert.Equal("specialized", after[name].Path);
            Assert.Equal(name, after[name].Kernel);
        }
        Assert.Equal("general", after[Inexpressible].Path);

        log.WriteLine("mean time of one call, before (general engine) and after the profiled build (the machine may be loaded):");
        foreach (var name in hot.Append(Inexpressible))
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-45} {before[name].MeanMicroseconds,9:F1} us -> {after[name].MeanMicroseconds,9:F1} us  ({after[name].Path}, {before[name].MeanMicroseconds / after[name].MeanMicroseconds:F2}x)"));
    }

    /// <summary>A profile that is not JSON: KG0011 at its file, line and column, and the build still succeeds.</summary>
    [Fact]
    public async Task MalformedProfileWarnsAtItsLineAndTheBuildSucceeds()
    {
        const string broken = "{\n  \"format\": \"KernelGen.PoolingProfile\",\n  \"version\": 1\n  \"entries\": []\n}\n"; // no comma after 1
        using var project = new UserProject("profile-broken", executable: false, ("Layer.cs", "namespace App; public static class Layer { }"), ("pooling.profile.json", broken));
        project.ImportKernelGenBuildFiles();
        project.WriteProject("""
              <ItemGroup>
                <KernelGenProfile Include="pooling.profile.json" />
              </ItemGroup>
            """);
        var build = await project.BuildAsync(log);
        Assert.True(build.ExitCode == 0, build.Output);
        var warning = Assert.Single(build.Diagnostics);
        Assert.Equal(project.At("pooling.profile.json", "\"entries\": []", "\"entries\"", "warning", "KG0011"), warning.Key);
        Assert.Contains("it is not valid JSON", warning.Message, StringComparison.Ordinal);
    }
}
