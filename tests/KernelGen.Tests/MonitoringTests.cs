using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using KernelGen.Monitoring;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The KernelGen meter and <see cref="PoolingMonitor"/>: every instrument with its tags and exact counts, from one
/// thread and from many. Other tests run in parallel in this process, so each test counts only configurations no
/// other test uses.
/// </summary>
[Collection(ProcessWideMonitor.Name)]
public class MonitoringTests
{
    // A general-engine configuration: average 5x3, stride 4x1, padding 2x1, ceil, exclude-pad, channels last, double.
    private static readonly PoolDescriptor General = PoolDescriptor.AvgPool2d((5, 3), (4, 1), (2, 1), ceilMode: true, countIncludePad: false, layout: PoolLayout.ChannelsLast);
    private const string GeneralKey = "AvgPool_K5x3_S4x1_P2x1_Ceil_ExcludePad_F64_Nhwc";

    // A configuration with a kernel registered by this test (double, so the float built-in tests never list it).
    private static readonly PoolDescriptor Special = PoolDescriptor.MaxPool2d((2, 3), (1, 2));
    private const string SpecialKey = "MaxPool_K2x3_S1x2_F64_Nchw";
    private const string SpecialKernel = "MonitoringTests_MaxPool_K2x3_S1x2_F64";

    private static readonly PoolShape Shape = new(2, 3, 9, 10);

    static MonitoringTests() => PoolKernelRegistry.Register<double>(Special, (input, output, shape) => output.Clear(), SpecialKernel);

    private sealed class Measurement
    {
        public long Calls, Io, Durations;
        public double DurationSum;
        public Dictionary<string, string?>? Tags;
    }

