using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using KernelGen.Testing;

namespace KernelGen.Tests;

/// <summary>
/// The runtime's built-in specialized kernels against the general engine: bit-identical on random inputs with NaN,
/// infinities, ties and signed zeros, on widths from 1 to past eight 512-bit vectors: narrow and wide row paths, with
/// last vectors full, at most half full, and just past half.
/// </summary>
[Trait("Category", "Kernel")]
public class SpecializedKernelTests
{
    public static IEnumerable<object[]> BuiltIns() =>
        PoolKernelRegistry.Registered
            .Where(entry => entry.ElementType == typeof(float))
            .Select(entry => new object[] { entry.Name });

    [Theory]
    [MemberData(nameof(BuiltIns))]
    public void BuiltInKernelMatchesGeneralEngineBitForBit(string name)
    {
        var (descriptor, _, _) = PoolKernelRegistry.Registered.Single(entry => entry.Name == name && entry.ElementType == typeof(float));
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) & 0x7fffffff);
        int checkedShapes = 0;
        for (int height = 1; height <= 12; height += 1)
        {
            foreach (int width in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 34, 35, 40, 47, 48, 49, 56, 64, 65, 70, 97, 113, 130 })
            {
                var shape = new PoolShape(2, 3, height, width);
                PoolShape outputShape;
                try { outputShape = descriptor.GetOutputShape(shape); }
                catch (ArgumentException) { continue; }
                var input = RandomInput.Mixed<float>(random, (int)shape.ElementCount);
                var expected = new float[outputShape.ElementCount];
                var actual = new float[outputShape.ElementCount];
                Pooling.RunGeneral(descriptor, input, expected, shape, 1);
                Pooling.Run(descriptor, input, actual, shape, 1);
                for (int i = 0; i < expected.Length; i++)
                {
                    if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                        Assert.Fail($"{name} on {shape}: output {i} is {actual[i]:R}, the general engine gives {expected[i]:R}");
                }
                checkedShapes++;
            }
        }
        Assert.True(checkedShapes > 50, $"only {checkedShapes} shapes were valid");
    }

    /// <summary>
    /// Kernels that first pool with the one-instruction maximum (exact unless an operand is NaN) must notice a single NaN
    /// wherever it sits and pool that plane again with the NaN-propagating maximum; the other plane has no NaN.
    /// </summary>
    [Theory]
    [MemberData(nameof(BuiltIns))]
    public void SingleNaNAnywhereInAPlanePropagatesLikeTheGeneralEngine(string name)
    {
        var (descriptor, _, _) = PoolKernelRegistry.Registered.Single(entry => entry.Name == name && entry.ElementType == typeof(float));
        var random = new Random(7);
        // Rows whose last vector is at most half full (5, 20, 40) take 256-bit last blocks; rows past 4 vectors the wide path.
        foreach (var (height, width) in new[] { (5, 5), (9, 20), (7, 28), (3, 40), (4, 47), (3, 64), (6, 81), (5, 112) })
        {
            var shape = new PoolShape(1, 2, height, width);
            var outputShape = descriptor.GetOutputShape(shape);
            var clean = new float[shape.ElementCount];
            for (int i = 0; i < clean.Length; i++) clean[i] = random.Next(-50, 50) * 0.25f;
            var expected = new float[outputShape.ElementCount];
            var actual = new float[outputShape.ElementCount];
            for (int position = 0; position < height * width; position++)
            {
                var input = (float[])clean.Clone();
                input[position] = float.NaN; // in the first plane only
                Pooling.RunGeneral(descriptor, input, expected, shape, 1);
                Pooling.Run(descriptor, input, actual, shape, 1);
                for (int i = 0; i < expected.Length; i++)
                {
                    if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                        Assert.Fail($"{name} on {shape} with NaN at cell {position}: output {i} is {actual[i]:R}, the general engine gives {expected[i]:R}");
                }
            }
        }
    }

    public static IEnumerable<object[]> ChannelsLastBuiltIns() =>
        BuiltIns().Where(row => PoolKernelRegistry.Registered.Any(entry => entry.Name == (string)row[0] && entry.Descriptor.Layout == PoolLayout.ChannelsLast));

    /// <summary>
    /// Channels-last kernels run vectors across channels, so three channels (above) only reach their scalar code: these
    /// shapes give every vector width, unrolled sweeps, and the overlapping last vector their turn, with odd and even
    /// output heights and widths, and rows wide enough that many channels are swept in several tiles.
    /// </summary>
    [Theory]
    [MemberData(nameof(ChannelsLastBuiltIns))]
    public void ChannelsLastBuiltInMatchesGeneralEngineAcrossChannelCounts(string name)
    {
        var (descriptor, _, _) = PoolKernelRegistry.Registered.Single(entry => entry.Name == name && entry.ElementType == typeof(float));
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) & 0x7fffffff);
        int checkedShapes = 0;
        foreach (int channels in new[] { 1, 4, 7, 8, 12, 16, 17, 20, 31, 32, 33, 48, 63, 64, 65, 80, 128, 131 })
        {
            foreach (var (height, width) in new[] { (1, 1), (2, 3), (5, 4), (6, 7), (9, 9), (12, 11), (3, 37) })
            {
                var shape = new PoolShape(1 + channels % 2, channels, height, width);
                PoolShape outputShape;
                try { outputShape = descriptor.GetOutputShape(shape); }
                catch (ArgumentException) { continue; }
                var input = RandomInput.Mixed<float>(random, (int)shape.ElementCount);
                var expected = new float[outputShape.ElementCount];
                var actual = new float[outputShape.ElementCount + 1];
                actual[^1] = 12345f;
                Pooling.RunGeneral(descriptor, input, expected, shape, 1);
                Pooling.Run(descriptor, input, actual.AsSpan(0, expected.Length), shape, 1);
                for (int i = 0; i < expected.Length; i++)
                {
                    if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                        Assert.Fail($"{name} on {shape}: output {i} is {actual[i]:R}, the general engine gives {expected[i]:R}");
                }
                Assert.True(actual[^1] == 12345f, $"{name} on {shape}: wrote past the output");
                checkedShapes++;
            }
        }
        Assert.True(checkedShapes > 50, $"only {checkedShapes} shapes were valid");
    }

}
