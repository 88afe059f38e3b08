using System;
using System.Collections.Generic;
using System.Diagnostics;
using static KernelGen.Bench.SpecializationBench;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using KernelGen.Engine;
using KernelGen.Testing;
using KernelGen.Testing.Onnx;

namespace KernelGen.Bench;

/// <summary>
/// <c>--grid</c>: a seeded sample of 2-d pooling configurations (kernel 1-9 and stride 1-4 per axis, padding,
/// dilation, ceil mode, both layouts and element types, max and both average divisors) through the general engine
/// (<c>Pooling.RunGeneral</c>, one thread), ONNX Runtime (one thread) and a copy of the bytes the operation must move,
/// on 1x32x57x57 (or <c>--shape</c>); prints the configurations where the engine is furthest from 1.5x ONNX Runtime.
/// </summary>
/// <remarks>
/// Measured like <see cref="SpecializationBench"/> (child process without tiering, alternating batches, fastest batch),
/// not with BenchmarkDotNet, which would take hours for hundreds of configurations. ONNX Runtime pools channels first
/// only: a channels-last configuration is compared with ONNX Runtime pooling the same data in NCHW order, the layout
/// an ONNX user would have. Every engine result is checked against ONNX Runtime's (max bit for bit, average within
/// 1e-5 relative).
/// </remarks>
public static class GridBench
{
    /// <summary>The issue's shape, unless <c>--shape NxCxHxW</c> says otherwise.</summary>
    private static PoolShape Shape = new(1, 32, 57, 57);

    /// <summary>The machine's 512-bit additions per second, measured when the run starts (0: not measured, no sums floor).</summary>
    private static double AddsPerSecond;

    /// <summary>The ratio the issue asks the engine to reach on every grid point.</summary>
    private const double Goal = 1.5;

    internal enum Op { Max, AverageIncludePad, AverageExcludePad }

    /// <summary>One configuration: height and width window values, padding (begin, end) per axis.</summary>
    internal sealed record Point(Op Op, bool IsDouble, PoolLayout Layout, int KernelH, int KernelW, int StrideH, int StrideW,
        int PadH, int PadHEnd, int PadW, int PadWEnd, int DilationH, int DilationW, bool Ceil)
    {
        public OnnxPoolSpec Spec => new(Op == Op.Max ? OnnxPoolOp.MaxPool : OnnxPoolOp.AveragePool,
            KernelShape: [KernelH, KernelW], Strides: [StrideH, StrideW], Pads: [PadH, PadW, PadHEnd, PadWEnd],
            Dilations: [DilationH, DilationW], CeilMode: Ceil, CountIncludePad: Op == Op.AverageIncludePad);

        public PoolDescriptor Descriptor => PoolDescriptor.FromOnnx(Op == Op.Max ? PoolMode.Max : PoolMode.Average,
            [KernelH, KernelW], [StrideH, StrideW], [PadH, PadW, PadHEnd, PadWEnd], [DilationH, DilationW],
            OnnxAutoPad.NotSet, Ceil, Op == Op.AverageIncludePad, null, Layout);

        public string Name => string.Create(CultureInfo.InvariantCulture,
            $"{(Op == Op.Max ? "max" : Op == Op.AverageIncludePad ? "avg-incl" : "avg-excl")} k{KernelH}x{KernelW} s{StrideH}x{StrideW}" +
            $" p{PadH},{PadHEnd}x{PadW},{PadWEnd}{(DilationH * DilationW > 1 ? $" d{DilationH}x{DilationW}" : "")}{(Ceil ? " ceil" : "")}" +
            $" {(Layout == PoolLayout.ChannelsLast ? "nhwc" : "nchw")} {(IsDouble ? "f64" : "f32")}");
    }

    /// <summary>Times in µs; <c>OrtUs</c> null where ONNX Runtime rejects the configuration.</summary>
    private sealed record Row(Point Point, double EngineUs, double? OrtUs, double CopyUs, string? Problem, bool OrtFloat, double? SumsUs)
    {
        public double? Ratio => OrtUs / EngineUs;

        /// <summary>
        /// The larger of one copy of the point's bytes (a roofline the engine can beat a little where it skips input or
        /// its data stays in cache) and, for an average, its additions at the measured peak (<see cref="SumFloor"/>).
        /// </summary>
        public double FloorUs => Math.Max(CopyUs, SumsUs ?? 0);
    }

