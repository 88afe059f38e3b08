using System.Collections.Generic;
using Xunit;
using static KernelGen.Tool.Tests.TestModels;

namespace KernelGen.Tool.Tests;

/// <summary>
/// Every ONNX pooling attribute, read from a model built here and mapped by the tool, against the descriptor written
/// out axis by axis (begin and end pads, stride, dilation) with <see cref="PoolDescriptor.Create"/>.
/// </summary>
public sealed class MappingTests
{
    private static PoolDescriptor Expected(PoolMode mode, PoolAxis height, PoolAxis width, bool ceil = false, bool includePad = false) =>
        PoolDescriptor.Create(mode, [height, width], ceil, includePad);

    [Fact]
    public void AsymmetricPadsStridesAndDilations()
    {
        var layer = Layer(Single("MaxPool", [1, 2, 9, 10], attributes:
            [Ints("kernel_shape", 3, 2), Ints("strides", 2, 1), Ints("pads", 1, 0, 2, 1), Ints("dilations", 2, 1)]));
        Assert.Equal(Expected(PoolMode.Max, new PoolAxis(3, 2, 1, 2, 2), new PoolAxis(2, 1, 0, 1, 1)), layer.Descriptor);
        Assert.Equal(LayerPath.General, layer.Path);
        Assert.Equal("model", layer.ShapeSource);
    }

    [Fact]
    public void DefaultsAreStrideOneNoPaddingNoDilation()
    {
        var layer = Layer(Single("AveragePool", [1, 1, 5, 5], attributes: [Ints("kernel_shape", 2, 2)]));
        Assert.Equal(Expected(PoolMode.Average, new PoolAxis(2, 1, 0, 0, 1), new PoolAxis(2, 1, 0, 0, 1)), layer.Descriptor);
        Assert.False(layer.Descriptor!.Value.CountIncludePad); // ONNX's default count_include_pad is 0
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    public void CountIncludePad(int value, bool expected)
    {
        var layer = Layer(Single("AveragePool", [1, 1, 6, 6], attributes: [Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("count_include_pad", value)]));
        Assert.Equal(Expected(PoolMode.Average, new PoolAxis(3, 1, 1, 1, 1), new PoolAxis(3, 1, 1, 1, 1), includePad: expected), layer.Descriptor);
    }

    [Fact]
    public void CeilMode()
    {
        var layer = Layer(Single("MaxPool", [1, 1, 6, 6], attributes: [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Int("ceil_mode", 1)]));
        Assert.Equal(Expected(PoolMode.Max, new PoolAxis(3, 2, 0, 0, 1), new PoolAxis(3, 2, 0, 0, 1), ceil: true), layer.Descriptor);
        Assert.Equal(new PoolShape(1, 1, 3, 3), layer.Descriptor!.Value.GetOutputShape(layer.Shape!.Value)); // floor would give 2
    }

    // L = 6, k = 3, s = 2: out = ceil(6 / 2) = 3, total padding (3 - 1) * 2 + 3 - 6 = 1, the odd cell at the end (upper) or the beginning (lower).
    [Theory]
    [InlineData("SAME_UPPER", 0, 1)]
    [InlineData("SAME_LOWER", 1, 0)]
    [InlineData("VALID", 0, 0)]
    [InlineData("NOTSET", 0, 0)]
    public void AutoPad(string autoPad, int begin, int end)
    {
        var layer = Layer(Single("MaxPool", [1, 1, 6, 6], attributes: [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Text("auto_pad", autoPad)]));
        Assert.Equal(Expected(PoolMode.Max, new PoolAxis(3, 2, begin, end, 1), new PoolAxis(3, 2, begin, end, 1)), layer.Descriptor);
    }

    [Fact]
    public void SamePaddingWithoutADeclaredShapeTakesTheShapeFromARun()
    {
        // The input is symbolic in H and W and nothing declares the pooling input: the tool runs the model for it.
        var model = Model([Node("Relu", "X", "R", "relu"), Node("AveragePool", "R", "Y", "pool", Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Text("auto_pad", "SAME_LOWER"))],
            [Value("X", Float, "N", 3, "H", "W")], [Value("Y", Float, null)]);
        var layer = Layers(model, new Dictionary<string, long> { ["H"] = 6, ["W"] = 6 })[0];
        Assert.Equal("run", layer.ShapeSource);
        Assert.Equal("1x3x6x6", layer.Input!.ToString());
        Assert.Equal(Expected(PoolMode.Average, new PoolAxis(3, 2, 1, 0, 1), new PoolAxis(3, 2, 1, 0, 1)), layer.Descriptor);
    }

    [Fact]
    public void OneAndThreeSpatialAxes()
    {
        var oneD = Layer(Single("MaxPool", [2, 3, 10], attributes: [Ints("kernel_shape", 4), Ints("pads", 0, 2)]));
        Assert.Equal(PoolDescriptor.Create(PoolMode.Max, [new PoolAxis(4, 1, 0, 2, 1)]), oneD.Descriptor);
        var threeD = Layer(Single("AveragePool", [1, 2, 4, 5, 6], attributes: [Ints("kernel_shape", 2, 2, 2), Ints("strides", 2, 2, 2)]));
        Assert.Equal(PoolDescriptor.Create(PoolMode.Average, [new PoolAxis(2, 2, 0, 0, 1), new PoolAxis(2, 2, 0, 0, 1), new PoolAxis(2, 2, 0, 0, 1)], countIncludePad: false), threeD.Descriptor);
        Assert.Contains("3-d", threeD.Reason);
    }

    [Fact]
    public void StorageOrderWithIndicesRunsOnTheGeneralEngine()
    {
        var model = Model([Node("MaxPool", ["X"], ["Y", "I"], "pool", Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("storage_order", 1))],
            [Value("X", Float, 1, 2, 4, 4)], [Value("Y", Float, null), Value("I", 7, null)]);
        var layer = Layer(model);
        Assert.Equal("I", layer.Node.IndicesOutput);
        Assert.Equal(LayerPath.General, layer.Path); // a built-in kernel exists for 2x2 stride 2, but not with indices
        Assert.Contains("indices", layer.Reason);
    }

    [Fact]
    public void SpecializedToday()
    {
        var layer = Layer(Single("MaxPool", [1, 8, 16, 16], attributes: [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)]));
        Assert.Equal(LayerPath.Specialized, layer.Path);
        Assert.Equal("MaxPool_K3x3_S2_P1_F32_Nchw", layer.Kernel);
    }

