using System;
using System.Diagnostics;
using System.Linq;
using KernelGen;

// A ResNet-50 stem pooling layer, three ways: a [PoolKernel] method, the runtime entry point (which finds the
// built-in specialized kernel), and the general engine. All three must agree bit for bit.
var shape = new PoolShape(batch: 1, channels: 64, height: 112, width: 112);
var pool = PoolDescriptor.MaxPool2d(kernel: 3, stride: 2, padding: 1);
var outputShape = pool.GetOutputShape(shape);

var random = new Random(42);
float[] input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => (float)random.NextDouble()).ToArray();
float[] viaAttribute = new float[outputShape.ElementCount];
float[] viaRuntime = new float[outputShape.ElementCount];
float[] viaEngine = new float[outputShape.ElementCount];

Layers.StemPool(input, viaAttribute, shape);
Pooling.Run(pool, input, viaRuntime, shape);
Pooling.RunGeneral(pool, input, viaEngine, shape);

bool agree = viaAttribute.AsSpan().SequenceEqual(viaEngine) && viaRuntime.AsSpan().SequenceEqual(viaEngine);
Console.WriteLine($"max pool 3x3 stride 2 padding 1: {shape} -> {outputShape}");
Console.WriteLine($"specialized kernel registered: {PoolKernelRegistry.IsSpecialized<float>(pool)}");
Console.WriteLine($"[PoolKernel], Pooling.Run and the general engine agree bit for bit: {agree}");

// Single-threaded timings, best of many calls (a rough look; bench/ has the real measurements).
Console.WriteLine($"[PoolKernel] method : {Best(() => Layers.StemPool(input, viaAttribute, shape)),8:F1} us");
Console.WriteLine($"general engine      : {Best(() => Pooling.RunGeneral(pool, input, viaEngine, shape, maxDegreeOfParallelism: 1)),8:F1} us");
Console.WriteLine($"Pooling.Run, all cores: {Best(() => Pooling.Run(pool, input, viaRuntime, shape)),6:F1} us");

Console.WriteLine();
Console.WriteLine("Registered specialized kernels:");
foreach (var (_, element, name) in PoolKernelRegistry.Registered)
    Console.WriteLine($"  {name} ({element.Name})");
return agree ? 0 : 1;

static double Best(Action action)
{
    var warmUp = Stopwatch.StartNew();
    while (warmUp.ElapsedMilliseconds < 500) action(); // let tiered compilation reach optimized code
    long best = long.MaxValue;
    for (int i = 0; i < 200; i++)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        best = Math.Min(best, Stopwatch.GetTimestamp() - start);
    }
    return best * 1e6 / Stopwatch.Frequency;
}

static partial class Layers
{
    /// <summary>ResNet's stem pooling; the generator writes the body.</summary>
    [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
    public static partial void StemPool(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
}
