using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using Basic.Reference.Assemblies;
using KernelGen.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using static KernelGen.Tool.Tests.TestModels;

namespace KernelGen.Tool.Tests;

/// <summary>
/// <c>kernelgen specialize</c>'s output compiled with the KernelGen generator, warnings as errors, and every method it
/// writes run against Pooling.Run with the node's own descriptor on inputs of several sizes.
/// </summary>
public sealed class SpecializeTests
{
    private static Onnx.ModelProto Network() => Model(
        [
            Node("MaxPool", "X", "stem", "stem/pool", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0)),
            Node("AveragePool", "X", "head", "head-7x7", Ints("kernel_shape", 7, 7)),
            Node("AveragePool", "X", "same", "same", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Text("auto_pad", "SAME_LOWER")),
            Node("MaxPool", "X", "builtin", "2", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
            Node("MaxPool", "X", "wide", "wide", Ints("kernel_shape", 3, 3), Ints("strides", 4, 4)),
            Node("MaxPool", "X", "asym_avg", "asym", Ints("kernel_shape", 3, 3), Ints("strides", 1, 1), Ints("pads", 0, 0, 1, 1)),
            Node("GlobalAveragePool", "X", "gap", "gap"),
            Node("LpPool", "X", "lp", "lp", Ints("kernel_shape", 2, 2)),
            // Begin-only pads whose symmetric form no built-in kernel runs: specialize declares that form's kernel.
            Node("AveragePool", "X", "avgstem", "avgstem", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0)),
            // On 15x15, SAME_UPPER resolves to pads 1/1, which [PoolKernel] expresses (and no built-in kernel has).
            Node("AveragePool", "Z", "resolved", "resolved", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Text("auto_pad", "SAME_UPPER")),
        ],
        [Value("X", Float, 1, 3, 16, 16), Value("Z", Float, 1, 3, 15, 15)],
        new[] { "stem", "head", "same", "builtin", "wide", "asym_avg", "gap", "lp", "avgstem", "resolved" }.Select(n => Value(n, Float, null)));

    [Fact]
    public void OutputCompilesAndEveryMethodComputesTheNode()
    {
        string model = Save(Network());
        string output = Path.Combine(Path.GetTempPath(), $"kernelgen-layers-{Guid.NewGuid():N}.cs");
        try
        {
            var (code, _, error) = Cli("specialize", model, "-o", output, "--namespace", "Test.Layers", "--class", "NetLayers");
            Assert.True(code == 0, error);
            string source = File.ReadAllText(output);
            Assert.Contains("[PoolKernel(7, 1, PoolMode.Average, CountIncludePad = false)]", source);
            Assert.Contains("Not written: KernelGen cannot run it", source); // LpPool
            // Padding that differs at the end is an attribute of its own: ResNet-18's stem (begin only) and SAME_UPPER-like end padding.
            Assert.Contains("[PoolKernel(3, 2, PoolMode.Max, Padding = 1, PaddingEnd = 0)]", source);
            Assert.Contains("[PoolKernel(3, 1, PoolMode.Max, PaddingEnd = 1)]", source);
            Assert.Contains("[PoolKernel(3, 2, PoolMode.Average, Padding = 1, PaddingEnd = 0, CountIncludePad = false)]", source);
            Assert.DoesNotContain("asymmetric padding", source);

            var assembly = Compile(source);
            var type = assembly.GetType("Test.Layers.NetLayers")!;
            var shapes = new[] { new PoolShape(2, 3, 16, 16), new PoolShape(1, 2, 15, 17) }; // even (the symmetric form computes the same) and odd sizes
            Check(type, "StemPool", PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], [2, 2], [1, 1, 0, 0]), shapes);
            Check(type, "Head7x7", PoolDescriptor.FromOnnx(PoolMode.Average, [7, 7]), shapes);
            Check(type, "Layer2", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 2], [2, 2]), shapes);
            Check(type, "Wide", PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], [4, 4]), shapes);
            Check(type, "Asym", PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], [1, 1], [0, 0, 1, 1]), shapes);
            foreach (var shape in shapes)
                Check(type, "Same", PoolDescriptor.FromOnnx(PoolMode.Average, [3, 3], [2, 2], autoPad: OnnxAutoPad.SameLower, inputShape: shape), [shape]);
            Assert.Null(type.GetMethod("Lp"));
            Assert.Contains("public static partial void Avgstem", source);
            var avgstem = PoolDescriptor.FromOnnx(PoolMode.Average, [3, 3], [2, 2], [1, 1, 0, 0]);
            Check(type, "Avgstem", avgstem, shapes);
            // The layers' own kernels registered themselves under their exact descriptors: Pooling.Run takes them on every size,
            // where a symmetric form's kernel served the even size only.
            var stem = PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], [2, 2], [1, 1, 0, 0]);
            foreach (var shape in shapes)
            {
                Assert.Equal("AvgPool_K3x3_S2_P1_PE0_ExcludePad_F32_Nchw", LayerPlan.RegisteredKernel(avgstem, shape, isDouble: false));
                Assert.Equal("MaxPool_K3x3_S2_P1_PE0_F32_Nchw", LayerPlan.RegisteredKernel(stem, shape, isDouble: false));
            }
            Assert.Contains("borrows MaxPool_K3x3_S2_P1_F32_Nchw, its symmetric form's kernel", source); // the stem's comment
            Assert.Contains("private static partial void ResolvedKernel", source);
            Assert.Contains("if (layer == ResolvedResolved) ResolvedKernel(input, output, shape);", source);
            foreach (var shape in new[] { new PoolShape(1, 3, 15, 15), new PoolShape(2, 2, 16, 16) }) // resolves to 1/1, and to 0/1
                Check(type, "Resolved", PoolDescriptor.FromOnnx(PoolMode.Average, [3, 3], [2, 2], autoPad: OnnxAutoPad.SameUpper, inputShape: shape), [shape]);
        }
        finally
        {
            File.Delete(model);
            File.Delete(output);
        }
    }

    [Fact]
    public void ProfileListsTheRunnableLayersWithTheirPathsAndTheBuildSpecializesTheGeneralOnes()
    {
        // Configurations no other test in this process compiles a kernel for, so their paths are the general engine's.
        string model = Save(Model(
            [
                Node("MaxPool", "X", "tfsame", "tf_same", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 0, 0, 1, 1)),
                Node("AveragePool", "X", "smooth", "smooth", Ints("kernel_shape", 2, 2), Ints("strides", 1, 1), Ints("pads", 0, 0, 1, 1), Int("count_include_pad", 1)),
                Node("MaxPool", "X", "builtin", "builtin", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
                Node("GlobalAveragePool", "X", "gap", "gap"),
                Node("LpPool", "X", "lp", "lp", Ints("kernel_shape", 2, 2)), // KernelGen cannot run it
            ],
            [Value("X", Float, 1, 3, 16, 16)],
            new[] { "tfsame", "smooth", "builtin", "gap", "lp" }.Select(n => Value(n, Float, null))));
        string profile = Path.Combine(Path.GetTempPath(), $"kernelgen-profile-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output, error) = Cli("specialize", model, "--profile", profile, "--seconds", "0.01");
            Assert.True(code == 0, error);
            Assert.Contains("[PoolKernel(3, 2, PoolMode.Max, PaddingEnd = 1)]", output); // the C# still goes to standard output
            Assert.Contains("4 of 5 layers run under the monitor", error);

            string json = File.ReadAllText(profile);
            using var document = System.Text.Json.JsonDocument.Parse(json);
            Assert.Equal("KernelGen.PoolingProfile", document.RootElement.GetProperty("format").GetString());
            // The monitor sees the whole process: tests running beside this one may add entries of their own.
            var entries = document.RootElement.GetProperty("entries").EnumerateArray().ToList();
            foreach (var (name, path, padEnd) in new[] { ("MaxPool_K3x3_S2_PE1_F32_Nchw", "general", 1), ("AvgPool_K2x2_S1_PE1_F32_Nchw", "general", 1), ("MaxPool_K2x2_S2_F32_Nchw", "specialized", 0) })
            {
                var entry = Assert.Single(entries, e => e.GetProperty("configuration").GetString() == name && e.GetProperty("path").GetString() == path);
                Assert.Equal("window", entry.GetProperty("operation").GetString());
                Assert.Equal([padEnd, padEnd], entry.GetProperty("padEnd").EnumerateArray().Select(v => v.GetInt32()));
                Assert.True(entry.GetProperty("calls").GetInt64() >= 3);
            }
            Assert.Contains(entries, e => e.GetProperty("operation").GetString() == "global" && e.GetProperty("mode").GetString() == "average");

            // The build that lists the file generates kernels for the layers that ran on the general engine, not for the built-in one.
            var compilation = CSharpCompilation.Create("ProfiledApp",
                [CSharpSyntaxTree.ParseText("namespace App; internal static class Empty { }", new CSharpParseOptions(LanguageVersion.Latest))],
                [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(PoolDescriptor).Assembly.Location), MetadataReference.CreateFromFile(typeof(PoolKernelAttribute).Assembly.Location)],
                new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary).WithAllowUnsafe(true));
            var driver = CSharpGeneratorDriver.Create([new PoolKernelGenerator().AsSourceGenerator()], [new KernelGen.Generator.Tests.MemoryAdditionalText(profile, json)],
                new CSharpParseOptions(LanguageVersion.Latest), new KernelGen.Generator.Tests.ProfileOptionsProvider([profile], limit: "100"));
            var result = driver.RunGeneratorsAndUpdateCompilation(compilation, out var built, out _).GetRunResult();
            Assert.Empty(built.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
            var kernels = result.GeneratedTrees.Select(t => Path.GetFileName(t.FilePath)).ToList();
            Assert.Contains("MaxPool_K3x3_S2_PE1_F32_Nchw.g.cs", kernels);
            Assert.Contains("AvgPool_K2x2_S1_PE1_F32_Nchw.g.cs", kernels);
            Assert.DoesNotContain("MaxPool_K2x2_S2_F32_Nchw.g.cs", kernels);
        }
        finally
        {
            File.Delete(model);
            File.Delete(profile);
        }
    }

    private static void Check(Type type, string method, PoolDescriptor descriptor, PoolShape[] shapes)
    {
        var info = type.GetMethod(method, BindingFlags.Public | BindingFlags.Static) ?? throw new InvalidOperationException($"no method {method}");
        var kernel = info.CreateDelegate<SpecializedPoolKernel<float>>();
        foreach (var shape in shapes)
        {
            var random = new Random(shape.GetHashCode());
            var input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => random.NextSingle() * 2 - 1).ToArray();
            var outputShape = descriptor.GetOutputShape(shape);
            var expected = new float[outputShape.ElementCount];
            var actual = new float[outputShape.ElementCount];
            Pooling.RunGeneral(descriptor, input, expected, shape);
            kernel(input, actual, shape);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{method} on {shape} differs from the general engine");
        }
    }

    /// <summary>Compiles <paramref name="source"/> with the KernelGen generator, strictly (warnings are errors), and loads it.</summary>
    private static Assembly Compile(string source)
    {
        var compilation = CSharpCompilation.Create("SpecializedLayers",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose))],
            [.. Net100.References.All, MetadataReference.CreateFromFile(typeof(PoolDescriptor).Assembly.Location), MetadataReference.CreateFromFile(typeof(PoolKernelAttribute).Assembly.Location)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary).WithAllowUnsafe(true).WithNullableContextOptions(NullableContextOptions.Enable)
                .WithOptimizationLevel(OptimizationLevel.Release).WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        CSharpGeneratorDriver.Create(new PoolKernelGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);
        using var stream = new MemoryStream();
        var result = output.Emit(stream);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning)));
        Assert.True(output.SyntaxTrees.Count() > 1, "the generator wrote no kernel");
        return Assembly.Load(stream.ToArray());
    }
}
