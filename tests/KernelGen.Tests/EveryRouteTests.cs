using System;
using System.Linq;
using System.Numerics;
using CsCheck;
using KernelGen.Engine;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// Every route of the dispatch table whose condition holds for a call or that handles it (<c>EngineRouteEntry.Handles</c>),
/// not only the one the table picks, pools it exactly as the reference does, reading only its input and writing only its output (each ends at an inaccessible
/// page, then starts right after one). So a change to the route conditions, which moves calls from one route to a later one that also takes
/// them (as <c>bench --routes</c> suggests), moves them to a route already checked on them.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class EveryRouteTests(ITestOutputHelper log) : IDisposable
{
    private const int Iterations = 3000;

    private readonly GuardedMemory _memory = new(), _outputs = new();

    private static Gen<PoolCase> Cases(bool isDouble) => Gen.OneOf(
        EnginePropertyTests.Cases(Gen.Int[0, 1].Select(i => 2 * i)), // max or average, no indices
        StridedPhasePropertyTests.Cases,
        // The same with a group's worth of planes, which the channels-last detour handles whether or not it takes them.
        StridedPhasePropertyTests.Cases.Select(c => c with
        {
            Channels = isDouble ? ChannelsFirstViaChannelsLast<double>.GroupSize : ChannelsFirstViaChannelsLast<float>.GroupSize,
        }),
        ChannelsFirstViaChannelsLastTests.Cases(isDouble).Select(c => c.Case),
        ChannelsFirstViaChannelsLastTests.ClampedCases(isDouble).Select(c => c.Case),
        ChannelsFirstViaChannelsLastTests.ClampedCases(isDouble).Select(c => c.Case with { Layout = PoolLayout.ChannelsLast }),
        SameWidthCases,
        SlidingRowCases,
        ColumnCases);

    /// <summary>
    /// Channels-last averages at width strides 1 to 4 with undilated windows up to 9 wide, where the sliding sums take
    /// the row's interior cells four or eight at a time and the blocked path the rest: rows 1 to 70 cells wide (steps cut
    /// at every remainder), channel counts that end on a partial vector, output rows that pair or do not.
    /// </summary>
    private static readonly Gen<PoolCase> SlidingRowCases =
        from kh in Gen.Int[1, 6]
        from kw in Gen.Int[2, 9]
        from sh in Gen.Int[1, 4]
        from sw in Gen.Int[1, 4]
        from padTop in Gen.Int[0, 5]
        from padBottom in Gen.Int[0, 5]
        from padLeft in Gen.Int[0, 8]
        from padRight in Gen.Int[0, 8]
        from height in Gen.Int[0, 10]
        from width in Gen.Int[1, 70]
        from channels in Gen.Int[0, 5].Select(i => new[] { 8, 11, 16, 19, 32, 40 }[i])
        from ceil in Gen.Bool
        from includePad in Gen.Bool
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select new PoolCase(2, PoolLayout.ChannelsLast, PoolMode.Average, WithIndices: false, PoolConvention.Onnx,
            [new PoolAxis(kh, sh, padTop % kh, padBottom % kh, 1), new PoolAxis(kw, sw, padLeft % kw, padRight % kw, 1)],
            ceil, includePad, DivisorOverride: null, Batch: 1, channels, [height + kh, width + kw - 1], style, seed);

    /// <summary>
    /// Windows one column wide at width stride 1, channels first, where ColumnWindows takes four output rows at a time
    /// and the routes before and after it take the same calls: rows 1 to 100 cells (every vector tail, several groups of
    /// four vectors), heights whose last block overlaps the one before, height strides 1 to 4, dilated max, padding
    /// and ceil mode down the rows.
    /// </summary>
    private static readonly Gen<PoolCase> ColumnCases =
        from max in Gen.Bool
        from kh in Gen.Int[1, 9]
        from sh in Gen.Int[1, 4]
        from dilation in Gen.Int[1, 3]
        from padTop in Gen.Int[0, 8]
        from padBottom in Gen.Int[0, 8]
        from height in Gen.Int[0, 20]
        from width in Gen.Int[1, 100]
        from planes in Gen.Int[1, 3]
        from ceil in Gen.Bool
        from includePad in Gen.Bool
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select new PoolCase(2, PoolLayout.ChannelsFirst, max ? PoolMode.Max : PoolMode.Average, WithIndices: false, PoolConvention.Onnx,
            [new PoolAxis(kh, sh, padTop % kh, padBottom % kh, max ? dilation : 1), new PoolAxis(1, 1, 0, 0, 1)],
            ceil, includePad, DivisorOverride: null, Batch: 1, planes, [height + (kh - 1) * (max ? dilation : 1) + 1, width], style, seed);

    /// <summary>
    /// Stride-1 windows that keep the row's width, where the flat and narrow-row routes and the row blocks all take the
    /// same calls: rows up to 100 wide (several vectors of either type), centred windows or ONNX's off-centre padding.
    /// </summary>
    private static readonly Gen<PoolCase> SameWidthCases =
        from max in Gen.Bool
        from kh in Gen.Int[1, 9]
        from kw in Gen.Int[1, 9]
        from padLeft in Gen.Int[0, 8]
        from padTop in Gen.Int[0, 4]
        from padBottom in Gen.Int[0, 4]
        from height in Gen.Int[1, 20]
        from width in Gen.Int[1, 100]
        from channels in Gen.Int[1, 3]
        from layout in Gen.Bool
        from includePad in Gen.Bool
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select SameWidth(max, kh, kw, padLeft % kw, padTop % kh, padBottom % kh, height + kh, width, layout ? 8 * channels : channels,
            layout ? PoolLayout.ChannelsLast : PoolLayout.ChannelsFirst, includePad, style, seed);

    private static PoolCase SameWidth(bool max, int kh, int kw, int padLeft, int padTop, int padBottom, int height, int width, int channels,
        PoolLayout layout, bool includePad, int style, int seed) =>
        new(2, layout, max ? PoolMode.Max : PoolMode.Average, WithIndices: false, PoolConvention.Onnx,
            [new PoolAxis(kh, 1, padTop, padBottom, 1), new PoolAxis(kw, 1, padLeft, kw - 1 - padLeft, 1)],
            CeilMode: false, includePad, DivisorOverride: null, Batch: 1, channels, [height, width], style, seed);

    [Fact]
    public void FloatEveryRouteThatTakesACallPoolsItExactly() => Cases(isDouble: false).Sample(Check<float>, writeLine: log.WriteLine, iter: Iterations, threads: 1);

    [Fact]
    public void DoubleEveryRouteThatTakesACallPoolsItExactly() => Cases(isDouble: true).Sample(Check<double>, writeLine: log.WriteLine, iter: Iterations, threads: 1);

    private void Check<T>(PoolCase pc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = pc.Descriptor();
        var shape = pc.Shape;
        var outputShape = descriptor.GetOutputShape(shape);
        var input = pc.Input<T>();
        var expected = descriptor.Mode == PoolMode.Max ? ReferencePooling.Max<T>(descriptor, input, shape).Output : ReferencePooling.Average<T>(descriptor, input, shape);
        var plan = new PoolPlan(descriptor, shape, outputShape);
        var work = EngineRoutes<T>.WorkOf(descriptor, withIndices: false);
        var table = EngineRoutes<T>.For(work);
        // Windows longer than their axis are for the clamped rows alone: the routes after those size their tables by the window.
        int clamped = table.Select(route => route.Route).ToList().IndexOf(EngineRoute.ClampedWindows);
        var takers = table[clamped].Takes(plan)
            ? table.Take(clamped + 1).Where(route => route.Takes(plan)).ToList()
            : table.Where((route, i) => i == table.Count - 1 || route.CanPool(plan)).ToList();
        int units = (int)Pooling.EngineUnits(work, shape, outputShape);
        _memory.OnBothSides<T>(input, (guarded, placement) =>
        {
            foreach (var route in takers)
            {
                // The whole call as one range, then in two ranges split at a whole block, as a parallel call splits it: a
                // route that pools units together (rows sharing their window rows, groups of planes) stops at a range's end.
                int blocks = (units + route.UnitsPerBlock - 1) / route.UnitsPerBlock;
                int split = Math.Min(units, (int)((uint)pc.Seed % (uint)(blocks + 1)) * route.UnitsPerBlock);
                foreach (var ranges in new[] { new[] { (0, units) }, new[] { (0, split), (split, units - split) } })
                {
                    var output = GuardedOutput.Place<T>(_outputs, (int)outputShape.ElementCount, atEnd: placement == GuardedMemory.AtEnd);
                    foreach (var (first, count) in ranges) route.Run(plan, guarded, output, default, first, count);
                    string context = $"{typeof(T).Name} {route.Route} {pc}, {placement}, units {string.Join(" + ", ranges.Select(r => $"[{r.Item1}, {r.Item1 + r.Item2})"))}";
                    if (descriptor.Mode == PoolMode.Max) PoolAssert.Exact<T>(expected, output, context);
                    else PoolAssert.Bits<T>(expected, output, context);
                }
            }
        });
    }

    public void Dispose()
    {
        _memory.Dispose();
        _outputs.Dispose();
    }
}
