using System;
using KernelGen.Testing;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The bench's tensors (and ORT's, through the runner) start on a 64-byte boundary and begin zeroed.</summary>
public class AlignedBufferTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(100_352)]
    [InlineData(6_422_528)]
    public unsafe void StartsOnA64ByteBoundaryZeroed(int length)
    {
        using var owner = (IDisposable)new AlignedBuffer<float>(length);
        var buffer = (AlignedBuffer<float>)owner;
        Assert.Equal(0, (long)buffer.Data % 64);
        Assert.Equal(length, buffer.Span.Length);
        Assert.True(buffer.Span.IndexOfAnyExcept(0f) < 0);
        using var pinned = buffer.Memory.Pin();
        Assert.Equal((nint)buffer.Data, (nint)pinned.Pointer);
    }

    [Fact]
    public void OnnxRunnerTensorsAreAligned()
    {
        using var runner = new KernelGen.Testing.Onnx.OnnxPoolRunner<float>(
            new KernelGen.Testing.Onnx.OnnxPoolSpec(KernelGen.Testing.Onnx.OnnxPoolOp.MaxPool, [2, 2], [2, 2]), [1, 3, 8, 8]);
        unsafe
        {
            fixed (float* input = runner.Input) Assert.Equal(0, (long)input % 64);
            fixed (float* output = runner.Output) Assert.Equal(0, (long)output % 64);
        }
    }
}
