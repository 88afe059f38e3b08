using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Xunit;
using KernelGen.Testing;

namespace KernelGen.Tests;

/// <summary>
/// The runtime's built-in specialized kernels, float and double, against the general engine: bit-identical on random
/// inputs with NaN, infinities, ties and signed zeros, on widths from 1 to past eight 512-bit vectors: narrow and wide
/// row paths, with last vectors full, at most half full, and just past half.
/// </summary>
[Trait("Category", "Kernel")]
public class SpecializedKernelTests
{
    public static IEnumerable<object[]> BuiltIns() =>
        PoolKernelRegistry.Registered.Select(entry => new object[] { entry.Name });

    /// <summary>Every built-in configuration is registered in both types.</summary>
    [Fact]
    public void EveryBuiltInConfigurationHasAFloatAndADoubleKernel()
    {
        var names = BuiltIns().Select(row => (string)row[0]).ToList();
        var floats = names.Where(name => name.Contains("_F32_", StringComparison.Ordinal)).Select(name => name.Replace("_F32_", "_", StringComparison.Ordinal));
        var doubles = names.Where(name => name.Contains("_F64_", StringComparison.Ordinal)).Select(name => name.Replace("_F64_", "_", StringComparison.Ordinal));
        Assert.Equal(floats.Order(StringComparer.Ordinal), doubles.Order(StringComparer.Ordinal));
        Assert.True(names.Count >= 40, $"{names.Count} built-ins");
    }

    private static (PoolDescriptor Descriptor, Type ElementType) Entry(string name)
    {
        var entry = PoolKernelRegistry.Registered.Single(entry => entry.Name == name);
        return (entry.Descriptor, entry.ElementType);
    }

    /// <summary>The output shape of <paramref name="shape"/>, false where the window does not fit it.</summary>
    private static bool Fits(in PoolDescriptor descriptor, PoolShape shape, out PoolShape outputShape)
    {
        try { outputShape = descriptor.GetOutputShape(shape); return true; }
        catch (ArgumentException) { outputShape = default; return false; }
    }

    [Theory]
    [MemberData(nameof(BuiltIns))]
    public void BuiltInKernelMatchesGeneralEngineBitForBit(string name)
    {
        var (descriptor, type) = Entry(name);
        if (type == typeof(float)) MatchesAcrossWidths<float>(name, descriptor);
        else MatchesAcrossWidths<double>(name, descriptor);
    }

