using System.Collections.Generic;
using System;
using System.Linq;
using System.Numerics;
using CsCheck;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>One random pooling configuration and its input, for the engine-versus-reference properties.</summary>
public sealed record PoolCase(
    int Rank, PoolLayout Layout, PoolMode Mode, bool WithIndices, PoolConvention Convention, PoolAxis[] Axes,
    bool CeilMode, bool CountIncludePad, int? DivisorOverride, int Batch, int Channels, int[] Lengths, int Style, int Seed)
{
    public PoolDescriptor Descriptor() =>
        PoolDescriptor.Create(Mode, Axes, CeilMode, CountIncludePad, DivisorOverride, Layout, Convention);

    public PoolShape Shape => Rank switch
    {
        1 => new PoolShape(Batch, Channels, Lengths[0]),
        2 => new PoolShape(Batch, Channels, Lengths[0], Lengths[1]),
        _ => new PoolShape(Batch, Channels, Lengths[0], Lengths[1], Lengths[2]),
    };

    public T[] Input<T>() where T : IFloatingPointIeee754<T> => RandomInput.Create<T>((int)Shape.ElementCount, Style, Seed);

    public override string ToString() =>
        $"{Descriptor()} convention={Convention} indices={WithIndices} shape={Shape} style={RandomInput.StyleName(Style)} seed={Seed}";
}

/// <summary>
/// The engine against the scalar reference on thousands of random configurations: every rank, both layouts, both
/// element types, max with and without indices, average with every divisor rule, both conventions, and widths and
/// channel counts across every vector width's tails.
/// </summary>
[Trait("Category", "Kernel")]
public class EnginePropertyTests(ITestOutputHelper log)
{
    private const int Iterations = 20000;

    private static readonly Gen<(int K, int S, int D, int Pb, int Pe)> GenAxis =
        from k in Gen.Int[1, 5]
        from s in Gen.Int[1, 4]
        from d in Gen.Int[1, 3]
        from pb in Gen.Int[0, 14]
        from pe in Gen.Int[0, 14]
        select (k, s, d, pb, pe);

    /// <summary>Random cases; <paramref name="mode"/> 0 = max, 1 = max with indices, 2 = average.</summary>
    public static Gen<PoolCase> Cases(Gen<int> mode) =>
        from rank in Gen.Int[1, 3]
        from layout in Gen.Bool
        from modeKind in mode
        from onnx in Gen.Bool
        from axes in GenAxis.Array[rank]
        from ceil in Gen.Bool
        from includePad in Gen.Bool
        from divisor in Gen.Int[-3, 12]
        from lengths in Gen.Int[1, 33].Array[3]
        from batch in Gen.Int[1, 2]
        from channels in Gen.Int[1, 33]
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select Build(rank, layout ? PoolLayout.ChannelsLast : PoolLayout.ChannelsFirst, modeKind, onnx, axes, ceil, includePad,
            divisor, lengths, batch, channels, style, seed);

    private static PoolCase Build(int rank, PoolLayout layout, int modeKind, bool onnx, (int K, int S, int D, int Pb, int Pe)[] raw,
        bool ceil, bool includePad, int divisorChoice, int[] rawLengths, int batch, int channels, int style, int seed)
    {
        var mode = modeKind == 2 ? PoolMode.Average : PoolMode.Max;
        var convention = onnx ? PoolConvention.Onnx : PoolConvention.PyTorch;
        var axes = new PoolAxis[rank];
        var lengths = new int[rank];
        for (int a = 0; a < rank; a++)
        {
            var (k, s, d, pb, pe) = raw[a];
            if (mode == PoolMode.Average && convention == PoolConvention.PyTorch) d = 1;
            int effective = (k - 1) * d + 1;
            if (convention == PoolConvention.PyTorch) pb = pe = pb % (k / 2 + 1);
            else { pb %= effective; pe %= effective; }
            axes[a] = new PoolAxis(k, s, pb, pe, d);

            // The innermost axis takes every width 1..33 (tails of every vector width); outer axes stay small.
            int length = a == rank - 1 ? rawLengths[a] : 1 + rawLengths[a] % (rank == 3 ? 4 : 7);
            if (convention == PoolConvention.PyTorch && mode == PoolMode.Average && rank == 3) length = Math.Max(length, k);
            while (ReferencePooling.OutputSize(length, k, s, pb, pe, d, ceil) < 1) length++;
            lengths[a] = length;
        }
        // Channels last vectorizes across channels: cover 1..33. Channels first, a few planes are enough.
        if (layout == PoolLayout.ChannelsFirst) channels = 1 + channels % 3;
        if (rank == 3 && layout == PoolLayout.ChannelsLast) batch = 1;
        // About a third of average cases override the divisor, negative ones included (PyTorch only forbids 0).
        int? divisor = mode != PoolMode.Average ? null : divisorChoice switch
        {
            < 0 => 1 - 2 * divisorChoice, // 3, 5, 7
            10 => -3,
            11 => 1,
            12 => 4,
            _ => null,
        };
        return new PoolCase(rank, layout, mode, modeKind == 1, convention, axes, ceil, mode == PoolMode.Average && includePad,
            divisor, batch, channels, lengths, style, seed);
    }

