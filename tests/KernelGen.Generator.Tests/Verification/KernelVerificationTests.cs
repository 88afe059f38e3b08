using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using System.Text;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Generator.Tests.Verification;

/// <summary>
/// Issue 17's verification: configurations drawn from everything [PoolKernel] accepts (see <see cref="VerificationSet"/>),
/// compiled in one in-memory compilation, each run on a sweep of shapes and compared bit for bit with the general
/// engine, which is checked against the scalar reference. Inputs sit against inaccessible pages, so an out-of-bounds
/// read faults; the kernels run in a child process so a fault fails this test and names its case rather than killing
/// the test host. Every failure is reported, grouped by the emitter that generated the kernel.
/// </summary>
[Trait("Category", "Kernel")]
public class KernelVerificationTests(ITestOutputHelper log)
{
    /// <summary>If set, the report is also written to this file.</summary>
    public const string ReportVariable = "KERNELGEN_VERIFY_REPORT";

    private const int MaxChildRuns = 60;

    [Fact]
    public void EveryEmitterFamilySweepsEveryWidthAroundEveryVectorWidth()
    {
        var cases = VerificationSet.Create(VerificationSettings.Ci);
        var missing = new List<string>();
        foreach (var group in cases.GroupBy(c => (c.Family, c.Configuration.IsDouble)))
        {
            int v = VerificationSet.Lanes512(group.First().Configuration);
            var widths = group.SelectMany(c => c.Shapes).Select(s => s.Width).ToHashSet();
            var absent = Enumerable.Range(1, 3 * v + 1).Where(w => !widths.Contains(w)).ToList();
            if (absent.Count > 0) missing.Add($"{group.Key.Family} {(group.Key.IsDouble ? "double" : "float")}: widths {string.Join(", ", absent)}");
        }
        Assert.True(missing.Count == 0, "Widths no configuration of the family runs:\n" + string.Join("\n", missing));
        foreach (string family in new[] { "GeneralEngineEmitter", "ChannelsFirstEmitter", "SeparableMaxEmitter", "ChannelsLastEmitter", "SeparableMaxChannelsLastEmitter", "SlidingAverageChannelsLastEmitter" })
            Assert.True(cases.Count(c => c.Family == family) >= 8, $"too few {family} configurations");
        Assert.Contains(cases, c => c.Configuration.DivisorOverride < 0);
        Assert.Contains(cases, c => c.Configuration.Dilation > 1 && c.Configuration.ChannelsLast && c.Family != "GeneralEngineEmitter");
        Assert.Contains(cases, c => c.Configuration.KernelHeight * c.Configuration.KernelWidth > 49);
        // Border-heavy: padding at PyTorch's limit with stride 1 on a wide row, more border outputs than a 512-bit vector.
        Assert.Contains(cases, c => c.Configuration.KernelWidth >= 17 && c.Configuration.PadWidth == c.Configuration.KernelWidth / 2 && c.Configuration.StrideWidth == 1);
    }

