using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading;

namespace KernelGen.Monitoring;

/// <summary>One kind of pooling call: what ran, on what, and which path served it. Keys the tag sets and the monitor's statistics.</summary>
internal readonly record struct PoolingCallKey(
    PoolDescriptor Descriptor, bool Global, PoolMode Mode, PoolLayout Layout, bool IsDouble, PoolShape Shape,
    string? Kernel, bool WithIndices, bool GeneralRequested)
{
    public bool Specialized => Kernel is not null;
}

/// <summary>The tags of one <see cref="PoolingCallKey"/>, built once and reused on every call.</summary>
internal sealed class PoolingCallSite
{
    public PoolingCallSite(PoolingCallKey key)
    {
        Key = key;
        Configuration = PoolingAdvisor.ConfigurationKey(key);
        Tags = new TagList
        {
            { PoolingInstrumentation.KernelTag, key.Kernel ?? "general" },
            { PoolingInstrumentation.PathTag, key.Specialized ? "specialized" : "general" },
            { PoolingInstrumentation.ModeTag, key.Global ? (key.Mode == PoolMode.Max ? "global_max" : "global_average") : key.Mode == PoolMode.Max ? "max" : "average" },
            { PoolingInstrumentation.LayoutTag, key.Layout == PoolLayout.ChannelsLast ? "channels_last" : "channels_first" },
            { PoolingInstrumentation.ElementTag, key.IsDouble ? "float64" : "float32" },
            { PoolingInstrumentation.ConfigurationTag, Configuration },
        };
    }

    public PoolingCallKey Key { get; }

    public string Configuration { get; }

    public readonly TagList Tags;
}

/// <summary>
/// KernelGen's <see cref="Meter"/> and the hook <see cref="Pooling"/> calls around its dispatch. Nothing is measured
/// unless a <see cref="MeterListener"/> listens to one of the instruments or a <see cref="PoolingMonitor"/> runs.
/// </summary>
internal static class PoolingInstrumentation
{
    public const string MeterName = "KernelGen";
    public const string CallsName = "kernelgen.pooling.calls";
    public const string DurationName = "kernelgen.pooling.duration";
    public const string IoName = "kernelgen.pooling.io";
    public const string KernelTag = "kernelgen.kernel";
    public const string PathTag = "kernelgen.path";
    public const string ModeTag = "kernelgen.pool.mode";
    public const string LayoutTag = "kernelgen.layout";
    public const string ElementTag = "kernelgen.element_type";
    public const string ConfigurationTag = "kernelgen.config";

    private static readonly Meter Meter = new(MeterName, typeof(PoolingInstrumentation).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> Calls = Meter.CreateCounter<long>(CallsName, "{call}", "Pooling calls, by kernel and path.");

    public static readonly Histogram<double> Duration = Meter.CreateHistogram(DurationName, "s", "Duration of one pooling call.",
        tags: null, advice: new InstrumentAdvice<double>
        {
            // Pooling calls take microseconds to tens of milliseconds; the OpenTelemetry defaults start at 5 ms.
            HistogramBucketBoundaries = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 1],
        });

    public static readonly Counter<long> Io = Meter.CreateCounter<long>(IoName, "By", "Bytes a pooling call moves: its input read once and its output (and indices) written once.");

    private static readonly ConcurrentDictionary<PoolingCallKey, PoolingCallSite> Sites = new();

    private static PoolingMonitor[] s_monitors = [];
    private static readonly Lock MonitorsLock = new();

    /// <summary>Whether a call must be measured: one field read per instrument and one for the monitors.</summary>
    public static bool Enabled => s_monitors.Length != 0 || Calls.Enabled || Duration.Enabled || Io.Enabled;

    public static void Record(in PoolingCallKey key, long startTimestamp, long bytes)
    {
        long ticks = Stopwatch.GetTimestamp() - startTimestamp;
        var site = Sites.GetOrAdd(key, static k => new PoolingCallSite(k));
        if (Calls.Enabled) Calls.Add(1, in site.Tags);
        if (Duration.Enabled) Duration.Record(ticks / (double)Stopwatch.Frequency, in site.Tags);
        if (Io.Enabled) Io.Add(bytes, in site.Tags);
        foreach (var monitor in Volatile.Read(ref s_monitors))
            monitor.Record(site, ticks, bytes);
    }

    public static void Add(PoolingMonitor monitor)
    {
        lock (MonitorsLock)
            Volatile.Write(ref s_monitors, [.. s_monitors, monitor]);
    }

    public static void Remove(PoolingMonitor monitor)
    {
        lock (MonitorsLock)
            Volatile.Write(ref s_monitors, [.. System.Linq.Enumerable.Where(s_monitors, m => m != monitor)]);
    }
}
