using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;
using KernelGen.Engine;
using KernelGen.Testing;
using static KernelGen.Bench.SpecializationBench;

namespace KernelGen.Bench;

/// <summary>
/// <c>--routes</c>: checks the general engine's dispatch table against measurement. For each sampled configuration it
/// times, in one process, every route whose condition holds (the table takes the first of them, and the last route
/// takes everything) or that handles the call without taking it (<c>EngineRouteEntry.Handles</c>), and reports where
/// the chosen route is not the fastest. A route that keeps losing on the configurations it takes is stale: another
/// route has overtaken it, and a condition (or the route) should change.
/// </summary>
/// <remarks>
/// The configurations are the grid's (<see cref="GridBench"/>), a quarter of them turned into stride-1 windows that
/// keep the row's width (the padding the flat and narrow-row routes serve), on several plane sizes, since the routes'
/// thresholds depend on the row, plane and image size. Each route runs straight from the table, on one thread, and its
/// output is compared bit for bit with the chosen route's. Rows that share a routine (the channels-last sliding,
/// blocked and window rows) count once.
/// </remarks>
public static class RouteAudit
{
    /// <summary>
    /// The shapes audited unless <c>--shape</c> names one: small planes, the grid's, wide rows, and a late layer's many
    /// channels (channels-last thresholds depend on the image row, width x channels).
    /// </summary>
    private static readonly PoolShape[] DefaultShapes =
        [new(1, 32, 14, 14), new(1, 32, 28, 28), new(1, 32, 57, 57), new(1, 32, 12, 100), new(1, 256, 14, 14)];

    /// <summary>Chosen routes slower than the fastest by more than this are listed (an A/A run of one route gives up to 1.08).</summary>
    private const double Margin = 1.15;

    private sealed record Row(string Point, PoolShape Shape, EngineRoute Chosen, double ChosenUs, EngineRoute Fastest, double FastestUs, int Candidates, string Times, string? Problem)
    {
        public double Loss => ChosenUs / FastestUs;
    }

    /// <summary>
    /// Runs the mode: <paramref name="count"/> sampled points per shape (default 200, quick 100), on <paramref name="shape"/>
    /// or the default shapes; <paramref name="verbose"/> prints every point, not only the losses.
    /// </summary>
    public static int Run(bool quick, bool verbose, string? match, int? count, int seed, string? shape)
    {
        (int warmMs, int rounds, int batchMs) = quick ? (20, 5, 2) : (60, 9, 3);
        var shapes = shape == null ? DefaultShapes : [GridBench.ParseShape(shape)];
        var points = GridBench.Sample(count ?? (quick ? 100 : 200), seed).Select((p, i) => i % 4 == 3 ? SameWidth(p) : p)
            .Where(p => match == null || match.Split(',').Any(part => p.Name.Contains(part, StringComparison.OrdinalIgnoreCase))).ToList();
        string loadBefore = RunResults.LoadAverage();
        var rows = new List<Row>();
        foreach (var planes in shapes)
            foreach (var point in points)
            {
                var row = point.IsDouble ? Measure<double>(point, planes, warmMs, rounds, batchMs) : Measure<float>(point, planes, warmMs, rounds, batchMs);
                if (row == null) continue;
                rows.Add(row);
                if (verbose || row.Loss > Margin || row.Problem != null) Console.WriteLine(Describe(row));
            }
        Print(rows, quick, seed, loadBefore);
        return rows.Any(r => r.Problem != null) ? 1 : 0;
    }

    /// <summary>The point as a stride-1 window that keeps the row's width: padding kernel - 1 split by the seed's draw, no dilation.</summary>
    private static GridBench.Point SameWidth(GridBench.Point p)
    {
        int before = Math.Min(p.PadW, p.KernelW - 1), above = Math.Min(p.PadH, p.KernelH - 1);
        return p with { StrideH = 1, StrideW = 1, DilationH = 1, DilationW = 1, Ceil = false, PadW = before, PadWEnd = p.KernelW - 1 - before, PadH = above };
    }

