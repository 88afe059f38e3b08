using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Numerics;
using System.Threading;

namespace KernelGen.Monitoring;

/// <summary>
/// Watches the pooling calls of this process while it runs: per configuration, shape and path, how many calls, how
/// long they took and how many bytes they moved, and which configurations the general engine served that a
/// <c>[PoolKernel]</c> would specialize.
/// </summary>
/// <example>
/// <code>
/// using var monitor = PoolingMonitor.Start();
/// RunModel();
/// Console.WriteLine(monitor.GetSnapshot().ToText());
/// </code>
/// </example>
public sealed class PoolingMonitor : IDisposable
{
    private readonly ConcurrentDictionary<PoolingCallKey, CallStatistics> _statistics = new();
    private readonly long _startTimestamp;
    private long _stopTimestamp;
    private int _running;

    private PoolingMonitor()
    {
        StartedAt = DateTimeOffset.UtcNow;
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>Starts watching every pooling call of the process, on every thread, until <see cref="Stop"/>.</summary>
    public static PoolingMonitor Start()
    {
        var monitor = new PoolingMonitor { _running = 1 };
        PoolingInstrumentation.Add(monitor);
        return monitor;
    }

    /// <summary>When the monitor started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Whether the monitor still records calls.</summary>
    public bool IsRunning => Volatile.Read(ref _running) != 0;

    /// <summary>Stops recording; the statistics so far stay readable with <see cref="GetSnapshot"/>.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _running, 0) == 0) return;
        _stopTimestamp = Stopwatch.GetTimestamp();
        PoolingInstrumentation.Remove(this);
    }

    /// <summary>Stops the monitor.</summary>
    public void Dispose() => Stop();

    /// <summary>Forgets the calls recorded so far.</summary>
    public void Reset() => _statistics.Clear();

    /// <summary>The statistics so far, and the advice, as of now (the monitor keeps running).</summary>
    public PoolingSnapshot GetSnapshot()
    {
        long end = IsRunning ? Stopwatch.GetTimestamp() : _stopTimestamp;
        var entries = _statistics
            .Select(pair => pair.Value.ToEntry(pair.Key))
            .OrderByDescending(entry => entry.TotalSeconds)
            .ToList();
        var advice = _statistics
            .Where(pair => !pair.Key.Specialized && !IsRegisteredGeneralRequest(pair.Key))
            .GroupBy(pair => pair.Key with { Shape = default })
            .Select(group => (Key: group.Key, Site: group.First().Value.Site, Calls: group.Sum(p => p.Value.Calls), Seconds: group.Sum(p => p.Value.TotalSeconds)))
            .OrderByDescending(g => g.Seconds)
            .Select((g, i) =>
            {
                var (attribute, signature, reason) = PoolingAdvisor.Advise(g.Key);
                return new PoolingAdvice(i + 1, g.Site.Configuration, Describe(g.Key), g.Key.IsDouble ? "double" : "float",
                    g.Calls, g.Seconds, attribute is not null, attribute, signature, reason);
            })
            .ToList();
        return new PoolingSnapshot(StartedAt, (end - _startTimestamp) / (double)Stopwatch.Frequency, entries, advice);
    }

    /// <summary>
    /// The profile of what the monitor saw so far: one entry per configuration, element type and path (over every
    /// shape), with the descriptor's fields, calls and total time, most time first. A project that lists the file as
    /// <c>&lt;KernelGenProfile Include="..." /&gt;</c> gets specialized kernels for the hot configurations that ran on
    /// the general engine at its next build. The format is versioned and documented in docs/profile-format.md.
    /// </summary>
    public string GetProfileJson()
    {
        long end = IsRunning ? Stopwatch.GetTimestamp() : _stopTimestamp;
        var entries = _statistics
            .GroupBy(pair => pair.Key with { Shape = default })
            .Select(group => new PoolingProfile.Entry(group.Key, group.Sum(p => p.Value.Calls), group.Sum(p => p.Value.TotalSeconds)));
        return PoolingProfile.ToJson(StartedAt, (end - _startTimestamp) / (double)Stopwatch.Frequency, entries);
    }

