using System;
using System.Linq;
using System.Runtime.InteropServices;
using KernelGen.Testing;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The edges a hostile caller reaches (issue 18): sizes past 32 bits, windows and padding far longer than the input,
/// spans that overlap. Each either runs correctly in time and memory bounded by its input and output, or is rejected
/// before anything is written with an <see cref="ArgumentException"/> naming the called method's parameter.
/// </summary>
[Trait("Category", "Kernel")]
public class ExtremeInputTests(Xunit.Abstractions.ITestOutputHelper log)
{
    /// <summary>Allocation allowed for one call on inputs of a few cells: scratch tables, never the window or padding.</summary>
    private const long SmallCallBytes = 1 << 20;

    /// <summary>
    /// Allocation allowed for the first such call, which also fills caches: a table sized by the window would show here,
    /// since ArrayPool keeps large arrays for the calls after it.
    /// </summary>
    private const long FirstCallBytes = 64 << 20;

    private static void RejectsUntouched(string parameter, Action<float[], long[]> call, params string[] mustContain) =>
        BadInputTests.Rejects(parameter, call, mustContain);

    /// <summary>Runs <paramref name="call"/> once and returns the bytes it allocated on this thread.</summary>
    private static long Allocated(Action call)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        call();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    // 1. ----------------------------------------------------------------------------------------------------------

    [Fact]
    public void ThreeDimensionalCountsSaturateInsteadOfWrapping()
    {
        var wrapsToZero = new PoolShape(1, 1, 1 << 22, 1 << 21, 1 << 21);   // 2^64 cells
        var wrapsToSmall = new PoolShape(1, 1, 1073750016, 307, 55960059);  // wrapped to 8192
        foreach (var shape in new[] { wrapsToZero, wrapsToSmall })
        {
            Assert.Equal(long.MaxValue, shape.PlaneSize);
            Assert.Equal(long.MaxValue, shape.ElementCount);
            RejectsUntouched("shape", (o, _) => Pooling.GlobalAverage(ReadOnlySpan<float>.Empty, o, shape), "array");
            RejectsUntouched("shape", (o, _) => Pooling.GlobalMax(ReadOnlySpan<float>.Empty, o, shape));
            RejectsUntouched("shape", (o, _) => Pooling.GlobalAverage(new float[8192], o, shape));
            RejectsUntouched("shape", (o, i) => Pooling.Run(PoolDescriptor.MaxPool3d(1), new float[8192], o, i, shape));
            Assert.Equal(long.MaxValue, PoolDescriptor.MaxPool3d(1).GetOutputShape(shape).ElementCount);
        }
        // No planes: nothing to do, whatever the plane size.
        Assert.Equal(0, new PoolShape(0, 3, 1 << 22, 1 << 21, 1 << 21).ElementCount);
        Assert.Equal(0, default(PoolShape).PlaneSize);
    }

    // 2 and 3. ----------------------------------------------------------------------------------------------------

    public static TheoryData<string> HugeWindows() => new()
    {
        "max1d k=2^30 p=2^29",
        "max1d k=int.MaxValue p=2^30-1",
        "avg2d k=65536 p=32768",
        "onnx max k=3 p=2^30+1 d=2^30",
        "max2d k=(1,2^20) s=1 p=(0,2^19)",
        "onnx avg 3d k=2^20 p=2^20-1 include-pad",
        "max1d k=2 s=2^30",
        // A group of planes of a transpose block or more: channels first, the clamped route through channels last.
        "max1d k=2^30 p=2^29, 40 planes of 20",
        "avg2d k=65536 p=32768, 33 planes of 4x5",
        "onnx max k=3 p=2^30+1 d=2^30, 2x20 planes of 17",
        // Channels last, images of more than 32 cells: the routes after the clamped one take modest windows only.
        "max1d k=2^30 p=2^29, planes of 100",
        "onnx max k=3 p=2^30+1 d=2^30, planes of 40",
        "avg2d k=(3,300) s=(1,257) p=(1,150), planes of 4x50",
    };

