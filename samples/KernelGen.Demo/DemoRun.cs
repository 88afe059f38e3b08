using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;
using KernelGen.Monitoring;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace KernelGen.Demo;

/// <summary>The demo's steps: check every layer, run them under a monitor with live progress, report.</summary>
internal static class DemoRun
{
    public static int Run(double seconds, int threads, bool json, bool watch, string? profile = null)
    {
        // With --json the standard output carries the JSON alone; everything for people goes to standard error.
        var console = json ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
        if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 140); // a log or CI: no terminal to wrap to
        var runs = DemoLayer.All.Select(layer => new LayerRun(layer)).ToList();

        console.MarkupLine("[bold]KernelGen pooling demo[/]: {0} layers, {1} thread(s), {2} s", runs.Count, threads, seconds.ToString(CultureInfo.InvariantCulture));
        bool agree = Check(console, runs);
        // Every layer's output once, hashed: the same inputs give the same bits under the JIT, NativeAOT and any instruction set.
        using (var results = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            foreach (var run in runs)
            {
                run.Run();
                results.AppendData(run.OutputBytes);
            }
            console.WriteLine($"Results fingerprint: {Convert.ToHexStringLower(results.GetHashAndReset())}");
        }

        using var monitor = PoolingMonitor.Start();
        using var cancel = new CancellationTokenSource();
        PosixSignalRegistration? stopSignal = null;
        if (watch)
        {
            int pid = Environment.ProcessId;
            console.MarkupLine("[bold]Watching[/]: process id {0}. In another terminal:", pid);
            console.WriteLine($"  dotnet-counters monitor --counters KernelGen -p {pid}");
            console.MarkupLine("Ctrl+C (or kill -TERM) stops and prints the report.");
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
            stopSignal = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; cancel.Cancel(); });
        }
        else
        {
            cancel.CancelAfter(TimeSpan.FromSeconds(seconds));
        }
        Drive(console, runs, threads, seconds, watch, monitor, cancel.Token);
        monitor.Stop();
        stopSignal?.Dispose();
        var snapshot = monitor.GetSnapshot();

        Report(console, runs, snapshot);
        string chart = Chart.Write(runs, snapshot);
        console.MarkupLineInterpolated($"Chart of the time per layer, specialized against general: [link]{chart}[/]");
        if (json) Console.Out.WriteLine(snapshot.ToJson());
        if (profile is not null)
        {
            monitor.SaveProfile(profile);
            console.MarkupLineInterpolated($"Profile for the next build (<KernelGenProfile Include=\"...\" />): [link]{Path.GetFullPath(profile)}[/]");
        }
        console.MarkupLine(agree ? "[green]Every specialized result equals the general engine's, bit for bit.[/]" : "[red]A specialized result differs from the general engine's.[/]");
        return agree ? 0 : 1;
    }

    /// <summary>Runs every layer once on each path and compares the bits; the [PoolKernel] method too.</summary>
    private static bool Check(IAnsiConsole console, List<LayerRun> runs)
    {
        bool all = true;
        foreach (var run in runs.Where(r => !r.Layer.IsGlobal))
        {
            run.Run();
            run.RunGeneral();
            bool same = run.AgreesBitForBit();
            all &= same;
            if (!same) console.MarkupLineInterpolated($"[red]{run.Layer.Name}: Pooling.Run and the general engine differ[/]");
        }
        var stem = runs.First(r => r.Layer.Name == "resnet50.stem");
        var attributeOutput = new float[stem.Layer.OutputShape.ElementCount];
        var input = new float[stem.Layer.Shape.ElementCount];
        new Random(1).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()));
        for (int i = 0; i < input.Length; i++) if (!float.IsFinite(input[i])) input[i] = i; // random bits make NaNs; keep a few finite values instead
        var generalOutput = new float[attributeOutput.Length];
        Layers.StemPool(input, attributeOutput, stem.Layer.Shape);
        Pooling.RunGeneral(stem.Layer.Descriptor!.Value, input, generalOutput, stem.Layer.Shape);
        bool stemSame = System.Runtime.InteropServices.MemoryMarshal.AsBytes(attributeOutput.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(generalOutput.AsSpan()));
        if (!stemSame) console.MarkupLine("[red]the [[PoolKernel]] method Layers.StemPool differs from the general engine[/]");
        return all && stemSame;
    }

    /// <summary>Calls every layer round-robin on <paramref name="threads"/> threads until cancelled, with a live progress view.</summary>
    private static void Drive(IAnsiConsole console, List<LayerRun> runs, int threads, double seconds, bool watch, PoolingMonitor monitor, CancellationToken token)
    {
        long calls = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (int i = t; !token.IsCancellationRequested; i++)
            {
                var run = runs[i % runs.Count];
                // The general engine on the specialized layers: what the speed-up is measured against. Which of the two
                // goes first alternates, so neither always finds the input already in cache.
                bool generalFirst = run.Specialized && (i / runs.Count) % 2 == 1;
                if (generalFirst) run.RunGeneral();
                run.Run();
                if (run.Specialized && !generalFirst) run.RunGeneral();
                Interlocked.Increment(ref calls);
            }
        }) { IsBackground = true, Name = $"demo worker {t}" }).ToList();
        var clock = Stopwatch.StartNew();
        workers.ForEach(w => w.Start());

        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("running the layers", maxValue: watch ? 1 : seconds);
                if (watch) task.IsIndeterminate = true;
                while (!token.IsCancellationRequested)
                {
                    token.WaitHandle.WaitOne(250);
                    var snapshot = monitor.GetSnapshot();
                    long specialized = snapshot.Entries.Where(e => e.Specialized).Sum(e => e.Calls);
                    long total = snapshot.Entries.Sum(e => e.Calls);
                    task.Description = $"{Interlocked.Read(ref calls)} layer runs, {total} pooling calls ({specialized} specialized)";
                    if (!watch) task.Value = Math.Min(seconds, clock.Elapsed.TotalSeconds);
                }
                task.Value = task.MaxValue;
                task.StopTask();
            });
        workers.ForEach(w => w.Join());
    }

    /// <summary>Per layer: path, kernel, mean time, GB/s, speed-up over the general engine; then the advice.</summary>
    private static void Report(IAnsiConsole console, List<LayerRun> runs, PoolingSnapshot snapshot)
    {
        var table = new Table().Title("What PoolingMonitor saw (Pooling.Run, one call per thread)")
            .AddColumns("layer", "operation", "path", "kernel", "mean us", "p95 us", "GB/s", "vs general");
        foreach (var row in Rows(runs, snapshot))
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell)).ToArray());
        console.Write(table);

        var general = Rows(runs, snapshot).Where(r => r[2] == "general").Select(r => r[0]).ToList();
        if (general.Count == 0) return;
        console.WriteLine();
        console.MarkupLine("[bold]Served by the general engine[/], most time first, and what to do about it:");
        foreach (var advice in snapshot.Advice)
        {
            var layers = runs.Where(r => Matches(r, snapshot, advice.Configuration)).Select(r => r.Layer.Name).ToList();
            console.MarkupLineInterpolated($"{advice.Rank}. [bold]{advice.Configuration}[/] ({string.Join(", ", layers)}): {advice.Calls} calls, {advice.TotalSeconds * 1e3:F0} ms");
            if (advice.CanSpecialize)
            {
                console.WriteLine("   " + advice.Attribute);
                console.WriteLine("   " + advice.MethodSignature);
            }
            else
            {
                console.WriteLine("   not specializable: " + advice.Reason);
            }
        }
    }

    private static bool Matches(LayerRun run, PoolingSnapshot snapshot, string configuration) =>
        snapshot.Entries.Any(e => e.Configuration == configuration && e.Shape == run.Layer.Shape.ToString() && e.Element == (run.Layer.IsDouble ? "double" : "float")
            && Operation(run) == e.Descriptor);

    // As PoolingMonitor describes the layer's operation, to find its entries.
    private static string Operation(LayerRun run) => run.Layer.Descriptor is { } d ? d.ToString() : "global average ChannelsFirst";

    /// <summary>The operation in a few words: <c>max 3x3 s2 p1</c>, <c>avg 3x3 s1 p1 excl</c>, <c>max 3x3 s2 p0/1</c>.</summary>
    private static string ShortOperation(LayerRun run)
    {
        if (run.Layer.Descriptor is not { } d) return "global avg";
        var (h, w) = (d.GetAxis(0), d.GetAxis(1));
        string pad = h.PadBegin == h.PadEnd && w.PadBegin == w.PadEnd && h.PadBegin == w.PadBegin
            ? (h.PadBegin == 0 ? "" : $" p{h.PadBegin}") : $" p{h.PadBegin}/{h.PadEnd}";
        string text = $"{(d.Mode == PoolMode.Max ? "max" : "avg")} {h.Kernel}x{w.Kernel} s{h.Stride}{pad}";
        if (d.Mode == PoolMode.Average && !d.CountIncludePad) text += " excl";
        return run.Layer.IsDouble ? text + " f64" : text;
    }

    /// <summary>The table's rows: the entry of what Pooling.Run served per layer, and the general engine's for the speed-up.</summary>
    internal static List<string[]> Rows(List<LayerRun> runs, PoolingSnapshot snapshot)
    {
        var culture = CultureInfo.InvariantCulture;
        var rows = new List<string[]>();
        foreach (var run in runs)
        {
            var (main, general) = Entries(run, snapshot);
            if (main is null) continue;
            string speedUp = main.Specialized && general is not null ? (general.MeanSeconds / main.MeanSeconds).ToString("F2", culture) + "x" : "-";
            rows.Add([run.Layer.Name, ShortOperation(run), main.Path, main.Kernel, (main.MeanSeconds * 1e6).ToString("F1", culture),
                (main.P95Seconds * 1e6).ToString("F1", culture), main.GigabytesPerSecond.ToString("F1", culture), speedUp]);
        }
        return rows;
    }

    /// <summary>The snapshot's entries for a layer: the specialized one if Pooling.Run found a kernel, and the general one.</summary>
    internal static (PoolingCallStatistics? Main, PoolingCallStatistics? General) Entries(LayerRun run, PoolingSnapshot snapshot)
    {
        string element = run.Layer.IsDouble ? "double" : "float";
        var mine = snapshot.Entries.Where(e => e.Shape == run.Layer.Shape.ToString() && e.Element == element && e.Descriptor == Operation(run)).ToList();
        var specialized = mine.FirstOrDefault(e => e.Specialized);
        var general = mine.FirstOrDefault(e => !e.Specialized);
        return (specialized ?? general, general);
    }
}
