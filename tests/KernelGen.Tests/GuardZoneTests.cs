using System;
using System.Numerics;
using KernelGen.Testing;
using Xunit;
using Xunit.Sdk;

namespace KernelGen.Tests;

/// <summary>
/// The engine writes exactly the output (and indices) cells and nothing else: output spans are slices from the
/// middle of larger buffers filled with a sentinel, and every cell outside the slice must still hold it afterwards.
/// </summary>
[Trait("Category", "Kernel")]
public class GuardZoneTests
{
    private const int Guard = 67; // odd, more than a 512-bit vector of doubles or floats on either side
    private const long IndexSentinel = 0x5EED_5EED_5EED_5EEDL;

    public static TheoryData<string, PoolLayout, bool, int> Cases()
    {
        var data = new TheoryData<string, PoolLayout, bool, int>();
        foreach (var name in new[] { "max3s2p1", "max2", "max-indices", "avg3s1p1", "avg-ceil-exclude", "avg-onnx-dilated", "max-onnx-dilated", "global-max", "global-avg" })
            foreach (var layout in new[] { PoolLayout.ChannelsFirst, PoolLayout.ChannelsLast })
                foreach (var isDouble in new[] { false, true })
                    foreach (var dop in new[] { 1, -1 })
                        data.Add(name, layout, isDouble, dop);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WritesOnlyTheOutputSlice(string name, PoolLayout layout, bool isDouble, int maxDop)
    {
        if (isDouble) Check(name, layout, maxDop, double.CreateChecked(-7.25e300));
        else Check(name, layout, maxDop, -7.25e30f);
    }

    private static PoolDescriptor Descriptor(string name, PoolLayout layout) => name switch
    {
        "max3s2p1" => PoolDescriptor.MaxPool2d(3, 2, 1, layout: layout),
        "max2" or "max-indices" => PoolDescriptor.MaxPool2d(2, layout: layout),
        "avg3s1p1" => PoolDescriptor.AvgPool2d(3, 1, 1, layout: layout),
        "avg-ceil-exclude" => PoolDescriptor.AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false, layout: layout),
        "avg-onnx-dilated" => PoolDescriptor.Create(PoolMode.Average, [new PoolAxis(3, 2, 2, 0, 2), new PoolAxis(2, 3, 0, 1, 2)], ceilMode: true, layout: layout),
        "max-onnx-dilated" => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 1, 2, 2, 3), new PoolAxis(3, 2, 1, 3, 2)], ceilMode: true, layout: layout),
        _ => throw new ArgumentException(name),
    };

    private static void Check<T>(string name, PoolLayout layout, int maxDop, T sentinel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Small enough to run fast, large enough (with maxDop -1) to cross Pooling.ParallelThreshold.
        var shape = maxDop == 1 ? new PoolShape(2, 5, 13, 17) : new PoolShape(2, 17, 65, 61);
        var input = RandomInput.Create<T>((int)shape.ElementCount, 2, 17);
        bool global = name.StartsWith("global", StringComparison.Ordinal);
        var descriptor = global ? default : Descriptor(name, layout);
        long outCount = global ? shape.PlaneCount : descriptor.GetOutputShape(shape).ElementCount;

        var buffer = new T[outCount + 2 * Guard];
        buffer.AsSpan().Fill(sentinel);
        var output = buffer.AsSpan(Guard, (int)outCount);
        long[] indexBuffer = new long[outCount + 2 * Guard];
        indexBuffer.AsSpan().Fill(IndexSentinel);

        switch (name)
        {
            case "global-max": Engine.GlobalMax<T>(input, output, shape, layout, maxDop); break;
            case "global-avg": Engine.GlobalAverage<T>(input, output, shape, layout, maxDop); break;
            case "max-indices": Engine.Run<T>(descriptor, input, output, indexBuffer.AsSpan(Guard, (int)outCount), shape, maxDop); break;
            default: Engine.Run<T>(descriptor, input, output, shape, maxDop); break;
        }

        string context = $"{name} {layout} {typeof(T).Name} dop {maxDop}";
        for (int i = 0; i < buffer.Length; i++)
        {
            bool inside = i >= Guard && i < Guard + outCount;
            if (!inside && buffer[i] != sentinel) throw new XunitException($"{context}: wrote {buffer[i]} at {i - Guard} outside the output slice.");
            if (inside && buffer[i] == sentinel) throw new XunitException($"{context}: output cell {i - Guard} was not written.");
            if (!inside && indexBuffer[i] != IndexSentinel) throw new XunitException($"{context}: wrote index {indexBuffer[i]} at {i - Guard} outside the indices slice.");
            if (inside && name == "max-indices" && indexBuffer[i] == IndexSentinel) throw new XunitException($"{context}: index {i - Guard} was not written.");
        }

        // The cells inside are the right ones, too.
        if (global) return;
        if (descriptor.Mode == PoolMode.Max) PoolAssert.Exact<T>(ReferencePooling.Max<T>(descriptor, input, shape).Output, output.ToArray(), context);
        else PoolAssert.Bits<T>(ReferencePooling.Average<T>(descriptor, input, shape), output.ToArray(), context);
    }

    [Fact]
    public void BufferLargerThanTheOutputKeepsItsTail()
    {
        // Pooling.Run writes only the first ElementCount cells of a longer output span.
        var shape = new PoolShape(1, 3, 9, 9);
        var input = RandomInput.Create<float>((int)shape.ElementCount, 0, 3);
        var descriptor = PoolDescriptor.AvgPool2d(2);
        long count = descriptor.GetOutputShape(shape).ElementCount;
        var output = new float[count + 40];
        output.AsSpan().Fill(float.NaN);
        Pooling.Run(descriptor, input, output, shape);
        for (long i = count; i < output.Length; i++) Assert.True(float.IsNaN(output[i]), $"cell {i} past the output was written");
    }
}
