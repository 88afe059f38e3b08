using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Reflection;
using System.Runtime.InteropServices;
using KernelGen.Testing;

namespace KernelGen.Bench;

/// <summary>
/// <c>--specialization</c>: every <see cref="SpecializationKernels"/> method against the general engine
/// (<c>Pooling.RunGeneral</c>, one thread) on 1x32x57x57, both in the same process and interleaved, with every loss
/// listed. A specialized kernel slower than the engine it displaces should not be generated (issue 17).
/// </summary>
/// <remarks>
/// Not BenchmarkDotNet: 130 configurations times two methods would take an hour there. It runs without tiered
/// compilation (see <see cref="RunWithoutTiering"/>). Each configuration is warmed, then timed in alternating batches
/// (specialized, general, ...) of at least <c>batchMs</c>; a method's time is its fastest batch's mean call, the figure least disturbed by the other
/// processes on a shared machine (short batches fit between their time slices). A configuration whose first ratio is
/// below 1.1 is timed as long again, and its times become the fastest batches of both.
/// </remarks>
public static class SpecializationBench
{
    /// <summary>The issue's shape, unless <c>--shape NxCxHxW</c> says otherwise.</summary>
    private static PoolShape Shape = new(1, 32, 57, 57);

    /// <summary>One configuration's times in µs: the first measurement, and the fastest of both when it was repeated.</summary>
    private sealed record Row(string Name, string Emitter, double GeneralUs, double SpecializedUs, double? FirstRatio, string? Problem)
    {
        public double Ratio => GeneralUs / SpecializedUs;
    }

    /// <summary>
    /// Runs the mode in a child process without tiered compilation, which compiles every method fully optimized on its
    /// first call, the code a warm application runs: with tiering, a kernel's helper methods were promoted at a different
    /// moment in every process on a loaded machine, and some processes measured their first-tier code (bench/notes.md).
    /// </summary>
    public static int RunWithoutTiering(string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            start.ArgumentList.Add(typeof(SpecializationBench).Assembly.Location);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_TieredCompilation"] = "0";
        using var child = Process.Start(start)!;
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>Whether this process is the child <see cref="RunWithoutTiering"/> started.</summary>
    public static bool TieringOff => Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") == "0";

    /// <summary>Runs the mode; <paramref name="quick"/> takes fewer, shorter batches. <paramref name="match"/> keeps only kernel names containing it (or one of its comma-separated parts).</summary>
    public static int Run(bool quick, string? match, string? shape)
    {
        if (shape != null)
        {
            int[] d = shape.Split('x').Select(int.Parse).ToArray();
            Shape = new PoolShape(d[0], d[1], d[2], d[3]);
        }
        (int warmMs, int rounds, int batchMs) = quick ? (150, 7, 2) : (300, 15, 2);
        string loadBefore = RunResults.LoadAverage();
        var rows = new List<Row>();
        var notSpecialized = new List<string>();
        var methods = typeof(SpecializationKernels).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.GetCustomAttribute<PoolKernelAttribute>() != null).OrderBy(m => m.Name, StringComparer.Ordinal);
        foreach (var method in methods)
        {
            var attribute = method.GetCustomAttribute<PoolKernelAttribute>()!;
            var descriptor = Describe(attribute);
            bool isDouble = method.GetParameters()[0].ParameterType == typeof(ReadOnlySpan<double>);
            string? name = isDouble ? Name<double>(descriptor) : Name<float>(descriptor);
            if (name == null)
            {
                notSpecialized.Add($"{method.Name} {descriptor} {(isDouble ? "double" : "float")}");
                continue;
            }
            if (match != null && !match.Split(',').Any(part => name.Contains(part, StringComparison.OrdinalIgnoreCase))) continue;
            if (!GridBench.Fits(descriptor, Shape)) // a window larger than a small --shape's plane
            {
                Console.WriteLine($"  -     {name}: does not fit {Shape}");
                continue;
            }
            var row = isDouble
                ? Measure<double>(method, name, descriptor, attribute, warmMs, rounds, batchMs)
                : Measure<float>(method, name, descriptor, attribute, warmMs, rounds, batchMs);
            rows.Add(row);
            Console.WriteLine($"{row.Ratio,6:F2}  {name}");
        }
        Print(rows, notSpecialized, quick, loadBefore);
        return rows.Any(r => r.Problem != null) ? 1 : 0;
    }