    internal static void Check<T>(PoolCase pc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = pc.Descriptor();
        var shape = pc.Shape;
        var input = pc.Input<T>();
        string context = $"{typeof(T).Name} {pc}";
        Assert.Equal(ReferencePooling.OutputShape(descriptor, shape), descriptor.GetOutputShape(shape));

        if (pc.Mode == PoolMode.Max)
        {
            var (expected, expectedIndices) = ReferencePooling.Max<T>(descriptor, input, shape);
            var (output, indices) = Engine.Pool<T>(descriptor, input, shape, pc.WithIndices, maxDop: 1);
            PoolAssert.Exact<T>(expected, output, context);
            if (pc.WithIndices) PoolAssert.Indices(expectedIndices, indices, context);
        }
        else
        {
            var expected = ReferencePooling.Average<T>(descriptor, input, shape);
            var (output, _) = Engine.Pool<T>(descriptor, input, shape, withIndices: false, maxDop: 1);
            PoolAssert.Bits<T>(expected, output, context);
        }
    }

    /// <summary>The generator is not degenerate: it reaches every bucket the properties are meant to cover.</summary>
    [Fact]
    public void GeneratorCoversTheIntendedSpace()
    {
        var seen = new System.Collections.Generic.HashSet<string>();
        Cases(Gen.Int[0, 2]).Sample(pc =>
        {
            var tags = new System.Collections.Generic.List<string>
            {
                $"rank{pc.Rank}-{pc.Layout}-{pc.Mode}", $"width{pc.Lengths[^1]}", $"style{pc.Style}",
            };
            if (pc.Layout == PoolLayout.ChannelsLast) tags.Add($"channels{pc.Channels}");
            if (pc.WithIndices) tags.Add($"indices-{pc.Layout}");
            if (pc.CeilMode) tags.Add($"ceil-{pc.Mode}");
            if (pc.DivisorOverride is < 0) tags.Add("negative-divisor");
            if (pc.DivisorOverride is > 0) tags.Add("divisor");
            if (pc.Mode == PoolMode.Average) tags.Add($"include-pad-{pc.CountIncludePad}");
            foreach (var a in pc.Axes)
            {
                if (a.PadBegin != a.PadEnd) tags.Add("asymmetric-pad");
                if (a.Dilation > 1) tags.Add($"dilated-{pc.Mode}");
                tags.Add($"stride{a.Stride}");
                tags.Add($"kernel{a.Kernel}");
            }
            for (int i = 0; i < pc.Rank; i++)
            {
                var a = pc.Axes[i];
                long outputs = ReferencePooling.OutputSize(pc.Lengths[i], a.Kernel, a.Stride, a.PadBegin, a.PadEnd, a.Dilation, pc.CeilMode);
                for (long o = 0; o < outputs; o++)
                {
                    long start = o * a.Stride - a.PadBegin;
                    bool any = false;
                    for (int t = 0; t < a.Kernel; t++) any |= start + (long)t * a.Dilation is var p && p >= 0 && p < pc.Lengths[i];
                    if (!any) tags.Add($"all-padding-window-{pc.Mode}");
                }
            }
            lock (seen) seen.UnionWith(tags);
        }, iter: 20000, threads: 1, seed: "0000000000001");

        var expected = new System.Collections.Generic.List<string>
        {
            "asymmetric-pad", "dilated-Max", "dilated-Average", "negative-divisor", "divisor", "include-pad-True", "include-pad-False",
            "ceil-Max", "ceil-Average", "indices-ChannelsFirst", "indices-ChannelsLast", "all-padding-window-Max", "all-padding-window-Average",
        };
        for (int r = 1; r <= 3; r++)
            foreach (var layout in new[] { "ChannelsFirst", "ChannelsLast" })
                foreach (var mode in new[] { "Max", "Average" })
                    expected.Add($"rank{r}-{layout}-{mode}");
        for (int w = 1; w <= 33; w++) expected.Add($"width{w}");
        for (int c = 1; c <= 33; c++) expected.Add($"channels{c}");
        for (int k = 1; k <= 5; k++) expected.Add($"kernel{k}");
        for (int st = 1; st <= 4; st++) expected.Add($"stride{st}");
        for (int style = 0; style < RandomInput.Styles; style++) expected.Add($"style{style}");
        Assert.All(expected, tag => Assert.Contains(tag, seen));
    }