    [Fact]
    public void GeneratedKernelsMatchTheEngineAndTheReferenceOnEveryShape()
    {
        var settings = VerificationSettings.FromEnvironment();
        var cases = VerificationSet.Create(settings);
        var clock = Stopwatch.StartNew();
        var (image, broken, cached) = Compile(cases);
        var compileTime = clock.Elapsed;

        clock.Restart();
        var outcome = RunChildren(cases, settings, image, string.Join(",", broken.Keys));
        var runTime = clock.Elapsed;

        string isa = Vector512.IsHardwareAccelerated ? "512-bit" : Vector256.IsHardwareAccelerated ? "256-bit" : Vector128.IsHardwareAccelerated ? "128-bit" : "scalar";
        string summary = $"{cases.Count} configurations (seed {settings.Seed}, {(settings.EveryWidth ? "every width" : "sampled widths")}), " +
            $"{outcome.Shapes} configuration x shape pairs, {outcome.Runs} kernel runs, widest vectors {isa}, guard pages {(GuardedMemory.Guarded ? "on" : "off")}; " +
            $"{(cached ? "compiled kernels reused" : "compiled")} in {compileTime.TotalSeconds:F0} s, ran in {runTime.TotalSeconds:F0} s ({outcome.ChildRuns} child process(es))";
        log.WriteLine(summary);

        var problems = outcome.Problems;
        foreach (var pair in broken) problems.Add(new Problem(pair.Key, cases[pair.Key].Family, "DOES NOT COMPILE", pair.Value));
        string report = Report(cases, problems, summary);
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } path) File.WriteAllText(path, report);
        Assert.True(problems.Count == 0, report);
    }

    /// <summary>
    /// The cases compiled into one assembly in a file, with the indices that do not compile and why. The file is kept in
    /// the temporary directory under a hash of the source and the generator and runtime builds, so the runs under the
    /// other instruction-set settings (the generated code is the same) load it rather than compile again.
    /// </summary>
    private static (string Image, Dictionary<int, string> Broken, bool Cached) Compile(IReadOnlyList<VerificationCase> cases)
    {
        var configurations = cases.Select(c => c.Configuration).ToList();
        string identity = RandomConfigurations.Source(configurations) + string.Join(",",
            new[] { typeof(PoolKernelGenerator), typeof(PoolDescriptor), typeof(PoolKernelAttribute) }
                .Select(t => t.Assembly.ManifestModule.ModuleVersionId));
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..20];
        string directory = Path.Combine(Path.GetTempPath(), "kernelgen-verify-cache");
        string image = Path.Combine(directory, key + ".dll"), brokenFile = Path.Combine(directory, key + ".broken.tsv");
        if (File.Exists(image) && File.Exists(brokenFile))
            return (image, ReadBroken(brokenFile), true);

        var compiled = CompiledKernels.Build(configurations, "KernelGen.VerifiedKernels");
        var broken = configurations.Where(c => !compiled.Compiles(c)).ToDictionary(c => c.Index, c => compiled.Broken[c.ToString()]);
        Directory.CreateDirectory(directory);
        // Builds from earlier days are of no more use: each generator or runtime change makes a new entry.
        foreach (var stale in new DirectoryInfo(directory).GetFiles().Where(f => f.LastWriteTimeUtc < DateTime.UtcNow.AddDays(-1)))
            stale.Delete();
        // Written under temporary names and moved, so a run that stops halfway never leaves a file that looks complete.
        File.WriteAllBytes(image + ".part", compiled.Image);
        File.WriteAllLines(brokenFile + ".part", broken.Select(pair => $"{pair.Key}\t{pair.Value.ReplaceLineEndings(" ")}"));
        File.Move(image + ".part", image, overwrite: true);
        File.Move(brokenFile + ".part", brokenFile, overwrite: true);
        return (image, broken, false);
    }

    private static Dictionary<int, string> ReadBroken(string path) => File.ReadAllLines(path)
        .Select(line => line.Split('\t', 2))
        .ToDictionary(fields => int.Parse(fields[0], CultureInfo.InvariantCulture), fields => fields[1]);

    private sealed record Problem(int Index, string Family, string Kind, string Detail);

    private sealed record Outcome(List<Problem> Problems, long Shapes, long Runs, int ChildRuns);

    /// <summary>Runs the cases in child processes; after a fault, a new child goes on with the next configuration.</summary>
    private Outcome RunChildren(IReadOnlyList<VerificationCase> cases, VerificationSettings settings, string image, string broken)
    {
        var problems = new List<Problem>();
        long shapes = 0, runs = 0;
        int from = 0, children = 0;
        while (from < cases.Count && children < MaxChildRuns)
        {
            children++;
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[] { "exec", typeof(VerifierProgram).Assembly.Location, VerifierProgram.VerifyArgument, image, from.ToString(CultureInfo.InvariantCulture), broken }.Concat(settings.ToArguments()))
                start.ArgumentList.Add(argument);
            using var child = Process.Start(start)!;
            var error = new StringBuilder();
            child.ErrorDataReceived += (_, e) => { if (e.Data is not null && error.Length < 4000) lock (error) error.AppendLine(e.Data); };
            child.BeginErrorReadLine();
            string? lastRun = null;
            bool done = false;
            while (child.StandardOutput.ReadLine() is { } line)
            {
                var fields = line.Split('\t');
                switch (fields[0])
                {
                    case KernelVerifier.Shape: shapes++; break;
                    case KernelVerifier.Run: lastRun = line; runs++; break;
                    case KernelVerifier.Fail: problems.Add(ProblemAt(cases, fields, "WRONG OUTPUT")); break;
                    case KernelVerifier.EngineFail: problems.Add(ProblemAt(cases, fields, "ENGINE DIFFERS FROM REFERENCE")); break;
                    case KernelVerifier.Done: done = true; break;
                }
            }
            child.WaitForExit();
            if (done && child.ExitCode == 0) break;
            if (lastRun is null)
            {
                problems.Add(new Problem(-1, "(verifier)", "CHILD FAILED", $"exit code {child.ExitCode} before any kernel ran: {error}"));
                break;
            }
            var fault = lastRun.Split('\t');
            string firstError = string.Join(" ", error.ToString().Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Take(2));
            problems.Add(ProblemAt(cases, [fault[0], fault[1], $"{fault[2]}: the process died (exit code {child.ExitCode}; {firstError})"], "CRASH (out-of-bounds access)"));
            // The next child resumes after the faulting configuration.
            from = int.Parse(fault[1], CultureInfo.InvariantCulture) + 1;
        }
        return new Outcome(problems, shapes, runs, children);
    }

    private static Problem ProblemAt(IReadOnlyList<VerificationCase> cases, string[] fields, string kind)
    {
        int index = int.Parse(fields[1], CultureInfo.InvariantCulture);
        return new Problem(index, cases[index].Family, kind, fields[2]);
    }

    /// <summary>One block per emitter family, each failing configuration on one line with its first mismatch.</summary>
    private static string Report(IReadOnlyList<VerificationCase> cases, List<Problem> problems, string summary)
    {
        var text = new StringBuilder();
        text.AppendLine($"{problems.Count} failing configuration(s) of {summary}.");
        foreach (var family in problems.GroupBy(p => p.Family).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.AppendLine();
            text.AppendLine($"== {family.Key}: {family.Count()}");
            foreach (var p in family.OrderBy(p => p.Kind, StringComparer.Ordinal).ThenBy(p => p.Index))
            {
                string configuration = p.Index < 0 ? "" : $"{cases[p.Index].Configuration.Attribute} {(cases[p.Index].Configuration.IsDouble ? "double" : "float")} ({cases[p.Index].Configuration.KernelName}): ";
                text.AppendLine($"{p.Kind}: {configuration}{p.Detail}");
            }
        }
        return text.ToString();
    }
}
