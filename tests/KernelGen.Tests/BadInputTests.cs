using System;
using System.Linq;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Every bad argument is rejected with an <see cref="ArgumentException"/> (or <see cref="ArgumentOutOfRangeException"/>)
/// whose ParamName names the parameter and whose message holds the offending values; a rejected call leaves the
/// output untouched.
/// </summary>
public class BadInputTests
{
    internal const float Sentinel = -12345.5f;

    /// <summary>Runs <paramref name="call"/> on a sentinel-filled output and checks the exception and the untouched output.</summary>
    internal static ArgumentException Rejects(string parameter, Action<float[], long[]> call, params string[] mustContain)
    {
        var output = Enumerable.Repeat(Sentinel, 256).ToArray();
        var indices = Enumerable.Repeat(-77L, 256).ToArray();
        var ex = Assert.ThrowsAny<ArgumentException>(() => call(output, indices));
        Assert.True(ex.ParamName == parameter, $"ParamName is '{ex.ParamName}', expected '{parameter}': {ex.Message}");
        foreach (var text in mustContain)
            Assert.True(ex.Message.Contains(text, StringComparison.Ordinal), $"The message does not contain '{text}': {ex.Message}");
        Assert.All(output, v => Assert.Equal(Sentinel, v));
        Assert.All(indices, v => Assert.Equal(-77L, v));
        return ex;
    }

    private static ArgumentException RejectsDescriptor(string parameter, Func<PoolDescriptor> create, params string[] mustContain) =>
        Rejects(parameter, (_, _) => create(), mustContain);

    private static readonly PoolShape Shape = new(1, 2, 6, 6);
    private static readonly float[] Input = Enumerable.Range(0, 72).Select(i => (float)i).ToArray();

    /// <summary>
    /// Pooling.Run checks the arguments once and calls the registered kernels' unchecked cores; the kernel the registry
    /// hands out must still check them itself.
    /// </summary>
    [Fact]
    public void A_kernel_from_the_registry_checks_its_arguments()
    {
        var descriptor = PoolDescriptor.MaxPool2d(3, 2, 1);
        Assert.True(PoolKernelRegistry.TryGet<float>(descriptor, out var kernel, out _));
        var input = Enumerable.Range(0, 2 * 8 * 8).Select(i => (float)i).ToArray();
        Rejects("output", (output, _) => kernel!(input, output.AsSpan(0, 31), new PoolShape(1, 2, 8, 8)), "31", "32");
        Rejects("input", (output, _) => kernel!(input.AsSpan(1), output, new PoolShape(1, 2, 8, 8)), "127", "128");
    }

