using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;
using KernelGen.Testing;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Seeded random user configurations, generated, compiled in memory against the real KernelGen.dll in one
/// compilation, loaded, and compared bit for bit with the general engine on random inputs (NaN, infinities, signed
/// zeros, ties) over every width from 1 to 2V + 1 of a 512-bit vector. CI reruns this category under narrower ISAs.
/// </summary>
[Trait("Category", "Kernel")]
public class RandomKernelTests(ITestOutputHelper log)
{
    /// <summary>CI points this at a file per ISA run; this assembly writes "&lt;path&gt;.generated" next to the engine's fingerprints.</summary>
    public const string FingerprintVariable = "KERNELGEN_FINGERPRINT_OUT";

    private static readonly Lazy<CompiledKernels> Compiled = new(() => CompiledKernels.Build(RandomConfigurations.All, "KernelGen.RandomUserKernels").Load());

    public static IEnumerable<object[]> Configurations() => RandomConfigurations.All.Select(c => new object[] { c.Index });

    [Fact]
    public void EveryRandomConfigurationCompiles()
    {
        var broken = Compiled.Value.Broken;
        Assert.True(broken.Count == 0,
            $"{broken.Count} of {RandomConfigurations.Count} generated kernels do not compile:\n" +
            string.Join("\n", broken.Select(pair => $"{pair.Key}: {pair.Value}")));
    }

