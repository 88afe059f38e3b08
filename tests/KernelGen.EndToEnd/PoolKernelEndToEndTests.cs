using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.EndToEnd;

/// <summary>
/// The [PoolKernel] methods of <see cref="Layers"/>, built by the generator as a user's build would, against PyTorch's
/// golden outputs for the same configuration, and <c>Pooling.Run</c> dispatching to them.
/// </summary>
public class PoolKernelEndToEndTests(ITestOutputHelper log)
{
    private static readonly PoolDescriptor Stem = PoolDescriptor.MaxPool2d(3, 2, 1);
    private static readonly PoolDescriptor Same = PoolDescriptor.MaxPool2d(3, 1, 1);
    private static readonly PoolDescriptor StemCeil = PoolDescriptor.MaxPool2d(3, 2, 1, ceilMode: true);
    private static readonly PoolDescriptor Sppf = PoolDescriptor.MaxPool2d(5, 1, 2, layout: PoolLayout.ChannelsLast);
    private static readonly PoolDescriptor AvgCeil = PoolDescriptor.AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false);

    [Fact]
    public void StemPoolMatchesPyTorch() =>
        CheckMax(Stem, (input, output, shape) => Layers.StemPool(input, output, shape), minimumCases: 10);

    [Fact]
    public void StemPoolCeilMatchesPyTorch() =>
        CheckMax(StemCeil, (input, output, shape) => Layers.StemPoolCeil(input, output, shape), minimumCases: 10);

    [Fact]
    public void DoublePoolMatchesPyTorch()
    {
        // The golden data has no float64 max_pool2d; widening is exact and commutes with max, NaN and infinities.
        int count = 0;
        foreach (var c in Cases(Same))
        {
            var shape = c.PoolShape;
            double[] input = c.InputFloat.Select(x => (double)x).ToArray();
            var output = new double[c.OutPoolShape!.Value.ElementCount];
            Layers.SamePoolDouble(input, output, shape);
            AssertSameValues(c.OutputFloat.Select(x => (double)x).ToArray(), output, c.ToString());
            count++;
        }
        Assert.True(count >= 10, $"only {count} golden cases");
    }

    [Fact]
    public void ChannelsLastSppfPoolMatchesPyTorch()
    {
        int count = 0;
        foreach (var c in Cases(PoolDescriptor.MaxPool2d(5, 1, 2)))
        {
            var shape = c.PoolShape;
            var outShape = c.OutPoolShape!.Value;
            var input = ReferencePooling.ToChannelsLast<float>(c.InputFloat, shape);
            var output = new float[outShape.ElementCount];
            Layers.SppfPoolNhwc(input, output, shape);
            AssertSameValues(c.OutputFloat, ReferencePooling.ToChannelsFirst<float>(output, outShape), c.ToString());
            count++;
        }
        Assert.True(count >= 10, $"only {count} golden cases");
    }

    [Fact]
    public void AverageCeilExcludePadMatchesPyTorchAndTheEngine()
    {
        int count = 0;
        foreach (var c in Cases(AvgCeil))
        {
            var shape = c.PoolShape;
            var input = c.InputFloat;
            var output = new float[c.OutPoolShape!.Value.ElementCount];
            Layers.AvgCeilExcludePad(input, output, shape);
            var expected = c.OutputFloat;
            for (int i = 0; i < expected.Length; i++)
            {
                bool close = (float.IsNaN(expected[i]) && float.IsNaN(output[i])) || expected[i] == output[i] ||
                             Math.Abs(expected[i] - output[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i]));
                Assert.True(close, $"{c}: output {i} is {output[i]:R}, PyTorch gives {expected[i]:R}");
            }
            var engine = new float[output.Length];
            Pooling.RunGeneral(AvgCeil, input, engine, shape, 1);
            for (int i = 0; i < engine.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(engine[i]) == BitConverter.SingleToInt32Bits(output[i]),
                    $"{c}: output {i} is {output[i]:R}, the general engine gives {engine[i]:R}");
            count++;
        }
        Assert.True(count >= 1, "no golden case for this configuration");
    }

    public static TheoryData<string, string, string> UserKernels() => new()
    {
        { "StemPoolCeil", "float", "MaxPool_K3x3_S2_P1_Ceil_F32_Nchw" },
        { "SamePoolDouble", "double", "MaxPool_K3x3_S1_P1_F64_Nchw" },
        { "AvgCeilExcludePad", "float", "AvgPool_K3x3_S2_P1_Ceil_ExcludePad_F32_Nchw" },
        { "StemPool", "float", "MaxPool_K3x3_S2_P1_F32_Nchw" },
        { "SppfPoolNhwc", "float", "MaxPool_K5x5_S1_P2_F32_Nhwc" },
    };

    [Theory]
    [MemberData(nameof(UserKernels))]
    public void PoolingRunDispatchesToTheUserKernel(string method, string element, string kernelName)
    {
        var descriptor = method switch
        {
            "StemPool" => Stem,
            "SamePoolDouble" => Same,
            "StemPoolCeil" => StemCeil,
            "SppfPoolNhwc" => Sppf,
            _ => AvgCeil,
        };
        Delegate? kernel;
        string? name;
        bool specialized;
        if (element == "double")
        {
            specialized = PoolKernelRegistry.IsSpecialized<double>(descriptor);
            PoolKernelRegistry.TryGet<double>(descriptor, out var k, out name);
            kernel = k;
        }
        else
        {
            specialized = PoolKernelRegistry.IsSpecialized<float>(descriptor);
            PoolKernelRegistry.TryGet<float>(descriptor, out var k, out name);
            kernel = k;
        }
        Assert.True(specialized, $"{descriptor} has no specialized kernel");
        Assert.Equal(kernelName, name);
        // The user's assembly registered last, so its kernel (not a built-in of the same configuration) is the one used.
        Assert.Equal(typeof(Layers).Assembly, kernel!.Method.DeclaringType!.Assembly);
        log.WriteLine($"{descriptor} -> {name} in {kernel.Method.DeclaringType.FullName}");
    }

    [Fact]
    public void PoolingRunGivesTheUserKernelsResult()
    {
        var shape = new PoolShape(2, 3, 17, 29);
        var random = new Random(7);
        var input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray();
        var outShape = StemCeil.GetOutputShape(shape);
        var viaRun = new float[outShape.ElementCount];
        var direct = new float[outShape.ElementCount];
        Pooling.Run(StemCeil, input, viaRun, shape);
        Layers.StemPoolCeil(input, direct, shape);
        Assert.Equal(direct, viaRun);
    }

    private static IEnumerable<GoldenCase> Cases(PoolDescriptor descriptor) =>
        GoldenCases.Default.Cases.Where(c =>
            c.Op is "max_pool2d" or "avg_pool2d" && c.DType == "float32" && c.Error is null && c.OutputBytes is not null &&
            Matches(c, descriptor));

    private static bool Matches(GoldenCase c, PoolDescriptor descriptor)
    {
        try { return c.CreateDescriptor(descriptor.Layout) == descriptor; }
        catch (ArgumentException) { return false; }
    }

    private void CheckMax(PoolDescriptor descriptor, SpecializedPoolKernel<float> kernel, int minimumCases)
    {
        int count = 0;
        foreach (var c in Cases(descriptor))
        {
            var output = new float[c.OutPoolShape!.Value.ElementCount];
            kernel(c.InputFloat, output, c.PoolShape);
            AssertSameValues(c.OutputFloat, output, c.ToString());
            count++;
        }
        log.WriteLine($"{descriptor}: {count} golden cases");
        Assert.True(count >= minimumCases, $"only {count} golden cases for {descriptor}");
    }

    private static void AssertSameValues<T>(T[] expected, T[] actual, string context) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = (T.IsNaN(expected[i]) && T.IsNaN(actual[i])) || expected[i] == actual[i];
            Assert.True(same, $"{context}: output {i} is {actual[i]}, PyTorch gives {expected[i]}");
        }
    }
}