    [Theory]
    [MemberData(nameof(HugeWindows))]
    public void WindowsLongerThanTheInputRunInBoundedMemory(string name)
    {
        var (descriptor, shape) = name switch
        {
            "max1d k=2^30 p=2^29" => (PoolDescriptor.MaxPool1d(1 << 30, padding: 1 << 29), new PoolShape(1, 1, 4)),
            "max1d k=int.MaxValue p=2^30-1" => (PoolDescriptor.MaxPool1d(int.MaxValue, padding: (1 << 30) - 1), new PoolShape(1, 1, 4)),
            "avg2d k=65536 p=32768" => (PoolDescriptor.AvgPool2d(65536, padding: 32768), new PoolShape(1, 1, 4, 4)),
            "onnx max k=3 p=2^30+1 d=2^30" => (PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 1, (1 << 30) + 1, (1 << 30) + 1, 1 << 30)]), new PoolShape(1, 2, 4)),
            "max2d k=(1,2^20) s=1 p=(0,2^19)" => (PoolDescriptor.MaxPool2d((1, 1 << 20), (1, 1), (0, 1 << 19)), new PoolShape(1, 2, 2, 4)),
            "onnx avg 3d k=2^20 p=2^20-1 include-pad" => (PoolDescriptor.Create(PoolMode.Average,
                [new PoolAxis(1 << 20, 1 << 20, (1 << 20) - 1, (1 << 20) - 1, 1), new PoolAxis(2, 1), new PoolAxis(1 << 20, 1 << 19, (1 << 20) - 1, 3, 1)], countIncludePad: true), new PoolShape(1, 3, 2, 3, 5)),
            "max1d k=2 s=2^30" => (PoolDescriptor.MaxPool1d(2, 1 << 30), new PoolShape(2, 3, 5)),
            "max1d k=2^30 p=2^29, 40 planes of 20" => (PoolDescriptor.MaxPool1d(1 << 30, padding: 1 << 29), new PoolShape(1, 40, 20)),
            "avg2d k=65536 p=32768, 33 planes of 4x5" => (PoolDescriptor.AvgPool2d(65536, padding: 32768), new PoolShape(1, 33, 4, 5)),
            "onnx max k=3 p=2^30+1 d=2^30, 2x20 planes of 17" => (PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 1, (1 << 30) + 1, (1 << 30) + 1, 1 << 30)]), new PoolShape(2, 20, 17)),
            "max1d k=2^30 p=2^29, planes of 100" => (PoolDescriptor.MaxPool1d(1 << 30, padding: 1 << 29), new PoolShape(1, 2, 100)),
            "onnx max k=3 p=2^30+1 d=2^30, planes of 40" => (PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(3, 1, (1 << 30) + 1, (1 << 30) + 1, 1 << 30)]), new PoolShape(1, 3, 40)),
            "avg2d k=(3,300) s=(1,257) p=(1,150), planes of 4x50" => (PoolDescriptor.AvgPool2d((3, 300), (1, 257), (1, 150)), new PoolShape(1, 3, 4, 50)),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        foreach (var layout in new[] { PoolLayout.ChannelsFirst, PoolLayout.ChannelsLast })
        {
            var pool = descriptor.WithLayout(layout);
            var outShape = pool.GetOutputShape(shape);
            var random = new Random(7);
            var input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => random.NextDouble() * 8 - 4).ToArray();
            var inputF = input.Select(v => (float)v).ToArray();
            var output = new double[outShape.ElementCount];
            var outputF = new float[outShape.ElementCount];
            Assert.InRange(Allocated(() => Pooling.Run(pool, input, output, shape, 1)), 0, FirstCallBytes);
            Assert.InRange(Allocated(() => Pooling.Run(pool, inputF, outputF, shape, 1)), 0, FirstCallBytes);
            Assert.InRange(Allocated(() => Pooling.Run(pool, input, output, shape, 1)), 0, SmallCallBytes);
            Assert.InRange(Allocated(() => Pooling.Run(pool, inputF, outputF, shape, 1)), 0, SmallCallBytes);
            Assert.Equal(ReferencePooling.Pool<double>(pool, input, shape), output);
            Assert.Equal(ReferencePooling.Pool<float>(pool, inputF, shape), outputF);
            if (pool.Mode == PoolMode.Max)
            {
                var indices = new long[outShape.ElementCount];
                Assert.InRange(Allocated(() => Pooling.Run(pool, input, output, indices, shape, 1)), 0, SmallCallBytes);
                Assert.Equal(ReferencePooling.Max<double>(pool, input, shape).Indices, indices);
            }
        }
    }

    // 4. ----------------------------------------------------------------------------------------------------------

    [Fact]
    public void SamePaddingBeyond32BitsIsRejected()
    {
        var shape = new PoolShape(1, 1, 4);
        RejectsUntouched("dilations", (_, _) => PoolDescriptor.FromOnnx(PoolMode.Max, [int.MaxValue], dilations: [4], autoPad: OnnxAutoPad.SameUpper, inputShape: shape), "SAME");
        // The largest dense window still fits: 2^31 - 2 cells of padding, 2^30 - 1 on each side.
        var fits = PoolDescriptor.FromOnnx(PoolMode.Max, [int.MaxValue], autoPad: OnnxAutoPad.SameLower, inputShape: shape);
        Assert.Equal(new PoolAxis(int.MaxValue, 1, 1073741823, 1073741823, 1), fits.GetAxis(0));
    }

    // 5. ----------------------------------------------------------------------------------------------------------

    [Fact]
    public void OutputSizesPastInt32AreRejected()
    {
        // keff = 2^31, pads 2^31 - 1 on each side: L + 2^31 - 1 outputs.
        var wide = PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 1, int.MaxValue, int.MaxValue, int.MaxValue)]);
        var shape = new PoolShape(1, 1, 4);
        RejectsUntouched("inputShape", (_, _) => wide.GetOutputShape(shape), "2147483651");
        RejectsUntouched("shape", (o, _) => Pooling.Run(wide, new float[4], o, shape), "2147483651");
        RejectsUntouched("shape", (o, i) => Pooling.Run(wide, new float[4], o, i, shape), "2147483651");
    }

    // 6. ----------------------------------------------------------------------------------------------------------

    [Fact]
    public void IndicesOverlappingInputOrOutputAreRejected()
    {
        var pool = PoolDescriptor.MaxPool2d(2);
        var shape = new PoolShape(1, 2, 4, 4); // 8 outputs
        var buffer = Enumerable.Range(0, 64).Select(i => (long)i).ToArray();
        var copy = buffer.ToArray();
        var input = Enumerable.Range(0, 32).Select(i => (float)i).ToArray();
        var output = new float[8];
        // Indices over the output's or the input's memory.
        var ex = Assert.ThrowsAny<ArgumentException>(() => Pooling.Run(pool, input, MemoryMarshal.Cast<long, float>(buffer.AsSpan(0, 4)), buffer.AsSpan(2, 8), shape));
        Assert.Equal("indices", ex.ParamName);
        ex = Assert.ThrowsAny<ArgumentException>(() => Pooling.Run(pool, MemoryMarshal.Cast<long, float>(buffer.AsSpan(20, 16)), output, buffer.AsSpan(30, 8), shape));
        Assert.Equal("indices", ex.ParamName);
        Assert.Equal(copy, buffer);
        // Adjacent is fine.
        Pooling.Run(pool, input, MemoryMarshal.Cast<long, float>(buffer.AsSpan(0, 4)), buffer.AsSpan(4, 8), shape);
    }

    // 7. ----------------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(PoolLayout.ChannelsFirst)]
    [InlineData(PoolLayout.ChannelsLast)]
    public void GlobalAverageOfLargeFloatPlanesStaysAccurate(PoolLayout layout)
    {
        // 16 planes of 2^18 cells of 0.1f: a float stripe of 2^14 cells drifted by 2.4e-4; blocks keep the error near 1e-6.
        var shape = new PoolShape(1, 16, 512, 512);
        var input = new float[shape.ElementCount];
        Array.Fill(input, 0.1f);
        var output = new float[16];
        Pooling.GlobalAverage(input, output, shape, layout, 1);
        Assert.All(output, v => Assert.InRange(v, 0.1f * (1 - 1e-5f), 0.1f * (1 + 1e-5f)));
        PoolAssert.Bits<float>(ReferencePooling.GlobalAverage<float>(input, shape, layout), output, $"{layout}");
    }

    /// <summary>Plane sizes around the float summation blocks: one block, a block and a tail, a tail alone, several.</summary>
    [Theory]
    [InlineData(4096, 17)]
    [InlineData(4097, 16)]
    [InlineData(4112, 5)]
    [InlineData(8192, 33)]
    [InlineData(8195, 4)]
    [InlineData(12293, 1)]
    public void GlobalAverageBlocksMatchTheReference(int planeSize, int channels)
    {
        var shape = new PoolShape(1, channels, planeSize);
        var random = new Random(planeSize);
        var input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => (float)(random.NextDouble() * 2 - 0.5)).ToArray();
        var inputDouble = input.Select(v => (double)v).ToArray();
        foreach (var layout in new[] { PoolLayout.ChannelsFirst, PoolLayout.ChannelsLast })
        {
            var output = new float[channels];
            Pooling.GlobalAverage(input, output, shape, layout, 1);
            PoolAssert.Bits<float>(ReferencePooling.GlobalAverage<float>(input, shape, layout), output, $"float {planeSize}x{channels} {layout}");
            var outputDouble = new double[channels];
            Pooling.GlobalAverage(inputDouble, outputDouble, shape, layout, 1);
            PoolAssert.Bits<double>(ReferencePooling.GlobalAverage<double>(inputDouble, shape, layout), outputDouble, $"double {planeSize}x{channels} {layout}");
        }
    }

    /// <summary>
    /// The case, 32768^2 cells of [0, 1) (a 4 GB input): opt-in, set KERNELGEN_HUGE=1. The old stripes gave
    /// 0.25 for a true mean of 0.5.
    /// </summary>
    [Fact]
    public void GlobalAverageOfAGigaCellPlane()
    {
        if (Environment.GetEnvironmentVariable("KERNELGEN_HUGE") != "1") return;
        var shape = new PoolShape(1, 1, 32768, 32768);
        var input = new float[shape.ElementCount];
        uint state = 12345;
        double exact = 0;
        for (long i = 0; i < input.Length; i++)
        {
            state = state * 1664525 + 1013904223;
            input[i] = (state >> 8) * (1f / (1 << 24));
            exact += input[i];
        }
        exact /= input.Length;
        var output = new float[1];
        Pooling.GlobalAverage(input, output, shape);
        log.WriteLine($"KERNELGEN_HUGE: 32768x32768 global average {output[0]:R}, double sum gives {exact:R}");
        Assert.InRange(output[0], exact - 1e-6, exact + 1e-6);
    }

    // 8. ----------------------------------------------------------------------------------------------------------

    [Fact]
    public void CreateAndFromOnnxNameTheirOwnParameters()
    {
        RejectsUntouched("axes", (_, _) => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(0, 1)]), "k=0");
        RejectsUntouched("axes", (_, _) => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 0)]), "s=0");
        RejectsUntouched("axes", (_, _) => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 1, 0, 0, 0)]), "d=0");
        RejectsUntouched("axes", (_, _) => PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(2, 1, 2, 0, 1)]), "pad=2/0");
        RejectsUntouched("axes", (_, _) => PoolDescriptor.Create(PoolMode.Average, [new PoolAxis(2, 1, 0, 0, 2)], convention: PoolConvention.PyTorch), "2");
        RejectsUntouched("kernelShape", (_, _) => PoolDescriptor.FromOnnx(PoolMode.Max, [2, 0]), "k=0");
        RejectsUntouched("strides", (_, _) => PoolDescriptor.FromOnnx(PoolMode.Max, [2], strides: [-1]), "s=-1");
        RejectsUntouched("dilations", (_, _) => PoolDescriptor.FromOnnx(PoolMode.Max, [2], dilations: [0]), "d=0");
        RejectsUntouched("pads", (_, _) => PoolDescriptor.FromOnnx(PoolMode.Max, [2], pads: [2, 0]), "pad=2/0");
        RejectsUntouched("pads", (_, _) => PoolDescriptor.FromOnnx(PoolMode.Max, [2], pads: [0, -1]), "pad=0/-1");
        // The PyTorch factories keep their own names.
        RejectsUntouched("padding", (_, _) => PoolDescriptor.MaxPool2d(3, 1, 2), "2");
        RejectsUntouched("kernel", (_, _) => PoolDescriptor.AvgPool1d(0), "k=0");
    }
}
