using System;
using System.Numerics;
using CsCheck;
using KernelGen.Engine;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// The channels-first engine's phase split for width strides of 2 and more (one phase at a time; stride 1 is one
/// phase) against the scalar reference: rows from 1 to 130 cells, so every phase's cell count crosses the vector widths
/// and their scalar tails, every begin padding shifts which input cell starts each phase, and windows narrower than the
/// stride leave phases unread; heights up to 24 with height strides up to 4 give runs of interior rows far apart in the
/// prepared plane, and max windows shorter than the height stride or dilated leave input rows unread. Through the
/// engine (whichever route takes a case) and through the any-rank path itself, on input that ends at an inaccessible
/// page.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class StridedPhasePropertyTests(ITestOutputHelper log) : IDisposable
{
    private const int Iterations = 3000;

    private readonly GuardedMemory _memory = new();

    /// <summary>2-d channels-first cases whose width stride is 1 to 9 and whose windows fit the input (not ClampedWindows).</summary>
    internal static readonly Gen<PoolCase> Cases =
        from max in Gen.Bool
        from kh in Gen.Int[1, 4]
        from sh in Gen.Int[1, 4]
        from kw in Gen.Int[1, 9]
        from sw in Gen.Int[1, 9]
        from dh in Gen.Int[1, 3]
        from dw in Gen.Int[1, 3]
        from padBegin in Gen.Int[0, 8]
        from padEnd in Gen.Int[0, 8]
        from ceil in Gen.Bool
        from includePad in Gen.Bool
        from height in Gen.Int[4, 24]
        from width in Gen.Int[1, 130]
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select Build(max, kh, sh, kw, sw, max ? dh : 1, max ? dw : 1, padBegin, padEnd, ceil, includePad, height, width, style, seed);

    private static PoolCase Build(bool max, int kh, int sh, int kw, int sw, int dh, int dw, int padBegin, int padEnd, bool ceil, bool includePad,
        int height, int width, int style, int seed)
    {
        int effective = (kw - 1) * dw + 1;
        width = Math.Max(width, Math.Max(effective, sw)); // a window or stride past the input goes to ClampedWindows
        height = Math.Max(height, (kh - 1) * dh + 1);
        var heightAxis = new PoolAxis(kh, sh, kh / 2, kh / 2, dh);
        var widthAxis = new PoolAxis(kw, sw, padBegin % effective, padEnd % effective, dw); // ONNX: pads below the window
        return new PoolCase(2, PoolLayout.ChannelsFirst, max ? PoolMode.Max : PoolMode.Average, WithIndices: false, PoolConvention.Onnx,
            [heightAxis, widthAxis], ceil, !max && includePad, DivisorOverride: null, Batch: 1, Channels: 2, [height, width], style, seed);
    }

    [Fact]
    public void FloatMatchesReference() => Cases.Sample(EnginePropertyTests.Check<float>, writeLine: log.WriteLine, iter: Iterations);

    [Fact]
    public void DoubleMatchesReference() => Cases.Sample(EnginePropertyTests.Check<double>, writeLine: log.WriteLine, iter: Iterations);

    [Fact]
    public void FloatAnyRankPathMatchesReference() => Cases.Sample(CheckAnyRank<float>, writeLine: log.WriteLine, iter: Iterations, threads: 1);

    [Fact]
    public void DoubleAnyRankPathMatchesReference() => Cases.Sample(CheckAnyRank<double>, writeLine: log.WriteLine, iter: Iterations, threads: 1);

    /// <summary>
    /// The engine's fallback for every channels-first case, called directly: other routes take many of these cases
    /// first, and the fallback must be right on all of them.
    /// </summary>
    private void CheckAnyRank<T>(PoolCase pc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = pc.Descriptor();
        var shape = pc.Shape;
        var outputShape = descriptor.GetOutputShape(shape);
        var plan = new PoolPlan(descriptor, shape, outputShape);
        var input = pc.Input<T>();
        bool isMax = descriptor.Mode == PoolMode.Max;
        T[] expected = isMax ? ReferencePooling.Max<T>(descriptor, input, shape).Output : ReferencePooling.Average<T>(descriptor, input, shape);
        var anyRank = EngineRoutes<T>.ChannelsFirst[^1];
        Assert.Equal(EngineRoute.ChannelsFirstAnyRank, anyRank.Route);
        _memory.OnBothSides<T>(input, (guarded, placement) =>
        {
            var output = new T[outputShape.ElementCount];
            anyRank.Run(plan, guarded, output, default, 0, checked((int)(shape.Batch * shape.Channels)));
            string context = $"{typeof(T).Name} {pc}, any-rank path, {placement}";
            if (isMax) PoolAssert.Exact<T>(expected, output, context);
            else PoolAssert.Bits<T>(expected, output, context);
        });
    }

    public void Dispose() => _memory.Dispose();
}
