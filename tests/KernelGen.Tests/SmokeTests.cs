using Xunit;

namespace KernelGen.Tests;

public class SmokeTests
{
    [Fact]
    public void MaxPool2x2()
    {
        float[] input = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        var output = new float[4];
        Pooling.Run(PoolDescriptor.MaxPool2d(2), input, output, new PoolShape(1, 1, 4, 4));
        Assert.Equal([6f, 8, 14, 16], output);
    }

    [Fact]
    public void AverageCeilIncludePad()
    {
        // The semantics document's PyTorch example.
        var input = new float[16];
        for (int i = 0; i < 16; i++) input[i] = i + 1;
        var output = new float[9];
        Pooling.Run(PoolDescriptor.AvgPool2d(3, 2, 1, ceilMode: true), input, output, new PoolShape(1, 1, 4, 4));
        float[] expected = [1.5556f, 3.3333f, 2.0f, 6.3333f, 11, 6, 4.5f, 7.5f, 4.0f];
        for (int i = 0; i < 9; i++) Assert.Equal(expected[i], output[i], 3);
    }
}
