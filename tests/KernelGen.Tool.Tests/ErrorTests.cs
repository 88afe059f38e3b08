using System.IO;
using Xunit;
using static KernelGen.Tool.Tests.TestModels;

namespace KernelGen.Tool.Tests;

/// <summary>The tool's errors: an exit code of their own and one message naming the problem, never a stack trace.</summary>
public sealed class ErrorTests
{
    private static void AssertError((int Code, string Output, string Error) result, ExitCode code, string message)
    {
        Assert.Equal((int)code, result.Code);
        Assert.Contains(message, result.Error);
        Assert.DoesNotContain("   at ", result.Error); // no stack trace
    }

    [Theory]
    [InlineData("scan")]
    [InlineData("verify")]
    [InlineData("specialize")]
    public void MissingFile(string command)
    {
        string path = Path.Combine(Path.GetTempPath(), "kernelgen-no-such-model.onnx");
        AssertError(Cli(command, path), ExitCode.FileNotFound, $"The model file '{path}' does not exist.");
    }

    [Fact]
    public void TextFileIsNotOnnx()
    {
        string path = Save(System.Text.Encoding.UTF8.GetBytes("This is a README, not a model.\n"));
        try { AssertError(Cli("scan", path), ExitCode.NotOnnx, "is not an ONNX model"); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void EmptyFileIsNotOnnx()
    {
        string path = Save([]);
        try { AssertError(Cli("verify", path), ExitCode.NotOnnx, "is not an ONNX model"); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void NewerOpsetIsRefusedUnlessAllowed()
    {
        string path = Save(Single("MaxPool", [1, 1, 4, 4], opset: OnnxModelFile.NewestKnownOpset + 5, attributes: [Ints("kernel_shape", 2, 2)]));
        try
        {
            AssertError(Cli("scan", path), ExitCode.Unsupported, $"opset {OnnxModelFile.NewestKnownOpset + 5}");
            var allowed = Cli("scan", path, "--allow-newer-opset", "--json");
            Assert.Equal(0, allowed.Code);
            Assert.Contains("\"op\": \"MaxPool\"", allowed.Output);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void OperatorOfAnUnimportedDomain()
    {
        var model = Model([Node("FancyPool", "X", "Y", "fancy")], [Value("X", Float, 1, 1, 4, 4)], [Value("Y", Float, null)]);
        model.Graph.Node[0].Domain = "com.example";
        string path = Save(model);
        try { AssertError(Cli("scan", path), ExitCode.Unsupported, "operator FancyPool of domain 'com.example', which the model does not import"); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void PoolingOperatorOfAnotherDomainIsListedAsCannotRun()
    {
        var model = Model([Node("NhwcMaxPool", "X", "Y", "nhwc")], [Value("X", Float, 1, 4, 4, 1)], [Value("Y", Float, null)], extraDomain: "com.microsoft");
        model.Graph.Node[0].Domain = "com.microsoft";
        string path = Save(model);
        try
        {
            var result = Cli("scan", path, "--json");
            Assert.Equal(0, result.Code);
            Assert.Contains("\"path\": \"cannot run\"", result.Output);
            Assert.Contains("com.microsoft.NhwcMaxPool is not an ONNX standard pooling operator", result.Output);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void DynamicShapeThatCannotBeResolved()
    {
        var model = Model([Node("Relu", "X", "R", "relu"), Node("MaxPool", "R", "Y", "pool", Ints("kernel_shape", 2, 2))],
            [Value("X", Float, "N", 3, "height", 8)], [Value("Y", Float, null)]);
        string path = Save(model);
        try
        {
            AssertError(Cli("verify", path), ExitCode.UnresolvedShape, "dynamic dimension 2 ('height')");
            Assert.Contains("--dim height=<size>", Cli("scan", path).Error);
            Assert.Equal(0, Cli("scan", path, "--dim", "height=8").Code); // the batch axis N defaults to 1
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void MalformedDim()
    {
        string path = Save(Single("MaxPool", [1, 1, 4, 4], attributes: [Ints("kernel_shape", 2, 2)]));
        try { AssertError(Cli("scan", path, "--dim", "height"), ExitCode.Usage, "--dim 'height' is not name=size"); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void OnnxRuntimeRefusal()
    {
        // Valid protobuf, valid for kernelgen, but ORT refuses it: an operator ONNX does not have.
        var model = Model([Node("NoSuchOperator", "X", "R", "bad"), Node("MaxPool", "R", "Y", "pool", Ints("kernel_shape", 2, 2))],
            [Value("X", Float, 1, 1, 4, 4)], [Value("Y", Float, null)]);
        string path = Save(model);
        try { AssertError(Cli("verify", path), ExitCode.RuntimeFailed, "ONNX Runtime cannot load"); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UnknownCommandIsAUsageError()
    {
        var result = Cli("frobnicate");
        Assert.Equal((int)ExitCode.Usage, result.Code);
        Assert.Contains("Usage: kernelgen", result.Error);
    }

    [Fact]
    public void OutputThatCannotBeWritten()
    {
        string path = Save(Single("MaxPool", [1, 1, 4, 4], attributes: [Ints("kernel_shape", 2, 2)]));
        try { AssertError(Cli("specialize", path, "-o", Path.Combine(Path.GetTempPath(), "no-such-directory-kg", "Layers.cs")), ExitCode.OutputFailed, "Cannot write"); }
        finally { File.Delete(path); }
    }
}