    /// <summary>Runs the mode: <paramref name="count"/> sampled points (default 600, quick 400), those whose name contains <paramref name="match"/>.</summary>
    public static int Run(bool quick, string? match, int? count, int seed, string? shape)
    {
        if (shape != null) Shape = ParseShape(shape);
        AddsPerSecond = SumFloor.IsMeasured ? SumFloor.VectorAddsPerSecond() : 0;
        (int warmMs, int rounds, int batchMs) = quick ? (40, 5, 2) : (100, 9, 3);
        var points = Sample(count ?? (quick ? 400 : 600), seed)
            .Where(p => match == null || match.Split(',').Any(part => p.Name.Contains(part, StringComparison.OrdinalIgnoreCase)))
            .Where(p => Fits(p.Descriptor, Shape)).ToList();
        string loadBefore = RunResults.LoadAverage();
        var clock = Stopwatch.StartNew();
        var rows = new List<Row>();
        // The first configuration measured in a process ran several times slower than the same one measured later
        // (start-up work still going on); a throwaway measurement keeps that out of the table.
        if (points.Count > 0) _ = points[0].IsDouble ? Measure<double>(points[0], warmMs, 1, batchMs) : Measure<float>(points[0], warmMs, 1, batchMs);
        foreach (var point in points)
        {
            var row = point.IsDouble ? Measure<double>(point, warmMs, rounds, batchMs) : Measure<float>(point, warmMs, rounds, batchMs);
            rows.Add(row);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(row.Ratio is double r ? r.ToString("F2", CultureInfo.InvariantCulture) : "  n/a"),6}  {row.EngineUs,8:F1} µs {row.EngineUs / row.FloorUs,5:F1}x floor  {point.Name}{(row.OrtFloat ? " (ORT f32)" : "")}  [{RouteOf(point)}]{(row.Problem != null ? "  WRONG: " + row.Problem : "")}"));
        }
        Print(rows, quick, seed, loadBefore, clock.Elapsed);
        return rows.Any(r => r.Problem != null) ? 1 : 0;
    }

    /// <summary>The engine route that takes the point on the grid's shape.</summary>
    private static EngineRoute RouteOf(Point point)
    {
        var descriptor = point.Descriptor;
        var plan = new PoolPlan(descriptor, Shape, descriptor.GetOutputShape(Shape));
        return point.IsDouble ? EngineRoutes<double>.RouteOf(plan) : EngineRoutes<float>.RouteOf(plan);
    }

    /// <summary>A shape written NxCxHxW.</summary>
    internal static PoolShape ParseShape(string text)
    {
        int[] d = text.Split('x').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return new PoolShape(d[0], d[1], d[2], d[3]);
    }

    /// <summary>Whether the configuration's windows fit <paramref name="shape"/> (at least one output on each axis).</summary>
    internal static bool Fits(in PoolDescriptor descriptor, PoolShape shape)
    {
        try { descriptor.GetOutputShape(shape); return true; }
        catch (ArgumentException) { return false; }
    }

    /// <summary>
    /// A deterministic sample: point i takes kernel and stride values that cycle through every value on each axis
    /// (height and width cycles shifted against each other, so pairs vary), everything else drawn from
    /// <paramref name="seed"/>; then the issue's two named cases.
    /// </summary>
    internal static List<Point> Sample(int count, int seed)
    {
        var random = new Random(seed);
        var points = new List<Point>
        {
            // The issue's cliffs: max 3x1 with horizontal stride 3, double average 3x3 with horizontal stride 3.
            new(Op.Max, false, PoolLayout.ChannelsFirst, 3, 1, 1, 3, 0, 0, 0, 0, 1, 1, false),
            new(Op.AverageIncludePad, true, PoolLayout.ChannelsFirst, 3, 3, 1, 3, 0, 0, 0, 0, 1, 1, false),
        };
        for (int i = 0; points.Count < count; i++)
        {
            int kh = 1 + i % 9, kw = 1 + (i + i / 9) % 9, sh = 1 + i % 4, sw = 1 + (i + i / 4) % 4;
            var op = (Op)random.Next(3);
            bool dilated = op == Op.Max && random.Next(4) == 0;
            int dh = dilated && kh > 1 ? random.Next(1, 4) : 1, dw = dilated && kw > 1 ? random.Next(1, 4) : 1;
            // ONNX Runtime wants pads below the kernel, PyTorch at most half of it: both hold.
            int Pad(int k) => random.Next(3) == 0 ? 0 : random.Next(0, k / 2 + 1);
            points.Add(new Point(op, random.Next(4) == 0, random.Next(2) == 0 ? PoolLayout.ChannelsFirst : PoolLayout.ChannelsLast,
                kh, kw, sh, sw, Pad(kh), Pad(kh), Pad(kw), Pad(kw), dh, dw, random.Next(3) == 0));
        }
        return points;
    }

    private static Row Measure<T>(Point point, int warmMs, int rounds, int batchMs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = point.Descriptor;
        var outputShape = descriptor.GetOutputShape(Shape);
        using var input = new AlignedBuffer<T>((int)Shape.ElementCount);
        using var output = new AlignedBuffer<T>((int)outputShape.ElementCount);
        var random = new Random(17);
        for (int i = 0; i < input.Length; i++) input.Span[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
        void Engine()
        {
            if (typeof(T) == typeof(float))
                Pooling.RunGeneral(descriptor, MemoryMarshal.Cast<T, float>(input.Span), MemoryMarshal.Cast<T, float>(output.Span), Shape, 1);
            else
                Pooling.RunGeneral(descriptor, MemoryMarshal.Cast<T, double>(input.Span), MemoryMarshal.Cast<T, double>(output.Span), Shape, 1);
        }

        // The roofline: one copy of the bytes the operation must read and write.
        long bytes = (Shape.ElementCount + outputShape.ElementCount) * Marshal.SizeOf<T>();
        using var copySource = new AlignedBuffer<byte>((int)bytes);
        using var copyTarget = new AlignedBuffer<byte>((int)bytes);
        void Copy() => copySource.Span.CopyTo(copyTarget.Span);

        string? problem = null;
        Warm(Engine, warmMs);
        Warm(Copy, warmMs / 4);
        // ONNX Runtime has no double AveragePool: those points are compared with its float AveragePool (marked "ORT f32").
        using var ortSame = TryRunner<T>(point.Spec);
        using var ortFloat = ortSame == null && typeof(T) == typeof(double) ? TryRunner<float>(point.Spec) : null;
        Action? ortRun = ortSame != null ? ortSame.Run : ortFloat != null ? ortFloat.Run : null;
        if (ortSame != null)
        {
            ToChannelsFirst<T>(input.Span, ortSame.Input, point.Layout);
            Warm(ortSame.Run, warmMs);
            problem = Compare<T, T>(output.Span, ortSame.Output, outputShape, point.Layout, point.Op == Op.Max);
        }
        else if (ortFloat != null)
        {
            var asFloat = new float[input.Length];
            for (int i = 0; i < asFloat.Length; i++) asFloat[i] = float.CreateTruncating(input.Span[i]);
            ToChannelsFirst<float>(asFloat, ortFloat.Input, point.Layout);
            Warm(ortFloat.Run, warmMs);
            problem = Compare<T, float>(output.Span, ortFloat.Output, outputShape, point.Layout, exact: false);
        }

        double engine = double.MaxValue, onnx = double.MaxValue, copy = double.MaxValue;
        for (int round = 0; round < rounds; round++)
        {
            engine = Math.Min(engine, Batch(Engine, batchMs));
            if (ortRun != null) onnx = Math.Min(onnx, Batch(ortRun, batchMs));
            copy = Math.Min(copy, Batch(Copy, 1));
        }
        double? sums = point.Op == Op.Max || AddsPerSecond == 0 ? null : SumFloor.VectorAdds<T>(descriptor, Shape) / AddsPerSecond * 1e6;
        return new Row(point, engine, ortRun != null ? onnx : null, copy, problem, OrtFloat: ortFloat != null, sums);
    }

    /// <summary>An ONNX Runtime session for the configuration, or null where ONNX Runtime rejects it.</summary>
    private static OnnxPoolRunner<TOrt>? TryRunner<TOrt>(OnnxPoolSpec spec) where TOrt : unmanaged
    {
        try
        {
            var runner = new OnnxPoolRunner<TOrt>(spec, OnnxPoolRunner<TOrt>.ToDims(Shape));
            runner.Run();
            return runner;
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException) { return null; }
    }

    /// <summary>The same tensor in NCHW order (a copy for channels first).</summary>
    private static void ToChannelsFirst<T>(ReadOnlySpan<T> source, Span<T> target, PoolLayout layout)
    {
        if (layout == PoolLayout.ChannelsFirst) { source.CopyTo(target); return; }
        int planeSize = Shape.Height * Shape.Width, channels = Shape.Channels;
        for (int n = 0; n < Shape.Batch; n++)
            for (int c = 0; c < channels; c++)
                for (int i = 0; i < planeSize; i++)
                    target[(n * channels + c) * planeSize + i] = source[(n * planeSize + i) * channels + c];
    }

    private static string? Compare<T, TOrt>(ReadOnlySpan<T> engine, ReadOnlySpan<TOrt> ort, PoolShape outputShape, PoolLayout layout, bool exact)
        where T : unmanaged, IFloatingPointIeee754<T> where TOrt : unmanaged, IFloatingPointIeee754<TOrt>
    {
        int planeSize = outputShape.Height * outputShape.Width, channels = outputShape.Channels;
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < planeSize; i++)
            {
                T a = layout == PoolLayout.ChannelsFirst ? engine[c * planeSize + i] : engine[i * channels + c];
                TOrt e = ort[c * planeSize + i];
                double ad = double.CreateTruncating(a), ed = double.CreateTruncating(e);
                bool ok = exact ? ad == ed : Math.Abs(ad - ed) <= 1e-5 * Math.Max(1, Math.Abs(ed));
                if (!ok) return string.Create(CultureInfo.InvariantCulture, $"channel {c} cell {i}: {ad:R}, ONNX Runtime {ed:R}");
            }
        return null;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }

    private static void Print(List<Row> rows, bool quick, int seed, string loadBefore, TimeSpan elapsed)
    {
        var inv = CultureInfo.InvariantCulture;
        var compared = rows.Where(r => r.Ratio != null).OrderBy(r => r.Ratio).ToList();
        Console.WriteLine();
        Console.WriteLine($"Grid: Pooling.RunGeneral against ONNX Runtime {typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version} " +
                          $"(both one thread) on {Shape.Batch}x{Shape.Channels}x{Shape.Height}x{Shape.Width}; seed {seed}, {(quick ? "quick" : "full")}, " +
                          $"{rows.Count} points in {elapsed.TotalSeconds:F0} s; load average before {loadBefore}, after {RunResults.LoadAverage()}.");
        Console.WriteLine("ratio = ONNX Runtime time / engine time (fastest batch of each); goal >= 1.5. GB/s = input + output bytes / engine time;");
        Console.WriteLine("copy = the engine's time over one copy of those bytes; floor = over the larger of that copy and the sums below. nhwc points: ONNX Runtime pools the same data in NCHW (it has no NHWC pooling).");
        Console.WriteLine(AddsPerSecond > 0
            ? string.Create(inv, $"sums = an average's time over the time of its additions at this machine's peak ({AddsPerSecond / 1e9:F2} G 512-bit additions/s measured, add and FMA pipes):")
              + " PyTorch adds each window's cells one by one, so no route can make fewer (bench/SumFloor.cs)."
            : "sums: not measured here (no 512-bit vectors); the floor is the copy alone.");
        Console.WriteLine("(ORT f32): ONNX Runtime has no double AveragePool; the point is compared with its float AveragePool on the same configuration.");
        Console.WriteLine();
        Console.WriteLine($"| {"ratio",5} | {"engine µs",9} | {"ORT µs",8} | {"GB/s",5} | {"copy",5} | {"sums",5} | configuration |");
        Console.WriteLine("| ----- | --------- | -------- | ----- | ----- | ----- | ------------- |");
        foreach (var r in compared.Take(quick ? 15 : 25))
        {
            var outputShape = r.Point.Descriptor.GetOutputShape(Shape);
            double bytes = (Shape.ElementCount + outputShape.ElementCount) * (r.Point.IsDouble ? 8.0 : 4.0);
            Console.WriteLine(string.Format(inv, "| {0,5:F2} | {1,9:F1} | {2,8:F1} | {3,5:F1} | {4,5:F1} | {5,5} | {6}{7} |",
                r.Ratio, r.EngineUs, r.OrtUs, bytes / r.EngineUs / 1e3, r.EngineUs / r.CopyUs,
                r.SumsUs is double sums ? (r.EngineUs / sums).ToString("F1", inv) : "-", r.Point.Name + (r.OrtFloat ? " (ORT f32)" : ""),
                r.Problem == null ? "" : " WRONG: " + r.Problem));
        }
        Console.WriteLine();
        var below = compared.Where(r => r.Ratio < Goal).ToList();
        Console.WriteLine($"{compared.Count} points compared with ONNX Runtime, {rows.Count - compared.Count} rejected by it; " +
                          $"{below.Count} below {Goal.ToString(inv)}x, {compared.Count(r => r.Ratio < 1)} below 1x.");
        var own = compared.Where(r => !r.OrtFloat).ToList();
        Console.WriteLine($"Against ONNX Runtime's own operator (without the double averages' float stand-in): {own.Count} points, " +
                          $"{own.Count(r => r.Ratio < Goal)} below {Goal.ToString(inv)}x, {own.Count(r => r.Ratio < 1)} below 1x.");
        // The goal asks the engine for ORT's time / 1.5; where that is less than one copy of the bytes, memory speed rules it out.
        var pastCopy = compared.Where(r => r.OrtUs / Goal < r.CopyUs).ToList();
        Console.WriteLine($"Goal faster than one copy of the bytes (out of reach at memory speed): {pastCopy.Count} points, " +
                          $"{pastCopy.Count(r => r.OrtFloat)} of them double averages against ORT's float.");
        // Likewise for an average's additions: PyTorch's order allows none fewer.
        var pastSums = compared.Where(r => r.OrtUs / Goal < r.SumsUs).ToList();
        Console.WriteLine($"Goal faster than the additions at this machine's peak (out of reach with PyTorch's sums): {pastSums.Count} points, " +
                          $"{pastSums.Count(r => r.OrtFloat)} of them double averages against ORT's float.");
        var ownBelow = compared.Where(r => !r.OrtFloat && r.Ratio < Goal).ToList();
        Console.WriteLine($"Of the {ownBelow.Count} points below {Goal.ToString(inv)}x ONNX Runtime's own operator, {ownBelow.Count(r => r.OrtUs / Goal < r.FloorUs)} " +
                          $"are out of reach by either bound (max {ownBelow.Count(r => r.Point.Op == Op.Max && r.OrtUs / Goal < r.FloorUs)} of {ownBelow.Count(r => r.Point.Op == Op.Max)}, " +
                          $"averages {ownBelow.Count(r => r.Point.Op != Op.Max && r.OrtUs / Goal < r.FloorUs)} of {ownBelow.Count(r => r.Point.Op != Op.Max)}); " +
                          $"the others need the engine at {Goal.ToString(inv)}x ONNX Runtime, median {Median(ownBelow.Where(r => r.OrtUs / Goal >= r.FloorUs).Select(r => r.EngineUs * Goal / r.OrtUs!.Value)).ToString("F2", inv)}x faster than now.");
        Console.WriteLine("Below " + Goal.ToString(inv) + "x by layout and type: " + string.Join(", ", compared
            .GroupBy(r => $"{(r.Point.Layout == PoolLayout.ChannelsLast ? "nhwc" : "nchw")} {(r.Point.IsDouble ? "f64" : "f32")}")
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Count(r => r.Ratio < Goal)} of {g.Count()}")) + ".");
        if (compared.Count > 0)
        {
            double geomean = Math.Exp(compared.Average(r => Math.Log(r.Ratio!.Value)));
            Console.WriteLine(string.Format(inv, "Ratio: worst {0:F2}, median {1:F2}, geometric mean {2:F2}. Slowest engine point: {3:F1} µs ({4}).",
                compared[0].Ratio, compared[compared.Count / 2].Ratio, geomean, rows.Max(r => r.EngineUs), rows.MaxBy(r => r.EngineUs)!.Point.Name));
        }
        foreach (var r in rows.Where(r => r.Ratio == null).OrderByDescending(r => r.EngineUs).Take(5))
            Console.WriteLine(string.Format(inv, "  not in ONNX Runtime: {0} ({1:F1} µs, {2:F1}x copy)", r.Point.Name, r.EngineUs, r.EngineUs / r.CopyUs));
        if (rows.Any(r => r.Problem != null)) Console.Error.WriteLine("Some engine results differ from ONNX Runtime's (WRONG above).");
    }
}
