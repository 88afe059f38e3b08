using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using ScottPlot;

namespace KernelGen.Bench;

/// <summary>Writes docs/benchmarks.md and docs/benchmarks.png from a run's results.</summary>
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
        File.WriteAllText(Path.Combine(docs, "benchmarks.md"), Markdown(run));
        Chart(run, Path.Combine(docs, "benchmarks.png"));
        Console.WriteLine($"Wrote {Path.Combine(docs, "benchmarks.md")} and benchmarks.png.");
    }

    private static double? Mean(RunResults run, string c, string layout, string method) => run.Find(c, layout, method)?.MeanNs;

    private static string F(double? value, string format = "0.00") =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Us(double? ns) => ns is { } v ? F(v / 1000, v < 10_000 ? "0.00" : v < 100_000 ? "0.0" : "0") : "–";

    private static double? Div(double? a, double? b) => a is { } x && b is { } y && y != 0 ? x / y : null;

    public static string Markdown(RunResults run)
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
        md.AppendLine("Everything on this page was written by the bench itself from that run (`bench/Report.cs`); nothing is edited by hand.");
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
        var allocations = run.Measurements.Where(m => m.Method is Spec or General).ToList();
        var allocating = allocations.Where(m => m.AllocatedBytes != 0).ToList();
        md.AppendLine($"| zero bytes allocated per call, specialized and general paths (single-threaded) | " +
            (allocating.Count == 0 ? $"0 B in all {allocations.Count}" : string.Join("; ", allocating.Select(m => $"{m.Case} {m.Layout} {m.Method}: {m.AllocatedBytes} B"))) +
            $" | {(allocating.Count == 0 && allocations.Count > 0 ? "yes" : "**no**")} |");
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
        md.Append(Notes);
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

    private const string Notes = """
        ## What is measured, and the choices made

        Cases are NCHW float32 pooling layers of well-known networks at their real sizes, each also in channels-last
        (NHWC). Inputs are standard normal random numbers (no NaN), the same logical tensor in both layouts.

        | method | what it runs |
        | --- | --- |
        | ONNX Runtime | ONNX Runtime 1.31 (`Microsoft.ML.OnnxRuntime` 1.31.1), a one-node model (MaxPool / AveragePool / GlobalAveragePool, opset 19) run through `tests/KernelGen.Testing`'s `OnnxPoolRunner`: input and output `OrtValue`s preallocated over the bench's aligned buffers, so only `InferenceSession.Run` is timed. Session options as a user gets them by default except for the threads: `GraphOptimizationLevel.ORT_ENABLE_ALL` (ORT's default; for channel counts that are multiples of 8 ORT may pick its channel-blocked NCHWc pooling), `IntraOpNumThreads = 1`, `InterOpNumThreads = 1`, sequential execution. The baseline of every (case, layout) group. |
        | KernelGen specialized | `Pooling.Run(descriptor, input, output, shape, maxDegreeOfParallelism: 1)`, the runtime entry point, which finds the registered specialized kernel. resnet50.head has no window kernel: its row is `Pooling.GlobalAverage(..., maxDegreeOfParallelism: 1)`. |
        | KernelGen [PoolKernel] | The `[PoolKernel]` method declared in `bench/Kernels.cs` called directly (no registry look-up, no argument checks by `Pooling`). None for resnet50.head. |
        | KernelGen general | `Pooling.RunGeneral(..., maxDegreeOfParallelism: 1)`: the general engine, bypassing specialized kernels. For resnet50.head, the general engine with a 7x7 average window over the 7x7 plane, which it runs as a whole-plane window (global average pooling up to rounding: a window sums cell by cell, global pooling in stripes). |
        | naive loops | `bench/Naive.cs`: the textbook nested loops, one output at a time with a bounds test per window cell. |
        | roofline (copy) | `Span<float>.CopyTo` of half as many bytes as the operation moves, so that the copy reads and writes in total as many bytes as the operation must (its input read once plus its output written once), from the input buffer into a separate buffer. A kernel near 1.00x the roofline is running at memory (or cache) copy speed. |
        | KernelGen specialized, all cores | batch32 only: `Pooling.Run` with `maxDegreeOfParallelism: -1` (both cores here). Allocates: `Parallel.For` and its closure. |

        **Aligned tensors.** Every tensor, ORT's included, is native memory starting on a 64-byte boundary
        (`tests/KernelGen.Testing/AlignedBuffer.cs`), as ONNX Runtime, PyTorch and oneDNN allocate theirs. Until
        2026-11-26 the bench used managed arrays, which start wherever the GC puts them (a 25 MB array at the same
        offset, 8 bytes short of a cache line, every time): every method then ran at one arbitrary alignment, and the
        same kernel measured 56 µs aligned against 62-66 µs unaligned (resnet50.stem NCHW), 218 against 280-357 µs
        (vgg16.pool1 NCHW).

        **ONNX Runtime and channels-last.** ONNX Runtime's pooling is NCHW-only. In the NHWC groups its row is ORT
        on the same data in NCHW, i.e. ORT at its best, without the two transposes a user holding NHWC data would need;
        the NHWC ratios compare KernelGen's NHWC kernels with that.

        **Warm-up and dynamic PGO.** Every benchmark's setup calls its method for at least 400 ms (and 100 calls, or
        1.5 s) before BenchmarkDotNet's own stages, so that the tiered JIT has promoted it; the bench runs with dynamic
        PGO off (`TieredPGO=false` in its runtimeconfig for the in-process quick job, `DOTNET_TieredPGO=0` for the
        full job's processes). With .NET's default (PGO on), a quick run measured `Pooling.Run` on googlenet.pool NCHW
        at about 3,300 µs against 100 µs with PGO off (or with tiered compilation off) and 105-130 µs for the
        `[PoolKernel]` method called directly: the kernels reached through the registry stayed in a slow tier longer
        than the warm-ups lasted. The numbers here are the steady state; what an application sees in its first few
        hundred calls is not measured. Since that measurement the generated kernels' plane loops and the general
        engine's entry points are marked `[MethodImpl(MethodImplOptions.AggressiveOptimization)]`, which compiles
        them optimized on first use instead of through the instrumented tier. One tiered method was left: the
        generated channels-first kernels' per-plane dispatcher. Its final code with PGO off (as here) ran
        vgg16.pool4 NCHW in 29.5 us and inception in 92 us, against 24.8 and 75 us with PGO on (stopwatch minimums,
        `DOTNET_TieredPGO=0` against the default). Each narrow-row method now loops over the planes itself and the
        dispatcher is compiled optimized at once: 24.2 / 23.7 us and 73.4 / 73.4 us with PGO off / on. The separable
        max kernels' register dispatcher was still tiered: with PGO off its final code ran yolov8.sppf NCHW in 27.1 us
        against 25.0 before tier-up; compiled optimized at once, 24.8-25.4 us.

        ## Where the targets are missed, and why

        Found by profiling (`perf record` with `DOTNET_PerfMapEnabled=1`, `DOTNET_JitDisasm` of the hot methods) and by
        trying fixes side by side in one process (stopwatch minimums; the machine is shared, so only comparisons made
        in one process are quoted):

        - **Specialized channels-first kernels are bound by vector operations, in cache.** On this Zen 4 machine a
          512-bit operation occupies two of the four 256-bit FP pipes, and which two matters: `vmaxps` and `vaddps`
          share theirs, while `vfmadd` and `vfixupimmps` run on the other two. Twelve independent 512-bit operations
          took 3.3-4.0 ns as `vmaxps` alone, `vaddps` alone, `vfmadd` alone or `vmaxps` mixed with `vaddps`, but 2.1-2.7
          ns (2.1-2.2 in three runs of four) as `vmaxps` mixed with `vfmadd` (a chain-per-register microbenchmark, 20
          million rounds). So the max
          kernels' NaN-check sums and their final +0 now run as `x * 1 + y` (`KernelLanes512.Add`, the same bits as
          `x + y`, NaN and signed zeros included), leaving the add pipes to the maxima: yolov8.sppf 36 to 29.3 us,
          googlenet 21.0 to 18.3 us, resnet50.stem unchanged at 52 us (stopwatch minimums). The same change in the
          general engine's flat passes gained nothing (googlenet 36-43 us against 37-41 before) and was not kept.
          - *resnet50.stem, batch32 (max 3x3 s2 p1):* per 16 outputs, 6 loads, 4 vertical and 2 horizontal maxima
            (each `vmaxps` plus a `vfixupimmps` that keeps NaN), 2 permutes, a valign and the +0: about 16 operations.
            The wide-row path now takes `vmaxps` alone and sums the cells of each window's last two rows (together
            they cover every input row) as a NaN check, redoing a plane exactly if the sum is NaN: 54-55 to 52 us
            (stopwatch minimums, three processes each). Sliding phase blocks along the row
            (each input vector reduced over the rows once) took the kernel from 78 to 64-67 us; computing only the blocks the taps need, without the
            look-ahead, was 5% slower. Alignment matters on top: the same kernel on 64-byte-aligned buffers ran in 54-56
            us against 60-66 us at other offsets (vgg16.pool1: 218 against 280-357 us), which is why the bench now
            aligns every method's tensors. The check now folds in running maxima instead of cells: `vmaxps` returns
            its second operand when either is NaN, so the maximum over window rows 0 to r is NaN when row r is, and
            two of them (from row PadTop on, where every window holds an input row, so no padding -inf meets a
            finite cell) go into one `vfmadd` product, NaN if either factor is, where adding the cells took two
            operations: 50.8-51.0 to 48.8-49.7 us (stopwatch, best call, three processes each). What is left is
            mostly memory: a loop that reads the 3.2 MB input and writes the 0.8 MB output a plane at a time, with
            almost nothing computed, took 40.6 us, and the kernel without any NaN check (not exact) 46 us.
          - *inception.pool (average 3x3 s1 p1, count_include_pad false):* PyTorch's summation order means 9
            dependent additions per output, 27 per 35-wide row of three vectors (the third with 3 live lanes), plus
            valigns and 3 divisions: about 25 cycles a row at two operations per cycle, where 28 were measured. Making
            each row's taps once as it enters the window (instead of for each of the three output rows it serves)
            took it from 104 to 78 us. Tried and not kept: additions on the FMA pipes (`x * 1 + s` is exactly `s + x`):
            no change (103.7 against 104 us), and every other addition there, to use all four pipes: no gain either
            (77-95 against 74.5 us), so its 27 chained additions a row are bound by their latency, not by pipes;
            unaligned loads instead of valign: slower (120 us); a multiplication
            instead of the division (not exact): only 8% faster, so the division is not the limit. On this Zen 4,
            `valignd` shares a pipe with the additions and one with the FMAs (8 valigns with 4 additions or with 4
            FMAs took as long as 8 valigns alone, 8.1 cycles; 4 of each, 12 operations, 6.2 cycles), and a division
            holds up the FMA pipes (8 FMAs and a division: 10.5 cycles against 8). Cells made +0 as they load, so
            that each sum starts from its first tap (one chained addition fewer, the same bits): 74 to 72 us; with
            two of the 8 additions on the FMA pipes as well, still 72. Not kept. Since then three changes, each
            measured against the one before (stopwatch, best call per process, three processes each): the third
            vector of a 35-wide row (3 live lanes) runs on 256 bits, which Zen 4 executes in half the pipe time
            (72.6-72.7 to 64.0-64.2 us); each entering row's taps go straight into the sums of the three windows it
            belongs to, each window's sum still in PyTorch's order, so a row makes short independent chains instead
            of one chain of nine additions per output, with every other addition on the FMA pipes; and taps inside
            the row load unaligned instead of through valign (together 63.9-64.3 to 55.8-56.2 us). The earlier
            attempts at the FMA pipes and at unaligned loads had failed on the rolling-taps structure; with the
            running sums they pay. Every output row then multiplied the column factors by its row factor before
            dividing; rows whose windows lie inside the input now take products made once per call: 56.0-56.4 to
            50.3-51.3 us. What is left: per row, 27 additions split over the add and FMA pipes and 3 divisions
            (`vdivps` measured 6.0 cycles per 512-bit and 3.0 per 256-bit division in a throughput microbenchmark).
            Without the divisions (a bound, not a result) it ran in 39.6-40.0 us against 50.2-51.3; dividing exactly
            through the reciprocal instead (a product and two FMAs, Markstein's correction) ran in 50.2-50.6, no
            faster than `vdivps`, and was not built. PyTorch's order fixes 9 additions per output, and 3x ORT needs
            41-52 us depending on ORT's time in the run. Measured again on 2026-11-27 (stopwatch, best call per 200 ms
            round, each variant against the unchanged kernel in the same process; rounds the shared machine slowed
            past 60 us left out): all three divisions of a row as multiplications (a bound) 44.5-45.0 us against
            50.7-50.8, the first 512-bit one alone 47.7-47.9 against 51.1-51.3, the 256-bit one alone 48.7-49.1
            against 50.8-51.2. A division that skips the divider, `fma(s, h, s * l)` with h = RN(1/d) and
            l = RN(1/d - h) (Brisebarre and Muller's product by a constant), ran in 47.4-48.5 against 50.1-50.9. A
            check over all 2^32 floats found it correctly rounded for d = 3, 5, 6, 7, 9 and 25 wherever |s| >= 1e-30,
            but not below (6-17 million sums, where `s * l` underflows) and, except for d = 25, not for infinite sums
            (NaN where `s / d` is infinite). Guarding those sums costs an operation per vector, about what it saves, so it was not
            built. Also tried and not kept: masked unaligned loads instead of the row's three edge valigns, 53.0
            against 50.6; every addition on the add pipes, 57.1, or on the FMA pipes, 73.8 (the divisions hold those
            up), against 50.5; 7 of each block's 9 additions on the add pipes instead of 5, 49.3-50.2 against
            50.4-50.8, within the spread of one bench run.
          - *yolov8.sppf (max 5x5 s1 p2, 20-wide rows):* a 20-wide row is two vectors of which 12 lanes are idle.
            The window's rows stay in registers (65 to 45 us) and the one-instruction `vmaxps` runs with a NaN check
            of the loaded cells that redoes a plane exactly if it finds NaN (45 to 37 us); the check's sums and the +0
            moved to the FMA pipes (see above, to 29.3 us). Now the maxima are shared: down the rows a sparse table
            (the maxima of 2 and 4 rows, each made once as its last row enters; a 5-row window is the maximum of two
            4-row ones), across the columns the maxima of column pairs, so per 16 outputs 3 + 3 maxima instead of
            4 + 4, and 7 valigns a row instead of 8: 29.3 to 24.6-27.3 us. 7x7 windows drop from 6 + 6 to 3 + 4.
            The second vector of a 20-wide row holds 4 cells, so it now runs on 256 bits (its loads, maxima, valigns
            and stores; the valign across the two vectors takes the first one's upper half): 24.9-25.2 to 20.9-21.2
            us (stopwatch, three processes each). Rows whose last vector is at most half full take this path at every
            width up to four vectors.
          - *Stores on narrow rows.* A row's last output block is masked to the row's cells, and the JIT keeps a mask
            that lives across the row loop as a vector, converting it back to a mask register at every masked store
            (the hot spot of sppf's profile). A whole vector past the row's end only writes cells of the next output
            row, which the kernel stores later, so every plane but a call's last (more for planes under a vector)
            now stores whole vectors (`IRowStores`): yolov8.sppf 26.1 to 24.9 us, googlenet 18.3 to 17.1, vgg16.pool4
            24.1 to 23.5, inception 73.5 to 72.7 (stopwatch minimums, three processes each). Checking each store
            against the output's end instead cost more than the masks (27.2 us on sppf).
          - *vgg16.pool4, densenet.transition (2x2 s2 on 28- and 56-wide rows):* narrow rows now run straight-line
            code per row width with masks made once per call (vgg16.pool4 41 to 26 us); what remains is the
            per-row cost of 14 outputs. The last full run's 34.9 us for vgg16.pool4 NCHW was the tiered dispatcher
            described under "Warm-up and dynamic PGO" (29.5 us with PGO off in a stopwatch run); fixed, 24.2 us.
        - **Channels last** (vectors across channels): the kernels sweep along each output row with column maxima
          or window cells in registers. With aligned tensors sppf and googlenet run well past 3x. inception NHWC
          makes 9 additions and a division per output vector; with a multiplication in place of the division (not
          exact, a bound only) it ran in 50.1-50.3 us against 52.5-52.9, so the division is not what holds it. The
          divisor of a window inside the row is now made once per sweep instead of multiplied and broadcast at
          every step: 53.0-56.4 to 51.0-53.0 us. What holds it, measured on 2026-11-27 (stopwatch, best call per
          200 ms round, each variant against the unchanged kernel in the same process): with one addition per
          output vector instead of nine (a bound) it ran in 49.9-52.2 us against 53.4-53.9; with its loads and
          stores sent to addresses that stay in L1 (a bound) in 43.9-44.7 against 50.1-50.2, and that with
          multiplications in place of the divisions in 38.0-38.7. So memory access and operations each take about
          45-50 us, and they overlap. With 256 channels one pixel starts 1 KB after the last, so all the lines a
          sweep touches map to 8 of L1's 64 sets. Tried and not kept: passes of 3 or 4 output rows (fewer input lines
          per output), 51.6-52.1 and 54.0-55.2 against 50.0-50.3 and 52.8-53.5; sweeping 16 channels instead of 32,
          90.0-90.7 against 50.6-50.9; tiles of 4, 8 or 12 columns, 51.6-56.3 against 49.8-54.7; reloading the
          window's cells from L1 instead of sliding them through registers, 99-112 against 48-51; every channel of
          a pixel before the next pixel, 53.9-54.2 against 51.0-51.7; the sweep unrolled three times so that no
          register moves slide the cells, 53.6-54.1 against 48.7-50.0; software prefetch 2 to 8 pixels ahead,
          53-80 against 51. resnet50.stem and batch32 NHWC read rows of 28 KB and 14 KB: a
          pass of one output row read the row it shares with the next one again, from L2. A pass now takes two
          output rows whenever their windows overlap and reads each input row once: stem 58.0-58.4 to 51.6-52.8
          us, batch32 1377-1557 to 1051-1294 us (stopwatch, best call, three processes each). Before that change,
          `vmaxps` alone (not exact, a bound) ran stem in 57.3 against 58.0-58.3 us, so the maximum is not what
          holds them.
        - **resnet50.head (global average)** sits near the copy roofline in both layouts: channels first sums 16
          planes at a time and transposes their stripe sums (22.5 to 5.7 us), channels last works in L1-sized panels
          of 256 channels (13 to 6.6 us), both in the summation order that keeps the layouts bit-identical. The
          16x16 transpose is one helper taking four groups of four vectors: with sixteen vector parameters the JIT
          would not inline it, the vectors went through the stack, and a process ran the head in 11 or 20 us
          depending on where its stack sat (now 8 us in every process, general engine).
        - **General engine.** It takes its parameters at run time; on the late layers' small maps (7 to 56 wide) what
          it spends on each row's set-up decides its speed, and for the commonest windows it names the window's reach
          or taps as a type so that the JIT unrolls them and valign gets its immediate shift. Changes measured side by
          side today (stopwatch minimums, general engine, NCHW unless noted; the later ones on 64-byte-aligned
          tensors, as the bench runs them, several processes each):
          - windows that cover the whole plane (resnet50.head's 7x7 AveragePool) skip the row machinery: max is the
            plane's maximum, average runs 16 planes per block in the window's own cell order (a 16x16 transpose per
            16 cells, a short tail gathered): 590 to 8 us;
          - each output row's window rows and divisors are tabled once per call instead of per row of every plane
            (the divisor factors' integer divisions alone cost as much as the sums): densenet 84-92 to 68 us; 2x2
            stride-2 average on small even-width planes then went flat (each output row's two input rows copied into
            two scratch planes, then one pass over all outputs, summed in PyTorch's order): 68 to 46 us;
          - rows of at most two vectors load with masks made once per call, and planes up to 16 KB are scanned for
            NaN so that clean ones take `vmaxps` alone: vgg16.pool4 98 to 88 us; 2x2 stride 2 on small even-width
            planes then went flat (each output row's two input rows into a scratch plane, then the whole plane's even
            and odd cells at once): 88 to 47-56 us;
          - stride-1 average runs tap by tap from the rows in place, with the edge blocks' masks made once per call,
            instead of the prepared-plane path: inception 530 to 211 us;
          - stride-1 max on small planes runs two flat passes over the whole plane (the window's rows for every
            interior output row in one loop, then the columns with each lane's column carried to mask taps that would
            cross rows): googlenet 77 to 53 us, sppf 90 to 49 us;
          - channels last, separable max where it reads clearly fewer vectors (sppf NHWC 98 to 44 us, googlenet 63
            to 50) and one tap list per output row for windows inside the row (stem NHWC 133 to 102 us);
          - scratch planes start on a cache line (a rented array starts wherever the GC put it, so every scratch
            vector split one): densenet 46 to 33 us;
          - the flat passes' NaN check rides on the vertical pass's loads instead of a pass of its own, and the
            stride-1 taps come from valign with the window's reach known to the JIT: vgg16.pool4 40 to 28 us,
            googlenet 48 to 37-40, sppf 47 to 35-44;
          - the sliding max takes `vmaxps` alone and sums the cells it loads as the NaN check (large planes took the
            two-instruction maximum, small ones a scan first): batch32 1950 to 1380-1500 us; its stride-2 taps for
            3-wide windows padded by 1 and unpadded 2-wide ones are valigns in straight-line code instead of a loop
            over permutes: resnet50.stem 111 to 79 us, vgg16.pool1 370 to 300, batch32 to 1230-1380;
          - stride-1 "same" average on small planes runs one flat pass over the plane copied between rows of zeros
            (zeros added to a sum started at +0 leave its bits unchanged), two output vectors per step: inception 227
            to 136-140 us;
          - channels last, separable max with stride 1: a row's interior cells take their columns' maxima in one flat
            reduction instead of one call per cell: googlenet NHWC 43 to 36 us, sppf NHWC 44 to 34;
          - channels last, stride-1 average: four neighbouring cells at a time share their loads (4 + kw - 1 a window
            row instead of 4 x kw; the sums still run apart, in PyTorch's order), since a cell-by-cell sum loads 9
            vectors per output vector and the loads bound it: inception NHWC 98.5 to 61-62 us;
          - channels first, stride-1 centred average on rows of at most 4 vectors: each input row loaded once as whole
            vectors, taps as valigns with zero vectors past the row's ends (no plane copy, no per-lane masks), two
            output rows at a time sharing the taps of their common rows: inception NCHW 134 to 87-90 us (107 with
            one output row at a time), and faster than the flat pass on every width from 7 to 56 tried;
          - channels first, stride-1 centred max on the same narrow rows: two output rows at a time, each input row
            their windows hold loaded once and reduced into both rows' column maxima, then the column taps with
            valign; `vmaxps` alone with each row's cells summed once as the NaN check: googlenet NCHW 40 to 28.5 us,
            yolov8.sppf 45 to 38 us (dynamic PGO off). A NaN scan of the plane first instead took 18% of the time,
            and summing every load into one chain held sppf at 42 us;
          - channels last, max with stride 1 along the row, and 3-wide windows with stride 2: four neighbouring cells
            at a time, each input column reduced down the window's rows once into column maxima held in registers,
            neighbours sharing their common columns (a 3x3 s1 window makes 4.5 maxima per output vector where the
            separable path made 8 and stored a scratch row; 3x3 s2 makes 6.5 and loads 6.75 where cell by cell made
            8 and loaded 9): googlenet NHWC 40.3 to 26.5 us, resnet50.stem NHWC 90 to 65 us. A cost count keeps
            YOLO's 5x5 separable (sliding measured 47.5 us there against 38.4);
          - channels first, 3x3 stride-1 average on rows of up to three vectors: the 27 taps of the window's three rows
            stay in registers and roll down the plane, so each input row is loaded and its taps made once (2 valigns
            per output vector instead of 4): inception NCHW 90-92 to 73 us, 512x14x14 37-40 to 20 us, 1024x7x7 40 to
            21 us; the divisor table works out each column's factor once (2.4% of inception's profile before);
          - the same path then kept the open windows' running sums instead of the taps, with every other addition on
            the FMA pipes and the taps inside the row loaded unaligned, as the generated kernel does: inception NCHW
            72.6-73.0 to 58.8-60.3 us, 512x17x17 45.4-45.7 to 41.5-41.7 (three processes each);
          - the stride-2 sliding max's NaN check takes each row's two vectors inside the row as one product on the
            FMA pipes (`Lanes512.AddProduct`) instead of two additions on the pipes the maxima use: resnet50.stem
            83.1-84.8 to 80.6-83.0 us (three processes each).
          Before the 3x3 register path, inception NCHW general sat at 87-93 us (1.35x in the 20:39 run): per output
          vector 9 dependent additions, 4 valigns and a division. Tried and not kept on that two-row path: the lower
          row's additions on the FMA pipes (91 against 87.5 us); adding tap by tap across the blocks so consecutive
          additions go to different sums (90-92 against 91-92 us); the flat pass with four output vectors per step
          and valigns instead of misaligned loads (134 to 130 us; without its per-lane edge masks, not exact, 100
          us); taps as masked unaligned loads (186 us); unaligned loads for the middle block's taps (111 against 107
          us). A general flat pass for every stride-2 window, with masks by output column, was slower than the
          row-by-row path (vgg16.pool4 90-120 us against 88) and was not kept.
          In the 21:59 run the one general row below 1.5x was resnet50.stem NCHW, 115 us (1.36x), on a path unchanged
          since the 20:39 run, which measured it at 86.6 us: this time its iterations spread widely (median 125 us,
          standard deviation 23.5), and a stopwatch run after this one gave 82.5 us per call at best and 86.5 us on
          average. The 22:35 run, on the same code, measured it at 86.8 us (1.74x).
        - **Roofline on the large cases.** resnet50.stem NCHW is no longer bound by operations: taking its NaN
          sums and +0 off the max pipes changed nothing (52 us), and its 6 loads and 6 add-pipe operations per 16
          outputs would take about 24 us at one a cycle (3.6 GHz, by the microbenchmark above). It reads 3.2 MB a
          call, more than the 1 MB L2 holds, and runs at about 1.2x the copy's time. batch32 streams 25.7 MB from DRAM,
          and one core cannot draw the machine's bandwidth: with two threads the specialized kernel ran 2.2x faster,
          not 2x (NCHW 897 to 403 us, NHWC 1221 to 550 us, stopwatch), so on one thread it waits on memory more
          than the copy does. Software prefetch of the next plane, tried by hand, was slower (1317 to 1440 us).
          Prefetching within the plane instead, 4 or 8 KB ahead of the rows being read (eight lines per output row),
          made no difference the noise did not swamp: the medians of six 200 ms rounds' best calls were 957-1106 us
          with it and 955-1209 us without, three processes each (2026-11-27).
        - **Measurement noise.** Rows swing by tens of percent between full runs while the load average stays near
          1: the host's other tenants share its memory bandwidth, and the load average does not show them. Per call,
          vgg16.pool1 NCHW specialized took a minimum of 208-224 us in six stopwatch runs (4 s each) minutes apart, but
          a median anywhere from 263 to 667 us, while the copy's median stayed at 234-250 us in four such runs. Two one-launch full runs on
          earlier code (17:31 and 17:48 UTC) put vgg16.pool4 NCHW specialized at 3.02x and 2.41x ORT,
          resnet50.stem NHWC specialized at 2.59x and 2.24x, googlenet NCHW general at 1.47x and 1.54x, and batch32
          on all cores at 1.14x and 3.49x (NCHW), 0.73x and 1.76x (NHWC) its one-thread speed, where a stopwatch run
          between them measured 2.16x and 2.12x. In the 17:48 run the same vgg16.pool4 NCHW kernel took 31.7 us
          through `Pooling.Run` and 26.5 us as the `[PoolKernel]` method. So the full job now runs two launches per
          benchmark; rows near a target can still land on either side of it. In the 21:59 run googlenet NHWC general
          measured 40.5 us (standard deviation 1.4) where a full job filtered to googlenet right after it measured 28.6
          us (0.4), and vgg16.pool1 NCHW specialized 423 us through `Pooling.Run` against 359 us as the same
          `[PoolKernel]` method. The 22:35 run, on the same code, measured googlenet NHWC general at 29.2 us. So one process can run a kernel markedly slower than another through all its
          iterations; the cause was not found. On 2026-11-27 two full runs 44 minutes apart, on the same kernels but
          for the general 3x3 average, differed as much: at 00:48 ONNX Runtime's own NHWC rows took 17-65% longer
          than at 00:04 (vgg16.pool1 NHWC 1411 to 2325 us), inception NHWC specialized took 87.4 us against 57.0
          (52.5-52.9 us in a stopwatch harness that evening), and batch32 on all cores ran 1.30x and 1.65x its
          one-thread speed against 1.92x and 2.11x. resnet50.stem NCHW general measured 120 us at 00:04 and 109 us
          at 00:48, on a path unchanged since the 22:35 run's 86.8 us; the stopwatch harness gave it 83 us. Two
          full runs at 02:56 and 03:26 UTC, on the same code, disagreed again: resnet50.stem NCHW specialized took
          53.3 and 68.1 us (3.07x and 2.80x), its general row 114 and 122 us, and vgg16.pool1 NCHW general 1272 and
          1598 us, where the stopwatch harness measured 49-50, 81-83 and 317 us that hour. In the 02:56 run the
          vgg16.pool1 NCHW group's copy took 324 us against 226 in its NHWC group, and the group's rows had standard
          deviations of 12-23% of their means. Between the runs, a stopwatch loop over stem NCHW specialized gave
          250 ms round means of 56-86 us in one process and 52-59 us in another three minutes later; its best calls
          had measured 48.8-49.7 us earlier that hour. In the run that ended at 04:34 UTC, on the same kernels,
          resnet50.stem NHWC's `[PoolKernel]` row (the kernel its specialized row runs) took 109 us in five
          consecutive iterations of its second launch and 55-79 us in the rest, and its specialized row measured
          62.0 us (2.76x), where the stopwatch harness had given 51.6-52.8 us that night; resnet50.stem NCHW
          specialized, whose iterations all fell within 51-53 us, measured 51.5 us against ONNX Runtime's 154 (2.98x).
          resnet50.head's general row once showed 2 B per call in an earlier run, and batch32's general row 7 B in
          the 15:29 run: ArrayPool.Shared gives a warm call its arrays back until a gen-2 collection trims them. The
          engine now caches its scratch arrays per thread (never trimmed, bounded to 16 arrays of up to 1 MB per
          thread and element type), and this run shows 0 B in all 36 rows.

        **Checks.** Before timing, each (case, layout) runs every method once and compares it with the general engine
        (`Pooling.RunGeneral`); the run stops with an exception on any difference: max pooling must match exactly,
        average pooling within 1e-5 relative (`|a - b| <= 1e-5 * max(1, |b|)`, the floor because a mean of normals can
        be near zero). ORT's output is compared with the general engine's NCHW output. The setup also fails if
        `Pooling.Run` finds no specialized kernel for a case's descriptor.

        ## Running the benchmarks (README of `bench/`)

        ```sh
        dotnet run -c Release --project bench -- --filter '*'          # full run: the evidence (about 25 minutes here)
        dotnet run -c Release --project bench -- --quick               # quick run: in-process, under 3 minutes
        dotnet run -c Release --project bench -- --quick --filter '*resnet50*'   # any BenchmarkDotNet filter works
        dotnet run -c Release --project bench -- --report              # rewrite this page and the chart from the last run
        ```

        - Without `--filter` the bench runs everything (BenchmarkDotNet would otherwise ask interactively).
        - The **full** job is out-of-process (BenchmarkDotNet's default toolchain), 2 launches (two processes per
          benchmark, their iterations pooled), each 6 warm-ups and 10 iterations of 250 ms. One launch let a process's
          luck decide a row: in the 17:48 run of 2026-11-26 the same vgg16.pool4 NCHW kernel measured 31.7 us through
          `Pooling.Run` and 26.5 us as the `[PoolKernel]` method, two processes a few seconds apart. The **quick** job runs in-process (`InProcessEmitToolchain`), 1 warm-up, 3 iterations of 40 ms.
          Both use `MemoryDiagnoser`. Don't add `[SimpleJob]` attributes: with a command-line job they add a second job.
        - Every run saves its results to `BenchmarkDotNet.Artifacts/kernelgen/last-run.json` (not committed).
          A run that measured every benchmark (no filter, or `--filter '*'`) rewrites `docs/benchmarks.md` and
          `docs/benchmarks.png`; a filtered run leaves them alone, and `--report` writes them from the last run anyway.
        - The machine must be quiet: one benchmark process at a time, no builds or tests alongside. On the 2-core
          development machines a second process halves the numbers.
        - Adding a case: a row in `bench/Cases.cs` (`BenchCase.All`), and a `[PoolKernel]` method in `bench/Kernels.cs`
          if its configuration has none yet.
        - CI builds `bench/` (it is in `KernelGen.sln`) but does not run it.

        """;
}