    /// <summary>Writes <see cref="GetProfileJson"/> to <paramref name="path"/> (UTF-8), replacing the file if it exists.</summary>
    /// <param name="path">The profile file, for example <c>pooling.profile.json</c> next to the project.</param>
    public void SaveProfile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        System.IO.File.WriteAllText(path, GetProfileJson(), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    // Pooling.RunGeneral on a configuration that has a specialized kernel (for this shape) asked for the general engine on purpose.
    private static bool IsRegisteredGeneralRequest(in PoolingCallKey key)
    {
        if (!key.GeneralRequested || key.Global || key.WithIndices) return false;
        var output = key.Descriptor.GetOutputShape(key.Shape);
        return key.IsDouble
            ? PoolKernelRegistry.TryGetForShape<double>(key.Descriptor, key.Shape, output, out _, out _)
            : PoolKernelRegistry.TryGetForShape<float>(key.Descriptor, key.Shape, output, out _, out _);
    }

    internal static string Describe(in PoolingCallKey key) =>
        key.Global ? $"global {(key.Mode == PoolMode.Max ? "max" : "average")} {key.Layout}"
        : key.WithIndices ? key.Descriptor + " with indices"
        : key.Descriptor.ToString();

    internal void Record(PoolingCallSite site, long ticks, long bytes) =>
        _statistics.GetOrAdd(site.Key, static (_, s) => new CallStatistics(s), site).Add(ticks, bytes);

    /// <summary>Lock-free statistics of one kind of call; the 95th percentile comes from a log-scale histogram of 1/16-octave buckets.</summary>
    private sealed class CallStatistics(PoolingCallSite site)
    {
        private const int SubBuckets = 16;
        private readonly long[] _buckets = new long[64 * SubBuckets];
        private long _calls, _ticks, _bytes, _min = long.MaxValue, _max;

        public PoolingCallSite Site { get; } = site;

        public long Calls => Volatile.Read(ref _calls);

        public double TotalSeconds => Volatile.Read(ref _ticks) / (double)Stopwatch.Frequency;

        public void Add(long ticks, long bytes)
        {
            ticks = Math.Max(ticks, 1);
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _ticks, ticks);
            Interlocked.Add(ref _bytes, bytes);
            Interlocked.Increment(ref _buckets[Bucket(ticks)]);
            for (long min = Volatile.Read(ref _min); ticks < min; min = Volatile.Read(ref _min))
                if (Interlocked.CompareExchange(ref _min, ticks, min) == min) break;
            for (long max = Volatile.Read(ref _max); ticks > max; max = Volatile.Read(ref _max))
                if (Interlocked.CompareExchange(ref _max, ticks, max) == max) break;
        }

        private static int Bucket(long ticks)
        {
            int octave = BitOperations.Log2((ulong)ticks);
            int fraction = octave >= 4 ? (int)((ticks >> (octave - 4)) & (SubBuckets - 1)) : (int)((ticks << (4 - octave)) & (SubBuckets - 1));
            return octave * SubBuckets + fraction;
        }

        // The upper edge of a bucket, in ticks.
        private static double UpperEdge(int bucket) => (SubBuckets + bucket % SubBuckets + 1) * Math.Pow(2, bucket / SubBuckets - 4);

        public PoolingCallStatistics ToEntry(in PoolingCallKey key)
        {
            long calls = Calls, ticks = Volatile.Read(ref _ticks), bytes = Volatile.Read(ref _bytes);
            long min = Volatile.Read(ref _min), max = Volatile.Read(ref _max);
            double frequency = Stopwatch.Frequency;
            double p95 = max;
            long rank = (long)Math.Ceiling(calls * 0.95), seen = 0;
            for (int i = 0; i < _buckets.Length && calls > 0; i++)
            {
                seen += Volatile.Read(ref _buckets[i]);
                if (seen >= rank) { p95 = Math.Clamp(UpperEdge(i), min, max); break; }
            }
            double seconds = ticks / frequency;
            return new PoolingCallStatistics(
                Site.Configuration, Describe(key), key.IsDouble ? "double" : "float", key.Shape.ToString(),
                key.Specialized ? "specialized" : "general", key.Kernel ?? "general", key.Specialized, calls, seconds,
                calls == 0 ? 0 : seconds / calls, calls == 0 ? 0 : min / frequency, max / frequency, p95 / frequency,
                bytes, seconds == 0 ? 0 : bytes / seconds / 1e9);
        }
    }
}
