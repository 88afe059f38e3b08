using System;
using System.Collections.Generic;
using System.Linq;
using KernelGen.Testing.Onnx;

namespace KernelGen.Bench;

/// <summary>One benchmark case: a pooling layer of a well-known network at its real size (NCHW float32).</summary>
/// <param name="Name">For example <c>resnet50.stem</c>.</param>
/// <param name="Shape">The logical input shape.</param>
/// <param name="Mode">Max or average.</param>
/// <param name="Kernel">Square window; 0 for global pooling.</param>
/// <param name="Stride">Stride on both axes.</param>
/// <param name="Padding">Padding on every side.</param>
/// <param name="CountIncludePad">Average only.</param>
/// <param name="Description">The operation in words, for the report.</param>
public sealed record BenchCase(string Name, PoolShape Shape, PoolMode Mode, int Kernel, int Stride, int Padding, bool CountIncludePad, string Description)
{
    /// <summary>Global average pooling (resnet50.head): no window descriptor, <c>Pooling.GlobalAverage</c> instead.</summary>
    public bool IsGlobal => Kernel == 0;

    /// <summary>The descriptor <c>Pooling.Run</c> gets. For global pooling, the equivalent full-plane window (what the general engine runs).</summary>
    public PoolDescriptor Descriptor(PoolLayout layout) => IsGlobal
        ? PoolDescriptor.AvgPool2d((Shape.Height, Shape.Width), layout: layout)
        : Mode == PoolMode.Max
            ? PoolDescriptor.MaxPool2d(Kernel, Stride, Padding, layout: layout)
            : PoolDescriptor.AvgPool2d(Kernel, Stride, Padding, countIncludePad: CountIncludePad, layout: layout);

    /// <summary>The same operation as one ONNX node.</summary>
    public OnnxPoolSpec OnnxSpec => IsGlobal
        ? new OnnxPoolSpec(OnnxPoolOp.GlobalAveragePool)
        : new OnnxPoolSpec(Mode == PoolMode.Max ? OnnxPoolOp.MaxPool : OnnxPoolOp.AveragePool,
            KernelShape: [Kernel, Kernel], Strides: [Stride, Stride],
            Pads: Padding == 0 ? null : [Padding, Padding, Padding, Padding],
            CountIncludePad: CountIncludePad);

    /// <summary>The output shape.</summary>
    public PoolShape OutputShape => IsGlobal ? Pooling.GetGlobalOutputShape(Shape) : Descriptor(PoolLayout.ChannelsFirst).GetOutputShape(Shape);

    /// <summary>Bytes the operation must move: the input read once plus the output written once.</summary>
    public long BytesMoved => (Shape.ElementCount + OutputShape.ElementCount) * sizeof(float);

    /// <summary>The <c>[PoolKernel]</c> method declared for this case in <see cref="BenchKernels"/>; null for global pooling.</summary>
    public SpecializedPoolKernel<float>? AttributeKernel(PoolLayout layout)
    {
        bool last = layout == PoolLayout.ChannelsLast;
        return (Mode, Kernel, Stride, Padding, CountIncludePad) switch
        {
            (_, 0, _, _, _) => null,
            (PoolMode.Max, 3, 2, 1, _) => last ? BenchKernels.MaxK3S2P1Nhwc : BenchKernels.MaxK3S2P1Nchw,
            (PoolMode.Max, 2, 2, 0, _) => last ? BenchKernels.MaxK2S2Nhwc : BenchKernels.MaxK2S2Nchw,
            (PoolMode.Max, 3, 1, 1, _) => last ? BenchKernels.MaxK3S1P1Nhwc : BenchKernels.MaxK3S1P1Nchw,
            (PoolMode.Max, 5, 1, 2, _) => last ? BenchKernels.MaxK5S1P2Nhwc : BenchKernels.MaxK5S1P2Nchw,
            (PoolMode.Average, 2, 2, 0, _) => last ? BenchKernels.AvgK2S2Nhwc : BenchKernels.AvgK2S2Nchw,
            (PoolMode.Average, 3, 1, 1, false) => last ? BenchKernels.AvgK3S1P1ExcludePadNhwc : BenchKernels.AvgK3S1P1ExcludePadNchw,
            _ => throw new InvalidOperationException($"No [PoolKernel] method is declared for {Name}."),
        };
    }

    /// <summary>Every case, in the order of the report.</summary>
    public static readonly IReadOnlyList<BenchCase> All =
    [
        new("resnet50.stem", new PoolShape(1, 64, 112, 112), PoolMode.Max, 3, 2, 1, false, "max 3x3 s2 p1"),
        new("vgg16.pool1", new PoolShape(1, 64, 224, 224), PoolMode.Max, 2, 2, 0, false, "max 2x2 s2"),
        new("vgg16.pool4", new PoolShape(1, 512, 28, 28), PoolMode.Max, 2, 2, 0, false, "max 2x2 s2"),
        new("googlenet.pool", new PoolShape(1, 192, 28, 28), PoolMode.Max, 3, 1, 1, false, "max 3x3 s1 p1"),
        new("yolov8.sppf", new PoolShape(1, 256, 20, 20), PoolMode.Max, 5, 1, 2, false, "max 5x5 s1 p2"),
        new("densenet.transition", new PoolShape(1, 128, 56, 56), PoolMode.Average, 2, 2, 0, true, "average 2x2 s2"),
        new("inception.pool", new PoolShape(1, 256, 35, 35), PoolMode.Average, 3, 1, 1, false, "average 3x3 s1 p1, count_include_pad false"),
        new("resnet50.head", new PoolShape(1, 2048, 7, 7), PoolMode.Average, 0, 1, 0, false, "global average"),
        new("batch32", new PoolShape(32, 64, 56, 56), PoolMode.Max, 3, 2, 1, false, "max 3x3 s2 p1"),
    ];

    /// <summary>The case called <paramref name="name"/>.</summary>
    public static BenchCase Get(string name) => All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"Unknown case '{name}'.", nameof(name));

    /// <summary>The case that also runs on all cores.</summary>
    public const string AllCoresCase = "batch32";
}
