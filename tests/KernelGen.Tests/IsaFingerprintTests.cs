using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// A fixed, deterministic set of engine calls whose output bytes are hashed. One process runs on one instruction set,
/// so every run compares its hashes with the committed ones (TestData/isa-fingerprint.txt): run under each
/// DOTNET_Enable* setting, as CI does, it checks bit-identity across AVX-512, AVX2, SSE and scalar code. CI also
/// writes each run's hashes to the file KERNELGEN_FINGERPRINT_OUT names and diffs the files. Every run also checks
/// the engine against the scalar reference on the same calls.
/// </summary>
[Trait("Category", "Kernel")]
public class IsaFingerprintTests(ITestOutputHelper log)
{
    public const string OutputVariable = "KERNELGEN_FINGERPRINT_OUT";

    private static readonly (string Name, Func<PoolLayout, PoolDescriptor> Create, PoolShape Shape, bool Indices)[] Windowed =
    [
        ("max2d-k3s2p1", l => PoolDescriptor.MaxPool2d(3, 2, 1, layout: l), new PoolShape(2, 19, 11, 37), false),
        ("max2d-k2s2", l => PoolDescriptor.MaxPool2d(2, layout: l), new PoolShape(1, 33, 9, 35), false),
        ("max2d-k3s1p1-indices", l => PoolDescriptor.MaxPool2d(3, 1, 1, layout: l), new PoolShape(2, 7, 13, 17), true),
        ("max1d-k5s3p2d2-ceil", l => PoolDescriptor.MaxPool1d(5, 3, 2, 2, ceilMode: true, layout: l), new PoolShape(3, 21, 67), false),
        ("max3d-k3s2p1", l => PoolDescriptor.MaxPool3d(3, 2, 1, layout: l), new PoolShape(1, 13, 5, 7, 23), false),
        ("max2d-onnx-asym-dilated", l => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 2, 0, 2, 2), new PoolAxis(4, 3, 3, 1, 1)], ceilMode: true, layout: l), new PoolShape(2, 9, 15, 31), false),
        ("avg2d-k3s1p1-include", l => PoolDescriptor.AvgPool2d(3, 1, 1, layout: l), new PoolShape(2, 19, 11, 37), false),
        ("avg2d-k3s2p1-ceil-exclude", l => PoolDescriptor.AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false, layout: l), new PoolShape(1, 17, 14, 33), false),
        ("avg2d-k5s1p2-divisor7", l => PoolDescriptor.AvgPool2d(5, 1, 2, divisorOverride: 7, layout: l), new PoolShape(1, 5, 9, 41), false),
        ("avg1d-k4s3p2", l => PoolDescriptor.AvgPool1d(4, 3, 2, layout: l), new PoolShape(2, 23, 71), false),
        ("avg3d-k2s1", l => PoolDescriptor.AvgPool3d(2, 1, layout: l), new PoolShape(1, 11, 4, 6, 19), false),
        // Narrow rows (at most 4 vectors of either element type) with stride 1 and centred windows: NarrowRowsMax and
        // NarrowRowsAverage on AVX-512, odd row counts included; channels last, more channels than a vector, not a
        // multiple of it: ChannelsLastSlidingSum's overlapping last block.
        ("max2d-k3s1p1-narrow", l => PoolDescriptor.MaxPool2d(3, 1, 1, layout: l), new PoolShape(2, 21, 9, 29), false),
        ("max2d-k5s1p2-narrow", l => PoolDescriptor.MaxPool2d(5, 1, 2, layout: l), new PoolShape(1, 19, 8, 20), false),
        ("avg2d-k3s1p1-exclude-narrow", l => PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false, layout: l), new PoolShape(1, 23, 7, 30), false),
        ("avg2d-onnx-asym-dilated", l => PoolDescriptor.Create(PoolMode.Average, [new PoolAxis(3, 1, 2, 0, 2), new PoolAxis(2, 2, 1, 1, 3)], ceilMode: true, countIncludePad: true, layout: l), new PoolShape(2, 9, 12, 29), false),
    ];

    private static readonly PoolShape[] GlobalShapes =
    [
        new PoolShape(2, 37, 13, 29),
        new PoolShape(1, 64, 7, 7),
        new PoolShape(3, 5, 1001),
        new PoolShape(1, 3, 3, 5, 17),
        new PoolShape(1, 35, 7, 7), // global average NCHW: two blocks of 16 planes and a remainder, 1-cell tails
        new PoolShape(2, 17, 15), // planes shorter than one stripe row: only a tail
    ];

    private static readonly int[] Styles = [0, 2]; // normal values; NaN, ±inf, -0 and halves mixed in

    [Fact]
    public void FingerprintsMatchTheReference()
    {
        var lines = new List<string>();
        Collect<float>(lines);
        Collect<double>(lines);
        lines.Sort(StringComparer.Ordinal);

        string? path = Environment.GetEnvironmentVariable(OutputVariable);
        if (!string.IsNullOrEmpty(path))
        {
            File.WriteAllLines(path, lines);
            log.WriteLine($"Wrote {lines.Count} fingerprints to {path}.");
        }
        Assert.Equal(2 * 2 * Styles.Length * (Windowed.Length + 2 * GlobalShapes.Length), lines.Count);

        // The same bits on every instruction set: this process's fingerprints against the committed ones.
        if (Environment.GetEnvironmentVariable("KERNELGEN_ACCEPT") == "1")
        {
            File.WriteAllLines(ExpectedSourcePath(), lines);
            log.WriteLine($"Accepted {lines.Count} fingerprints into {ExpectedSourcePath()}.");
            return;
        }
        string[] expected = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, ExpectedFile));
        var differing = lines.Except(expected, StringComparer.Ordinal).ToList();
        Assert.True(differing.Count == 0 && lines.Count == expected.Length,
            $"{differing.Count} of {lines.Count} fingerprints differ from {ExpectedFile} ({expected.Length} lines) on this instruction set " +
            $"({IsaFingerprintTests.InstructionSets}); the first: {string.Join("; ", differing.Take(5))}. If the change of results is " +
            "intended on every instruction set, re-accept with KERNELGEN_ACCEPT=1.");
    }

    /// <summary>The committed fingerprints every instruction set must reproduce (copied next to the test assembly).</summary>
    private const string ExpectedFile = "TestData/isa-fingerprint.txt";

    private static string ExpectedSourcePath([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, ExpectedFile);

    private static string InstructionSets =>
        $"Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, Vector256 {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}, " +
        $"Vector128 {System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated}";

    private static void Collect<T>(List<string> lines) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var layout in new[] { PoolLayout.ChannelsFirst, PoolLayout.ChannelsLast })
        {
            foreach (int style in Styles)
            {
                string prefix = $"{typeof(T).Name}/{layout}/{RandomInput.StyleName(style)}";
                foreach (var (name, create, shape, withIndices) in Windowed)
                {
                    var descriptor = create(layout);
                    var input = RandomInput.Create<T>((int)shape.ElementCount, style, Seed(name, style));
                    var (output, indices) = Engine.Pool<T>(descriptor, input, shape, withIndices, maxDop: 1);
                    string context = $"{prefix}/{name} {descriptor} {shape}";
                    if (descriptor.Mode == PoolMode.Max)
                    {
                        var (expected, expectedIndices) = ReferencePooling.Max<T>(descriptor, input, shape);
                        PoolAssert.Exact<T>(expected, output, context);
                        if (withIndices) PoolAssert.Indices(expectedIndices, indices, context);
                    }
                    else
                    {
                        PoolAssert.Bits<T>(ReferencePooling.Average<T>(descriptor, input, shape), output, context);
                    }
                    lines.Add($"{prefix}/{name} {Hash<T>(output, indices)}");
                }

                foreach (var shape in GlobalShapes)
                {
                    var input = RandomInput.Create<T>((int)shape.ElementCount, style, Seed(shape.ToString(), style));
                    var layoutInput = layout == PoolLayout.ChannelsLast ? ReferencePooling.ToChannelsLast<T>(input, shape) : input;
                    var max = new T[shape.PlaneCount];
                    var average = new T[shape.PlaneCount];
                    Engine.GlobalMax<T>(layoutInput, max, shape, layout, 1);
                    Engine.GlobalAverage<T>(layoutInput, average, shape, layout, 1);
                    string context = $"{prefix}/global {shape}";
                    PoolAssert.Exact<T>(ReferencePooling.GlobalMax<T>(layoutInput, shape, layout), max, context + " max");
                    PoolAssert.Bits<T>(ReferencePooling.GlobalAverage<T>(layoutInput, shape, layout), average, context + " average");
                    lines.Add($"{prefix}/global-max-{shape} {Hash<T>(max, null)}");
                    lines.Add($"{prefix}/global-avg-{shape} {Hash<T>(average, null)}");
                }
            }
        }
    }

    private static int Seed(string name, int style)
    {
        // string.GetHashCode is randomized per process; the fingerprint needs the same input in every process.
        int hash = 17 + style;
        foreach (char c in name) hash = unchecked(hash * 31 + c);
        return hash & 0x7fffffff;
    }

    private static string Hash<T>(T[] output, long[]? indices) where T : unmanaged
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(MemoryMarshal.AsBytes(output.AsSpan()));
        if (indices is not null) sha.AppendData(MemoryMarshal.AsBytes(indices.AsSpan()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