    // -------------------------------------------------------------------------------------------------------------
    // Descriptor parameters.
    // -------------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void KernelBelowOne(int kernel)
    {
        var ex = RejectsDescriptor("kernel", () => PoolDescriptor.MaxPool2d(kernel, 1), $"k={kernel}");
        Assert.IsType<ArgumentOutOfRangeException>(ex);
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Average, [new PoolAxis(3, 1), new PoolAxis(kernel, 1)]), $"k={kernel}");
        RejectsDescriptor("kernelShape", () => PoolDescriptor.FromOnnx(PoolMode.Max, [kernel]), $"k={kernel}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void StrideBelowOne(int stride)
    {
        RejectsDescriptor("stride", () => PoolDescriptor.MaxPool1d(2, stride), $"s={stride}");
        RejectsDescriptor("stride", () => PoolDescriptor.AvgPool3d((2, 2, 2), (1, stride, 1)), $"s={stride}");
        RejectsDescriptor("strides", () => PoolDescriptor.FromOnnx(PoolMode.Average, [2, 2], [1, stride]), $"s={stride}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void DilationBelowOne(int dilation)
    {
        RejectsDescriptor("dilation", () => PoolDescriptor.MaxPool2d(3, 1, 0, dilation), $"d={dilation}");
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 1, 0, 0, dilation)]), $"d={dilation}");
    }

    [Fact]
    public void NegativePadding()
    {
        RejectsDescriptor("padding", () => PoolDescriptor.MaxPool2d(3, 1, -1), "pad=-1/-1");
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Average, [new PoolAxis(3, 1, 0, -2, 1)]), "pad=0/-2");
        RejectsDescriptor("pads", () => PoolDescriptor.FromOnnx(PoolMode.Max, [3], pads: [-1, 0]), "-1");
    }

    [Fact]
    public void PaddingNotBelowTheEffectiveKernel()
    {
        // ONNX: each pad must be below (k - 1) * d + 1.
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 1, 3, 0, 1)]), "3", "pad=3/0");
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 1, 0, 4, 3)]), "4", "pad=0/4");
        RejectsDescriptor("pads", () => PoolDescriptor.FromOnnx(PoolMode.Average, [2, 2], pads: [0, 0, 2, 0]), "2");
        // Just inside the limit is fine.
        PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 1, 3, 3, 3)]);
    }

    [Fact]
    public void PyTorchPaddingAboveHalfTheKernel()
    {
        RejectsDescriptor("padding", () => PoolDescriptor.MaxPool2d(3, 1, 2), "2", "3");
        RejectsDescriptor("padding", () => PoolDescriptor.AvgPool2d((5, 4), padding: (1, 3)), "3", "4");
        // PyTorch ignores dilation in this limit: k=2 d=3 allows only pad 1.
        RejectsDescriptor("padding", () => PoolDescriptor.MaxPool1d(2, 1, 2, 3), "2");
        PoolDescriptor.MaxPool1d(2, 1, 1, 3);
    }

    [Fact]
    public void PyTorchAsymmetricPaddingOrDilatedAverage()
    {
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 1, 1, 0, 1)], convention: PoolConvention.PyTorch), "1", "0");
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Average, [new PoolAxis(3, 1, 0, 0, 2)], convention: PoolConvention.PyTorch), "2");
    }

    [Fact]
    public void DivisorOverrideZero()
    {
        var ex = RejectsDescriptor("divisorOverride", () => PoolDescriptor.AvgPool2d(2, divisorOverride: 0), "0");
        Assert.IsType<ArgumentOutOfRangeException>(ex);
        RejectsDescriptor("divisorOverride", () => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 2)], divisorOverride: 4), "4", "Max");
    }

    [Fact]
    public void BadEnumValues()
    {
        RejectsDescriptor("mode", () => PoolDescriptor.Create((PoolMode)7, [new PoolAxis(2, 2)]), "7");
        RejectsDescriptor("layout", () => PoolDescriptor.MaxPool2d(2, layout: (PoolLayout)9), "9");
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Max, ReadOnlySpan<PoolAxis>.Empty), "0");
        RejectsDescriptor("axes", () => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 2), new PoolAxis(2, 2), new PoolAxis(2, 2), new PoolAxis(2, 2)]), "4");
        Rejects("layout", (o, _) => Pooling.GlobalMax(Input, o, Shape, (PoolLayout)5), "5");
    }

    // -------------------------------------------------------------------------------------------------------------
    // Shapes and spans.
    // -------------------------------------------------------------------------------------------------------------

    [Fact]
    public void OutputSizeBelowOne()
    {
        var shape = new PoolShape(1, 1, 2, 2);
        Rejects("shape", (o, _) => Pooling.Run(PoolDescriptor.MaxPool2d(5), new float[4], o, shape), "2x2", "5");
        Rejects("shape", (o, _) => Pooling.Run(PoolDescriptor.AvgPool1d(3, 1), new float[2], o, new PoolShape(1, 1, 2)), "1x1x2");
        Rejects("inputShape", (o, _) => PoolDescriptor.MaxPool2d(5).GetOutputShape(shape), "2x2");
    }

    [Fact]
    public void PyTorchAvgPool3dInputShorterThanKernel()
    {
        var shape = new PoolShape(1, 1, 2, 5, 5);
        Rejects("shape", (o, _) => Pooling.Run(PoolDescriptor.AvgPool3d(3, 1, 1), new float[50], o, shape), "1x1x2x5x5", "3");
    }

    [Fact]
    public void InputLengthMismatch()
    {
        var d = PoolDescriptor.MaxPool2d(2);
        Rejects("input", (o, _) => Pooling.Run(d, Input.AsSpan(0, 71), o, Shape), "71", "72");
        Rejects("input", (o, _) => Pooling.Run(d, new float[73], o, Shape), "73", "72");
        Rejects("input", (o, _) => Pooling.GlobalAverage(Input.AsSpan(1), o, Shape), "71", "72");
    }

    [Fact]
    public void OutputTooSmall()
    {
        var d = PoolDescriptor.MaxPool2d(2); // 1x2x3x3 = 18 outputs
        Rejects("output", (o, _) => Pooling.Run(d, Input, o.AsSpan(0, 17), Shape), "17", "18");
        Rejects("output", (o, _) => Pooling.Run(d, Input.Select(x => (double)x).ToArray(), new double[0], Shape), "0", "18");
        Rejects("output", (o, _) => Pooling.GlobalMax(Input, o.AsSpan(0, 1), Shape), "1", "2");
    }

    [Fact]
    public void IndicesTooSmallOrWithAverage()
    {
        Rejects("indices", (o, i) => Pooling.Run(PoolDescriptor.MaxPool2d(2), Input, o, i.AsSpan(0, 17), Shape), "17", "18");
        Rejects("indices", (o, i) => Pooling.Run(PoolDescriptor.AvgPool2d(2), Input, o, i, Shape), "Average");
    }

    [Fact]
    public void OverflowingShape()
    {
        var huge = new PoolShape(int.MaxValue, int.MaxValue, 4, 4);
        var ex = Rejects("shape", (o, _) => Pooling.Run(PoolDescriptor.MaxPool2d(2), Input, o, huge), huge.ToString());
        Assert.IsType<ArgumentOutOfRangeException>(ex);
        Rejects("shape", (o, _) => Pooling.GlobalAverage(Input, o, huge), huge.ToString());
        Rejects("shape", (o, _) => Pooling.Run(PoolDescriptor.MaxPool2d(2), Input, o, new PoolShape(1, 1, 65536, 65536)), "65536");
    }

    [Fact]
    public void DefaultShapeAndDescriptor()
    {
        Rejects("shape", (o, _) => Pooling.Run(PoolDescriptor.MaxPool2d(2), Input, o, default), "default(PoolShape)");
        Rejects("shape", (o, _) => Pooling.GlobalMax(Input, o, default), "default(PoolShape)");
        Rejects("descriptor", (o, _) => Pooling.Run(default, Input, o, Shape), "default(PoolDescriptor)");
        Rejects("descriptor", (o, i) => Pooling.Run(default, Input, o, i, Shape), "default(PoolDescriptor)");
    }

    [Fact]
    public void NegativeShapeSizes()
    {
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new PoolShape(-1, 1, 4));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new PoolShape(1, -1, 4));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new PoolShape(1, 1, 0));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new PoolShape(1, 1, 0, 4));
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new PoolShape(1, 1, 4, 4, 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    [InlineData(int.MinValue)]
    public void MaxDegreeOfParallelismInvalid(int dop)
    {
        string value = dop.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Rejects("maxDegreeOfParallelism", (o, _) => Pooling.Run(PoolDescriptor.MaxPool2d(2), Input, o, Shape, dop), value);
        Rejects("maxDegreeOfParallelism", (o, i) => Pooling.Run(PoolDescriptor.MaxPool2d(2), Input, o, i, Shape, dop), value);
        Rejects("maxDegreeOfParallelism", (o, _) => Pooling.GlobalAverage(Input, o, Shape, maxDegreeOfParallelism: dop), value);
    }

    [Fact]
    public void RankMismatch()
    {
        Rejects("shape", (o, _) => Pooling.Run(PoolDescriptor.MaxPool2d(2), new float[12], o, new PoolShape(1, 2, 6)), "2x6", "1", "2");
        Rejects("shape", (o, _) => Pooling.Run(PoolDescriptor.AvgPool3d(2), Input, o, Shape), "1x2x6x6", "3");
    }

    [Fact]
    public void OverlappingInputAndOutput()
    {
        var buffer = Enumerable.Range(0, 100).Select(i => (float)i).ToArray();
        var copy = buffer.ToArray();
        var d = PoolDescriptor.MaxPool2d(2);
        Rejects("output", (_, _) => Pooling.Run(d, buffer.AsSpan(0, 72), buffer.AsSpan(60, 18), Shape), "overlaps");
        Rejects("output", (_, _) => Pooling.Run(d, buffer.AsSpan(10, 72), buffer.AsSpan(0, 30), Shape), "overlaps");
        // Only the cells the call writes matter: an output span longer than the output may reach into the input.
        var spare = buffer.ToArray();
        Pooling.Run(d, spare.AsSpan(20, 72), spare.AsSpan(0, 30), Shape);
        Assert.Equal(copy.AsSpan(18), spare.AsSpan(18));
        Rejects("output", (_, _) => Pooling.GlobalAverage(buffer.AsSpan(0, 72), buffer.AsSpan(71, 2), Shape), "overlaps");
        Assert.Equal(copy, buffer);
        // Adjacent is fine.
        Pooling.Run(d, buffer.AsSpan(0, 72), buffer.AsSpan(72, 18), Shape);
    }

    // -------------------------------------------------------------------------------------------------------------
    // Empty batches are valid.
    // -------------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0, 3)]
    [InlineData(2, 0)]
    [InlineData(0, 0)]
    public void EmptyBatchOrChannelsWritesNothing(int batch, int channels)
    {
        var shape = new PoolShape(batch, channels, 5, 7);
        foreach (var layout in new[] { PoolLayout.ChannelsFirst, PoolLayout.ChannelsLast })
        {
            var output = Enumerable.Repeat(Sentinel, 8).ToArray();
            var indices = Enumerable.Repeat(-77L, 8).ToArray();
            var max = PoolDescriptor.MaxPool2d(3, 2, 1, layout: layout);
            Assert.Equal(0, max.GetOutputShape(shape).ElementCount);
            Pooling.Run(max, ReadOnlySpan<float>.Empty, output, shape);
            Pooling.Run(max, ReadOnlySpan<float>.Empty, output, indices, shape);
            Pooling.Run(PoolDescriptor.AvgPool2d(3, 2, 1, layout: layout), ReadOnlySpan<float>.Empty, Span<float>.Empty, shape);
            Pooling.Run(max, ReadOnlySpan<double>.Empty, Span<double>.Empty, shape);
            Pooling.GlobalMax(ReadOnlySpan<float>.Empty, output, shape, layout);
            Pooling.GlobalAverage(ReadOnlySpan<float>.Empty, output, shape, layout);
            Assert.All(output, v => Assert.Equal(Sentinel, v));
            Assert.All(indices, v => Assert.Equal(-77L, v));
        }
    }
}