    [Fact]
    public void ExpressibleLayerGetsItsAttribute()
    {
        var layer = Layer(Single("AveragePool", [1, 8, 7, 7], attributes: [Ints("kernel_shape", 7, 7), Ints("strides", 1, 1)]));
        Assert.Equal(LayerPath.General, layer.Path);
        Assert.Equal("[PoolKernel(7, 1, PoolMode.Average, CountIncludePad = false)]", layer.Attribute);
    }

    [Fact]
    public void BeginOnlyPaddingRunsTheSymmetricKernelOnlyWhereOutputSizesAgree()
    {
        // ResNet's stem padding, pads [1,1,0,0], on an average that counts padding (SpecializeTests compiles the max stem's
        // own kernel into this process, which Pooling.Run would then take). On an even input the end padding is never
        // read; on an odd one the output sizes differ.
        Onnx.AttributeProto[] stem = [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0), Int("count_include_pad", 1)];
        var even = Layer(Single("AveragePool", [1, 4, 12, 12], attributes: stem));
        Assert.Equal(LayerPath.Specialized, even.Path);
        Assert.Equal("AvgPool_K3x3_S2_P1_F32_Nchw", even.Kernel);
        Assert.Equal(PoolDescriptor.AvgPool2d(3, 2, 1), even.Symmetric!.Descriptor);
        Assert.True(even.Symmetric.AppliesToInput);
        Assert.Contains("runs the kernel of its symmetric form (pads [1,1,1,1]), which computes the same on 1x4x12x12", even.SymmetricNote());
        // A borrowed kernel serves some inputs only: the layer's own attribute is still offered.
        Assert.Equal("[PoolKernel(3, 2, PoolMode.Average, Padding = 1, PaddingEnd = 0)]", even.Attribute);
        var odd = Layer(Single("AveragePool", [1, 4, 13, 13], attributes: stem));
        Assert.Equal(LayerPath.General, odd.Path);
        Assert.Null(odd.Reason); // [PoolKernel] expresses it: only the kernel is missing
        Assert.Equal("[PoolKernel(3, 2, PoolMode.Average, Padding = 1, PaddingEnd = 0)]", odd.Attribute);
        Assert.Equal("AvgPool_K3x3_S2_P1_F32_Nchw", odd.Symmetric!.Kernel);
        Assert.False(odd.Symmetric.AppliesToInput);
        Assert.Contains("on 1x4x13x13 they do not", odd.SymmetricNote());
    }

    [Fact]
    public void EndPaddingAboveBeginPaddingHasNoSymmetricForm()
    {
        var layer = Layer(Single("MaxPool", [1, 4, 12, 12], attributes: [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 0, 0, 1, 1)]));
        Assert.Equal(LayerPath.General, layer.Path);
        Assert.Null(layer.Symmetric);
    }

    [Fact]
    public void IncludePadAverageRunsTheSymmetricKernelOnlyWhereNoWindowReachesPastTheEndPadding()
    {
        // 12x12: windows end at the last input cell, the divisor is 9 either way, and the built-in include-pad kernel runs.
        var inside = Layer(Single("AveragePool", [1, 4, 12, 12], attributes: [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0), Int("count_include_pad", 1)]));
        Assert.Equal(LayerPath.Specialized, inside.Path);
        Assert.Equal("AvgPool_K3x3_S2_P1_F32_Nchw", inside.Kernel);
        // 11x11 under ceil_mode: the same output size (6), but the last window hangs one cell past the input, which the
        // symmetric form's divisor would count as padding and ONNX's does not.
        var past = Layer(Single("AveragePool", [1, 4, 11, 11], attributes: [Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0), Int("count_include_pad", 1), Int("ceil_mode", 1)]));
        Assert.Equal(new PoolShape(1, 4, 6, 6), past.Descriptor!.Value.GetOutputShape(past.Shape!.Value));
        Assert.Equal(LayerPath.General, past.Path);
        Assert.False(past.Symmetric!.AppliesToInput);
        Assert.Equal("[PoolKernel(3, 2, PoolMode.Average, Padding = 1, CeilMode = true)]", past.Symmetric.Attribute);
        Assert.Contains("no window reaches past the end padding", past.SymmetricNote());
    }

    [Theory]
    [InlineData("GlobalMaxPool", PoolMode.Max)]
    [InlineData("GlobalAveragePool", PoolMode.Average)]
    public void GlobalPooling(string op, PoolMode mode)
    {
        var layer = Layer(Single(op, [1, 4, 5, 5]));
        Assert.Equal(LayerPath.Global, layer.Path);
        Assert.Equal(mode, layer.GlobalMode);
        Assert.Null(layer.Descriptor);
    }

    [Fact]
    public void LpPoolCannotRun()
    {
        var layer = Layer(Single("LpPool", [1, 4, 6, 6], attributes: [Ints("kernel_shape", 2, 2), Int("p", 3)]));
        Assert.Equal(LayerPath.CannotRun, layer.Path);
        Assert.Contains("p = 3", layer.Reason);
    }

    [Fact]
    public void HalfPrecisionCannotRun()
    {
        var layer = Layer(Single("MaxPool", [1, 4, 6, 6], Float16, attributes: [Ints("kernel_shape", 2, 2)]));
        Assert.Equal(LayerPath.CannotRun, layer.Path);
        Assert.Contains("float16", layer.Reason);
    }

    [Fact]
    public void AttributesFromOnnxRejectsCannotRunWithItsMessage()
    {
        // A pad at the effective kernel: ONNX forbids it, FromOnnx says so.
        var layer = Layer(Single("MaxPool", [1, 1, 6, 6], attributes: [Ints("kernel_shape", 2, 2), Ints("pads", 2, 0, 0, 0)]));
        Assert.Equal(LayerPath.CannotRun, layer.Path);
        Assert.Contains("FromOnnx", layer.Reason);
        Assert.Contains("pads", layer.Reason);
    }

    [Fact]
    public void UnknownAttributeCannotRun()
    {
        var layer = Layer(Single("MaxPool", [1, 1, 6, 6], attributes: [Ints("kernel_shape", 2, 2), Int("p", 2)]));
        Assert.Equal(LayerPath.CannotRun, layer.Path);
        Assert.Contains("'p'", layer.Reason);
    }

    [Fact]
    public void DoubleInputsMapToDoubleKernels()
    {
        var layer = Layer(Single("MaxPool", [1, 8, 16, 16], Double, attributes: [Ints("kernel_shape", 4, 4), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)]));
        Assert.True(layer.IsDouble);
        Assert.Equal(LayerPath.General, layer.Path); // no built-in double kernel for it
        Assert.Equal("[PoolKernel(4, 2, PoolMode.Max, Padding = 1)]", layer.Attribute);
    }
}