    [Fact]
    public void FloatMaxMatchesReference() => Cases(Gen.Int[0, 1]).Sample(Check<float>, writeLine: log.WriteLine, iter: Iterations);

    [Fact]
    public void DoubleMaxMatchesReference() => Cases(Gen.Int[0, 1]).Sample(Check<double>, writeLine: log.WriteLine, iter: Iterations);

    [Fact]
    public void FloatAverageMatchesReferenceBitForBit() => Cases(Gen.Const(2)).Sample(Check<float>, writeLine: log.WriteLine, iter: Iterations);

    [Fact]
    public void DoubleAverageMatchesReferenceBitForBit() => Cases(Gen.Const(2)).Sample(Check<double>, writeLine: log.WriteLine, iter: Iterations);

    // --------------------------------------------------------------------------------------------------------------
    // Threads: the result does not depend on maxDegreeOfParallelism.
    // --------------------------------------------------------------------------------------------------------------

    public static TheoryData<string, PoolLayout, bool> ParallelCases()
    {
        var data = new TheoryData<string, PoolLayout, bool>();
        foreach (var name in new[] { "max3x3s2p1", "max2x2", "maxIndices", "avg3x3s1p1", "avgCeilExclude", "global-max", "global-avg" })
            foreach (var layout in new[] { PoolLayout.ChannelsFirst, PoolLayout.ChannelsLast })
                foreach (var isDouble in new[] { false, true })
                    data.Add(name, layout, isDouble);
        return data;
    }

    [Theory]
    [MemberData(nameof(ParallelCases))]
    public void ParallelRunIsIdenticalToSingleThreaded(string name, PoolLayout layout, bool isDouble)
    {
        if (isDouble) Parallel<double>(name, layout);
        else Parallel<float>(name, layout);
    }

