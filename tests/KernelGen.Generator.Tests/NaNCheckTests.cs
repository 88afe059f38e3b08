using System;
using System.IO;
using System.Numerics;
using System.Reflection;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Specialization;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The NaN check of the channels-first max kernels' wide-row AVX-512 path (<c>WidePlane512</c>), called directly with
/// the unchecked maximum: it must raise no alarm on finite input, where an alarm pools the plane a second time with the
/// slower NaN-propagating maximum, and must raise one for a NaN in any input row at either end or in the middle.
/// </summary>
/// <remarks>
/// The path exists only on AVX-512; elsewhere (CI's settings without it) the test checks nothing. The outputs are
/// compared with the general engine by the verification. Loading the kernels registers them for <c>Pooling.Run</c> in
/// this process, so their configurations are none another test expects to find unspecialized.
/// </remarks>
[Trait("Category", "Kernel")]
public class NaNCheckTests
{
    private const string Source = """
        using System;
        using KernelGen;

        namespace NaNCheckUser;

        internal static partial class Layers
        {
            [PoolKernel(3, 2, PoolMode.Max, Padding = 1, CeilMode = true)]
            internal static partial void Stem(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

            [PoolKernel(5, 2, PoolMode.Max, KernelWidth = 3, PaddingHeight = 2, PaddingWidth = 1)]
            internal static partial void Tall(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

            [PoolKernel(5, 4, PoolMode.Max, KernelWidth = 3, StrideWidth = 2, PaddingHeight = 2, PaddingWidth = 1)]
            internal static partial void TallStride4(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);

            [PoolKernel(5, 3, PoolMode.Max, KernelWidth = 3, StrideWidth = 2, PaddingHeight = 1, PaddingWidth = 1, CeilMode = true)]
            internal static partial void TallStride3(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);

            [PoolKernel(7, 2, PoolMode.Max, KernelWidth = 2)]
            internal static partial void Unpadded(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
        }
        """;

    private static readonly Lazy<Assembly> Kernels = new(() =>
    {
        var (_, output) = GeneratorHarness.Run(GeneratorHarness.CompileAs("KernelGen.NaNCheckUser", Source));
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        Assert.True(emit.Success, GeneratorHarness.Describe(emit.Diagnostics));
        return Assembly.Load(stream.ToArray());
    });

    [Theory]
    [InlineData("MaxPool_K3x3_S2_P1_Ceil_F64_Nchw", 11, 57)]
    [InlineData("MaxPool_K3x3_S2_P1_Ceil_F64_Nchw", 11, 64)]
    [InlineData("MaxPool_K5x3_S2_P2x1_F64_Nchw", 12, 57)]
    [InlineData("MaxPool_K5x3_S2_P2x1_F64_Nchw", 12, 64)]
    [InlineData("MaxPool_K5x3_S4x2_P2x1_F64_Nchw", 13, 57)]
    [InlineData("MaxPool_K5x3_S3x2_P1_Ceil_F32_Nchw", 14, 71)]
    [InlineData("MaxPool_K7x2_S2_F32_Nchw", 15, 92)]
    public void WideRowsAlarmOnNaNInEveryRowAndOnlyThen(string kernel, int height, int width)
    {
        if (!Vector512.IsHardwareAccelerated || !Avx512F.IsSupported) return;
        var type = Kernels.Value.GetType("KernelGen.Generated." + kernel, throwOnError: true)!;
        var descriptor = (PoolDescriptor)type.GetField("Descriptor")!.GetValue(null)!;
        if (kernel.Contains("_F64_", StringComparison.Ordinal)) Check<double>(type, descriptor, height, width);
        else Check<float>(type, descriptor, height, width);
    }

    private static unsafe void Check<T>(Type type, PoolDescriptor descriptor, int height, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = new PoolShape(1, 1, height, width);
        var outputShape = descriptor.GetOutputShape(shape);
        int lanes = Vector512<T>.Count, vectors = (width + lanes - 1) / lanes;
        Assert.True(vectors > 4, "the wide-row path takes rows of more than 4 vectors");
        object lastInside = typeof(T) == typeof(float)
            ? KernelLanes512.InsideMask32((vectors - 1) * lanes, width)
            : KernelLanes512.InsideMask64((vectors - 1) * lanes, width);
        var widePlane = type.GetMethod("WidePlane512", BindingFlags.Static | BindingFlags.NonPublic)!.MakeGenericMethod(typeof(UncheckedMax512));
        var random = new Random(height * 1000 + width);
        var input = new T[height * width];
        for (int i = 0; i < input.Length; i++) input[i] = T.CreateTruncating(random.NextDouble() * 200 - 100);
        var output = new T[outputShape.ElementCount + lanes];
        var padding = new T[width];
        Array.Fill(padding, T.NegativeInfinity);

        bool Checked()
        {
            fixed (T* source = input, target = output, identity = padding)
                return (bool)widePlane.Invoke(null, [Pointer.Box(source, typeof(T*)), Pointer.Box(target, typeof(T*)), Pointer.Box(identity, typeof(T*)),
                    height, width, outputShape.Height, outputShape.Width, vectors, lastInside])!;
        }

        Assert.True(Checked(), $"{descriptor} on {height}x{width}: the NaN check raised an alarm on finite input");
        for (int row = 0; row < height; row++)
        {
            foreach (int column in new[] { 0, width / 2, width - 1 })
            {
                T kept = input[row * width + column];
                input[row * width + column] = T.NaN;
                Assert.False(Checked(), $"{descriptor} on {height}x{width}: a NaN at row {row}, column {column} went unnoticed");
                input[row * width + column] = kept;
            }
        }
    }
}