    [Fact]
    public void TheRandomSetCoversTheSpecializedPaths()
    {
        var all = RandomConfigurations.All;
        Assert.True(all.Count(c => c.IsSpecialized && !c.ChannelsLast) >= 10, "too few specialized channels-first configurations");
        Assert.True(all.Count(c => c.IsSpecialized && c.ChannelsLast) >= 10, "too few specialized channels-last configurations");
        Assert.Contains(all, c => c.IsSpecialized && c.IsDouble && !c.IsMax);
        Assert.Contains(all, c => c.IsSpecialized && !c.IsDouble && c.IsMax && c.Dilation == 2);
        Assert.Contains(all, c => c.IsSpecialized && c.DivisorOverride != 0);
        Assert.Contains(all, c => c.IsSpecialized && !c.IsMax && !c.CountIncludePad && c.CeilMode);
        // Separable max in registers, with 256-bit last blocks for rows that end in at most half a vector.
        Assert.Contains(all, c => c.IsSpecialized && !c.ChannelsLast && c.IsMax && c.StrideHeight == 1 && c.StrideWidth == 1 && c.Dilation == 1 && !c.IsDouble);
        Assert.Contains(all, c => c.IsSpecialized && !c.ChannelsLast && c.IsMax && c.StrideHeight == 1 && c.StrideWidth == 1 && c.Dilation == 1 && c.IsDouble);
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void GeneratedKernelMatchesGeneralEngineBitForBit(int index)
    {
        var configuration = RandomConfigurations.All[index];
        var kernel = Compiled.Value.Kernel(configuration);
        int shapes = configuration.IsDouble
            ? Compare<double>(configuration, (SpecializedPoolKernel<double>)kernel)
            : Compare<float>(configuration, (SpecializedPoolKernel<float>)kernel);
        log.WriteLine($"{configuration} ({configuration.KernelName}): {shapes} shapes bit-identical");
        Assert.True(shapes >= 30, $"only {shapes} shapes were valid for {configuration}");
    }

    [Fact]
    public void LoadingTheAssemblyRegistersEverySpecializedKernel()
    {
        var compiled = Compiled.Value;
        var problems = new List<string>();
        foreach (var configuration in RandomConfigurations.All.Where(c => c.IsSpecialized && compiled.Compiles(c)))
        {
            string? name = configuration.IsDouble
                ? (PoolKernelRegistry.TryGet<double>(configuration.Descriptor, out _, out var n64) ? n64 : null)
                : (PoolKernelRegistry.TryGet<float>(configuration.Descriptor, out _, out var n32) ? n32 : null);
            if (name != configuration.KernelName)
                problems.Add($"{configuration}: registered as '{name ?? "(nothing)"}', expected '{configuration.KernelName}'");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Fingerprints()
    {
        var compiled = Compiled.Value;
        var lines = new List<string>();
        foreach (var configuration in RandomConfigurations.All.Where(compiled.Compiles))
        {
            var shape = new PoolShape(2, 5, 13, 37);
            string hash = configuration.IsDouble
                ? Fingerprint<double>(configuration, (SpecializedPoolKernel<double>)compiled.Kernel(configuration), shape)
                : Fingerprint<float>(configuration, (SpecializedPoolKernel<float>)compiled.Kernel(configuration), shape);
            lines.Add($"generated-kernel/{configuration.MethodName}/{configuration.KernelName}/{shape} {hash}");
        }
        lines.Sort(StringComparer.Ordinal);

        string? path = Environment.GetEnvironmentVariable(FingerprintVariable);
        if (!string.IsNullOrEmpty(path))
        {
            // The engine's fingerprint test (KernelGen.Tests) overwrites <path>; a separate file keeps both intact.
            File.WriteAllLines(path + ".generated", lines);
            log.WriteLine($"Wrote {lines.Count} fingerprints to {path}.generated.");
        }
        Assert.NotEmpty(lines);
    }

    private static string Fingerprint<T>(UserConfiguration configuration, SpecializedPoolKernel<T> kernel, PoolShape shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = RandomInput.Mixed<T>(new Random(1000 + configuration.Index), (int)shape.ElementCount);
        var output = new T[configuration.Descriptor.GetOutputShape(shape).ElementCount];
        kernel(input, output, shape);
        return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(output.AsSpan())));
    }

    /// <summary>Widths 1..33 and some wide rows, two heights per width, batches and channels varied; returns the number of shapes compared.</summary>
    private static int Compare<T>(UserConfiguration configuration, SpecializedPoolKernel<T> kernel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = configuration.Descriptor;
        var random = new Random(configuration.Index * 7919 + 17);
        int effectiveHeight = (configuration.KernelHeight - 1) * configuration.Dilation + 1;
        int[] heights = [1, 2, 3, effectiveHeight, effectiveHeight + 1, effectiveHeight + configuration.StrideHeight, 2 * configuration.StrideHeight + effectiveHeight + 1, 9, 13];
        int compared = 0;
        // Every width to past two 512-bit vectors of float, then rows of four and more vectors (the wide paths).
        int[] widths = [.. Enumerable.Range(1, 33), 47, 48, 49, 63, 64, 65, 80, 97, 130];
        foreach (int width in widths)
        {
            for (int pick = 0; pick < 2; pick++)
            {
                int height = heights[(width * 2 + pick) % heights.Length];
                int batch = 1 + (width + pick) % 2;
                int channels = configuration.ChannelsLast ? 1 + (width * 5 + pick * 11) % 33 : 1 + (width + pick) % 3;
                var shape = new PoolShape(batch, channels, height, width);
                PoolShape outputShape;
                try { outputShape = descriptor.GetOutputShape(shape); }
                catch (ArgumentException) { continue; }

                var input = RandomInput.Mixed<T>(random, (int)shape.ElementCount);
                var expected = new T[outputShape.ElementCount];
                // One spare cell past the output must stay untouched.
                var actual = new T[outputShape.ElementCount + 1];
                actual[^1] = T.CreateTruncating(12345);
                RunGeneral(descriptor, input, expected, shape);
                kernel(input, actual, shape);
                for (int i = 0; i < expected.Length; i++)
                {
                    if (!BitEqual(expected[i], actual[i]))
                        Assert.Fail($"{configuration} ({configuration.KernelName}) on {shape} [{configuration.Layout}]: output {i} of {expected.Length} is {actual[i]:R}, the general engine gives {expected[i]:R}");
                }
                Assert.True(actual[^1] == T.CreateTruncating(12345), $"{configuration} on {shape}: wrote past the output");
                compared++;
            }
        }
        return compared;
    }

    private static void RunGeneral<T>(in PoolDescriptor descriptor, T[] input, T[] output, PoolShape shape)
    {
        if (input is float[] floats) Pooling.RunGeneral(descriptor, floats, (float[])(object)output, shape, 1);
        else Pooling.RunGeneral(descriptor, (double[])(object)input, (double[])(object)output, shape, 1);
    }

    private static bool BitEqual<T>(T a, T b) where T : unmanaged =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in b)));

}
