using System;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CsCheck;
using KernelGen.Engine;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// The route that pools groups of channels-first planes through channels last (<see cref="ChannelsFirstViaChannelsLast{T}"/>)
/// against the scalar reference, bit for bit: plane counts around the group (one short, exact, one over, two groups and a
/// remainder, and images of several groups), planes of 6 to 2,500 cells so the 16-cell (double: 8-cell) transpose blocks, and the 8-cell (4-cell) ones
/// of smaller output planes, end anywhere, every stride, padding, ceil mode and divisor rule the route takes, and each input
/// placed against an inaccessible page after it, then before it.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class ChannelsFirstViaChannelsLastTests(ITestOutputHelper log) : IDisposable
{
    private const int Iterations = 600;

    private static readonly bool HasAvx512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    private readonly GuardedMemory _memory = new();

    /// <summary>
    /// Cases the route takes with AVX-512 (<c>ChannelsFirstViaChannelsLast.SavesMoreThanTransposes</c>), with plane
    /// counts around the group (<c>PlaneChoice</c>).
    /// </summary>
    internal static Gen<(PoolCase Case, int PlaneChoice)> Cases(bool isDouble) =>
        from max in Gen.Bool
        from kh in Gen.Int[1, 6]
        from kw in Gen.Int[1, 9]
        from sh in Gen.Int[1, 4]
        from sw in Gen.Int[1, 4]
        from dilation in Gen.Int[1, 2]
        from pads in Gen.Int[0, 3].Array[4]
        from ceil in Gen.Bool
        from includePad in Gen.Bool
        from divisor in Gen.Int[0, 5]
        from height in Gen.Int[2, 50]
        from width in Gen.Int[3, 50]
        from planeChoice in Gen.Int[0, 5]
        from skipsRows in Gen.Int[0, 3]
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select (skipsRows == 0 ? BuildSkippingRows(max, kh, kw, sh, sw, pads, ceil, includePad, divisor, height, width, planeChoice, isDouble, style, seed)
            : skipsRows == 1 ? BuildRowDilatedMax(kh, kw, sh, sw, dilation, pads, ceil, height, width, planeChoice, isDouble, style, seed)
            : Build(max && !isDouble, kh, kw, sh, sw, dilation, pads, ceil, includePad, divisor, height, width, planeChoice, isDouble, style, seed), planeChoice);

    /// <summary>
    /// A case of windows shorter than the height stride, which leave rows the route does not transpose
    /// (<c>ChannelsFirstViaChannelsLast.TakesRowSkippingWindows</c>).
    /// </summary>
    private static PoolCase BuildSkippingRows(bool max, int kh, int kw, int sh, int sw, int[] pads, bool ceil, bool includePad,
        int divisorChoice, int height, int width, int planeChoice, bool isDouble, int style, int seed)
    {
        sh = 2 + sh % 3;
        kh = 1 + kh % (sh - 1);
        if (!max || sw >= 3 || (sw == 1 && isDouble))
        {
            // Width strides 3-4: two columns or more (double: three taps or more).
            sw = 3 + sw % 2;
            kw = Math.Max(kw, isDouble && kh == 1 ? 3 : 2);
        }
        else if (sw == 2) (kh, kw) = (1, Math.Max(kw, 4)); // max of one row from 4 columns at width stride 2
        else kw = Math.Max(kw, 6); // float max from 6 columns at width stride 1
        return Case(max, kh, kw, sh, sw, 1, 1, pads, ceil, includePad, divisorChoice, height, width, planeChoice, isDouble, style, seed);
    }

    /// <summary>
    /// A max case dilated down the rows at width strides 3-4 and height strides 2-4
    /// (<c>ChannelsFirstViaChannelsLast.TakesRowDilatedMax</c>).
    /// </summary>
    private static PoolCase BuildRowDilatedMax(int kh, int kw, int sh, int sw, int dilation, int[] pads, bool ceil,
        int height, int width, int planeChoice, bool isDouble, int style, int seed)
    {
        sh = 2 + sh % 3;
        sw = 3 + sw % 2;
        int dh = 1 + dilation, dw = !isDouble && sw == 4 ? 1 : 1 + (kh + kw) % 2;
        return Case(true, Math.Max(kh, 2), Math.Max(kw, 2), sh, sw, dh, dw, pads, ceil, false, 0, height, width, planeChoice, isDouble, style, seed);
    }

    private static PoolCase Build(bool max, int kh, int kw, int sh, int sw, int dilation, int[] pads, bool ceil, bool includePad,
        int divisorChoice, int height, int width, int planeChoice, bool isDouble, int style, int seed)
    {
        // Inside the route's conditions (ChannelsFirstViaChannelsLast.SavesMoreThanTransposes).
        bool dilatedMax = max && sw % 2 == 1 && dilation == 2; // float max dilated: width stride 3, up to 3 rows, 5 taps
        if (dilatedMax) (sw, kh, kw) = (3, 1 + kh % 3, Math.Max(kw, 5));
        else if (max)
        {
            sw = 3 + sw % 2; // float max, undilated: width stride 3 or 4
            if (sw == 3 && sh == 1) (kh, kw) = (Math.Min(kh, 4), Math.Clamp(kw, (5 + Math.Min(kh, 4)) / Math.Min(kh, 4), 18 / Math.Min(kh, 4))); // up to 4 rows, 6-18 taps
            else if (sw == 4 && sh == 1) (kh, kw) = (1 + kh % 2, Math.Max(kw, 5)); // 1-2 rows, 5 taps
            else if (sw == 4 && sh == 2) (kh, kw) = (1 + kh % 5, Math.Max(kw, 5)); // up to 5 rows, 5 taps
            else (kh, kw) = (Math.Max(kh, 3), Math.Max(kw, 3)); // 9 taps at height stride 2 or more (7 at width stride 4)
        }
        else if (isDouble && sw >= 3) (kh, kw) = (Math.Max(kh, 2), Math.Max(kw, 5)); // 10 taps at width strides 3-4
        else if (isDouble && sw == 2 && sh <= 2) (kh, kw) = (Math.Max(kh, 3), Math.Max(kw, 3)); // 9 taps
        else if (isDouble) (kh, kw) = (Math.Max(kh, 3), Math.Max(kw, 6)); // 18 taps otherwise
        else if (sw == 1 && sh <= 2) (kh, kw) = (Math.Max(kh, 2), Math.Max(kw, 7)); // 14 taps at height stride 1-2
        else if (sw == 1) (kh, kw) = (Math.Max(kh, 4), Math.Max(kw, 5)); // 20 taps
        else if (sw == 3) kw = Math.Max(kw, 4 - kh); // 3 taps
        else if (sw == 4 || (sw == 2 && sh <= 2))
        {
            // Two columns or more: 4 taps at width stride 4; two rows or more and 6 taps at width stride 2.
            int taps = sw == 2 ? 6 : 4;
            kw = Math.Max(kw, 2);
            kh = Math.Max(kh, Math.Max(sw == 2 ? 2 : 1, (taps + kw - 1) / kw));
        }
        else (kh, kw) = (Math.Max(kh, 3), Math.Max(kw, 3)); // 9 taps
        // ONNX dilates averages too; a dilated max case dilates one axis or both.
        int dh = dilatedMax ? 1 + (kh + pads[1]) % 2 : max ? 1 : dilation;
        int dw = dilatedMax ? (dh == 1 ? 2 : 1 + kw % 2) : max ? 1 : 1 + (kh + kw + pads[0]) % 2;
        return Case(max, kh, kw, sh, sw, dh, dw, pads, ceil, includePad, divisorChoice, height, width, planeChoice, isDouble, style, seed);
    }

    /// <summary>
    /// Windows or strides longer than an axis (<c>ClampedWindows</c>' calls), which the route takes within its size limits
    /// (<c>ChannelsFirstViaChannelsLast.TakesClampedWindows</c>): 1-d and 2-d planes up to 10 x 40, windows up to 12 taps
    /// dilated up to 3, strides up to 12, ONNX padding up to the window, plane counts around the group.
    /// </summary>
    internal static Gen<(PoolCase Case, int PlaneChoice)> ClampedCases(bool isDouble) =>
        from rank in Gen.Int[1, 2]
        from max in Gen.Bool
        from kernels in Gen.Int[1, 12].Array[2]
        from strides in Gen.Int[1, 12].Array[2]
        from dilations in Gen.Int[1, 3].Array[2]
        from pads in Gen.Int[0, 40].Array[4]
        from lengths in Gen.Int[0, 1000].Array[2]
        from shortAxis in Gen.Int[0, 1]
        from ceil in Gen.Bool
        from includePad in Gen.Bool
        from divisor in Gen.Int[0, 5]
        from planeChoice in Gen.Int[0, 5]
        from style in Gen.Int[0, RandomInput.Styles - 1]
        from seed in Gen.Int
        select (BuildClamped(rank, max, kernels, strides, dilations, pads, lengths, shortAxis % rank, ceil, includePad, divisor, planeChoice, isDouble, style, seed), planeChoice);

    private static PoolCase BuildClamped(int rank, bool max, int[] kernels, int[] strides, int[] dilations, int[] pads, int[] rawLengths,
        int shortAxis, bool ceil, bool includePad, int divisorChoice, int planeChoice, bool isDouble, int style, int seed)
    {
        var axes = new PoolAxis[rank];
        var lengths = new int[rank];
        for (int a = 0; a < rank; a++)
        {
            int k = kernels[a], s = strides[a], d = dilations[a], effective = (k - 1) * d + 1;
            int length = a == rank - 1 ? 4 + rawLengths[a] % 37 : 1 + rawLengths[a] % 10;
            // One axis is made too short: for its window if that is longer than a cell (half the time by at most 4 cells,
            // as a late layer's map under a window meant for larger ones), else for its stride.
            if (a == shortAxis && effective > 1)
                length = rawLengths[a] % 2 == 0 ? 1 + rawLengths[a] / 2 % (effective - 1) : effective - 1 - rawLengths[a] / 2 % Math.Min(effective - 1, 4);
            else if (a == shortAxis) (s, length) = (Math.Max(s, 2), 1 + rawLengths[a] % (Math.Max(s, 2) - 1));
            int padBegin = pads[2 * a] % effective, padEnd = pads[2 * a + 1] % effective;
            padEnd = Math.Max(padEnd, effective - length - padBegin); // at least one window
            axes[a] = new PoolAxis(k, s, padBegin, padEnd, d);
            lengths[a] = length;
        }
        var (batch, channels) = Planes(planeChoice, isDouble);
        int? divisor = max || divisorChoice < 4 ? null : divisorChoice == 4 ? 5 : -3;
        return new PoolCase(rank, PoolLayout.ChannelsFirst, max ? PoolMode.Max : PoolMode.Average, WithIndices: false, PoolConvention.Onnx,
            axes, ceil, !max && includePad, divisor, batch, channels, lengths, style, seed);
    }

    /// <summary>
    /// Plane counts around the group: one short, exact, one over, two groups and a remainder, three less one, and eight
    /// groups and a remainder (on small planes, images of several groups, then one group, then the rest).
    /// </summary>
    private static (int Batch, int Channels) Planes(int planeChoice, bool isDouble)
    {
        int group = 2 * (isDouble ? Vector512<double>.Count : Vector512<float>.Count);
        int planes = planeChoice switch { 0 => group - 1, 1 => group, 2 => group + 1, 3 => 2 * group + 5, 4 => 3 * group - 1, _ => 9 * group + 3 };
        return planes % 2 == 0 ? (2, planes / 2) : (1, planes);
    }

    /// <summary>The case with its padding within PyTorch's limits, a plane that holds a window, and the planes <paramref name="planeChoice"/> asks for.</summary>
    private static PoolCase Case(bool max, int kh, int kw, int sh, int sw, int dh, int dw, int[] pads, bool ceil, bool includePad,
        int divisorChoice, int height, int width, int planeChoice, bool isDouble, int style, int seed)
    {
        var heightAxis = new PoolAxis(kh, sh, pads[0] % (kh / 2 + 1), pads[1] % (kh / 2 + 1), dh);
        var widthAxis = new PoolAxis(kw, sw, pads[2] % (kw / 2 + 1), pads[3] % (kw / 2 + 1), dw);
        if (planeChoice == 5) (height, width) = (2 + height % 11, 3 + width % 14); // small planes, so that several groups fill an image
        height = Math.Max(height, (kh - 1) * dh + 1);
        width = Math.Max(width, (kw - 1) * dw + 1);
        var (batch, channels) = Planes(planeChoice, isDouble);
        int? divisor = max || divisorChoice < 4 ? null : divisorChoice == 4 ? 5 : -3;
        return new PoolCase(2, PoolLayout.ChannelsFirst, max ? PoolMode.Max : PoolMode.Average, WithIndices: false, PoolConvention.Onnx,
            [heightAxis, widthAxis], ceil, !max && includePad, divisor, batch, channels, [height, width], style, seed);
    }

    private int _taken;

    [Fact]
    public void FloatMatchesReferenceAndReadsOnlyItsInput()
    {
        Cases(isDouble: false).Sample(c => Check<float>(c.Case, c.PlaneChoice), writeLine: log.WriteLine, iter: Iterations, threads: 1);
        if (HasAvx512) Assert.True(_taken > Iterations / 2, $"The route took {_taken} of {Iterations} cases.");
    }

    [Fact]
    public void DoubleMatchesReferenceAndReadsOnlyItsInput()
    {
        Cases(isDouble: true).Sample(c => Check<double>(c.Case, c.PlaneChoice), writeLine: log.WriteLine, iter: Iterations, threads: 1);
        if (HasAvx512) Assert.True(_taken > Iterations / 2, $"The route took {_taken} of {Iterations} cases.");
    }

    [Fact]
    public void FloatClampedWindowsMatchReferenceAndReadOnlyTheirInput() => CheckClamped<float>();

    [Fact]
    public void DoubleClampedWindowsMatchReferenceAndReadOnlyTheirInput() => CheckClamped<double>();

    /// <summary>
    /// Windows longer than an axis: within the route's size limits (a group of planes, a transpose block of input cells,
    /// no more than MaxPlaneCells) the clamped route through channels last takes them, else ClampedWindows.
    /// </summary>
    private void CheckClamped<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int taken = 0;
        ClampedCases(typeof(T) == typeof(double)).Sample(c =>
        {
            var descriptor = c.Case.Descriptor();
            var plan = new PoolPlan(descriptor, c.Case.Shape, descriptor.GetOutputShape(c.Case.Shape));
            bool fits = c.PlaneChoice > 0 && plan.InputPlane >= Vector512<T>.Count && plan.InputPlane <= ChannelsFirstViaChannelsLast<T>.MaxPlaneCells;
            var route = EngineRoutes<T>.RouteOf(plan);
            var expectedRoute = HasAvx512 && fits ? EngineRoute.ClampedWindowsViaChannelsLast : EngineRoute.ClampedWindows;
            Assert.True(route == expectedRoute, $"{route} took {typeof(T).Name} {c.Case}");
            if (route == EngineRoute.ClampedWindowsViaChannelsLast) taken++;
            Check<T>(c.Case, c.PlaneChoice);
        }, writeLine: log.WriteLine, iter: Iterations, threads: 1);
        if (HasAvx512) Assert.True(taken > Iterations / 3, $"The route took {taken} of {Iterations} cases.");
        log.WriteLine($"The route took {taken} of {Iterations} cases.");
    }

    private void Check<T>(PoolCase pc, int planeChoice) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = pc.Descriptor();
        var shape = pc.Shape;
        var outputShape = descriptor.GetOutputShape(shape);
        var plan = new PoolPlan(descriptor, shape, outputShape);
        string context = $"{typeof(T).Name} {pc}";

        // Within the route's size limits (a group of planes, at least a transpose block of cells in and out, planes of
        // at most MaxPlaneCells) no route after it takes a case: it does, or a plane-at-a-time route before it (stride 1
        // 'same' shapes), or the separable rows, where the route leaves them its float max on rows of 48-64 cells.
        // Without AVX-512 the same cases test the other routes.
        bool fits = planeChoice > 0 && plan.OutputPlane >= Vector256<T>.Count && plan.InputPlane >= Vector512<T>.Count
            && plan.InputPlane <= ChannelsFirstViaChannelsLast<T>.MaxPlaneCells;
        var route = EngineRoutes<T>.RouteOf(plan);
        bool leftToSeparableRows = route == EngineRoute.SeparableRowsMax && SeparableRowsMax<T>.BeatsTheDetour(plan);
        if (HasAvx512 && fits)
            Assert.True(TableIndex<T>(route) <= TableIndex<T>(EngineRoute.ChannelsFirstViaChannelsLast) || leftToSeparableRows, $"{route} took {context}");
        if (route == EngineRoute.ChannelsFirstViaChannelsLast) _taken++;

        var input = pc.Input<T>();
        bool isMax = descriptor.Mode == PoolMode.Max;
        T[] expected = isMax ? ReferencePooling.Max<T>(descriptor, input, shape).Output : ReferencePooling.Average<T>(descriptor, input, shape);
        _memory.OnBothSides<T>(input, (guarded, placement) =>
        {
            var output = new T[outputShape.ElementCount];
            Engine.RunGeneral<T>(descriptor, guarded, output, shape);
            if (isMax) PoolAssert.Exact<T>(expected, output, $"{context}, {placement}");
            else PoolAssert.Bits<T>(expected, output, $"{context}, {placement}");
        });
    }

    /// <summary>Where <paramref name="route"/> stands in the channels-first dispatch table.</summary>
    private static int TableIndex<T>(EngineRoute route) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var routes = EngineRoutes<T>.ChannelsFirst;
        for (int i = 0; i < routes.Count; i++)
            if (routes[i].Route == route) return i;
        throw new ArgumentOutOfRangeException(nameof(route), route, "not a channels-first route");
    }

    /// <summary>
    /// Split over threads, each range of planes pools its whole groups here and hands its remainder on: the same bits.
    /// 45 x 45 planes go a group at a time, 9 x 9 ones in images of several groups.
    /// </summary>
    [Theory]
    [InlineData(false, 45)]
    [InlineData(true, 45)]
    [InlineData(false, 9)]
    [InlineData(true, 9)]
    public void ParallelRangesMatchOneThread(bool isDouble, int planeWidth)
    {
        // 141,750 and 165,888 cells: above Pooling.ParallelThreshold.
        var shape = planeWidth == 45 ? new PoolShape(2, 35, 45, 45) : new PoolShape(4, 511, 9, 9);
        if (isDouble) Parallel<double>(shape);
        else Parallel<float>(shape);
    }

    private static void Parallel<T>(PoolShape shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = PoolDescriptor.AvgPool2d((5, 4), (2, 3), (2, 1), ceilMode: true, countIncludePad: false);
        var outputShape = descriptor.GetOutputShape(shape);
        if (HasAvx512) Assert.Equal(EngineRoute.ChannelsFirstViaChannelsLast, EngineRoutes<T>.RouteOf(new PoolPlan(descriptor, shape, outputShape)));
        var input = RandomInput.Create<T>((int)shape.ElementCount, 2, 1919);
        var expected = ReferencePooling.Average<T>(descriptor, input, shape);
        var output = new T[outputShape.ElementCount];
        if (typeof(T) == typeof(float))
            Pooling.RunGeneral(descriptor, MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output.AsSpan()), shape, 2);
        else
            Pooling.RunGeneral(descriptor, MemoryMarshal.Cast<T, double>(input), MemoryMarshal.Cast<T, double>(output.AsSpan()), shape, 2);
        PoolAssert.Bits<T>(expected, output, $"{typeof(T).Name} {descriptor} {shape}, two threads");
    }

    public void Dispose() => _memory.Dispose();
}