    private static void Parallel<T>(string name, PoolLayout layout) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = new PoolShape(2, 9, 97, 83); // 144,918 elements: above Pooling.ParallelThreshold
        Assert.True(shape.ElementCount >= Pooling.ParallelThreshold);
        var input = RandomInput.Create<T>((int)shape.ElementCount, 2, name.GetHashCode(StringComparison.Ordinal) & 0xffff);
        if (name.StartsWith("global", StringComparison.Ordinal))
        {
            var single = new T[shape.PlaneCount];
            var parallel = new T[shape.PlaneCount];
            if (name == "global-max")
            {
                Engine.GlobalMax<T>(input, single, shape, layout, 1);
                Engine.GlobalMax<T>(input, parallel, shape, layout, -1);
            }
            else
            {
                Engine.GlobalAverage<T>(input, single, shape, layout, 1);
                Engine.GlobalAverage<T>(input, parallel, shape, layout, -1);
            }
            PoolAssert.Bits<T>(single, parallel, name);
            return;
        }
        var descriptor = (name switch
        {
            "max3x3s2p1" => PoolDescriptor.MaxPool2d(3, 2, 1),
            "max2x2" or "maxIndices" => PoolDescriptor.MaxPool2d(2),
            "avg3x3s1p1" => PoolDescriptor.AvgPool2d(3, 1, 1),
            _ => PoolDescriptor.AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false),
        }).WithLayout(layout);
        bool withIndices = name == "maxIndices";
        var (a, ai) = Engine.Pool<T>(descriptor, input, shape, withIndices, maxDop: 1);
        var (b, bi) = Engine.Pool<T>(descriptor, input, shape, withIndices, maxDop: -1);
        var (c, ci) = Engine.Pool<T>(descriptor, input, shape, withIndices, maxDop: 2);
        PoolAssert.Bits<T>(a, b, $"{name} {layout} dop -1");
        PoolAssert.Bits<T>(a, c, $"{name} {layout} dop 2");
        if (withIndices)
        {
            PoolAssert.Indices(ai, bi, $"{name} {layout} indices dop -1");
            PoolAssert.Indices(ai, ci, $"{name} {layout} indices dop 2");
        }
    }

    // --------------------------------------------------------------------------------------------------------------
    // Global pooling.
    // --------------------------------------------------------------------------------------------------------------

    private static readonly Gen<(int Rank, int Batch, int Channels, int[] Lengths, int Style, int Seed)> GlobalCases =
        from rank in Gen.Int[1, 3]
        from batch in Gen.Int[0, 2]
        from channels in Gen.Int[1, 33]
        from lengths in Gen.Int[1, 40].Array[3]
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select (rank, batch, channels, lengths, style, seed);

    private static PoolShape GlobalShape(int rank, int batch, int channels, int[] l) => rank switch
    {
        1 => new PoolShape(batch, channels, l[0] * l[1]),
        2 => new PoolShape(batch, channels, l[0], l[1]),
        _ => new PoolShape(batch, channels, 1 + l[0] % 6, l[1] % 9 + 1, l[2]),
    };

    private static void CheckGlobal<T>((int Rank, int Batch, int Channels, int[] Lengths, int Style, int Seed) g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = GlobalShape(g.Rank, g.Batch, g.Channels, g.Lengths);
        var input = RandomInput.Create<T>((int)shape.ElementCount, g.Style, g.Seed);
        var lastInput = ReferencePooling.ToChannelsLast<T>(input, shape);
        var outShape = Pooling.GetGlobalOutputShape(shape);
        string context = $"{typeof(T).Name} global {shape} style={RandomInput.StyleName(g.Style)} seed={g.Seed}";

        var maxFirst = new T[outShape.ElementCount];
        var maxLast = new T[outShape.ElementCount];
        Engine.GlobalMax<T>(input, maxFirst, shape, PoolLayout.ChannelsFirst, 1);
        Engine.GlobalMax<T>(lastInput, maxLast, shape, PoolLayout.ChannelsLast, 1);
        PoolAssert.Exact<T>(ReferencePooling.GlobalMax<T>(input, shape, PoolLayout.ChannelsFirst), maxFirst, context + " max NCHW");
        PoolAssert.Exact<T>(ReferencePooling.GlobalMax<T>(lastInput, shape, PoolLayout.ChannelsLast), maxLast, context + " max NHWC");

        var avgFirst = new T[outShape.ElementCount];
        var avgLast = new T[outShape.ElementCount];
        Engine.GlobalAverage<T>(input, avgFirst, shape, PoolLayout.ChannelsFirst, 1);
        Engine.GlobalAverage<T>(lastInput, avgLast, shape, PoolLayout.ChannelsLast, 1);
        PoolAssert.Bits<T>(ReferencePooling.GlobalAverage<T>(input, shape, PoolLayout.ChannelsFirst), avgFirst, context + " average NCHW");
        // Channels first and last give the same bits (global output is N x C either way).
        PoolAssert.Bits<T>(avgFirst, avgLast, context + " average NHWC vs NCHW");
        if (g.Style is 0 or 1)
            PoolAssert.Close<T>(ReferencePooling.GlobalAverageSequential<T>(input, shape, PoolLayout.ChannelsFirst), avgFirst,
                typeof(T) == typeof(float) ? 1e-5 : 1e-12, context + " average vs sequential sum");
    }

    [Fact]
    public void FloatGlobalPoolingMatchesReference() => GlobalCases.Sample(CheckGlobal<float>, writeLine: log.WriteLine, iter: 2000);

    [Fact]
    public void DoubleGlobalPoolingMatchesReference() => GlobalCases.Sample(CheckGlobal<double>, writeLine: log.WriteLine, iter: 2000);

    // Channels-first global pooling runs whole blocks of 16 planes together (float, AVX-512) and the rest one plane at
    // a time; a plane's cells past the last multiple of the stripe count are its tail. Channels-last average (AVX-512) goes
    // in panels of 256 channels, the last one overlapping the one before, and adds a stripe's cells four at a time,
    // in blocks of 64 cells. These cases put every plane count against the block size (below, at, just above,
    // several blocks plus a remainder) and the panel (the plane count is the channel count, or twice it when even),
    // and every plane size against the stripe count (no full stripe row, exactly one, one plus a one-cell tail,
    // ResNet's 7x7, ...) and the 64-cell block.
    public static TheoryData<int, int, int> GlobalBlockCases()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int planes in new[] { 1, 15, 16, 17, 32, 35, 257, 600, 1026 })
            foreach (int cells in new[] { 1, 7, 15, 16, 17, 49, 50, 64, 65, 130 })
                data.Add(planes, cells, planes * 31 + cells);
        return data;
    }

    [Theory]
    [MemberData(nameof(GlobalBlockCases))]
    public void GlobalPoolingAcrossBlockAndTailSizesMatchesReference(int planes, int cells, int seed)
    {
        for (int style = 0; style < RandomInput.Styles; style++)
        {
            CheckGlobalPooling<float>(planes, cells, style, seed);
            CheckGlobalPooling<double>(planes, cells, style, seed);
        }
    }

    private static void CheckGlobalPooling<T>(int planes, int cells, int style, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Planes split over batch and channels when they can, so both index the plane range.
        var shape = planes % 2 == 0 ? new PoolShape(2, planes / 2, cells) : new PoolShape(1, planes, cells);
        var input = RandomInput.Create<T>((int)shape.ElementCount, style, seed);
        CheckGlobalPooling<T>(input, shape, $"{typeof(T).Name} global {shape} style={RandomInput.StyleName(style)} seed={seed}");
    }

    private static void CheckGlobalPooling<T>(T[] input, PoolShape shape, string context) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lastInput = ReferencePooling.ToChannelsLast<T>(input, shape);
        var first = new T[shape.PlaneCount];
        var last = new T[shape.PlaneCount];
        Engine.GlobalAverage<T>(input, first, shape, PoolLayout.ChannelsFirst, 1);
        Engine.GlobalAverage<T>(lastInput, last, shape, PoolLayout.ChannelsLast, 1);
        PoolAssert.Bits<T>(ReferencePooling.GlobalAverage<T>(input, shape, PoolLayout.ChannelsFirst), first, context + " average NCHW");
        PoolAssert.Bits<T>(first, last, context + " average NHWC vs NCHW");

        var expectedMax = ReferencePooling.GlobalMax<T>(input, shape, PoolLayout.ChannelsFirst);
        Engine.GlobalMax<T>(input, first, shape, PoolLayout.ChannelsFirst, 1);
        Engine.GlobalMax<T>(lastInput, last, shape, PoolLayout.ChannelsLast, 1);
        PoolAssert.Exact<T>(expectedMax, first, context + " max NCHW");
        PoolAssert.Exact<T>(expectedMax, last, context + " max NHWC");
        // A zero maximum is +0 on every path, whatever the signs of the zeros in the plane.
        PoolAssert.Bits<T>(first, last, context + " max NHWC vs NCHW");
    }

    [Fact]
    public void GlobalPoolingSpecialValuesInEveryStripeAndTheTail()
    {
        SpecialValues<float>();
        SpecialValues<double>();
    }

    // 34 planes of 49 cells (two blocks of 16 and a remainder of 2); each plane is 1s but for one special value
    // (NaN, +inf, -inf, both infinities, all -0) at a cell that varies over every stripe and the tail cell 48.
    private static void SpecialValues<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Cells = 49;
        var shape = new PoolShape(2, 17, 7, 7);
        var input = new T[shape.ElementCount];
        for (int plane = 0; plane < shape.PlaneCount; plane++)
        {
            var cells = input.AsSpan(plane * Cells, Cells);
            int at = plane * 5 % Cells;
            switch (plane % 6)
            {
                case 0: cells.Fill(T.One); cells[at] = T.NaN; break;
                case 1: cells.Fill(T.One); cells[at] = T.PositiveInfinity; break;
                case 2: cells.Fill(T.One); cells[at] = T.NegativeInfinity; break;
                case 3: cells.Fill(T.One); cells[at] = T.PositiveInfinity; cells[Cells - 1] = T.NegativeInfinity; break;
                case 4: cells.Fill(T.NegativeZero); break;
                default: cells.Fill(T.NegativeZero); cells[at] = T.NegativeOne; break;
            }
        }
        CheckGlobalPooling<T>(input, shape, $"{typeof(T).Name} global special values {shape}");
    }

    [Fact]
    public void WindowMadeOnlyOfPaddingGivesNegativeInfinityIndexMinusOneAndAverageZero()
    {
        // ONNX limits allow it: k=2, d=3, pads 2/2 on a 1-wide input: taps at -2 and 1, both outside.
        var shape = new PoolShape(1, 2, 1);
        float[] input = [5f, -1f];
        var axis = new PoolAxis(2, 1, 2, 2, 3);
        foreach (var layout in new[] { PoolLayout.ChannelsFirst, PoolLayout.ChannelsLast })
        {
            var max = PoolDescriptor.Create(PoolMode.Max, [axis], layout: layout);
            Assert.Equal(new PoolShape(1, 2, 2), max.GetOutputShape(shape));
            var (values, indices) = Engine.Pool<float>(max, input, shape, withIndices: true);
            var (plain, _) = Engine.Pool<float>(max, input, shape, withIndices: false);
            Assert.All(values, v => Assert.Equal(float.NegativeInfinity, v));
            Assert.All(plain, v => Assert.Equal(float.NegativeInfinity, v));
            Assert.All(indices!, i => Assert.Equal(-1L, i));
            foreach (var includePad in new[] { false, true })
            {
                var avg = PoolDescriptor.Create(PoolMode.Average, [axis], countIncludePad: includePad, layout: layout);
                var (averages, _) = Engine.Pool<float>(avg, input, shape, withIndices: false);
                // Exclude-pad: divisor 0 becomes 1, output 0. Include-pad: taps before L + pe = 3 count (both), 0 / 2.
                Assert.All(averages, v => Assert.Equal(0f, v));
            }
        }
    }

    /// <summary>
    /// A very tall dilated window (an effective kernel of 4001 rows) on a 4005 x 1200 plane: prepared planes, window
    /// tables and offset lists at sizes random configurations never reach, so it is pinned here.
    /// </summary>
    [Theory]
    [InlineData(PoolMode.Max, false)]
    [InlineData(PoolMode.Max, true)]
    [InlineData(PoolMode.Average, false)]
    public void VeryTallDilatedWindowsMatchReference(PoolMode mode, bool withIndices)
    {
        // Height: k=5, d=1000 (effective 4001), stride 2, pads 3/1; width: k=3, d=2, pads 1/2, ceil mode.
        var descriptor = PoolDescriptor.Create(mode, [new PoolAxis(5, 2, 3, 1, 1000), new PoolAxis(3, 1, 1, 2, 2)], ceilMode: true, countIncludePad: true);
        var shape = new PoolShape(1, 1, 4005, 1200);
        var input = RandomInput.Create<float>((int)shape.ElementCount, 2, 99);
        Assert.Equal(4001, descriptor.GetAxis(0).EffectiveKernel);
        var (output, indices) = Engine.Pool<float>(descriptor, input, shape, withIndices, maxDop: 1);
        if (mode == PoolMode.Max)
        {
            var (expected, expectedIndices) = ReferencePooling.Max<float>(descriptor, input, shape);
            PoolAssert.Exact<float>(expected, output, descriptor.ToString());
            if (withIndices) PoolAssert.Indices(expectedIndices, indices, descriptor.ToString());
        }
        else
        {
            PoolAssert.Bits<float>(ReferencePooling.Average<float>(descriptor, input, shape), output, descriptor.ToString());
        }
    }

    // Windows that cover the whole plane (an AveragePool or MaxPool with the feature map's size) skip the window engine
    // (see WholePlaneWindows): average in blocks of 16 planes, in the window's cell order, the rest one plane at a
    // time. These cases put plane counts against the block (none, one, one and a remainder, several) and plane sizes
    // against the 16-cell transpose (shorter, exact, one over, 7x7, 3D), with padding after the plane, ceil mode and
    // divisor overrides, on every input style (NaN, infinities, signed zeros, wide magnitudes).
    public static TheoryData<int, string> WholePlaneWindowCases()
    {
        var data = new TheoryData<int, string>();
        foreach (int planes in new[] { 1, 15, 16, 17, 34, 70 })
            foreach (var spatial in new[] { "1x5", "4x4", "1x17", "7x7", "5x13", "2x3x5" })
                data.Add(planes, spatial);
        return data;
    }

    [Theory]
    [MemberData(nameof(WholePlaneWindowCases))]
    public void WholePlaneWindowsMatchReference(int planes, string spatial)
    {
        int[] lengths = spatial.Split('x').Select(int.Parse).ToArray();
        var shape = lengths.Length == 2
            ? new PoolShape(planes % 2 == 0 ? 2 : 1, planes % 2 == 0 ? planes / 2 : planes, lengths[0], lengths[1])
            : new PoolShape(1, planes, lengths[0], lengths[1], lengths[2]);
        var variants = new (string Name, PoolMode Mode, int PadEnd, bool Ceil, bool IncludePad, int? Divisor)[]
        {
            ("max", PoolMode.Max, 0, false, false, null),
            ("average", PoolMode.Average, 0, false, true, null),
            ("average, pad after, include pad", PoolMode.Average, 1, false, true, null),
            ("average, pad after, exclude pad, ceil", PoolMode.Average, 1, true, false, null),
            ("average, divisor 3", PoolMode.Average, 0, false, true, 3),
            ("average, divisor -7", PoolMode.Average, 0, false, true, -7),
        };
        for (int style = 0; style < RandomInput.Styles; style++)
        {
            var input = RandomInput.Create<float>((int)shape.ElementCount, style, planes * 97 + lengths.Sum());
            var doubles = input.Select(v => (double)v).ToArray();
            foreach (var v in variants)
            {
                // ONNX convention: padding after the plane alone is allowed there (PyTorch pads both sides).
                var axes = lengths.Select(l => new PoolAxis(l, l + 1, 0, l > 1 ? v.PadEnd : 0, 1)).ToArray(); // stride past the padding: one window
                var descriptor = PoolDescriptor.Create(v.Mode, axes, ceilMode: v.Ceil, countIncludePad: v.IncludePad,
                    divisorOverride: v.Divisor, convention: v.PadEnd == 0 ? PoolConvention.PyTorch : PoolConvention.Onnx);
                Assert.Equal(1, descriptor.GetOutputShape(shape).Width);
                MatchesReference<float>(descriptor, input, shape, $"{v.Name} {shape} style={RandomInput.StyleName(style)}");
                MatchesReference<double>(descriptor, doubles, shape, $"{v.Name} {shape} style={RandomInput.StyleName(style)}");
            }
        }
    }

    // 2x2 stride 2 without padding on small even-width planes runs flat (FlatPlaneMax's pairs, FlatPairsAverage):
    // widths around the vector (2 to 34, and 56), odd and even heights (the last input row unused when odd), every
    // input style, a plane of -0 (a sum from +0 gives +0, one from the first cell -0), and divisor overrides.
    public static TheoryData<int, int> PairsCases()
    {
        var data = new TheoryData<int, int>();
        foreach (int width in new[] { 2, 4, 6, 14, 16, 18, 28, 30, 32, 34, 56 })
            foreach (int height in new[] { 2, 3, 7, 8 })
                data.Add(width, height);
        return data;
    }

    [Theory]
    [MemberData(nameof(PairsCases))]
    public void TwoByTwoStrideTwoPairsMatchReference(int width, int height)
    {
        var shape = new PoolShape(2, 5, height, width);
        var descriptors = new[]
        {
            PoolDescriptor.MaxPool2d(2, 2),
            PoolDescriptor.AvgPool2d(2, 2),
            PoolDescriptor.AvgPool2d(2, 2, divisorOverride: 3),
        };
        for (int style = 0; style <= RandomInput.Styles; style++)
        {
            var input = InputOrNegativeZeros(shape, style, width * 31 + height);
            var doubles = input.Select(v => (double)v).ToArray();
            foreach (var descriptor in descriptors)
            {
                string context = $"{descriptor} {shape} style={(style < RandomInput.Styles ? RandomInput.StyleName(style) : "negative zeros")}";
                MatchesReference<float>(descriptor, input, shape, context);
                MatchesReference<double>(descriptor, doubles, shape, context);
            }
        }
    }

    // Stride-1 windows as wide as the row's output ("same" width) on small planes: max runs flat (FlatPlaneMax),
    // averages of narrow rows in registers (NarrowRowsAverage), the rest on the row blocks. Widths around the vector and
    // its multiples (the lanes' columns repeat every lcm(width, lanes)), centred windows 3 to 7 wide (taps unrolled) and
    // off-centre ones from ONNX's padding (taps in a loop), padding rows above and below, both count_include_pad
    // settings, a divisor override, a plane of -0.
    public static TheoryData<int, int> SameWidthCases()
    {
        var data = new TheoryData<int, int>();
        foreach (int width in new[] { 1, 3, 7, 8, 15, 16, 17, 20, 33, 35, 48 })
            foreach (int height in new[] { 1, 4, 9 })
                data.Add(width, height);
        return data;
    }

    [Theory]
    [MemberData(nameof(SameWidthCases))]
    public void SameWidthStrideOneMatchesReference(int width, int height)
    {
        var shape = new PoolShape(2, 3, height, width);
        var descriptors = new List<PoolDescriptor>();
        foreach (int kernel in new[] { 3, 5, 7 })
        {
            descriptors.Add(PoolDescriptor.MaxPool2d(kernel, 1, kernel / 2));
            descriptors.Add(PoolDescriptor.AvgPool2d(kernel, 1, kernel / 2, countIncludePad: false));
            descriptors.Add(PoolDescriptor.AvgPool2d(kernel, 1, kernel / 2));
        }
        descriptors.Add(PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false, divisorOverride: 7));
        foreach (var mode in new[] { PoolMode.Max, PoolMode.Average })
        {
            // ONNX's padding: 4 wide, one cell padded before and two after; 2 tall, padded after only.
            var axes = new[] { new PoolAxis(2, 1, 0, 1, 1), new PoolAxis(4, 1, 1, 2, 1) };
            descriptors.Add(PoolDescriptor.Create(mode, axes, countIncludePad: false, convention: PoolConvention.Onnx));
        }
        for (int style = 0; style <= RandomInput.Styles; style++)
        {
            var input = InputOrNegativeZeros(shape, style, width * 37 + height);
            var doubles = input.Select(v => (double)v).ToArray();
            foreach (var descriptor in descriptors)
            {
                Assert.Equal(width, descriptor.GetOutputShape(shape).Width);
                string context = $"{descriptor} {shape} style={(style < RandomInput.Styles ? RandomInput.StyleName(style) : "negative zeros")}";
                MatchesReference<float>(descriptor, input, shape, context);
                MatchesReference<double>(descriptor, doubles, shape, context);
            }
        }
    }

    /// <summary>
    /// <see cref="RandomInput"/>'s input for <paramref name="style"/>, or, for the one style past them, every cell -0
    /// except in the last plane (a sum from +0 gives +0 there, one from the first cell -0).
    /// </summary>
    private static float[] InputOrNegativeZeros(PoolShape shape, int style, int seed)
    {
        if (style < RandomInput.Styles) return RandomInput.Create<float>((int)shape.ElementCount, style, seed);
        long lastPlane = shape.ElementCount - (long)shape.Height * shape.Width;
        return Enumerable.Range(0, (int)shape.ElementCount).Select(i => i < lastPlane ? -0f : i % 5 - 2f).ToArray();
    }

    /// <summary>The engine's output equals the reference's: max exactly, average bit for bit.</summary>
    private static void MatchesReference<T>(in PoolDescriptor descriptor, T[] input, PoolShape shape, string context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (output, _) = Engine.Pool<T>(descriptor, input, shape, withIndices: false, maxDop: 1);
        if (descriptor.Mode == PoolMode.Max) PoolAssert.Exact<T>(ReferencePooling.Max<T>(descriptor, input, shape).Output, output, context);
        else PoolAssert.Bits<T>(ReferencePooling.Average<T>(descriptor, input, shape), output, context);
    }

    [Fact]
    public void GlobalAverageOfOnesIsExactlyOne()
    {
        var shape = new PoolShape(1, 3, 64, 64);
        var input = Enumerable.Repeat(1f, (int)shape.ElementCount).ToArray();
        var output = new float[3];
        Pooling.GlobalAverage(input, output, shape);
        Assert.All(output, v => Assert.Equal(1f, v));
    }
}