    private static void MatchesAcrossWidths<T>(string name, PoolDescriptor descriptor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) & 0x7fffffff);
        int checkedShapes = 0;
        for (int height = 1; height <= 12; height += 1)
        {
            foreach (int width in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 34, 35, 40, 47, 48, 49, 56, 64, 65, 70, 97, 113, 130 })
            {
                var shape = new PoolShape(2, 3, height, width);
                if (!Fits(descriptor, shape, out var outputShape)) continue;
                var input = RandomInput.Mixed<T>(random, (int)shape.ElementCount);
                var expected = new T[outputShape.ElementCount];
                var actual = new T[outputShape.ElementCount];
                Engine.RunGeneral<T>(descriptor, input, expected, shape);
                Engine.Run<T>(descriptor, input, actual, shape, 1);
                PoolAssert.Bits<T>(expected, actual, $"{name} on {shape}");
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
        var (descriptor, type) = Entry(name);
        if (type == typeof(float)) SingleNaNAnywhere<float>(name, descriptor);
        else SingleNaNAnywhere<double>(name, descriptor);
    }

    private static void SingleNaNAnywhere<T>(string name, PoolDescriptor descriptor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(7);
        // Rows whose last vector is at most half full (5, 20, 40) take 256-bit last blocks; rows past 4 vectors the wide path.
        foreach (var (height, width) in new[] { (5, 5), (9, 20), (7, 28), (3, 40), (4, 47), (3, 64), (6, 81), (5, 112) })
        {
            var shape = new PoolShape(1, 2, height, width);
            var outputShape = descriptor.GetOutputShape(shape);
            var clean = new T[shape.ElementCount];
            for (int i = 0; i < clean.Length; i++) clean[i] = T.CreateChecked(random.Next(-50, 50) * 0.25);
            var expected = new T[outputShape.ElementCount];
            var actual = new T[outputShape.ElementCount];
            for (int position = 0; position < height * width; position++)
            {
                var input = (T[])clean.Clone();
                input[position] = T.NaN; // in the first plane only
                Engine.RunGeneral<T>(descriptor, input, expected, shape);
                Engine.Run<T>(descriptor, input, actual, shape, 1);
                PoolAssert.Bits<T>(expected, actual, $"{name} on {shape} with NaN at cell {position}");
            }
        }
    }

    /// <summary>
    /// Every built-in reads only its input and writes only its output: each placed right before, then right after, an
    /// inaccessible page, on widths around each vector width and channel counts around the channels-last vectors.
    /// </summary>
    [Theory]
    [MemberData(nameof(BuiltIns))]
    public void BuiltInReadsOnlyItsInputAndWritesOnlyItsOutput(string name)
    {
        var (descriptor, type) = Entry(name);
        if (type == typeof(float)) StaysInItsBuffers<float>(name, descriptor);
        else StaysInItsBuffers<double>(name, descriptor);
    }

    private static void StaysInItsBuffers<T>(string name, PoolDescriptor descriptor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) & 0x7fffffff);
        using var memory = new GuardedMemory();
        using var outputs = new GuardedMemory();
        foreach (int channels in new[] { 1, 3, 17 })
        foreach (int height in new[] { 1, 2, 5, 9 })
        foreach (int width in new[] { 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 57, 64, 65 })
        {
            var shape = new PoolShape(2, channels, height, width);
            if (!Fits(descriptor, shape, out var outputShape)) continue;
            var input = RandomInput.Mixed<T>(random, (int)shape.ElementCount);
            var expected = new T[outputShape.ElementCount];
            Engine.RunGeneral<T>(descriptor, input, expected, shape);
            memory.OnBothSides<T>(input, (guarded, placement) =>
            {
                var actual = GuardedOutput.Place<T>(outputs, (int)outputShape.ElementCount, atEnd: placement == GuardedMemory.AtEnd);
                Engine.Run<T>(descriptor, guarded, actual, shape, 1);
                PoolAssert.Bits<T>(expected, actual, $"{name} on {shape}, {placement}");
            });
        }
    }

    public static IEnumerable<object[]> ChannelsLastBuiltIns() =>
        BuiltIns().Where(row => Entry((string)row[0]).Descriptor.Layout == PoolLayout.ChannelsLast);

    /// <summary>
    /// Channels-last kernels run vectors across channels, so three channels (above) only reach their scalar code: these
    /// shapes give every vector width, unrolled sweeps, and the overlapping last vector their turn, with odd and even
    /// output heights and widths, and rows wide enough that many channels are swept in several tiles.
    /// </summary>
    [Theory]
    [MemberData(nameof(ChannelsLastBuiltIns))]
    public void ChannelsLastBuiltInMatchesGeneralEngineAcrossChannelCounts(string name)
    {
        var (descriptor, type) = Entry(name);
        if (type == typeof(float)) MatchesAcrossChannelCounts<float>(name, descriptor);
        else MatchesAcrossChannelCounts<double>(name, descriptor);
    }

    private static void MatchesAcrossChannelCounts<T>(string name, PoolDescriptor descriptor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) & 0x7fffffff);
        var sentinel = T.CreateChecked(12345);
        int checkedShapes = 0;
        foreach (int channels in new[] { 1, 4, 7, 8, 12, 16, 17, 20, 31, 32, 33, 48, 63, 64, 65, 80, 128, 131 })
        {
            foreach (var (height, width) in new[] { (1, 1), (2, 3), (5, 4), (6, 7), (9, 9), (12, 11), (3, 37) })
            {
                var shape = new PoolShape(1 + channels % 2, channels, height, width);
                if (!Fits(descriptor, shape, out var outputShape)) continue;
                var input = RandomInput.Mixed<T>(random, (int)shape.ElementCount);
                var expected = new T[outputShape.ElementCount];
                var actual = new T[outputShape.ElementCount + 1];
                actual[^1] = sentinel;
                Engine.RunGeneral<T>(descriptor, input, expected, shape);
                Engine.Run<T>(descriptor, input, actual.AsSpan(0, expected.Length), shape, 1);
                PoolAssert.Bits<T>(expected, actual.AsSpan(0, expected.Length), $"{name} on {shape}");
                Assert.True(actual[^1] == sentinel, $"{name} on {shape}: wrote past the output");
                checkedShapes++;
            }
        }
        Assert.True(checkedShapes > 50, $"only {checkedShapes} shapes were valid");
    }
}
