using System;
using System.Linq;
using System.Threading.Tasks;
using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using KernelGen.Monitoring;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The advice PoolingMonitor prints is code that works: its [PoolKernel] text and method signature, compiled through
/// the generator, register a specialized kernel for exactly the configuration the monitor saw on the general engine.
/// </summary>
public class AdviceRoundTripTests
{
    // None of these has a built-in kernel; together they use every named property the advice can write.
    private static readonly (PoolDescriptor Descriptor, bool IsDouble)[] Configurations =
    [
        (PoolDescriptor.MaxPool2d(3, 2), false),
        (PoolDescriptor.MaxPool2d(4, 2, 1), true),
        (PoolDescriptor.AvgPool2d((5, 3), (2, 1), (2, 1), ceilMode: true, countIncludePad: false, layout: PoolLayout.ChannelsLast), false),
        (PoolDescriptor.MaxPool2d((3, 2), (1, 2), (1, 1), dilation: (2, 2), layout: PoolLayout.ChannelsLast), true),
        (PoolDescriptor.AvgPool2d(4, 2, 1, divisorOverride: -3), false),
        (PoolDescriptor.MaxPool2d(2, 1, ceilMode: true, layout: PoolLayout.ChannelsLast), false),
        // ONNX pads that differ at the end: PaddingHeightEnd and PaddingWidthEnd apart, then PaddingEnd for both.
        (PoolDescriptor.FromOnnx(PoolMode.Average, [3, 3], [2, 2], [0, 1, 1, 0], countIncludePad: true), false),
        (PoolDescriptor.FromOnnx(PoolMode.Max, [2, 3], [1, 2], [1, 1, 0, 0], layout: PoolLayout.ChannelsLast), true),
    ];

    [Fact]
    public void AdvisedAttributeCompilesToAKernelRegisteredForThatConfiguration()
    {
        var shape = new PoolShape(1, 2, 11, 12);
        PoolingSnapshot snapshot;
        using (var monitor = PoolingMonitor.Start())
        {
            foreach (var (descriptor, isDouble) in Configurations)
            {
                Assert.False(isDouble ? PoolKernelRegistry.IsSpecialized<double>(descriptor) : PoolKernelRegistry.IsSpecialized<float>(descriptor));
                var outputLength = descriptor.GetOutputShape(shape).ElementCount;
                if (isDouble) Pooling.Run(descriptor, new double[shape.ElementCount], new double[outputLength], shape, 1);
                else Pooling.Run(descriptor, new float[shape.ElementCount], new float[outputLength], shape, 1);
            }
            snapshot = monitor.GetSnapshot();
        }

        var advice = Configurations.Select(c => snapshot.Advice.Single(a =>
            a.Descriptor == c.Descriptor.ToString() && a.Element == (c.IsDouble ? "double" : "float"))).ToList();
        Assert.All(advice, a => Assert.True(a.CanSpecialize, a.Reason));
        string source = "using System;\nusing KernelGen;\n\nnamespace AdviceRoundTrip;\n\n/// <summary>The kernels the monitor advised.</summary>\npublic static partial class Kernels\n{\n" +
            string.Concat(advice.Select(a => $"    {a.Attribute}\n    {a.MethodSignature}\n\n")) + "}\n";

        var (result, output) = GeneratorHarness.Run(GeneratorHarness.CompileAs("KernelGen.AdviceRoundTrip", source));
        var generated = GeneratorHarness.GeneratedFiles(result);
        var assembly = GeneratorHarness.LoadAndRegister(output);

        foreach (var ((descriptor, isDouble), a) in Configurations.Zip(advice))
        {
            var registered = PoolKernelRegistry.Registered.Where(entry =>
                entry.Name == a.Configuration && entry.ElementType == (isDouble ? typeof(double) : typeof(float))).ToList();
            var entry = Assert.Single(registered);
            Assert.Equal(descriptor, entry.Descriptor);
            // Specialized, not the general engine behind a [PoolKernel] method.
            var kernelFile = generated.Single(file => file.HintName == a.Configuration + ".g.cs");
            Assert.DoesNotContain("Not specialized", kernelFile.Text, StringComparison.Ordinal);
            Delegate? kernel = isDouble
                ? (PoolKernelRegistry.TryGet<double>(descriptor, out var k64, out _) ? k64 : null)
                : (PoolKernelRegistry.TryGet<float>(descriptor, out var k32, out _) ? k32 : null);
            Assert.Same(assembly, kernel!.Method.Module.Assembly);
        }
    }

    /// <summary>Where the generator cannot specialize, the monitor's reason is the build's KG0009 reason, word for word.</summary>
    [Theory]
    [InlineData("[PoolKernel(3, 3, PoolMode.Max)]")]
    [InlineData("[PoolKernel(3, 1, PoolMode.Max, Padding = 1, Dilation = 2)]")]
    [InlineData("[PoolKernel(8, 1, PoolMode.Average, Layout = PoolLayout.ChannelsLast)]")]
    [InlineData("[PoolKernel(6, 2, PoolMode.Max, Padding = 3, Dilation = 2, Layout = PoolLayout.ChannelsLast)]")]
    public async Task MonitorReasonIsTheKG0009Reason(string attribute)
    {
        var descriptor = attribute switch
        {
            "[PoolKernel(3, 3, PoolMode.Max)]" => PoolDescriptor.MaxPool2d(3, 3),
            "[PoolKernel(3, 1, PoolMode.Max, Padding = 1, Dilation = 2)]" => PoolDescriptor.MaxPool2d(3, 1, 1, dilation: 2),
            "[PoolKernel(6, 2, PoolMode.Max, Padding = 3, Dilation = 2, Layout = PoolLayout.ChannelsLast)]" => PoolDescriptor.MaxPool2d(6, 2, 3, dilation: 2, layout: PoolLayout.ChannelsLast),
            _ => PoolDescriptor.AvgPool2d(8, 1, layout: PoolLayout.ChannelsLast),
        };
        var shape = new PoolShape(1, 1, 9, 9);
        PoolingSnapshot snapshot;
        using (var monitor = PoolingMonitor.Start())
        {
            Pooling.Run(descriptor, new float[shape.ElementCount], new float[descriptor.GetOutputShape(shape).ElementCount], shape, 1);
            snapshot = monitor.GetSnapshot();
        }
        var advice = snapshot.Advice.Single(a => a.Descriptor == descriptor.ToString() && a.Element == "float");
        Assert.False(advice.CanSpecialize);

        string source = "using System;\nusing KernelGen;\n\n/// <summary>One method.</summary>\npublic static partial class C\n{\n    /// <summary>One kernel.</summary>\n    " +
            attribute + " public static partial void M(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);\n}\n";
        var (_, output) = GeneratorHarness.Run(GeneratorHarness.Compile(source));
        var found = await output.WithAnalyzers([new PoolKernelAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        var kg0009 = Assert.Single(found, d => d.Id == "KG0009");
        Assert.Contains(advice.Reason!, kg0009.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
