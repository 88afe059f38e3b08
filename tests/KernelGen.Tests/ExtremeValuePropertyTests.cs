using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// Every public entry point, called with sizes, kernels, strides, pads and dilations drawn from the extremes
/// {0, 1, 2, small, 2^15, 2^20, 2^29, 2^30, int.MaxValue - 1, int.MaxValue} per axis, all ranks, both layouts and
/// element types. Each call either throws an <see cref="ArgumentException"/> naming a parameter of the method called
/// (the one this test predicts, with the output untouched), or succeeds and matches the scalar reference. Spans are
/// at most <see cref="MaxCells"/> long, so every case is cheap by construction; a call's allocations are bounded
/// by its input and output, measured with the runtime's per-thread allocation counter.
/// </summary>
[Trait("Category", "Kernel")]
public class ExtremeValuePropertyTests
{
    private readonly ITestOutputHelper _log;

    public ExtremeValuePropertyTests(ITestOutputHelper log) => _log = log;

    private static readonly int[] Extremes = [0, 1, 2, 3, 1 << 15, 1 << 20, 1 << 29, 1 << 30, int.MaxValue - 1, int.MaxValue];

    /// <summary>The longest input or output span a case allocates.</summary>
    private const int MaxCells = 300;

    private const int Cases = 6000;

    /// <summary>Bytes a successful call may allocate beyond a multiple of its spans: the scratch tables of a first call.</summary>
    private const long AllocationAllowance = 1 << 20;

    private static readonly string[] ShapeParameters = ["batch", "channels", "depth", "height", "width"];
    private static readonly string[] TorchParameters = ["kernel", "stride", "padding", "dilation", "ceilMode", "countIncludePad", "divisorOverride", "layout"];
    private static readonly string[] CreateParameters = ["mode", "axes", "ceilMode", "countIncludePad", "divisorOverride", "layout", "convention"];
    private static readonly string[] OnnxParameters = ["mode", "kernelShape", "strides", "pads", "dilations", "autoPad", "ceilMode", "countIncludePad", "inputShape", "layout"];

    private enum Entry { Run, RunWithIndices, RunGeneral, GetOutputShape, GlobalMax, GlobalAverage }

    private sealed class Tally
    {
        public readonly Dictionary<string, int> Counts = [];
        public void Add(string key) => Counts[key] = Counts.GetValueOrDefault(key) + 1;
    }

    [Fact]
    public void FloatCallsAreRejectedByNameOrCorrect() => Check<float>(1801);

    [Fact]
    public void DoubleCallsAreRejectedByNameOrCorrect() => Check<double>(1802);

