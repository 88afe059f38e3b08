using System;
using System.Linq;
using System.Numerics;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace KernelGen.Tests;

/// <summary>
/// Every PyTorch 2.11 golden case of the windowed families (max/avg 1-3d, common, edge; float32 and float64) through
/// <see cref="Pooling.Run(in PoolDescriptor, ReadOnlySpan{float}, Span{float}, PoolShape, int)"/> with the PyTorch
/// factories, in both layouts. The scalar reference is checked against the same data, so the property tests' oracle
/// is itself anchored to PyTorch.
/// </summary>
[Trait("Category", "Kernel")]
public class PyTorchConformanceTests(ITestOutputHelper log)
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in GoldenCases.Default.Cases) data.Add(c.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string id)
    {
        var c = GoldenCases.Default[id];
        if (c.DType == "float32") Check(c, c.InputFloat, c.OutputFloat, 1e-5);
        else Check(c, c.InputDouble, c.OutputDouble, 1e-12);
    }

    [Fact]
    public void EverySupportedFamilyIsPresentAndSkipsAreOnlyOutOfScope()
    {
        var set = GoldenCases.Default;
        foreach (var family in GoldenCases.SupportedFamilies)
            Assert.Contains(set.Cases, c => c.Family == family);
        Assert.Contains(set.Cases, c => c.DType == "float64");
        // Only the out-of-scope families (narrow: float16/bfloat16; adaptive; lp) are skipped.
        Assert.All(set.Skipped.Keys, key => Assert.Matches("^(narrow|adaptive|lp)/", key));
        Assert.True(set.Cases.Count > 1000, $"only {set.Cases.Count} cases read");
        log.WriteLine($"{set.Cases.Count} cases run ({set.Cases.Count(c => c.Error is not null)} expected rejections); {set.SkippedCount} skipped:");
        foreach (var (key, count) in set.Skipped) log.WriteLine($"  {key}: {count}");
    }

    private static void Check<T>(GoldenCase c, T[] input, T[] expected, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = c.PoolShape;
        if (c.Error is not null)
        {
            CheckRejected<T>(c, input, shape);
            return;
        }

        var descriptor = c.CreateDescriptor();
        Assert.Equal(PoolConvention.PyTorch, descriptor.Convention);
        var outShape = descriptor.GetOutputShape(shape);
        Assert.Equal(c.OutPoolShape, outShape);
        Assert.Equal(c.OutPoolShape, ReferencePooling.OutputShape(descriptor, shape));
        string name = c.ToString();

        T[] output;
        long[]? indices = null;
        if (c.IsMax)
        {
            var (refOut, refIdx) = ReferencePooling.Max<T>(descriptor, input, shape);
            var expectedIndices = ExpectedIndices(c, expected, refIdx, shape);
            (output, indices) = Engine.Pool<T>(descriptor, input, shape, withIndices: true);
            PoolAssert.Exact<T>(expected, output, $"{name}: values (indices path)");
            PoolAssert.Indices(expectedIndices, indices, $"{name}: indices");
            var (plain, _) = Engine.Pool<T>(descriptor, input, shape, withIndices: false);
            PoolAssert.Exact<T>(expected, plain, $"{name}: values");
            PoolAssert.Exact<T>(expected, refOut, $"{name}: reference values");
            PoolAssert.Indices(expectedIndices, refIdx, $"{name}: reference indices");
            CheckChannelsLast(c, descriptor, input, shape, outShape, plain, output, indices);
        }
        else
        {
            (output, _) = Engine.Pool<T>(descriptor, input, shape, withIndices: false);
            PoolAssert.Close<T>(expected, output, tolerance, $"{name}: values");
            PoolAssert.Close<T>(expected, ReferencePooling.Average<T>(descriptor, input, shape), tolerance, $"{name}: reference values");
            CheckChannelsLast(c, descriptor, input, shape, outShape, output, null, null);
        }
    }

    /// <summary>
    /// PyTorch's indices, except in windows made only of padding. PyTorch's padding limit (pad &lt;= k / 2) ignores
    /// dilation, so a dilated window can miss the input entirely (max.jsonl.gz:286: depth 1, k=3, d=2, pad 1). PyTorch
    /// then returns -inf with the index of its clamped window start, which can lie outside the plane (27 in a plane of
    /// 27 cells) and would make max_unpool read out of bounds. KernelGen returns -inf and -1 there (documented on
    /// <see cref="Pooling"/>'s indices overload); the value must still be PyTorch's -inf.
    /// </summary>
    private static long[] ExpectedIndices<T>(GoldenCase c, T[] expected, long[] referenceIndices, PoolShape shape) where T : IFloatingPointIeee754<T>
    {
        var indices = c.Indices;
        for (int i = 0; i < indices.Length; i++)
        {
            if (referenceIndices[i] != -1) continue;
            Assert.True(T.IsNegativeInfinity(expected[i]), $"{c}: output {i} has no input cell in its window, but PyTorch gives {expected[i]}");
            indices[i] = -1;
        }
        return indices;
    }

    private static void CheckChannelsLast<T>(GoldenCase c, PoolDescriptor descriptor, T[] input, PoolShape shape, PoolShape outShape,
        T[] channelsFirstOutput, T[]? channelsFirstIndexedOutput, long[]? channelsFirstIndices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var last = descriptor.WithLayout(PoolLayout.ChannelsLast);
        var lastInput = ReferencePooling.ToChannelsLast<T>(input, shape);
        var (output, _) = Engine.Pool<T>(last, lastInput, shape, withIndices: false);
        PoolAssert.Bits<T>(channelsFirstOutput, ReferencePooling.ToChannelsFirst<T>(output, outShape), $"{c}: channels-last values");
        if (channelsFirstIndices is not null)
        {
            var (withIndices, indices) = Engine.Pool<T>(last, lastInput, shape, withIndices: true);
            PoolAssert.Bits<T>(channelsFirstIndexedOutput!, ReferencePooling.ToChannelsFirst<T>(withIndices, outShape), $"{c}: channels-last values (indices path)");
            PoolAssert.Indices(channelsFirstIndices, ReferencePooling.ToChannelsFirst<long>(indices!, outShape), $"{c}: channels-last indices");
        }
    }

    private static void CheckRejected<T>(GoldenCase c, T[] input, PoolShape shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var output = new T[Math.Max(16, input.Length * 4)];
        output.AsSpan().Fill(T.CreateChecked(12345));
        var ex = Record.Exception(() =>
        {
            var descriptor = c.CreateDescriptor();
            if (c.IsMax)
                Engine.Run<T>(descriptor, input, output, new long[output.Length], shape);
            else
                Engine.Run<T>(descriptor, input, output, shape);
        });
        if (ex is not ArgumentException argument)
            throw new XunitException($"{c}: PyTorch rejects it ({c.Error}) but KernelGen {(ex is null ? "accepted it" : "threw " + ex.GetType().Name + ": " + ex.Message)}.");

        string error = c.Error!;
        string expectedParameter =
            error.Contains("pad should", StringComparison.Ordinal) ? "padding" :
            error.Contains("stride", StringComparison.Ordinal) ? "stride" :
            error.Contains("dilation", StringComparison.Ordinal) ? "dilation" :
            error.Contains("kernel size should", StringComparison.Ordinal) ? "kernel" :
            error.Contains("Output size is too small", StringComparison.Ordinal) || error.Contains("smaller than kernel", StringComparison.Ordinal) ? "shape" :
            throw new XunitException($"{c}: unrecognized PyTorch error {error}");
        Assert.True(argument.ParamName == expectedParameter,
            $"{c}: PyTorch says '{error}'; KernelGen's ParamName is '{argument.ParamName}', expected '{expectedParameter}' ({argument.Message}).");
        Assert.True(argument.Message.Any(char.IsDigit), $"{c}: the message names no values: {argument.Message}");
        Assert.All(output, v => Assert.Equal(T.CreateChecked(12345), v));
    }
}
