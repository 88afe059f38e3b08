using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace KernelGen.Demo;

/// <summary>One pooling layer the demo runs: a network's layer at its real size, on data of its element type.</summary>
/// <param name="Name">For example <c>resnet50.stem</c>.</param>
/// <param name="Shape">The input shape (NCHW).</param>
/// <param name="Descriptor">The operation; null for global average pooling.</param>
/// <param name="IsDouble">Whether the layer runs on <c>double</c>.</param>
internal sealed record DemoLayer(string Name, PoolShape Shape, PoolDescriptor? Descriptor, bool IsDouble = false)
{
    public bool IsGlobal => Descriptor is null;

    public PoolShape OutputShape => Descriptor is { } d ? d.GetOutputShape(Shape) : Pooling.GetGlobalOutputShape(Shape);

    /// <summary>
    /// The layers of bench/Cases.cs, then three the built-in kernels do not cover, so the monitor has advice to give:
    /// AlexNet's 3x3 stride-2 max without padding, in float and in double, and a TensorFlow-exported SAME max pool whose
    /// padding is asymmetric.
    /// </summary>
    public static readonly IReadOnlyList<DemoLayer> All =
    [
        new("resnet50.stem", new PoolShape(1, 64, 112, 112), PoolDescriptor.MaxPool2d(3, 2, 1)),
        new("vgg16.pool1", new PoolShape(1, 64, 224, 224), PoolDescriptor.MaxPool2d(2, 2)),
        new("vgg16.pool4", new PoolShape(1, 512, 28, 28), PoolDescriptor.MaxPool2d(2, 2)),
        new("googlenet.pool", new PoolShape(1, 192, 28, 28), PoolDescriptor.MaxPool2d(3, 1, 1)),
        new("yolov8.sppf", new PoolShape(1, 256, 20, 20), PoolDescriptor.MaxPool2d(5, 1, 2)),
        new("densenet.transition", new PoolShape(1, 128, 56, 56), PoolDescriptor.AvgPool2d(2, 2)),
        new("inception.pool", new PoolShape(1, 256, 35, 35), PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false)),
        new("resnet50.head", new PoolShape(1, 2048, 7, 7), null),
        new("batch32", new PoolShape(32, 64, 56, 56), PoolDescriptor.MaxPool2d(3, 2, 1)),
        new("alexnet.pool1", new PoolShape(1, 64, 55, 55), PoolDescriptor.MaxPool2d(3, 2)),
        new("alexnet.pool1.f64", new PoolShape(1, 64, 55, 55), PoolDescriptor.MaxPool2d(3, 2), IsDouble: true),
        new("tf.same.pool", new PoolShape(1, 64, 112, 112),
            PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], strides: [2, 2], autoPad: OnnxAutoPad.SameUpper, inputShape: new PoolShape(1, 64, 112, 112))),
    ];
}

/// <summary>A layer's buffers: a built-in input (deterministic pseudo-random values), and one output per path.</summary>
internal sealed class LayerRun
{
    public LayerRun(DemoLayer layer)
    {
        Layer = layer;
        var random = new Random(layer.Name.Length * 7919);
        int inputLength = (int)layer.Shape.ElementCount, outputLength = (int)layer.OutputShape.ElementCount;
        if (layer.IsDouble)
        {
            InputF64 = new double[inputLength];
            for (int i = 0; i < inputLength; i++) InputF64[i] = random.NextDouble() * 2 - 1;
            OutputF64 = new double[outputLength];
            GeneralF64 = new double[outputLength];
        }
        else
        {
            InputF32 = new float[inputLength];
            for (int i = 0; i < inputLength; i++) InputF32[i] = (float)(random.NextDouble() * 2 - 1);
            OutputF32 = new float[outputLength];
            GeneralF32 = new float[outputLength];
        }
    }

    public DemoLayer Layer { get; }
    private float[] InputF32 { get; } = [];
    private float[] OutputF32 { get; } = [];
    private float[] GeneralF32 { get; } = [];
    private double[] InputF64 { get; } = [];
    private double[] OutputF64 { get; } = [];
    private double[] GeneralF64 { get; } = [];

    /// <summary>Whether Pooling.Run finds a specialized kernel for this layer.</summary>
    public bool Specialized => Layer.Descriptor is { } d && (Layer.IsDouble ? PoolKernelRegistry.IsSpecialized<double>(d) : PoolKernelRegistry.IsSpecialized<float>(d));

    /// <summary>What an application calls: Pooling.Run (Pooling.GlobalAverage for the head), on one thread.</summary>
    public void Run()
    {
        if (Layer.Descriptor is not { } d) Pooling.GlobalAverage(InputF32, OutputF32, Layer.Shape, PoolLayout.ChannelsFirst, 1);
        else if (Layer.IsDouble) Pooling.Run(d, InputF64, OutputF64, Layer.Shape, 1);
        else Pooling.Run(d, InputF32, OutputF32, Layer.Shape, 1);
    }

    /// <summary>The general engine on the same input, for the comparison and the speed-up.</summary>
    public void RunGeneral()
    {
        if (Layer.Descriptor is not { } d) return;
        if (Layer.IsDouble) Pooling.RunGeneral(d, InputF64, GeneralF64, Layer.Shape, 1);
        else Pooling.RunGeneral(d, InputF32, GeneralF32, Layer.Shape, 1);
    }

    /// <summary>The bytes of the last Run's output, for the results fingerprint.</summary>
    public ReadOnlySpan<byte> OutputBytes => Layer.IsDouble ? MemoryMarshal.AsBytes(OutputF64.AsSpan()) : MemoryMarshal.AsBytes(OutputF32.AsSpan());

    /// <summary>Whether the last Run and RunGeneral wrote the same bits.</summary>
    public bool AgreesBitForBit() => Layer.IsDouble
        ? MemoryMarshal.AsBytes(OutputF64.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(GeneralF64.AsSpan()))
        : MemoryMarshal.AsBytes(OutputF32.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(GeneralF32.AsSpan()));
}
