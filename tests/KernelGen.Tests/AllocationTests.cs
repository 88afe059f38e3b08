using System;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// A call on the calling thread allocates nothing once warm (the engine's scratch arrays are cached per thread, the
/// generated kernels' come from the shared array pool): checked with
/// the runtime's own per-thread allocation counter, which counts bytes, not time.
/// </summary>
[Collection(ProcessWideMonitor.Name)]
public class AllocationTests
{
    private static readonly string[] Names =
    [
        "max 3x3 s2 p1 NCHW (specialized)",
        "max 3x3 s2 p1 NHWC (specialized)",
        "max 3x3 s2 pads 1,1,0,0 NCHW (symmetric kernel)",
        "avg 2x2 s2 NCHW (specialized)",
        "max 3x3 s2 p1 NCHW (general)",
        "avg 3x3 s1 p1 exclude-pad NCHW (general)",
        "avg 3x3 s1 p1 exclude-pad NHWC (general)",
        "avg 5x5 s(2,3) p2 NCHW (general, through channels last)",
        "max 3x3 s2 p1 with indices",
        "global average NCHW",
        "global average NHWC",
    ];

    /// <summary>Every configuration unwatched, and again while a MeterListener and a PoolingMonitor record each call.</summary>
    public static TheoryData<string, bool> Configurations()
    {
        var data = new TheoryData<string, bool>();
        foreach (bool watched in new[] { false, true })
            foreach (string name in Names)
                data.Add(name, watched);
        return data;
    }

    /// <summary>With AVX-512, a configuration that pools the 32 planes through channels last (pinned in <see cref="EngineRouteTests"/>).</summary>
    // ONNX attributes held in arrays: a collection expression passed as a span is a new array on every call in a Debug
    // build (README's `dotnet test`), which the test would count against FromOnnx and Run.
    private static readonly int[] OnnxKernel = [3, 3], OnnxStrides = [2, 2], OnnxPads = [1, 1, 0, 0];

    private static readonly PoolDescriptor ViaChannelsLast = PoolDescriptor.AvgPool2d((5, 5), (2, 3), (2, 2));

    [Theory]
    [MemberData(nameof(Configurations))]
    public void WarmCallAllocatesNothing(string configuration, bool watched)
    {
        using var listener = watched ? new System.Diagnostics.Metrics.MeterListener() : null;
        using var monitor = watched ? Monitoring.PoolingMonitor.Start() : null;
        if (listener is not null)
        {
            long sink = 0;
            listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == "KernelGen") l.EnableMeasurementEvents(instrument); };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => System.Threading.Interlocked.Add(ref sink, value));
            listener.SetMeasurementEventCallback<double>((_, value, _, _) => System.Threading.Interlocked.Increment(ref sink));
            listener.Start();
        }
        var shape = new PoolShape(2, 16, 20, 20);
        var input = new float[shape.ElementCount];
        for (int i = 0; i < input.Length; i++) input[i] = i % 7 - 3;
        var output = new float[shape.ElementCount];
        var indices = new long[shape.ElementCount];
        Action call = configuration switch
        {
            "max 3x3 s2 p1 NCHW (specialized)" => () => Pooling.Run(PoolDescriptor.MaxPool2d(3, 2, 1), input, output, shape, 1),
            "max 3x3 s2 p1 NHWC (specialized)" => () => Pooling.Run(PoolDescriptor.MaxPool2d(3, 2, 1, layout: PoolLayout.ChannelsLast), input, output, shape, 1),
            "max 3x3 s2 pads 1,1,0,0 NCHW (symmetric kernel)" => () => Pooling.Run(PoolDescriptor.FromOnnx(PoolMode.Max, OnnxKernel, OnnxStrides, OnnxPads), input, output, shape, 1),
            "avg 2x2 s2 NCHW (specialized)" => () => Pooling.Run(PoolDescriptor.AvgPool2d(2), input, output, shape, 1),
            "max 3x3 s2 p1 NCHW (general)" => () => Pooling.RunGeneral(PoolDescriptor.MaxPool2d(3, 2, 1), input, output, shape, 1),
            "avg 3x3 s1 p1 exclude-pad NCHW (general)" => () => Pooling.RunGeneral(PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false), input, output, shape, 1),
            "avg 3x3 s1 p1 exclude-pad NHWC (general)" => () => Pooling.RunGeneral(PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false, layout: PoolLayout.ChannelsLast), input, output, shape, 1),
            "avg 5x5 s(2,3) p2 NCHW (general, through channels last)" => () => Pooling.RunGeneral(ViaChannelsLast, input, output, shape, 1),
            "max 3x3 s2 p1 with indices" => () => Pooling.Run(PoolDescriptor.MaxPool2d(3, 2, 1), input, output, indices, shape, 1),
            "global average NCHW" => () => Pooling.GlobalAverage(input, output, shape, PoolLayout.ChannelsFirst, 1),
            "global average NHWC" => () => Pooling.GlobalAverage(input, output, shape, PoolLayout.ChannelsLast, 1),
            _ => throw new ArgumentOutOfRangeException(nameof(configuration), configuration, null),
        };
        for (int i = 0; i < 50; i++) call(); // warm: JIT, static constructors, pool buckets

        // Up to three rounds of 20 calls, one of which must allocate nothing: a call that allocates does so in every
        // round, while ArrayPool.Shared (the generated kernels' scratch) may refill a bucket that a gen-2 collection
        // from tests running in parallel trimmed, once.
        var rounds = new long[3];
        for (int round = 0; round < rounds.Length; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) call();
            rounds[round] = GC.GetAllocatedBytesForCurrentThread() - before;
            if (rounds[round] == 0) return;
        }
        Assert.Fail($"{configuration}: every round of 20 warm calls allocated: {string.Join(", ", rounds)} bytes");
    }
}
