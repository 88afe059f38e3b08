using System;
using System.Linq;
using System.Numerics;
using CsCheck;
using KernelGen.Monitoring;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// Padding larger at the beginning than at the end (ONNX's <c>pads [1,1,0,0]</c>, ResNet-18's stem) runs the kernel
/// registered for the symmetric form exactly on the inputs where the two compute the same, bit for bit as the
/// general engine computes the layer itself, and the general engine everywhere else.
/// </summary>
[Collection(ProcessWideMonitor.Name)]
[Trait("Category", "Kernel")]
public class SymmetricPaddingTests(ITestOutputHelper log)
{
    /// <summary>Calls of the counting kernels this class registers, on the calling thread.</summary>
    [ThreadStatic] private static int t_countingKernelCalls;

    /// <summary>The symmetric descriptors this class registered a counting kernel for, removed again after each sample.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(PoolDescriptor, Type), bool> Registered = new();

    private static readonly PoolDescriptor ResNetStem = PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], [2, 2], [1, 1, 0, 0]);

    public sealed record Case(PoolDescriptor Descriptor, PoolShape Shape, int Style, int Seed)
    {
        public override string ToString() => $"{Descriptor} on {Shape}, {RandomInput.StyleName(Style)} input (seed {Seed})";
    }

    private static readonly Gen<(int K, int S, int D, int First, int Second, bool BeginFirst)> GenAxis =
        from k in Gen.Int[1, 4]
        from s in Gen.Int[1, 3]
        from d in Gen.Int[1, 2]
        from first in Gen.Int[0, 6]
        from second in Gen.Int[0, 6]
        from beginFirst in Gen.Int[0, 3] // three in four axes pad at least as much before as after
        select (k, s, d, first, second, beginFirst != 0);

    /// <summary>Random configurations with at least one asymmetric axis, on lengths up to a few strides past the window.</summary>
    private static readonly Gen<Case> Cases =
        (from rank in Gen.Int[1, 3]
         from max in Gen.Bool
         from includePad in Gen.Bool
         from divisorChoice in Gen.Int[0, 5]
         from ceil in Gen.Bool
         from channelsLast in Gen.Bool
         from raw in GenAxis.Array[3]
         from lengths in Gen.Int[1, 13].Array[3]
         from channels in Gen.Int[1, 5]
         from style in Gen.Int[0, RandomInput.Styles - 1]
         from seed in Gen.Int
         select Build(rank, max, includePad, divisorChoice == 5, ceil, channelsLast, raw, lengths, channels, style, seed))
        .Where(c => c is not null).Select(c => c!);

    private static Case? Build(int rank, bool max, bool includePad, bool divisorOverride, bool ceil, bool channelsLast,
        (int K, int S, int D, int First, int Second, bool BeginFirst)[] raw, int[] rawLengths, int channels, int style, int seed)
    {
        var axes = new PoolAxis[rank];
        var lengths = new int[rank];
        for (int a = 0; a < rank; a++)
        {
            var (k, s, d, first, second, beginFirst) = raw[a];
            int effective = (k - 1) * d + 1;
            int large = Math.Max(first, second) % effective, small = Math.Min(first, second) % effective;
            (int begin, int end) = beginFirst ? (Math.Max(large, small), Math.Min(large, small)) : (Math.Min(large, small), Math.Max(large, small));
            axes[a] = new PoolAxis(k, s, begin, end, d);
            // Short outer axes keep 3-d cases small; the innermost takes every residue modulo the stride.
            int length = a == rank - 1 ? rawLengths[a] : 1 + rawLengths[a] % 6;
            while (ReferencePooling.OutputSize(length, k, s, begin, end, d, ceil) < 1) length++;
            lengths[a] = length;
        }
        if (axes.All(a => a.PadBegin == a.PadEnd)) return null;
        var descriptor = PoolDescriptor.Create(max ? PoolMode.Max : PoolMode.Average, axes, ceil, includePad, !max && divisorOverride ? 3 : null,
            channelsLast ? PoolLayout.ChannelsLast : PoolLayout.ChannelsFirst, PoolConvention.Onnx);
        var shape = rank switch
        {
            1 => new PoolShape(1, channels, lengths[0]),
            2 => new PoolShape(2, channels, lengths[0], lengths[1]),
            _ => new PoolShape(1, channels, lengths[0], lengths[1], lengths[2]),
        };
        return new Case(descriptor, shape, style, seed);
    }

    /// <summary>Every axis's end padding replaced by its begin padding, whichever is larger.</summary>
    private static PoolDescriptor BeginPaddedBothSides(PoolDescriptor descriptor)
    {
        var axes = Enumerable.Range(0, descriptor.SpatialRank).Select(i => descriptor.GetAxis(i) with { PadEnd = descriptor.GetAxis(i).PadBegin }).ToArray();
        return PoolDescriptor.Create(descriptor.Mode, axes, descriptor.CeilMode, descriptor.CountIncludePad,
            descriptor.DivisorOverride == 0 ? null : descriptor.DivisorOverride, descriptor.Layout, PoolConvention.Onnx);
    }

    /// <summary>Why the symmetric kernel must not serve the case, or null when it must: the rule, written out tap by tap.</summary>
    private static string? Rejection(Case c)
    {
        var d = c.Descriptor;
        for (int i = 0; i < d.SpatialRank; i++)
            if (d.GetAxis(i).PadEnd > d.GetAxis(i).PadBegin) return "end padding above begin padding";
        for (int i = 0; i < d.SpatialRank; i++)
        {
            var a = d.GetAxis(i);
            long length = c.Shape.GetSpatialSize(i);
            long outputs = ReferencePooling.OutputSize(length, a.Kernel, a.Stride, a.PadBegin, a.PadEnd, a.Dilation, d.CeilMode);
            if (outputs != ReferencePooling.OutputSize(length, a.Kernel, a.Stride, a.PadBegin, a.PadBegin, a.Dilation, d.CeilMode))
                return "output sizes differ";
            bool divisorCountsPadding = d.Mode == PoolMode.Average && d.CountIncludePad && d.DivisorOverride == 0;
            for (long o = 0; divisorCountsPadding && o < outputs; o++)
                for (long t = 0; t < a.Kernel; t++)
                    if (o * a.Stride - a.PadBegin + t * a.Dilation >= length + a.PadEnd) return "a window reaches past the end padding";
        }
        return null;
    }

    /// <summary>
    /// The kernel registered for <paramref name="symmetric"/>: this class's counting kernel (the general engine on the
    /// symmetric descriptor) unless another kernel, a built-in, is registered already; it is never replaced.
    /// </summary>
    private static string? EnsureSymmetricKernel<T>(PoolDescriptor symmetric, out bool counting) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (PoolKernelRegistry.TryGet<T>(symmetric, out _, out var name))
        {
            counting = name!.StartsWith("SymmetricPaddingTests ", StringComparison.Ordinal);
            return name;
        }
        name = $"SymmetricPaddingTests {symmetric} {typeof(T).Name}";
        PoolKernelRegistry.Register<T>(symmetric, (input, output, shape) =>
        {
            t_countingKernelCalls++;
            Engine.RunGeneral(symmetric, input, output, shape);
        }, name);
        Registered[(symmetric, typeof(T))] = true;
        counting = true;
        return name;
    }

    private static string Check<T>(Case c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = c.Descriptor;
        var symmetric = BeginPaddedBothSides(descriptor);
        string kernelName = EnsureSymmetricKernel<T>(symmetric, out bool counting)!;
        string? rejection = Rejection(c);
        string context = $"{typeof(T).Name} {c} (rule: {rejection ?? "computes the same"})";

        var input = RandomInput.Create<T>((int)c.Shape.ElementCount, c.Style, c.Seed);
        var outputShape = descriptor.GetOutputShape(c.Shape);
        var expected = new T[outputShape.ElementCount];
        var actual = new T[outputShape.ElementCount];
        Engine.RunGeneral(descriptor, input, expected, c.Shape);
        int before = t_countingKernelCalls;
        Engine.Run<T>(descriptor, input, actual, c.Shape, maxDop: 1);
        PoolAssert.Bits<T>(expected, actual, context);

        PoolKernelRegistry.TryGetForShape<T>(descriptor, c.Shape, outputShape, out _, out var chosen);
        Assert.True(chosen == (rejection is null ? kernelName : null), $"{context}: Pooling.Run chose {chosen ?? "the general engine"}");
        if (counting)
            Assert.True(t_countingKernelCalls - before == (rejection is null ? 1 : 0), $"{context}: the symmetric kernel ran {t_countingKernelCalls - before} times");
        return rejection ?? "specialized";
    }

    private void SampleAndCover<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        try
        {
            Cases.Sample(c => { outcomes.AddOrUpdate(Check<T>(c), 1, (_, n) => n + 1); }, writeLine: log.WriteLine, iter: 4000);
        }
        finally
        {
            // The counting kernels would otherwise serve later tests' calls on these descriptors (a monitor would see no
            // general-engine call to advise on).
            foreach (var key in Registered.Keys.Where(k => k.Item2 == typeof(T)))
                if (PoolKernelRegistry.Unregister<T>(key.Item1)) Registered.TryRemove(key, out _);
        }
        Assert.DoesNotContain(Registered.Keys, k => k.Item2 == typeof(T));
        log.WriteLine(string.Join(", ", outcomes.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")));
        // Every branch of the rule was reached, so each assertion above was exercised.
        foreach (string outcome in new[] { "specialized", "end padding above begin padding", "output sizes differ", "a window reaches past the end padding" })
        {
            int count = outcomes.TryGetValue(outcome, out int n) ? n : 0;
            Assert.True(count >= 20, $"only {count} cases ended '{outcome}'");
        }
    }

    [Fact]
    public void FloatRunsTheSymmetricKernelExactlyWhereItComputesTheSame() => SampleAndCover<float>();

    [Fact]
    public void DoubleRunsTheSymmetricKernelExactlyWhereItComputesTheSame() => SampleAndCover<double>();

    /// <summary>
    /// Around the boundary: widths 100 to 130 under ResNet-18's stem. Even widths give both descriptors the same output
    /// (the built-in kernel runs); odd ones give the symmetric one an extra column (the general engine runs).
    /// </summary>
    [Fact]
    public void ResNetStemRunsTheBuiltInKernelOnEvenSizesOnly()
    {
        Assert.True(PoolKernelRegistry.TryGet<float>(PoolDescriptor.MaxPool2d(3, 2, 1), out _, out var builtIn));
        for (int width = 100; width <= 130; width++)
        {
            var shape = new PoolShape(1, 2, 10, width);
            Assert.True(PoolKernelRegistry.TryGetForShape<float>(ResNetStem, shape, ResNetStem.GetOutputShape(shape), out _, out var chosen) == (width % 2 == 0),
                $"width {width}: Pooling.Run chose {chosen ?? "the general engine"}");
            if (chosen is not null) Assert.Equal(builtIn, chosen);
        }
    }

    /// <summary>
    /// ResNet-18's stem on its own input (1x64x112x112) runs the built-in MaxPool_K3x3_S2_P1_F32_Nchw, and the monitor says
    /// so; on 113x113 the symmetric form would add a row and a column, so the general engine runs it. Both are checked
    /// against the reference implementation, not only against the engine.
    /// </summary>
    [Theory]
    [InlineData(112, "MaxPool_K3x3_S2_P1_F32_Nchw")]
    [InlineData(113, null)]
    public void ResNetStemRunsSpecializedWhereTheOutputSizesAgree(int size, string? expectedKernel)
    {
        var shape = new PoolShape(1, 64, size, size);
        var input = RandomInput.Create<float>((int)shape.ElementCount, style: 2, seed: size);
        var outputShape = ResNetStem.GetOutputShape(shape);
        Assert.Equal(new PoolShape(1, 64, (size - 2) / 2 + 1, (size - 2) / 2 + 1), outputShape);
        var output = new float[outputShape.ElementCount];

        using var monitor = PoolingMonitor.Start();
        Pooling.Run(ResNetStem, input, output, shape, 1);
        var snapshot = monitor.GetSnapshot();

        var entry = Assert.Single(snapshot.Entries, e => e.Descriptor == ResNetStem.ToString() && e.Shape == shape.ToString());
        Assert.Equal(expectedKernel ?? "general", entry.Kernel);
        Assert.Equal(expectedKernel is null ? "general" : "specialized", entry.Path);
        var (reference, _) = ReferencePooling.Max<float>(ResNetStem, input, shape);
        PoolAssert.Exact<float>(reference, output, $"stem on {shape}");
        var engine = new float[outputShape.ElementCount];
        Pooling.RunGeneral(ResNetStem, input, engine, shape, 1);
        PoolAssert.Bits<float>(engine, output, $"stem on {shape}");
        // The monitor's advice names what ran: nothing to advise for the specialized call.
        Assert.Equal(expectedKernel is null, snapshot.Advice.Any(a => a.Descriptor == ResNetStem.ToString()));
    }
}
