using System;
using System.Buffers;
using System.Linq;
using System.Numerics.Tensors;
using KernelGen.Tensors;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The TensorSpan entry points: shape from the tensor's lengths, the span API's results, and clear errors.</summary>
public class TensorPoolingTests
{
    public static TheoryData<int, PoolLayout> RanksAndLayouts() => new()
    {
        { 1, PoolLayout.ChannelsFirst }, { 1, PoolLayout.ChannelsLast },
        { 2, PoolLayout.ChannelsFirst }, { 2, PoolLayout.ChannelsLast },
        { 3, PoolLayout.ChannelsFirst }, { 3, PoolLayout.ChannelsLast },
    };

    private static PoolDescriptor Descriptor(int rank, PoolLayout layout) => rank switch
    {
        1 => PoolDescriptor.MaxPool1d(3, 2, 1, layout: layout),
        2 => PoolDescriptor.AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false, layout: layout),
        _ => PoolDescriptor.MaxPool3d(2, 2, 0, layout: layout),
    };

    private static (PoolShape Shape, nint[] Lengths) Shape(int rank, PoolLayout layout)
    {
        int[] spatial = rank switch { 1 => [11], 2 => [7, 9], _ => [4, 5, 6] };
        var shape = rank switch
        {
            1 => new PoolShape(2, 3, spatial[0]),
            2 => new PoolShape(2, 3, spatial[0], spatial[1]),
            _ => new PoolShape(2, 3, spatial[0], spatial[1], spatial[2]),
        };
        nint[] lengths = layout == PoolLayout.ChannelsFirst
            ? [2, 3, .. spatial.Select(s => (nint)s)]
            : [2, .. spatial.Select(s => (nint)s), 3];
        return (shape, lengths);
    }

    [Theory]
    [MemberData(nameof(RanksAndLayouts))]
    public void GivesTheSpanApisResults(int rank, PoolLayout layout)
    {
        var descriptor = Descriptor(rank, layout);
        var (shape, lengths) = Shape(rank, layout);
        var random = new Random(rank * 10 + (int)layout);
        float[] input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => (float)random.NextDouble()).ToArray();
        var outputShape = descriptor.GetOutputShape(shape);
        float[] expected = new float[outputShape.ElementCount];
        Pooling.Run(descriptor, input, expected, shape);

        nint[] outputLengths = TensorPooling.GetOutputLengths(descriptor, lengths);
        Assert.Equal(outputShape.ElementCount, outputLengths.Aggregate((nint)1, (a, b) => a * b));
        float[] actual = new float[outputShape.ElementCount];
        TensorPooling.Run(descriptor, new ReadOnlyTensorSpan<float>(input, lengths), new TensorSpan<float>(actual, outputLengths));
        Assert.Equal(expected, actual);

        double[] inputDouble = input.Select(x => (double)x).ToArray();
        double[] expectedDouble = new double[expected.Length], actualDouble = new double[expected.Length];
        Pooling.Run(descriptor, inputDouble, expectedDouble, shape);
        TensorPooling.Run(descriptor, new ReadOnlyTensorSpan<double>(inputDouble, lengths), new TensorSpan<double>(actualDouble, outputLengths));
        Assert.Equal(expectedDouble, actualDouble);
    }

    [Fact]
    public void OutputLengthsFollowTheLayout()
    {
        var pool = PoolDescriptor.MaxPool2d(3, 2, 1, layout: PoolLayout.ChannelsLast);
        Assert.Equal(new nint[] { 1, 56, 56, 64 }, TensorPooling.GetOutputLengths(pool, [1, 112, 112, 64]));
        Assert.Equal(new nint[] { 1, 64, 56, 56 }, TensorPooling.GetOutputLengths(PoolDescriptor.MaxPool2d(3, 2, 1), [1, 64, 112, 112]));
    }

    [Fact]
    public void NonDenseInputIsRejectedNamingIt()
    {
        var pool = PoolDescriptor.MaxPool2d(2);
        float[] data = new float[1 * 2 * 4 * 8];
        // The first 4 of every 8 columns: a view into a wider tensor, whose rows are not contiguous.
        var error = Assert.Throws<ArgumentException>(() => TensorPooling.Run(pool,
            new ReadOnlyTensorSpan<float>(data, [1, 2, 4, 8]).Slice([NRange.All, NRange.All, NRange.All, new NRange(0, 4)]),
            new TensorSpan<float>(new float[8], [1, 2, 2, 2])));
        Assert.True(error.ParamName == "input", error.Message);
        Assert.Contains("stride 8, not 4", error.Message);
    }

    [Fact]
    public void BroadcastOutputIsRejectedNamingIt()
    {
        var pool = PoolDescriptor.MaxPool2d(2);
        var error = Assert.Throws<ArgumentException>(() => TensorPooling.Run(pool,
            new ReadOnlyTensorSpan<float>(new float[32], [1, 2, 4, 4]), new TensorSpan<float>(new float[4], [1, 2, 2, 2], [0, 0, 2, 1])));
        Assert.Equal("output", error.ParamName);
    }

    [Fact]
    public void WrongRankAndWrongOutputLengthsAreRejected()
    {
        var pool = PoolDescriptor.MaxPool2d(2);
        var error = Assert.Throws<ArgumentException>(() => TensorPooling.Run(pool,
            new ReadOnlyTensorSpan<float>(new float[32], [2, 4, 4]), new TensorSpan<float>(new float[8], [2, 2, 2])));
        Assert.Equal("input", error.ParamName);
        Assert.Contains("rank 4, not 3", error.Message);

        error = Assert.Throws<ArgumentException>(() => TensorPooling.Run(pool,
            new ReadOnlyTensorSpan<float>(new float[32], [1, 2, 4, 4]), new TensorSpan<float>(new float[8], [1, 2, 4, 1])));
        Assert.Equal("output", error.ParamName);
        Assert.Contains("[1, 2, 2, 2]", error.Message);
    }
}
