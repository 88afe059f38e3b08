using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Intrinsics;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Which vector path a generated kernel runs under the instruction set CI sets: the 128-bit path must run wherever
/// Vector128 is accelerated (SSE without AVX here, AdvSimd on Arm64), never the scalar fallback.
/// </summary>
[Trait("Category", "Kernel")]
public class VectorPathTests
{
    [Fact]
    public void GeneratedKernelsRunTheWidestPathTheMachineAccelerates()
    {
        const string source = """
            using System;
            using KernelGen;

            namespace PathUser;

            internal static partial class Layers
            {
                [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
                internal static partial void Stem(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

                [PoolKernel(3, 1, PoolMode.Average, Padding = 1, Layout = PoolLayout.ChannelsLast)]
                internal static partial void Same(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);
            }
            """;
        var (_, output) = GeneratorHarness.Run(GeneratorHarness.CompileAs("KernelGen.PathUser", source));
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, GeneratorHarness.Describe(emit.Diagnostics));
        var assembly = Assembly.Load(stream.ToArray());

        string expected =
            Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "Vector512"
            : Vector256.IsHardwareAccelerated ? "Vector256"
            : Vector128.IsHardwareAccelerated ? "Vector128"
            : "Scalar";
        // The settings CI runs under pin the path independently of the conditions the kernel tests.
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0") Assert.Equal("Scalar", expected);
        else if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX") == "0" || Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0")
            Assert.Equal("Vector128", expected);

        foreach (string kernel in new[] { "MaxPool_K3x3_S2_P1_F32_Nchw", "AvgPool_K3x3_S1_P1_F64_Nhwc" })
        {
            var type = assembly.GetType("KernelGen.Generated." + kernel, throwOnError: true)!;
            var path = (string)type.GetProperty("VectorPath", BindingFlags.Static | BindingFlags.NonPublic)!.GetValue(null)!;
            Assert.True(path == expected, $"{kernel} runs its {path} path; this machine accelerates {expected}");
        }
    }
}
