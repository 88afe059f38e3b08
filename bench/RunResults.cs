using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;

namespace KernelGen.Bench;

/// <summary>One measured benchmark: mean time per call and bytes allocated per call.</summary>
public sealed record Measurement(string Case, string Layout, string Method, double MeanNs, double StdDevNs, long AllocatedBytes);

/// <summary>
/// A run's results. Every run saves them to BenchmarkDotNet.Artifacts/kernelgen/last-run.json (not committed); the run a
/// page shows is also docs/benchmarks.json, committed with the page, so that <c>--report</c> can rewrite the page (after
/// an edit to bench/notes.md or to the report code) from the same measurements without measuring again.
/// </summary>
public sealed class RunResults
{
    public string Mode { get; set; } = "";
    public string Command { get; set; } = "";
    public DateTime TimestampUtc { get; set; }
    /// <summary>/proc/loadavg (1, 5, 15 minutes) before and after the run: above about 1 on this 2-core machine, something else was running.</summary>
    public string LoadBefore { get; set; } = "";
    public string LoadAfter { get; set; } = "";
    /// <summary>BenchmarkDotNet's GitHub-markdown summary (environment block and table).</summary>
    public string Table { get; set; } = "";
    public List<Measurement> Measurements { get; set; } = [];

    /// <summary>Whether every case, layout and applicable method has a measurement.</summary>
    public bool IsComplete => BenchCase.All.All(c => Methods.All(m =>
        !PoolingBenchmarks.Applies(m, c.Name) || Layouts.All(l => Find(c.Name, l, m) != null)));

    public static readonly string[] Layouts = [PoolingBenchmarks.Nchw, PoolingBenchmarks.Nhwc];

    public static readonly string[] Methods =
    [
        nameof(PoolingBenchmarks.OnnxRuntime), nameof(PoolingBenchmarks.Specialized), nameof(PoolingBenchmarks.PoolKernel),
        nameof(PoolingBenchmarks.General), nameof(PoolingBenchmarks.Naive), nameof(PoolingBenchmarks.Roofline),
        nameof(PoolingBenchmarks.SpecializedAllCores),
    ];

    public Measurement? Find(string caseName, string layout, string method) =>
        Measurements.FirstOrDefault(m => m.Case == caseName && m.Layout == layout && m.Method == method);

    public static RunResults FromSummary(Summary summary, string mode, string command)
    {
        var logger = new AccumulationLogger();
        MarkdownExporter.GitHub.ExportToLog(summary, logger);
        var results = new RunResults { Mode = mode, Command = command, TimestampUtc = DateTime.UtcNow, Table = logger.GetLog() };
        foreach (var report in summary.Reports)
        {
            if (report.ResultStatistics is not { } stats) continue;
            var b = report.BenchmarkCase;
            results.Measurements.Add(new Measurement(
                (string)b.Parameters["Case"], (string)b.Parameters["Layout"], b.Descriptor.WorkloadMethod.Name,
                stats.Mean, stats.StandardDeviation, report.GcStats.GetBytesAllocatedPerOperation(b) ?? -1));
        }
        return results;
    }

    /// <summary>The first three fields of /proc/loadavg, or "unknown".</summary>
    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }

    /// <summary>The last run's results, whatever it measured.</summary>
    public static string LastRunPath(string root) => Path.Combine(root, "BenchmarkDotNet.Artifacts", "kernelgen", "last-run.json");

    /// <summary>The results docs/benchmarks.md shows.</summary>
    public static string PagePath(string root) => Path.Combine(root, "docs", "benchmarks.json");

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static RunResults? Load(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<RunResults>(File.ReadAllText(path)) : null;
}