    private static Row Measure<T>(MethodInfo method, string name, PoolDescriptor descriptor, PoolKernelAttribute attribute, int warmMs, int rounds, int batchMs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = method.CreateDelegate<SpecializedPoolKernel<T>>();
        using var input = new AlignedBuffer<T>((int)Shape.ElementCount);
        int outputLength = (int)descriptor.GetOutputShape(Shape).ElementCount;
        using var specializedOutput = new AlignedBuffer<T>(outputLength);
        using var generalOutput = new AlignedBuffer<T>(outputLength);
        var random = new Random(17);
        for (int i = 0; i < input.Length; i++)
            input.Span[i] = T.CreateTruncating(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

        void Specialized() => kernel(input.Span, specializedOutput.Span, Shape);
        void General() => RunGeneral(descriptor, input.Span, generalOutput.Span);

        Warm(Specialized, warmMs);
        Warm(General, warmMs);
        string? problem = Compare(specializedOutput.Span, generalOutput.Span, attribute.Mode == PoolMode.Max);
        var (specialized, general) = TimePair(Specialized, General, rounds, batchMs);
        var row = new Row(name, Emitter(attribute, descriptor), general, specialized, null, problem);
        if (row.Ratio >= 1.1) return row;
        var (specializedAgain, generalAgain) = TimePair(Specialized, General, rounds, batchMs);
        return row with { GeneralUs = Math.Min(general, generalAgain), SpecializedUs = Math.Min(specialized, specializedAgain), FirstRatio = row.Ratio };
    }

    private static void RunGeneral<T>(in PoolDescriptor descriptor, Span<T> input, Span<T> output)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            Pooling.RunGeneral(descriptor, MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output), Shape, 1);
        else
            Pooling.RunGeneral(descriptor, MemoryMarshal.Cast<T, double>(input), MemoryMarshal.Cast<T, double>(output), Shape, 1);
    }

    /// <summary>Calls the method for <paramref name="ms"/> and at least 100 times: caches, branch predictors, page faults.</summary>
    internal static void Warm(Action method, int ms)
    {
        var clock = Stopwatch.StartNew();
        for (int calls = 0; clock.ElapsedMilliseconds < ms || calls < 100; calls++)
            method();
    }

    /// <summary>The fastest batch's mean call of each method, in µs, over <paramref name="rounds"/> alternating batches.</summary>
    private static (double A, double B) TimePair(Action a, Action b, int rounds, int batchMs)
    {
        double bestA = double.MaxValue, bestB = double.MaxValue;
        for (int round = 0; round < rounds; round++)
        {
            bestA = Math.Min(bestA, Batch(a, batchMs));
            bestB = Math.Min(bestB, Batch(b, batchMs));
        }
        return (bestA, bestB);
    }

    internal static double Batch(Action method, int batchMs)
    {
        long limit = Stopwatch.Frequency * batchMs / 1000;
        long start = Stopwatch.GetTimestamp(), now;
        int calls = 0;
        do
        {
            method();
            calls++;
            now = Stopwatch.GetTimestamp();
        } while (now - start < limit);
        return (now - start) * 1e6 / Stopwatch.Frequency / calls;
    }

    /// <summary>Max must match bit for bit; average within 1e-5 relative (floor 1), as the other benchmarks check.</summary>
    private static string? Compare<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected, bool exact)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double a = double.CreateTruncating(actual[i]), e = double.CreateTruncating(expected[i]);
            bool ok = exact ? actual[i].Equals(expected[i]) : Math.Abs(a - e) <= 1e-5 * Math.Max(1, Math.Abs(e));
            if (!ok) return $"differs from the general engine at output {i}: {a:R} vs {e:R}";
        }
        return null;
    }

    private static string? Name<T>(in PoolDescriptor descriptor) where T : unmanaged, IFloatingPointIeee754<T> =>
        PoolKernelRegistry.TryGet<T>(descriptor, out _, out var name) ? name : null;

    /// <summary>The descriptor the attribute means (its per-axis properties override the square ones).</summary>
    private static PoolDescriptor Describe(PoolKernelAttribute a)
    {
        var kernel = (a.KernelHeight != 0 ? a.KernelHeight : a.Size, a.KernelWidth != 0 ? a.KernelWidth : a.Size);
        var stride = (a.StrideHeight != 0 ? a.StrideHeight : a.Stride, a.StrideWidth != 0 ? a.StrideWidth : a.Stride);
        var padding = (a.PaddingHeight >= 0 ? a.PaddingHeight : a.Padding, a.PaddingWidth >= 0 ? a.PaddingWidth : a.Padding);
        // The end padding, as the generator reads it: per axis, else PaddingEnd, else the axis's begin padding.
        var end = (a.PaddingHeightEnd >= 0 ? a.PaddingHeightEnd : a.PaddingEnd >= 0 ? a.PaddingEnd : padding.Item1,
            a.PaddingWidthEnd >= 0 ? a.PaddingWidthEnd : a.PaddingEnd >= 0 ? a.PaddingEnd : padding.Item2);
        if (end != padding)
            return PoolDescriptor.Create(a.Mode,
                [new PoolAxis(kernel.Item1, stride.Item1, padding.Item1, end.Item1, a.Dilation), new PoolAxis(kernel.Item2, stride.Item2, padding.Item2, end.Item2, a.Dilation)],
                a.CeilMode, a.CountIncludePad, a.DivisorOverride == 0 ? null : a.DivisorOverride, a.Layout, PoolConvention.Onnx);
        return a.Mode == PoolMode.Max
            ? PoolDescriptor.MaxPool2d(kernel, stride, padding, (a.Dilation, a.Dilation), a.CeilMode, a.Layout)
            : PoolDescriptor.AvgPool2d(kernel, stride, padding, a.CeilMode, a.CountIncludePad, a.DivisorOverride == 0 ? null : a.DivisorOverride, a.Layout);
    }

    /// <summary>Which emitter wrote the kernel, as <c>KernelEmitter.For</c> chooses (a label for the table only).</summary>
    private static string Emitter(PoolKernelAttribute a, PoolDescriptor d)
    {
        var (kh, kw, sh, sw) = (d.GetAxis(0).Kernel, d.GetAxis(1).Kernel, d.GetAxis(0).Stride, d.GetAxis(1).Stride);
        bool max = a.Mode == PoolMode.Max;
        if (a.Layout == PoolLayout.ChannelsFirst)
            return max && sw == 1 ? "SeparableMax" : "ChannelsFirst";
        if (max && a.Dilation == 1 && (sh < kh || sw < kw)) return "SeparableMaxChannelsLast";
        if (!max && sw < kw && kh * kw <= 16) return "SlidingAverageChannelsLast";
        return $"ChannelsLast ({kh * kw} taps)";
    }

    private static void Print(List<Row> rows, List<string> notSpecialized, bool quick, string loadBefore)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"Specialized [PoolKernel] against Pooling.RunGeneral, one thread, {Shape.Batch}x{Shape.Channels}x{Shape.Height}x{Shape.Width}; " +
                          $"{(quick ? "quick" : "full")}; load average before {loadBefore}, after {RunResults.LoadAverage()}.");
        Console.WriteLine("ratio = general time / specialized time (fastest batch of each); below 1 the kernel loses. 'first' is the first measurement of a ratio timed twice (below 1.1).");
        Console.WriteLine();
        Console.WriteLine($"| {"ratio",6} | {"first",6} | {"general µs",10} | {"special. µs",11} | {"kernel",-44} | emitter |");
        Console.WriteLine($"| {new string('-', 6)} | {new string('-', 6)} | {new string('-', 10)} | {new string('-', 11)} | {new string('-', 44)} | ------- |");
        foreach (var r in rows.OrderBy(r => r.Ratio))
            Console.WriteLine(string.Format(inv, "| {0,6:F2} | {1,6} | {2,10:F1} | {3,11:F1} | {4,-44} | {5}{6} |",
                r.Ratio, r.FirstRatio is double first ? first.ToString("F2", inv) : "", r.GeneralUs, r.SpecializedUs, r.Name, r.Emitter,
                r.Problem == null ? "" : " WRONG: " + r.Problem));
        Console.WriteLine();
        var losses = rows.Where(r => r.Ratio < 1).OrderBy(r => r.Ratio).ToList();
        Console.WriteLine($"{rows.Count} specialized configurations timed; {losses.Count} lose" +
                          (losses.Count == 0 ? "." : ": " + string.Join(", ", losses.Select(r => r.Name))));
        if (rows.Count > 0)
        {
            var worst = rows.MinBy(r => r.Ratio)!;
            Console.WriteLine(string.Format(inv, "Worst ratio: {0:F2} ({1}, {2}).", worst.Ratio, worst.Name, worst.Emitter));
        }
        Console.WriteLine($"{notSpecialized.Count} not specialized (the generator calls the general engine, KG0009), not timed:");
        foreach (var line in notSpecialized) Console.WriteLine("  " + line);
        if (rows.Any(r => r.Problem != null)) Console.Error.WriteLine("Some kernels differ from the general engine (WRONG above).");
    }
}