    /// <summary>Listens to the KernelGen meter and sums every measurement per (instrument, kernelgen.config, kernelgen.path).</summary>
    private static MeterListener Listen(ConcurrentDictionary<(string Config, string Path), Measurement> seen)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == "KernelGen") l.EnableMeasurementEvents(instrument); },
        };
        void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            var m = Find(seen, tags);
            if (m is null) return;
            if (instrument.Name == "kernelgen.pooling.calls") Interlocked.Add(ref m.Calls, value);
            else Interlocked.Add(ref m.Io, value);
        }
        void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            var m = Find(seen, tags);
            if (m is null) return;
            Interlocked.Increment(ref m.Durations);
            lock (m) m.DurationSum += value;
        }
        listener.SetMeasurementEventCallback<long>(OnLong);
        listener.SetMeasurementEventCallback<double>(OnDouble);
        listener.Start();
        return listener;
    }

    private static Measurement? Find(ConcurrentDictionary<(string, string), Measurement> seen, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? config = null, path = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "kernelgen.config") config = (string?)tag.Value;
            if (tag.Key == "kernelgen.path") path = (string?)tag.Value;
        }
        if (config is not (GeneralKey or SpecialKey) || path is null) return null;
        var m = seen.GetOrAdd((config, path), _ => new Measurement());
        if (m.Tags is null)
        {
            var copy = new Dictionary<string, string?>();
            foreach (var tag in tags) copy[tag.Key] = (string?)tag.Value;
            m.Tags = copy;
        }
        return m;
    }

    private static long Bytes(PoolDescriptor descriptor) => (Shape.ElementCount + descriptor.GetOutputShape(Shape).ElementCount) * sizeof(double);

    [Fact]
    public void MeterPublishesCallsDurationAndBytesWithTheirTags()
    {
        var instruments = new List<Instrument>();
        using (var probe = new MeterListener { InstrumentPublished = (i, _) => { if (i.Meter.Name == "KernelGen") lock (instruments) instruments.Add(i); } })
        {
            Pooling.Run(General, new double[Shape.ElementCount], new double[General.GetOutputShape(Shape).ElementCount], Shape, 1);
            probe.Start();
        }
        Assert.Equal(["kernelgen.pooling.calls {call}", "kernelgen.pooling.duration s", "kernelgen.pooling.io By"],
            instruments.Select(i => $"{i.Name} {i.Unit}").Distinct().Order());

        var seen = new ConcurrentDictionary<(string Config, string Path), Measurement>();
        using (Listen(seen))
        {
            var input = new double[Shape.ElementCount];
            var output = new double[Shape.ElementCount];
            for (int i = 0; i < 7; i++) Pooling.Run(General, input, output, Shape, 1);
            for (int i = 0; i < 5; i++) Pooling.Run(Special, input, output, Shape, 1);
        }

        var general = seen[(GeneralKey, "general")];
        Assert.Equal(7, general.Calls);
        Assert.Equal(7, general.Durations);
        Assert.Equal(7 * Bytes(General), general.Io);
        Assert.True(general.DurationSum > 0);
        Assert.Equal(new Dictionary<string, string?>
        {
            ["kernelgen.kernel"] = "general", ["kernelgen.path"] = "general", ["kernelgen.pool.mode"] = "average",
            ["kernelgen.layout"] = "channels_last", ["kernelgen.element_type"] = "float64", ["kernelgen.config"] = GeneralKey,
        }, general.Tags);

        var special = seen[(SpecialKey, "specialized")];
        Assert.Equal(5, special.Calls);
        Assert.Equal(5, special.Durations);
        Assert.Equal(5 * Bytes(Special), special.Io);
        Assert.Equal(SpecialKernel, special.Tags!["kernelgen.kernel"]);
        Assert.Equal("max", special.Tags["kernelgen.pool.mode"]);
        Assert.Equal("channels_first", special.Tags["kernelgen.layout"]);
    }

    [Fact]
    public void CountsAreExactUnderConcurrentCalls()
    {
        const int threads = 8, callsPerThread = 250;
        var seen = new ConcurrentDictionary<(string Config, string Path), Measurement>();
        using var monitor = PoolingMonitor.Start();
        using (Listen(seen))
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                var input = new double[Shape.ElementCount];
                var output = new double[Shape.ElementCount];
                for (int i = 0; i < callsPerThread; i++)
                    Pooling.Run(i % 2 == 0 ? General : Special, input, output, Shape, 1);
            });
        }
        monitor.Stop();
        const long half = threads * callsPerThread / 2;
        Assert.Equal(half, seen[(GeneralKey, "general")].Calls);
        Assert.Equal(half, seen[(GeneralKey, "general")].Durations);
        Assert.Equal(half * Bytes(General), seen[(GeneralKey, "general")].Io);
        Assert.Equal(half, seen[(SpecialKey, "specialized")].Calls);

        var snapshot = monitor.GetSnapshot();
        var general = snapshot.Entries.Single(e => e.Configuration == GeneralKey && e.Shape == Shape.ToString());
        Assert.Equal(half, general.Calls);
        Assert.Equal(half * Bytes(General), general.Bytes);
        Assert.Equal("general", general.Kernel);
        Assert.True(general.MinSeconds <= general.MeanSeconds && general.MeanSeconds <= general.MaxSeconds);
        Assert.True(general.MinSeconds <= general.P95Seconds && general.P95Seconds <= general.MaxSeconds);
        var special = snapshot.Entries.Single(e => e.Configuration == SpecialKey && e.Shape == Shape.ToString());
        Assert.Equal(half, special.Calls);
        Assert.Equal(SpecialKernel, special.Kernel);
        Assert.True(special.Specialized);
    }

    [Fact]
    public void MonitorAdvisesTheAttributeOrSaysWhyNot()
    {
        var stride3 = PoolDescriptor.MaxPool2d(3, 3);                                   // channels first, stride 3: KG0009
        var onnx = PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], strides: [2, 2], pads: [0, 0, 1, 1]); // SAME_UPPER-like: PaddingEnd
        var onnxOnly = PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], strides: [2, 2], pads: [0, 0, 2, 2]); // end padding above half the kernel
        var shape = new PoolShape(1, 2, 13, 13);
        var input = new double[shape.ElementCount];
        var output = new double[shape.ElementCount];
        using var monitor = PoolingMonitor.Start();
        Pooling.Run(General, input, output, shape, 1);
        Pooling.Run(stride3, input, output, shape, 1);
        Pooling.Run(onnx, input, output, shape, 1);
        Pooling.Run(onnxOnly, input, output, shape, 1);
        Pooling.Run(Special, input, output, shape, 1);
        var snapshot = monitor.GetSnapshot();

        var advice = snapshot.Advice.Single(a => a.Configuration == GeneralKey);
        Assert.True(advice.CanSpecialize);
        Assert.Equal("[PoolKernel(5, 4, PoolMode.Average, KernelWidth = 3, StrideWidth = 1, PaddingHeight = 2, PaddingWidth = 1, CeilMode = true, CountIncludePad = false, Layout = PoolLayout.ChannelsLast)]", advice.Attribute);
        Assert.Equal("public static partial void AvgPoolK5x3S4x1P2x1CeilExcludePadF64Nhwc(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);", advice.MethodSignature);
        Assert.Null(advice.Reason);

        var notSpecializable = snapshot.Advice.Single(a => a.Configuration == "MaxPool_K3x3_S3_F64_Nchw");
        Assert.False(notSpecializable.CanSpecialize);
        Assert.Equal("channels-first kernels are specialized for a horizontal stride of 1 or 2, not 3", notSpecializable.Reason);
        var asymmetric = snapshot.Advice.Single(a => a.Configuration == "MaxPool_K3x3_S2_PE1_F64_Nchw");
        Assert.True(asymmetric.CanSpecialize);
        Assert.Equal("[PoolKernel(3, 2, PoolMode.Max, PaddingEnd = 1)]", asymmetric.Attribute);
        Assert.Equal("public static partial void MaxPoolK3x3S2PE1F64Nchw(ReadOnlySpan<double> input, Span<double> output, PoolShape shape);", asymmetric.MethodSignature);
        var inexpressible = snapshot.Advice.Single(a => a.Configuration == "MaxPool2d_K3x3_S2x2_P0-2x0-2_D1x1_F64_Nchw");
        Assert.StartsWith("padding 2 above half the kernel 3 is ONNX-only", inexpressible.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(snapshot.Advice, a => a.Configuration == SpecialKey);
        Assert.Equal(Enumerable.Range(1, snapshot.Advice.Count), snapshot.Advice.Select(a => a.Rank));

        string text = snapshot.ToText();
        Assert.Contains(GeneralKey, text);
        Assert.Contains(advice.Attribute!, text);
        var parsed = PoolingSnapshot.FromJson(snapshot.ToJson());
        Assert.Equal(snapshot.Entries, parsed.Entries);
        Assert.Equal(snapshot.Advice, parsed.Advice);
    }

    [Fact]
    public void StoppedMonitorRecordsNothingMore()
    {
        var input = new double[Shape.ElementCount];
        var output = new double[Shape.ElementCount];
        var monitor = PoolingMonitor.Start();
        Pooling.Run(General, input, output, Shape, 1);
        monitor.Stop();
        Pooling.Run(General, input, output, Shape, 1);
        Assert.False(monitor.IsRunning);
        Assert.Equal(1, monitor.GetSnapshot().Entries.Single(e => e.Configuration == GeneralKey && e.Shape == Shape.ToString()).Calls);
    }

    /// <summary>The profile (docs/profile-format.md): one entry per configuration, element and path over every shape, with the descriptor's fields.</summary>
    [Fact]
    public void ProfileListsEachConfigurationAndPathWithItsFields()
    {
        var other = new PoolShape(1, 3, 8, 8);
        var input = new double[Shape.ElementCount];
        var output = new double[Shape.ElementCount];
        using var monitor = PoolingMonitor.Start();
        Pooling.Run(General, input, output, Shape, 1);
        Pooling.Run(General, new double[other.ElementCount], new double[General.GetOutputShape(other).ElementCount], other, 1); // another shape: the same entry
        Pooling.Run(Special, input, output, Shape, 1);
        Pooling.RunGeneral(Special, input, output, Shape, 1);
        monitor.Stop();

        using var profile = System.Text.Json.JsonDocument.Parse(monitor.GetProfileJson());
        var root = profile.RootElement;
        Assert.Equal("KernelGen.PoolingProfile", root.GetProperty("format").GetString());
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        var entries = root.GetProperty("entries").EnumerateArray().ToList();
        var seconds = entries.Select(e => e.GetProperty("totalSeconds").GetDouble()).ToList();
        Assert.Equal(seconds.OrderByDescending(x => x), seconds);

        var general = Assert.Single(entries, e => e.GetProperty("configuration").GetString() == GeneralKey);
        Assert.Equal(2, general.GetProperty("calls").GetInt64());
        Assert.Equal(("window", "average", "double", "channelsLast", "general", false),
            (general.GetProperty("operation").GetString(), general.GetProperty("mode").GetString(), general.GetProperty("element").GetString(),
             general.GetProperty("layout").GetString(), general.GetProperty("path").GetString(), general.GetProperty("generalRequested").GetBoolean()));
        int[] Axes(System.Text.Json.JsonElement e, string name) => e.GetProperty(name).EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.Equal([5, 3], Axes(general, "kernel"));
        Assert.Equal([4, 1], Axes(general, "stride"));
        Assert.Equal([2, 1], Axes(general, "padBegin"));
        Assert.Equal([2, 1], Axes(general, "padEnd"));
        Assert.Equal([1, 1], Axes(general, "dilation"));
        Assert.True(general.GetProperty("ceilMode").GetBoolean());
        Assert.False(general.GetProperty("countIncludePad").GetBoolean());
        Assert.Equal(0, general.GetProperty("divisorOverride").GetInt32());

        var special = entries.Where(e => e.GetProperty("configuration").GetString() == SpecialKey).ToList();
        Assert.Equal(2, special.Count);
        Assert.Contains(special, e => e.GetProperty("path").GetString() == "specialized" && e.GetProperty("kernelName").GetString() == SpecialKernel);
        Assert.Contains(special, e => e.GetProperty("path").GetString() == "general" && e.GetProperty("generalRequested").GetBoolean());

        var file = System.IO.Path.GetTempFileName();
        try
        {
            monitor.SaveProfile(file);
            Assert.Equal(monitor.GetProfileJson(), System.IO.File.ReadAllText(file));
        }
        finally
        {
            System.IO.File.Delete(file);
        }
        Assert.Throws<ArgumentException>("path", () => monitor.SaveProfile(""));
    }
}
