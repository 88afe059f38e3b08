using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using ScottPlot;

namespace KernelGen.Bench;

/// <summary>
/// Writes docs/benchmarks.md and docs/benchmarks.png from a run's results. The tables and the chart come from the run;
/// the notes after them (what is measured, why targets are missed, how to run) are bench/notes.md, appended as they are.
/// </summary>
public static class Report
{
    private const string Spec = nameof(PoolingBenchmarks.Specialized), Attr = nameof(PoolingBenchmarks.PoolKernel),
        General = nameof(PoolingBenchmarks.General), Naive = nameof(PoolingBenchmarks.Naive), Ort = nameof(PoolingBenchmarks.OnnxRuntime),
        Roof = nameof(PoolingBenchmarks.Roofline), AllCores = nameof(PoolingBenchmarks.SpecializedAllCores);

    private static readonly string[] LargeCases = ["resnet50.stem", "vgg16.pool1", "batch32"];

    /// <summary>The folder holding KernelGen.sln, searched upwards from the working directory and then from the binary.</summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "KernelGen.sln")))
                    return dir.FullName;
        throw new InvalidOperationException("KernelGen.sln not found above the working directory or the binary.");
    }

    public static void Write(string root, RunResults run)
    {
        string docs = Path.Combine(root, "docs");
        Directory.CreateDirectory(docs);
        File.WriteAllText(Path.Combine(docs, "benchmarks.md"), Markdown(run, File.ReadAllText(NotesPath(root))));
        Chart(run, Path.Combine(docs, "benchmarks.png"));
        run.Save(RunResults.PagePath(root));
        Console.WriteLine($"Wrote {Path.Combine(docs, "benchmarks.md")}, benchmarks.png and benchmarks.json (the run they show).");
    }

    /// <summary>The hand-written notes the page ends with: prose about the measurements, kept apart from the code that makes the tables.</summary>
    public static string NotesPath(string root) => Path.Combine(root, "bench", "notes.md");

    private static double? Mean(RunResults run, string c, string layout, string method) => run.Find(c, layout, method)?.MeanNs;

    private static string F(double? value, string format = "0.00") =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Us(double? ns) => ns is { } v ? F(v / 1000, v < 10_000 ? "0.00" : v < 100_000 ? "0.0" : "0") : "–";

    private static double? Div(double? a, double? b) => a is { } x && b is { } y && y != 0 ? x / y : null;

    public static string Markdown(RunResults run, string notes)
    {
        var md = new StringBuilder();
        string when = run.TimestampUtc.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine(run.Mode == "quick"
            ? $"> **Quick run** ({when}): an in-process job with 3 iterations of 40 ms per benchmark, for development. Its numbers are indicative only (expect a few percent of noise, more on the small cases); the full run is the evidence."
            : $"> **Full run** ({when}): out-of-process, 2 launches per benchmark, each 6 warm-ups and 10 iterations of 250 ms.");
        md.AppendLine();
        md.AppendLine($"Measured with: `{run.Command}`");
        md.AppendLine();
        md.AppendLine($"Load average (1, 5, 15 min) before the run: {run.LoadBefore}; after: {run.LoadAfter}." +
            (Busy(run.LoadBefore) || Busy(run.LoadAfter)
                ? " **The machine was not quiet** (on 2 cores anything above about 1 means other processes competed with the benchmarks): treat the numbers with suspicion, ratios within a group less so than absolute times."
                : ""));
        md.AppendLine();
        md.AppendLine("The tables and the chart were written by the bench from that run (`bench/Report.cs`); the notes after them are `bench/notes.md`, appended as they are. Nothing on this page is edited by hand.");
        md.AppendLine();

        // ---- Targets --------------------------------------------------------------------------------------------
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| target | measured | met |");
        md.AppendLine("| --- | --- | --- |");
        var specVsOrt = Pairs(run, (c, l) => Div(Mean(run, c, l, Ort), Mean(run, c, l, Spec)));
        var generalVsOrt = Pairs(run, (c, l) => Div(Mean(run, c, l, Ort), Mean(run, c, l, General)));
        var vsRoof = Pairs(run, (c, l) => LargeCases.Contains(c) ? Div(Mean(run, c, l, Spec), Mean(run, c, l, Roof)) : null);
        var cores = Pairs(run, (c, l) => c == BenchCase.AllCoresCase ? Div(Mean(run, c, l, Spec), Mean(run, c, l, AllCores)) : null);
        Target(md, "KernelGen specialized ≥ 3.0x faster than ONNX Runtime on every case", specVsOrt, v => v >= 3.0, "x", lowestIsWorst: true);
        Target(md, "specialized within 1.25x of the roofline on the ≥ 4 MB cases (resnet50.stem, vgg16.pool1, batch32)", vsRoof, v => v <= 1.25, "x roofline time", lowestIsWorst: false);
        Target(md, "general engine ≥ 1.5x faster than ONNX Runtime", generalVsOrt, v => v >= 1.5, "x", lowestIsWorst: true);
        Target(md, "batch32 on all cores ≥ 1.8x faster than on one", cores, v => v >= 1.8, "x", lowestIsWorst: true);
        AllocationTarget(md, run);
        md.AppendLine();
        md.AppendLine("Speed-ups are ONNX Runtime's time divided by KernelGen's, per (case, layout); in the NHWC rows ONNX Runtime runs the same data in NCHW (see the notes).");
        md.AppendLine();

        // ---- Per case -------------------------------------------------------------------------------------------
        md.AppendLine("## Per case");
        md.AppendLine();
        md.AppendLine("Times are means per call in µs. *MB moved* is the input read once plus the output written once; *GB/s* is that divided by the time; */ roofline* is KernelGen specialized's time over the copy roofline's (1.00 = as fast as copying the same bytes); *x ORT* is ONNX Runtime's time over the method's.");
        md.AppendLine();
        md.AppendLine("| case | operation | layout | MB moved | ONNX Runtime | specialized | x ORT | GB/s | / roofline | [PoolKernel] | general | x ORT | naive | roofline (copy) | roofline GB/s |");
        md.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in BenchCase.All)
            foreach (var l in RunResults.Layouts)
            {
                double bytes = c.BytesMoved;
                double? ort = Mean(run, c.Name, l, Ort), spec = Mean(run, c.Name, l, Spec), roof = Mean(run, c.Name, l, Roof),
                    general = Mean(run, c.Name, l, General);
                md.AppendLine($"| {c.Name} {Shape(c.Shape)} | {c.Description} | {l} | {F(bytes / 1e6, "0.00")} | {Us(ort)} | {Us(spec)} | {F(Div(ort, spec))} | " +
                    $"{F(Div(bytes, spec))} | {F(Div(spec, roof))} | {Us(Mean(run, c.Name, l, Attr))} | {Us(general)} | {F(Div(ort, general))} | " +
                    $"{Us(Mean(run, c.Name, l, Naive))} | {Us(roof)} | {F(Div(bytes, roof))} |");
                if (c.Name == BenchCase.AllCoresCase)
                {
                    double? all = Mean(run, c.Name, l, AllCores);
                    md.AppendLine($"| {c.Name} {Shape(c.Shape)}, all cores | {c.Description} | {l} | {F(bytes / 1e6, "0.00")} | {Us(ort)} (1 thread) | {Us(all)} | {F(Div(ort, all))} | " +
                        $"{F(Div(bytes, all))} | {F(Div(all, roof))} | | | | | {Us(roof)} (1 thread) | |");
                }
            }
        md.AppendLine();
        md.AppendLine("![Speed relative to ONNX Runtime per case](benchmarks.png)");
        md.AppendLine();
        md.AppendLine("The chart: per case and layout, speed relative to ONNX Runtime (ORT's time / the method's time, so ORT = 1 and higher is faster). The roofline bar is how fast a plain copy of the same bytes is; a KernelGen bar level with it means the kernel runs at copy speed.");
        md.AppendLine();

        // ---- BenchmarkDotNet ------------------------------------------------------------------------------------
        md.AppendLine("## BenchmarkDotNet summary");
        md.AppendLine();
        md.AppendLine("As BenchmarkDotNet printed it: machine, runtime and job first, then every benchmark. *Ratio* is relative to ONNX Runtime in the same (case, layout) group, measured in this run; *Allocated* is managed bytes per call (MemoryDiagnoser).");
        md.AppendLine();
        md.AppendLine(run.Table.Trim());
        md.AppendLine();
        md.Append(notes.TrimEnd()).AppendLine();
        return md.ToString();
    }

    private static bool Busy(string load) =>
        load.Split(' ').Length > 0 && double.TryParse(load.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double l) && l > 1.2;

    private static string Shape(PoolShape s) => $"{s.Batch}x{s.Channels}x{s.Height}x{s.Width}";

    private static List<(string Case, string Layout, double Value)> Pairs(RunResults run, Func<string, string, double?> value) =>
        (from c in BenchCase.All
         from l in RunResults.Layouts
         let v = value(c.Name, l)
         where v.HasValue
         select (c.Name, l, v!.Value)).ToList();

    private static void Target(StringBuilder md, string target, List<(string Case, string Layout, double Value)> values,
        Func<double, bool> met, string unit, bool lowestIsWorst)
    {
        if (values.Count == 0)
        {
            md.AppendLine($"| {target} | not measured | – |");
            return;
        }
        var missed = values.Where(v => !met(v.Value)).ToList();
        var worst = lowestIsWorst ? values.MinBy(v => v.Value) : values.MaxBy(v => v.Value);
        string text = $"worst {worst.Case} {worst.Layout}: {F(worst.Value)}{unit}";
        if (missed.Count > 0)
            text += $"; missed in {missed.Count} of {values.Count}: " + string.Join(", ", missed.Select(m => $"{m.Case} {m.Layout} {F(m.Value)}"));
        else
            text += $" (all {values.Count} met)";
        md.AppendLine($"| {target} | {text} | {(missed.Count == 0 ? "yes" : "**no**")} |");
    }

    /// <summary>
    /// The zero-allocation target, judged only by a full run: in process (the quick job), BenchmarkDotNet's count also
    /// takes in what the host allocates during an iteration (the measurements are in bench/notes.md, under the quick
    /// job), so a quick run lists its counts but does not call the target met or missed.
    /// </summary>
    private static void AllocationTarget(StringBuilder md, RunResults run)
    {
        const string target = "zero bytes allocated per call, specialized and general paths (single-threaded)";
        var allocations = run.Measurements.Where(m => m.Method is Spec or General).ToList();
        var allocating = allocations.Where(m => m.AllocatedBytes != 0).ToList();
        string counts = allocating.Count == 0
            ? $"0 B in all {allocations.Count}"
            : $"{allocating.Count} of {allocations.Count} rows above 0 B, at most {allocating.Max(m => m.AllocatedBytes)} B";
        if (run.Mode == "quick")
        {
            md.AppendLine($"| {target} | not judged by a quick run ({counts}): in process, the count includes what the benchmark host allocates during an iteration (see the quick job under Running the benchmarks); the full run measures out of process, and `AllocationTests` checks the paths directly | – |");
            return;
        }
        string detail = allocating.Count == 0
            ? counts
            : string.Join("; ", allocating.Select(m => $"{m.Case} {m.Layout} {m.Method}: {m.AllocatedBytes} B"));
        md.AppendLine($"| {target} | {detail} | {(allocating.Count == 0 && allocations.Count > 0 ? "yes" : "**no**")} |");
    }

    /// <summary>Grouped bars: per (case, layout), speed relative to ONNX Runtime of specialized, general, ORT and the roofline.</summary>
    public static void Chart(RunResults run, string path)
    {
        var series = new (string Method, string Label, Color Color)[]
        {
            (Spec, "KernelGen specialized (1 thread)", Colors.DarkOrange),
            (General, "KernelGen general (1 thread)", Colors.SteelBlue),
            (Ort, "ONNX Runtime (1 thread, NCHW)", Colors.Gray),
            (Roof, "roofline: copy of the same bytes", Colors.SeaGreen),
            (AllCores, "KernelGen specialized, all cores", Colors.FireBrick),
        };
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<(double, string)>();
        double x = 0;
        foreach (var c in BenchCase.All)
            foreach (var l in RunResults.Layouts)
            {
                double? ort = Mean(run, c.Name, l, Ort);
                if (ort == null) continue;
                double start = x;
                foreach (var (method, _, color) in series)
                {
                    if (Div(ort, Mean(run, c.Name, l, method)) is not { } speed) continue;
                    bars.Add(new Bar { Position = x, Value = speed, FillColor = color, LineWidth = 0, Size = 0.9 });
                    x += 1;
                }
                ticks.Add(((start + x - 1) / 2, $"{c.Name} {l}"));
                x += 1.2;
            }
        plot.Add.Bars(bars);
        plot.Add.HorizontalLine(1, 1, Colors.Black, LinePattern.Dashed);
        plot.Add.HorizontalLine(3, 1, Colors.DarkOrange, LinePattern.Dotted);
        plot.Axes.Bottom.SetTicks(ticks.Select(t => t.Item1).ToArray(), ticks.Select(t => t.Item2).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0, left: 0.01, right: 0.01);
        plot.YLabel("speed relative to ONNX Runtime (higher is faster)");
        plot.Title(run.Mode == "quick"
            ? "KernelGen pooling vs ONNX Runtime (QUICK RUN: indicative only)"
            : "KernelGen pooling vs ONNX Runtime");
        foreach (var (_, label, color) in series)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = label, FillColor = color });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "target: 3x ONNX Runtime", LineColor = Colors.DarkOrange, LinePattern = LinePattern.Dotted, LineWidth = 1 });
        plot.ShowLegend(Alignment.UpperLeft); // the left cases are the slowest, so their bars stay clear of it
        plot.Layout.Fixed(new PixelPadding(80, 20, 190, 40));
        plot.SavePng(path, 1800, 800);
    }
}