    private void Check<T>(int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var tally = new Tally();
        for (int i = 0; i < Cases; i++)
        {
            string context = $"{typeof(T).Name} case {i}";
            try
            {
                tally.Add(OneCase<T>(random, tally, ref context));
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"{context}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            }
        }
        _log.WriteLine(string.Join("\n", tally.Counts.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")));
        // The generator must reach every outcome, or the test proves less than it says.
        foreach (var outcome in new[] { "ran Run", "ran RunWithIndices", "ran RunGeneral", "ran GlobalMax", "ran GlobalAverage", "ran GetOutputShape",
                     "rejected shape", "rejected input", "rejected output", "rejected descriptor", "rejected PoolShape", "rejected GetOutputShape",
                     "ran with a window or stride longer than the input" })
            Assert.True(tally.Counts.GetValueOrDefault(outcome) >= 5, $"{typeof(T).Name}: only {tally.Counts.GetValueOrDefault(outcome)} cases '{outcome}'");
    }

    private static int Value(Random random, int smallUpTo) =>
        random.Next(3) == 0 ? Extremes[random.Next(Extremes.Length)] : random.Next(1, smallUpTo + 1);

    private static string OneCase<T>(Random random, Tally tally, ref string context) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rank = random.Next(1, 4);
        var layout = random.Next(2) == 0 ? PoolLayout.ChannelsFirst : PoolLayout.ChannelsLast;
        int batch = random.Next(4) == 0 ? Extremes[random.Next(Extremes.Length)] : random.Next(0, 3);
        int channels = random.Next(4) == 0 ? Extremes[random.Next(Extremes.Length)] : random.Next(0, 4);
        int[] sizes = [Value(random, 6), Value(random, 6), Value(random, 6)]; // the last rank of them are used
        var entry = (Entry)random.Next(6);
        context += $" {entry} rank {rank} {layout} batch {batch} channels {channels} sizes {string.Join("x", sizes.Skip(3 - rank))}";

        PoolShape shape;
        try
        {
            shape = rank switch
            {
                1 => new PoolShape(batch, channels, sizes[2]),
                2 => new PoolShape(batch, channels, sizes[1], sizes[2]),
                _ => new PoolShape(batch, channels, sizes[0], sizes[1], sizes[2]),
            };
        }
        catch (ArgumentException ex)
        {
            Assert.Contains(ex.ParamName, ShapeParameters);
            Assert.True(batch < 0 || channels < 0 || sizes.Skip(3 - rank).Any(s => s < 1), $"{context}: a valid shape was rejected: {ex.Message}");
            return "rejected PoolShape";
        }
        long inCount = shape.ElementCount;

        if (entry is Entry.GlobalMax or Entry.GlobalAverage)
            return Global<T>(entry, shape, layout, random, context);

        var (descriptor, rejected) = MakeDescriptor(random, rank, layout, shape, ref context);
        if (descriptor is not { } pool) return rejected!;

        // What the call must do, worked out here from the reference's output-size formula.
        var axes = ReferencePooling.Axes3(pool);
        int[] lengths = [shape.Depth, shape.Height, shape.Width];
        bool valid = true;
        Int128 outCount = shape.PlaneCount;
        for (int a = 0; a < 3; a++)
        {
            var x = axes[a];
            long size = ReferencePooling.OutputSize(lengths[a], x.Kernel, x.Stride, x.PadBegin, x.PadEnd, x.Dilation, pool.CeilMode);
            if (size < 1 || size > int.MaxValue) valid = false;
            else outCount *= size;
            if (pool.Convention == PoolConvention.PyTorch && rank == 3 && pool.Mode == PoolMode.Average && lengths[a] < x.Kernel) valid = false;
        }

        if (entry == Entry.GetOutputShape)
        {
            if (!valid)
            {
                var ex = Assert.ThrowsAny<ArgumentException>(() => pool.GetOutputShape(shape));
                Assert.True(ex.ParamName == "inputShape", $"{context}: ParamName '{ex.ParamName}': {ex.Message}");
                return "rejected GetOutputShape";
            }
            Assert.Equal(ReferencePooling.OutputShape(pool, shape), pool.GetOutputShape(shape));
            return "ran GetOutputShape";
        }

        if (entry == Entry.RunWithIndices && pool.Mode != PoolMode.Max) entry = Entry.Run;
        string? expected = inCount > Array.MaxLength || !valid ? "shape"
            : inCount > MaxCells ? "input"
            : outCount > MaxCells ? "output"
            : null;
        int inLength = (int)Math.Min(inCount, MaxCells), outLength = (int)Int128.Min(outCount, MaxCells);
        T[] input = RandomInput.Rounded<T>(random, inLength, pool.Mode == PoolMode.Max);
        var output = Enumerable.Repeat(T.CreateTruncating(BadInputTests.Sentinel), outLength + 3).ToArray();
        var indices = Enumerable.Repeat(-77L, outLength + 3).ToArray();
        Action call = entry switch
        {
            Entry.RunWithIndices => () => Engine.Run<T>(pool, input, output, indices, shape, 1),
            Entry.RunGeneral => () => Engine.RunGeneral<T>(pool, input, output, shape),
            _ => () => Engine.Run<T>(pool, input, output, shape, 1),
        };
        if (expected != null)
        {
            var ex = Assert.ThrowsAny<ArgumentException>(call);
            Assert.True(ex.ParamName == expected, $"{context}: ParamName '{ex.ParamName}', expected '{expected}': {ex.Message}");
            Untouched(output, indices, 0, context);
            return $"rejected {expected}";
        }

        long allocated = AllocatedBy(call);
        Assert.True(allocated <= AllocationAllowance + 64L * (inLength + outLength) * Marshal.SizeOf<T>(),
            $"{context}: the call allocated {allocated} bytes for {inLength} input and {outLength} output cells.");
        int written = (int)outCount;
        if (written == 0)
        {
            // No planes: nothing is written (and the reference's loops over 2^31 empty batches would take seconds).
            Untouched(output, indices, 0, context);
            return $"ran {entry}";
        }
        if (axes.Select((x, a) => (long)(x.Kernel - 1) * x.Dilation + 1 > lengths[a] || x.Stride > lengths[a]).Any(past => past))
            tally.Add("ran with a window or stride longer than the input");
        if (pool.Mode == PoolMode.Max)
        {
            var (reference, referenceIndices) = ReferencePooling.Max<T>(pool, input, shape);
            PoolAssert.Exact<T>(reference, output.AsSpan(0, written), context);
            if (entry == Entry.RunWithIndices) PoolAssert.Indices(referenceIndices, indices.AsSpan(0, written), context);
        }
        else
        {
            PoolAssert.Bits<T>(ReferencePooling.Average<T>(pool, input, shape), output.AsSpan(0, written), context);
        }
        Untouched(output, entry == Entry.RunWithIndices ? indices.AsSpan(written).ToArray() : indices, written, context);
        return $"ran {entry}";
    }

    private static string Global<T>(Entry entry, PoolShape shape, PoolLayout layout, Random random, string context)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long inCount = shape.ElementCount;
        string? expected = inCount > Array.MaxLength ? "shape" : inCount > MaxCells ? "input" : null;
        int inLength = (int)Math.Min(inCount, MaxCells);
        long outCount = shape.PlaneCount;
        int outLength = (int)Math.Min(outCount, MaxCells);
        T[] input = RandomInput.Rounded<T>(random, inLength, entry == Entry.GlobalMax);
        var output = Enumerable.Repeat(T.CreateTruncating(BadInputTests.Sentinel), outLength + 3).ToArray();
        Action call = entry == Entry.GlobalMax
            ? () => Engine.GlobalMax<T>(input, output, shape, layout, 1)
            : () => Engine.GlobalAverage<T>(input, output, shape, layout, 1);
        if (expected != null)
        {
            var ex = Assert.ThrowsAny<ArgumentException>(call);
            Assert.True(ex.ParamName == expected, $"{context}: ParamName '{ex.ParamName}', expected '{expected}': {ex.Message}");
            Untouched(output, [], 0, context);
            return $"rejected {expected}";
        }
        long allocated = AllocatedBy(call);
        Assert.True(allocated <= AllocationAllowance + 64L * (inLength + outLength) * Marshal.SizeOf<T>(), $"{context}: the call allocated {allocated} bytes.");
        int written = (int)outCount;
        if (written == 0)
        {
            Untouched(output, [], 0, context);
            return $"ran {entry}";
        }
        if (entry == Entry.GlobalMax)
            PoolAssert.Exact<T>(ReferencePooling.GlobalMax<T>(input, shape, layout), output.AsSpan(0, written), context);
        else
            PoolAssert.Bits<T>(ReferencePooling.GlobalAverage<T>(input, shape, layout), output.AsSpan(0, written), context);
        Untouched(output, [], written, context);
        return $"ran {entry}";
    }

    /// <summary>
    /// A descriptor from one of the three kinds of factory, or the outcome of its rejection, which must name a
    /// parameter of that factory and must agree with the limits in docs/semantics.md.
    /// </summary>
    private static (PoolDescriptor? Descriptor, string? Rejected) MakeDescriptor(Random random, int rank, PoolLayout layout, PoolShape shape, ref string context)
    {
        bool max = random.Next(2) == 0;
        var mode = max ? PoolMode.Max : PoolMode.Average;
        bool ceil = random.Next(2) == 0, includePad = random.Next(2) == 0;
        int factory = random.Next(3);
        var axes = new PoolAxis[rank];
        for (int a = 0; a < rank; a++)
        {
            int kernel = Value(random, 4), stride = Value(random, 3);
            int padBegin = random.Next(2) == 0 ? 0 : Value(random, 2), padEnd = factory == 0 || random.Next(2) == 0 ? padBegin : Value(random, 2);
            int dilation = random.Next(2) == 0 ? 1 : Value(random, 3);
            if (factory == 0 && !max) dilation = 1;
            if (random.Next(3) == 0 && kernel >= 1 && dilation >= 1)
            {
                // The most padding the convention allows, so that outputs outgrow the input.
                padBegin = padEnd = factory == 0 ? kernel / 2 : (int)Math.Min(int.MaxValue, (long)(kernel - 1) * dilation);
            }
            axes[a] = new PoolAxis(kernel, stride, padBegin, padEnd, dilation);
        }
        // AvgPool1d and FromOnnx have no divisor override; the SAME and VALID modes take no pads.
        int? divisor = !max && factory != 2 && !(factory == 0 && rank == 1) && random.Next(4) == 0 ? Extremes[random.Next(Extremes.Length)] - random.Next(2) * 5 : null;
        var autoPad = factory == 2 ? (OnnxAutoPad)random.Next(4) : OnnxAutoPad.NotSet;
        if (autoPad != OnnxAutoPad.NotSet)
            for (int a = 0; a < rank; a++) axes[a] = axes[a] with { PadBegin = 0, PadEnd = 0 };
        bool torchConvention = factory == 0 || (factory == 1 && random.Next(4) == 0);
        context += $" {mode} factory {factory} axes [{string.Join(", ", axes)}] ceil {ceil} includePad {includePad} divisor {divisor} autoPad {autoPad}";

        string[] names = factory == 0 ? TorchParameters : factory == 1 ? CreateParameters : OnnxParameters;
        bool expectValid = axes.All(x => ValidAxis(x, torchConvention, max, factory == 2 && autoPad is OnnxAutoPad.SameUpper or OnnxAutoPad.SameLower))
            && (divisor is null || (!max && divisor != 0))
            && (autoPad is not (OnnxAutoPad.SameUpper or OnnxAutoPad.SameLower) || SamePadsFit(axes, shape));
        try
        {
            var pool = factory switch
            {
                0 => Torch(max, rank, axes, ceil, includePad, divisor, layout),
                1 => PoolDescriptor.Create(mode, axes, ceil, includePad, divisor, layout, torchConvention ? PoolConvention.PyTorch : PoolConvention.Onnx),
                _ => PoolDescriptor.FromOnnx(mode, axes.Select(x => x.Kernel).ToArray(), axes.Select(x => x.Stride).ToArray(),
                        autoPad == OnnxAutoPad.NotSet ? axes.Select(x => x.PadBegin).Concat(axes.Select(x => x.PadEnd)).ToArray() : [],
                        axes.Select(x => x.Dilation).ToArray(), autoPad, ceil, includePad, shape, layout),
            };
            Assert.True(expectValid, $"{context}: an invalid descriptor was accepted: {pool}");
            return (pool, null);
        }
        catch (ArgumentException ex)
        {
            Assert.True(names.Contains(ex.ParamName), $"{context}: ParamName '{ex.ParamName}' is not a parameter of the factory: {ex.Message}");
            Assert.False(expectValid, $"{context}: a valid descriptor was rejected: {ex.Message}");
            return (null, "rejected descriptor");
        }
    }

    private static PoolDescriptor Torch(bool max, int rank, PoolAxis[] a, bool ceil, bool includePad, int? divisor, PoolLayout layout) => (max, rank) switch
    {
        (true, 1) => PoolDescriptor.MaxPool1d(a[0].Kernel, a[0].Stride, a[0].PadBegin, a[0].Dilation, ceil, layout),
        (true, 2) => PoolDescriptor.MaxPool2d((a[0].Kernel, a[1].Kernel), (a[0].Stride, a[1].Stride), (a[0].PadBegin, a[1].PadBegin), (a[0].Dilation, a[1].Dilation), ceil, layout),
        (true, _) => PoolDescriptor.MaxPool3d((a[0].Kernel, a[1].Kernel, a[2].Kernel), (a[0].Stride, a[1].Stride, a[2].Stride), (a[0].PadBegin, a[1].PadBegin, a[2].PadBegin), (a[0].Dilation, a[1].Dilation, a[2].Dilation), ceil, layout),
        (false, 1) => PoolDescriptor.AvgPool1d(a[0].Kernel, a[0].Stride, a[0].PadBegin, ceil, includePad, layout),
        (false, 2) => PoolDescriptor.AvgPool2d((a[0].Kernel, a[1].Kernel), (a[0].Stride, a[1].Stride), (a[0].PadBegin, a[1].PadBegin), ceil, includePad, divisor, layout),
        (false, _) => PoolDescriptor.AvgPool3d((a[0].Kernel, a[1].Kernel, a[2].Kernel), (a[0].Stride, a[1].Stride, a[2].Stride), (a[0].PadBegin, a[1].PadBegin, a[2].PadBegin), ceil, includePad, divisor, layout),
    };

    /// <summary>The limits of docs/semantics.md, written out again; SAME pads are computed, so only k, s and d apply to them.</summary>
    private static bool ValidAxis(PoolAxis x, bool torch, bool max, bool samePads)
    {
        if (x.Kernel < 1 || x.Stride < 1 || x.Dilation < 1) return false;
        if (samePads) return true;
        long effective = (long)(x.Kernel - 1) * x.Dilation + 1;
        if (x.PadBegin < 0 || x.PadEnd < 0 || x.PadBegin >= effective || x.PadEnd >= effective) return false;
        return !torch || (x.PadBegin == x.PadEnd && x.PadBegin <= x.Kernel / 2 && (max || x.Dilation == 1));
    }

    private static bool SamePadsFit(PoolAxis[] axes, PoolShape shape)
    {
        for (int a = 0; a < axes.Length; a++)
        {
            var x = axes[a];
            if (x.Kernel < 1 || x.Stride < 1 || x.Dilation < 1) continue;
            long length = shape.GetSpatialSize(a), output = (length + x.Stride - 1) / x.Stride;
            long total = Math.Max(0, (output - 1) * x.Stride + (long)(x.Kernel - 1) * x.Dilation + 1 - length);
            if (total - total / 2 > int.MaxValue) return false;
        }
        return true;
    }


    private static long AllocatedBy(Action call)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        call();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void Untouched<T>(T[] output, long[] indices, int from, string context) where T : IFloatingPointIeee754<T>
    {
        for (int i = from; i < output.Length; i++)
            Assert.True(output[i] == T.CreateTruncating(BadInputTests.Sentinel), $"{context}: output[{i}] was written.");
        Assert.True(indices.All(v => v == -77L), $"{context}: an index was written.");
    }
}
