using System;
using System.Numerics;
using CsCheck;
using KernelGen.Engine;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// <see cref="SeparableRowsMax{T}"/> on every call it handles, not only the narrow class the dispatch table sends it:
/// 1-d and 2-d max with any window, height stride, width stride 1-4, dilation and padding, on rows around each vector
/// width and group of four vectors, the input and the output against an inaccessible page on either side.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class SeparableRowsMaxTests(ITestOutputHelper log) : IDisposable
{
    private const int Iterations = 3000;

    private readonly GuardedMemory _memory = new(), _outputs = new();

    private static readonly Gen<PoolCase> Cases =
        from rank in Gen.Int[1, 2]
        from kh in Gen.Int[1, 9]
        from sh in Gen.Int[1, 5]
        from kw in Gen.Int[1, 9]
        from sw in Gen.Int[1, 4]
        from dh in Gen.Int[1, 3]
        from dw in Gen.Int[1, 3]
        from pads in Gen.Int[0, 8].Array[4]
        from ceil in Gen.Bool
        from height in Gen.Int[1, 40]
        from width in Gen.OneOf(Gen.Int[1, 140], Gen.Int[6, 10].Select(v => 8 * v + 3), Gen.Int[1, 5].Select(v => 16 * v - 1))
        from channels in Gen.Int[1, 3]
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select Build(rank, kh, sh, kw, sw, dh, dw, pads, ceil, height, width, channels, style, seed);

    private static PoolCase Build(int rank, int kh, int sh, int kw, int sw, int dh, int dw, int[] pads, bool ceil, int height, int width,
        int channels, int style, int seed)
    {
        // ONNX's limit: each pad below the dilated window.
        int eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
        var widthAxis = new PoolAxis(kw, sw, pads[0] % ew, pads[1] % ew, dw);
        var heightAxis = new PoolAxis(kh, sh, pads[2] % eh, pads[3] % eh, dh);
        PoolAxis[] axes = rank == 1 ? [widthAxis] : [heightAxis, widthAxis];
        int[] lengths = rank == 1 ? [Math.Max(width, ew)] : [Math.Max(height, eh), Math.Max(width, ew)]; // at least one window on each axis
        return new PoolCase(rank, PoolLayout.ChannelsFirst, PoolMode.Max, WithIndices: false, PoolConvention.Onnx, axes, ceil,
            CountIncludePad: false, DivisorOverride: null, Batch: 1, channels, lengths, style, seed);
    }

    [Fact]
    public void FloatPoolsEveryCallItHandlesExactly() => Cases.Sample(Check<float>, writeLine: log.WriteLine, iter: Iterations, threads: 1);

    [Fact]
    public void DoublePoolsEveryCallItHandlesExactly() => Cases.Sample(Check<double>, writeLine: log.WriteLine, iter: Iterations, threads: 1);

    private void Check<T>(PoolCase pc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = pc.Descriptor();
        var shape = pc.Shape;
        var outputShape = descriptor.GetOutputShape(shape);
        var plan = new PoolPlan(descriptor, shape, outputShape);
        if (!SeparableRowsMax<T>.Handles(plan)) return; // no AVX-512 here, or under this process's DOTNET_Enable* settings
        var input = pc.Input<T>();
        var expected = ReferencePooling.Max<T>(descriptor, input, shape).Output;
        _memory.OnBothSides<T>(input, (guarded, placement) =>
        {
            var output = GuardedOutput.Place<T>(_outputs, (int)outputShape.ElementCount, atEnd: placement == GuardedMemory.AtEnd);
            SeparableRowsMax<T>.Run(plan, guarded, output, 0, (int)(shape.Batch * shape.Channels));
            PoolAssert.Exact<T>(expected, output, $"{typeof(T).Name} {pc}, {placement}");
        });
    }

    public void Dispose()
    {
        _memory.Dispose();
        _outputs.Dispose();
    }
}
