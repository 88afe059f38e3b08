using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace KernelGen.Bench;

/// <summary>
/// Entry point. Everything BenchmarkDotNet accepts passes through (--filter, --list flat, ...), plus:
/// <list type="bullet">
/// <item><c>--quick</c>: in-process job with few short iterations, every case in under 3 minutes, for development.</item>
/// <item><c>--report</c>: no measuring; rewrite docs/benchmarks.md and docs/benchmarks.png from the run they show
/// (docs/benchmarks.json), after an edit to bench/notes.md or to the report code.</item>
/// <item><c>--report-last</c>: the same from the last run, whatever it measured (a filtered or quick run too).</item>
/// <item><c>--specialization [--quick] [--match TEXT] [--shape NxCxHxW]</c>: the specialized kernels of <see cref="SpecializationKernels"/>
/// against the general engine, every loss listed (<see cref="SpecializationBench"/>); leaves the docs as they are.</item>
/// <item><c>--routes [--quick] [--verbose] [--count N] [--seed S] [--match TEXT] [--shape NxCxHxW]</c>: every engine route whose
/// condition holds or that handles the call, timed on the grid's configurations and several plane sizes; lists where the dispatch table's choice
/// is not the fastest (<see cref="RouteAudit"/>).</item>
/// <item><c>--grid [--quick] [--count N] [--seed S] [--match TEXT] [--shape NxCxHxW]</c>: a seeded sample of configurations through the general
/// engine, ONNX Runtime and a copy, the worst ratios listed (<see cref="GridBench"/>); leaves the docs as they are.</item>
/// </list>
/// A full run that measured every benchmark rewrites the docs itself; a filtered or quick run only saves its results
/// (for --report-last), so that a development run never replaces the published evidence.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var rest = args.ToList();
        bool quick = rest.Remove("--quick");
        if (rest.Remove("--specialization"))
        {
            if (!SpecializationBench.TieringOff) return SpecializationBench.RunWithoutTiering(args);
            string? Option(string name) => rest.IndexOf(name) is int at and >= 0 && at + 1 < rest.Count ? rest[at + 1] : null;
            return SpecializationBench.Run(quick, Option("--match"), Option("--shape"));
        }
        if (rest.Remove("--grid"))
        {
            if (!SpecializationBench.TieringOff) return SpecializationBench.RunWithoutTiering(args);
            string? Option(string name) => rest.IndexOf(name) is int at and >= 0 && at + 1 < rest.Count ? rest[at + 1] : null;
            return GridBench.Run(quick, Option("--match"), Option("--count") is string count ? int.Parse(count, System.Globalization.CultureInfo.InvariantCulture) : null,
                Option("--seed") is string seed ? int.Parse(seed, System.Globalization.CultureInfo.InvariantCulture) : 19, Option("--shape"));
        }
        if (rest.Remove("--routes"))
        {
            if (!SpecializationBench.TieringOff) return SpecializationBench.RunWithoutTiering(args);
            string? Option(string name) => rest.IndexOf(name) is int at and >= 0 && at + 1 < rest.Count ? rest[at + 1] : null;
            return RouteAudit.Run(quick, rest.Remove("--verbose"), Option("--match"), Option("--count") is string count ? int.Parse(count, System.Globalization.CultureInfo.InvariantCulture) : null,
                Option("--seed") is string seed ? int.Parse(seed, System.Globalization.CultureInfo.InvariantCulture) : 19, Option("--shape"));
        }
        bool reportLast = rest.Remove("--report-last");
        bool reportOnly = rest.Remove("--report") || reportLast;
        string root = Report.RepositoryRoot();

        if (reportOnly)
        {
            string source = reportLast ? RunResults.LastRunPath(root) : RunResults.PagePath(root);
            var saved = RunResults.Load(source);
            if (saved == null)
            {
                Console.Error.WriteLine($"No saved run at {source}; run the benchmarks first.");
                return 1;
            }
            Report.Write(root, saved);
            return 0;
        }

        // Without a filter BenchmarkDotNet asks interactively which benchmarks to run; the default here is all of them.
        bool filtered = rest.Contains("--filter") || rest.Contains("-f");
        if (!filtered) rest.AddRange(["--filter", "*"]);
        bool everything = !filtered || IsFilterEverything(rest);

        string loadBefore = RunResults.LoadAverage();
        var config = CreateConfig(quick);
        var summaries = BenchmarkSwitcher.FromTypes([typeof(PoolingBenchmarks), typeof(MonitoringBenchmarks)]).Run([.. rest], config).ToList();
        var summary = summaries.FirstOrDefault(s => s.Reports.Length > 0);
        if (summary == null) return 1;
        if (summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success))
        {
            Console.Error.WriteLine("Some benchmarks failed (see the log above); the docs are not rewritten.");
            return 1;
        }

        string mode = quick ? "quick" : "full";
        string command = "dotnet run -c Release --project bench -- " + string.Join(' ', args.Select(a => a.Contains('*') ? $"'{a}'" : a));
        var results = RunResults.FromSummary(summary, mode, command);
        results.LoadBefore = loadBefore;
        results.LoadAfter = RunResults.LoadAverage();
        results.Save(RunResults.LastRunPath(root));
        Console.WriteLine($"Results saved to {RunResults.LastRunPath(root)}.");
        if (everything && results.IsComplete && !quick)
            Report.Write(root, results);
        else if (quick)
            Console.WriteLine("A quick run leaves docs/benchmarks.md as it is (the page shows a full run); `--report-last` writes it from this run anyway.");
        else
            Console.WriteLine("Not every benchmark ran, so docs/benchmarks.md is left as it is; `--report-last` writes it from this run anyway.");
        return 0;
    }

    private static bool IsFilterEverything(List<string> args)
    {
        int i = Math.Max(args.IndexOf("--filter"), args.IndexOf("-f"));
        return i >= 0 && i + 1 < args.Count && args[i + 1] == "*" && (i + 2 >= args.Count || args[i + 2].StartsWith('-'));
    }

    /// <summary>
    /// Full: out-of-process (BenchmarkDotNet's default toolchain), 2 launches, each 6 warm-ups and 10 iterations of 250 ms:
    /// the same kernel measured up to 25% apart in two processes of one run, and two launches average that out.
    /// Quick: in-process, 1 warm-up, 3 iterations of 40 ms. Both: MemoryDiagnoser, only the combinations that exist,
    /// dynamic PGO off (the quick job through the bench's runtimeconfig, the full job's children through the environment).
    /// </summary>
    public static IConfig CreateConfig(bool quick)
    {
        var job = quick
            ? Job.Default.WithId("Quick").WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3).WithIterationTime(TimeInterval.FromMilliseconds(40))
            : Job.Default.WithId("Full")
                .WithLaunchCount(2).WithWarmupCount(6).WithIterationCount(10).WithIterationTime(TimeInterval.FromMilliseconds(250))
                .WithEnvironmentVariables(new EnvironmentVariable("DOTNET_TieredPGO", "0"));
        return DefaultConfig.Instance
            .AddJob(job.AsDefault())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddFilter(new SimpleFilter(b => PoolingBenchmarks.Applies(b.Descriptor.WorkloadMethod.Name, (string)b.Parameters["Case"])))
            .WithOptions(ConfigOptions.JoinSummary);
    }
}
