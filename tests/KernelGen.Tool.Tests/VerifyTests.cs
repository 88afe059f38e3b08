using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;
using static KernelGen.Tool.Tests.TestModels;

namespace KernelGen.Tool.Tests;

/// <summary><c>kernelgen verify</c> on small models built here, against ONNX Runtime; and the comparison rules.</summary>
public sealed class VerifyTests
{
    /// <summary>
    /// A small network whose pooling layers cover the ONNX options: begin-only pads (run by its symmetric form's kernel),
    /// SAME_UPPER, ceil_mode with count_include_pad, dilation, indices in column-major order, global max and average,
    /// and an LpPool KernelGen cannot run. No intermediate shape is declared: verify takes them from the run.
    /// </summary>
    private static Onnx.ModelProto Network() => Model(
        [
            Node("Relu", "X", "r", "relu"),
            Node("MaxPool", "r", "stem", "stem", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0)),
            Node("AveragePool", "stem", "same", "same", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Text("auto_pad", "SAME_UPPER")),
            Node("AveragePool", "r", "ceil", "ceil", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("ceil_mode", 1), Int("count_include_pad", 1)),
            Node("MaxPool", "X", "dilated", "dilated", Ints("kernel_shape", 3, 3), Ints("dilations", 2, 2), Ints("pads", 2, 1, 2, 1)),
            Node("MaxPool", ["X"], ["indexed", "indices"], "indexed", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("storage_order", 1)),
            Node("GlobalMaxPool", "same", "gmax", "gmax"),
            Node("GlobalAveragePool", "ceil", "gavg", "gavg"),
            Node("LpPool", "X", "lp", "lp", Ints("kernel_shape", 2, 2), Int("p", 2)),
        ],
        [Value("X", Float, "N", 4, 12, 12)],
        new[] { "gmax", "gavg", "dilated", "indexed", "indices", "lp" }.Select(n => Value(n, n == "indices" ? 7 : Float, null)));

    [Fact]
    public void VerifyAgreesWithOnnxRuntimeOnEveryLayer()
    {
        string path = Save(Network());
        try
        {
            var (code, output, error) = Cli("verify", path, "--json", "--seconds", "0.01");
            Assert.True(code == 0, $"exit {code}\n{error}\n{output}");
            using var json = JsonDocument.Parse(output);
            Assert.True(json.RootElement.GetProperty("agree").GetBoolean());
            var layers = json.RootElement.GetProperty("layers").EnumerateArray().ToList();
            string Agreement(string node, string route) => layers.Single(l => l.GetProperty("node").GetString() == node && l.GetProperty("route").GetString() == route).GetProperty("agreement").GetString()!;

            Assert.Equal("Exact", Agreement("stem", "specialized"));
            var stem = layers.Single(l => l.GetProperty("node").GetString() == "stem");
            Assert.Equal("MaxPool_K3x3_S2_P1_F32_Nchw", stem.GetProperty("kernel").GetString()); // the symmetric form's kernel, on 12x12
            Assert.Contains("the kernel of its symmetric form", stem.GetProperty("note").GetString());
            Assert.Equal("Exact", Agreement("dilated", "general engine"));
            Assert.Equal("Exact", Agreement("indexed", "general engine"));
            Assert.Contains("indices equal", layers.Single(l => l.GetProperty("node").GetString() == "indexed").GetProperty("detail").GetString());
            Assert.Equal("Exact", Agreement("gmax", "global"));
            Assert.Contains(Agreement("same", "general engine"), new[] { "Exact", "WithinTolerance" });
            Assert.Contains(Agreement("ceil", "general engine"), new[] { "Exact", "WithinTolerance" });
            Assert.Contains(Agreement("gavg", "global"), new[] { "Exact", "WithinTolerance" });
            Assert.Equal("NotCompared", Agreement("lp", "cannot run"));
            // Shapes from the run: the ceil-mode layer's 12x12 input gives 7x7 (floor would give 6x6).
            Assert.Equal("1x4x7x7", layers.Single(l => l.GetProperty("node").GetString() == "ceil").GetProperty("output").GetString());
            foreach (var layer in layers.Where(l => l.GetProperty("route").GetString() != "cannot run"))
            {
                Assert.True(layer.GetProperty("ortMicroseconds").GetDouble() > 0);
                Assert.True(layer.GetProperty("kernelGenMicroseconds").GetDouble() > 0);
                Assert.Equal(0, layer.GetProperty("mismatches").GetInt64());
                Assert.True(layer.GetProperty("cells").GetInt64() > 0);
            }
            Assert.Contains("layer 8/8: lp (LpPool)", error); // progress on standard error
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void VerifyTablePrintsEveryLayer()
    {
        string path = Save(Network());
        try
        {
            var (code, output, _) = Cli("verify", path, "--seconds", "0.01");
            Assert.Equal(0, code);
            foreach (var node in new[] { "stem", "same", "ceil", "dilated", "indexed", "gmax", "gavg", "lp" })
                Assert.Contains(node, output);
            Assert.Contains("every layer KernelGen runs gives ONNX Runtime's results", output);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ModelWithoutPoolingVerifiesNothingAndSucceeds()
    {
        string path = Save(Model([Node("Relu", "X", "Y", "relu")], [Value("X", Float, 1, 2, 3, 3)], [Value("Y", Float, null)]));
        try
        {
            var (code, output, _) = Cli("verify", path, "--json");
            Assert.Equal(0, code);
            using var json = JsonDocument.Parse(output);
            Assert.Equal(0, json.RootElement.GetProperty("layers").GetArrayLength());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SpecializeWritesToStandardOutputWithAClassNamedAfterTheModel()
    {
        string path = Save(Single("MaxPool", [1, 2, 8, 8], attributes: [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)]));
        try
        {
            var (code, output, _) = Cli("specialize", path);
            Assert.Equal(0, code);
            Assert.Matches(@"public static partial class KernelgenTest[A-Za-z0-9]+Layers", output); // kernelgen-test-<guid>.onnx, PascalCase
            Assert.Contains("MaxPool_K2x2_S2_F32_Nchw", output); // a built-in kernel runs this layer
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MaxMustBeExact()
    {
        float[] ort = [1f, 2f, 3f];
        float[] off = [1f, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(2f) + 1), 3f]; // one ulp
        var result = LayerComparison.Compare<float>(off, ort, exact: true, inputMeanMagnitude: 1);
        Assert.Equal(Agreement.Mismatch, result.Agreement);
        Assert.Equal(1, result.Mismatches);
        Assert.Contains("cell 1", result.Detail);
        Assert.Equal(Agreement.Exact, LayerComparison.Compare<float>(ort, ort, exact: true, 1).Agreement);
    }

    [Fact]
    public void AverageWithinRelativeTolerance()
    {
        float[] ort = [100f, 200f];
        Assert.Equal(Agreement.WithinTolerance, LayerComparison.Compare<float>([100.0005f, 200f], ort, exact: false, 1).Agreement); // 5e-6
        Assert.Equal(Agreement.Mismatch, LayerComparison.Compare<float>([100.01f, 200f], ort, exact: false, 1).Agreement);    // 1e-4
    }

    [Fact]
    public void DocumentedOrtDeparturesAreReportedNotHidden()
    {
        float[] ort = [3f, float.MinValue];
        float[] kernelGen = [float.NaN, float.NegativeInfinity];
        var result = LayerComparison.Compare<float>(kernelGen, ort, exact: true, 1);
        Assert.Equal(Agreement.OrtDeparture, result.Agreement);
        Assert.Contains("ORT drops NaN", result.Detail);
        Assert.Contains("lowest finite value", result.Detail);
    }

    [Fact]
    public void DifferentLengthsMismatch()
    {
        Assert.Equal(Agreement.Mismatch, LayerComparison.Compare<double>([1.0], [1.0, 2.0], exact: true, 1).Agreement);
    }
}