    /// <summary>Times every route that takes the point on <paramref name="shape"/>; null where the configuration does not fit the shape.</summary>
    private static Row? Measure<T>(GridBench.Point point, PoolShape shape, int warmMs, int rounds, int batchMs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = point.Descriptor;
        if (!GridBench.Fits(descriptor, shape)) return null;
        var outputShape = descriptor.GetOutputShape(shape);
        var plan = new PoolPlan(descriptor, shape, outputShape);
        var work = EngineRoutes<T>.WorkOf(descriptor, withIndices: false);
        var table = EngineRoutes<T>.For(work);
        var chosen = EngineRoutes<T>.Select(work, plan);
        // Rows that run the chosen row's routine are not rivals: it picks its path by the same conditions.
        // Routes that handle the call but whose condition does not hold are timed too: a loss to one of them is a
        // condition measurement has outgrown.
        var candidates = table.Where((route, i) => i == table.Count - 1 || route.CanPool(plan)).DistinctBy(route => route.Routine).ToList();
        int units = (int)Pooling.EngineUnits(work, shape, outputShape);

        using var input = new AlignedBuffer<T>((int)shape.ElementCount);
        var random = new Random(17);
        for (int i = 0; i < input.Length; i++) input.Span[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
        var outputs = candidates.Select(_ => new AlignedBuffer<T>((int)outputShape.ElementCount)).ToList();
        try
        {
            var runs = candidates.Select((route, i) => (Action)(() => route.Run(plan, input.Span, outputs[i].Span, default, 0, units))).ToList();
            foreach (var run in runs) Warm(run, warmMs);
            var best = runs.Select(_ => double.MaxValue).ToArray();
            for (int round = 0; round < rounds; round++)
                for (int i = 0; i < runs.Count; i++)
                    best[i] = Math.Min(best[i], Batch(runs[i], batchMs));

            int chosenAt = candidates.IndexOf(chosen), fastestAt = Array.IndexOf(best, best.Min());
            string? problem = null;
            for (int i = 0; i < candidates.Count && problem == null; i++)
                if (!BitwiseEqual<T>(outputs[i].Span, outputs[chosenAt].Span))
                    problem = $"{candidates[i].Route} differs from {chosen.Route}";
            string times = string.Join(", ", candidates.Select((route, i) =>
                string.Create(CultureInfo.InvariantCulture, $"{route.Route}{(i == chosenAt ? "*" : "")} {best[i]:F1}")));
            return new Row(point.Name, shape, chosen.Route, best[chosenAt], candidates[fastestAt].Route, best[fastestAt], candidates.Count, times, problem);
        }
        finally
        {
            foreach (IDisposable output in outputs) output.Dispose();
        }
    }

    private static bool BitwiseEqual<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(a).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b));

    private static string Describe(Row r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.Loss,5:F2}  {r.Point} on {r.Shape.Channels}x{r.Shape.Height}x{r.Shape.Width}: {r.Times} µs") +
        (r.Problem != null ? "  WRONG: " + r.Problem : "");

    private static void Print(List<Row> rows, bool quick, int seed, string loadBefore)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"Route audit: {rows.Count} (configuration, shape) pairs, seed {seed}, {(quick ? "quick" : "full")}; " +
                          $"load average before {loadBefore}, after {RunResults.LoadAverage()}.");
        Console.WriteLine("Each route whose condition holds or that handles the call, timed in one process (fastest batch), in table order, the chosen one starred; loss = its time / the fastest's.");
        Console.WriteLine();
        Console.WriteLine("| route | chosen | with a rival | fastest there | median loss | worst loss |");
        Console.WriteLine("| ----- | ------ | ------------ | ------------- | ----------- | ---------- |");
        foreach (var group in rows.GroupBy(r => r.Chosen).OrderBy(g => g.Key))
        {
            var contested = group.Where(r => r.Candidates > 1).Select(r => r.Loss).OrderBy(x => x).ToList();
            Console.WriteLine(string.Format(inv, "| {0} | {1} | {2} | {3} | {4} | {5} |", group.Key, group.Count(), contested.Count,
                group.Count(r => r.Candidates > 1 && r.Fastest == r.Chosen),
                contested.Count > 0 ? contested[contested.Count / 2].ToString("F2", inv) : "-",
                contested.Count > 0 ? contested[^1].ToString("F2", inv) : "-"));
        }
        var losses = rows.Where(r => r.Loss > Margin).OrderByDescending(r => r.Loss).ToList();
        Console.WriteLine();
        Console.WriteLine($"{losses.Count} of {rows.Count} chose a route more than {Margin.ToString(inv)}x slower than another that takes them; the worst:");
        foreach (var r in losses.Take(quick ? 10 : 20)) Console.WriteLine("  " + Describe(r));
        if (rows.Any(r => r.Problem != null)) Console.Error.WriteLine("Some routes' results differ (WRONG above).");
    }
}
