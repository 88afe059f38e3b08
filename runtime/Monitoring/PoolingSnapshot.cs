using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KernelGen.Monitoring;

/// <summary>What a <see cref="PoolingMonitor"/> saw: one entry per configuration, shape and path, and the advice.</summary>
/// <param name="StartedAt">When the monitor started.</param>
/// <param name="ElapsedSeconds">How long it has watched (until it stopped, or until the snapshot).</param>
/// <param name="Entries">The statistics, most total time first.</param>
/// <param name="Advice">The configurations the general engine served, most total time first, each with the attribute that specializes it or why none can.</param>
public sealed record PoolingSnapshot(DateTimeOffset StartedAt, double ElapsedSeconds, IReadOnlyList<PoolingCallStatistics> Entries, IReadOnlyList<PoolingAdvice> Advice)
{
    /// <summary>The snapshot as indented JSON (camelCase names; source-generated, so it works under NativeAOT).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, PoolingJsonContext.Default.PoolingSnapshot);

    /// <summary>Reads a snapshot written by <see cref="ToJson"/>.</summary>
    public static PoolingSnapshot FromJson(string json) =>
        JsonSerializer.Deserialize(json, PoolingJsonContext.Default.PoolingSnapshot) ?? throw new JsonException("The JSON is null.");

    /// <summary>The snapshot as a plain-text table followed by the advice.</summary>
    public string ToText()
    {
        var culture = CultureInfo.InvariantCulture;
        string[] header = ["configuration", "shape", "path", "kernel", "calls", "total ms", "mean us", "min us", "p95 us", "max us", "GB/s"];
        var rows = Entries.Select(e => new[]
        {
            e.Configuration, e.Shape, e.Path, e.Kernel, e.Calls.ToString(culture),
            (e.TotalSeconds * 1e3).ToString("F1", culture), (e.MeanSeconds * 1e6).ToString("F1", culture),
            (e.MinSeconds * 1e6).ToString("F1", culture), (e.P95Seconds * 1e6).ToString("F1", culture),
            (e.MaxSeconds * 1e6).ToString("F1", culture), e.GigabytesPerSecond.ToString("F2", culture),
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        text.Append(culture, $"Pooling calls over {ElapsedSeconds:F1} s since {StartedAt:u}").AppendLine();
        void Line(string[] cells)
        {
            for (int i = 0; i < cells.Length; i++)
            {
                bool number = i >= 4; // numbers align right, names left
                text.Append(i == 0 ? "" : "  ").Append(number ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
            }
            text.AppendLine();
        }
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        rows.ForEach(Line);
        text.AppendLine();
        if (Advice.Count == 0)
        {
            text.AppendLine("Every call ran a specialized kernel (or asked for the general engine with Pooling.RunGeneral).");
            return text.ToString();
        }
        text.AppendLine("Served by the general engine, most time first:");
        foreach (var advice in Advice)
        {
            text.Append(culture, $"{advice.Rank}. {advice.Configuration} ({advice.Element}): {advice.Calls} calls, {advice.TotalSeconds * 1e3:F1} ms").AppendLine();
            if (advice.CanSpecialize)
                text.Append("   ").AppendLine(advice.Attribute).Append("   ").AppendLine(advice.MethodSignature);
            else
                text.Append("   not specializable: ").AppendLine(advice.Reason);
        }
        return text.ToString();
    }
}

/// <summary>The calls of one configuration on one input shape through one path.</summary>
/// <param name="Configuration">A short key: the kernel name the generator gives the configuration (<c>MaxPool_K3x3_S2_P1_F32_Nchw</c>), or the descriptor's text where [PoolKernel] cannot express it.</param>
/// <param name="Descriptor">The operation in words (<see cref="PoolDescriptor.ToString"/>).</param>
/// <param name="Element"><c>float</c> or <c>double</c>.</param>
/// <param name="Shape">The input shape.</param>
/// <param name="Path"><c>specialized</c> or <c>general</c>.</param>
/// <param name="Kernel">The specialized kernel that ran, or <c>general</c>.</param>
/// <param name="Specialized">Whether a specialized kernel ran.</param>
/// <param name="Calls">Number of calls.</param>
/// <param name="TotalSeconds">Their total duration.</param>
/// <param name="MeanSeconds">Mean duration of a call.</param>
/// <param name="MinSeconds">Shortest call.</param>
/// <param name="MaxSeconds">Longest call.</param>
/// <param name="P95Seconds">95th percentile, to about 5%.</param>
/// <param name="Bytes">Bytes moved: inputs read once, outputs (and indices) written once.</param>
/// <param name="GigabytesPerSecond">Bytes over total time, in 10^9 bytes per second.</param>
public sealed record PoolingCallStatistics(
    string Configuration, string Descriptor, string Element, string Shape, string Path, string Kernel, bool Specialized,
    long Calls, double TotalSeconds, double MeanSeconds, double MinSeconds, double MaxSeconds, double P95Seconds,
    long Bytes, double GigabytesPerSecond);

/// <summary>A configuration the general engine served, and what to do about it.</summary>
/// <param name="Rank">1 for the configuration that took the most time.</param>
/// <param name="Configuration">As in <see cref="PoolingCallStatistics.Configuration"/>.</param>
/// <param name="Descriptor">The operation in words.</param>
/// <param name="Element"><c>float</c> or <c>double</c>.</param>
/// <param name="Calls">Calls over every input shape.</param>
/// <param name="TotalSeconds">Their total duration.</param>
/// <param name="CanSpecialize">Whether the generator specializes this configuration.</param>
/// <param name="Attribute">The <c>[PoolKernel(...)]</c> text that specializes exactly this configuration, when it can be.</param>
/// <param name="MethodSignature">A declaration to put under <see cref="Attribute"/>, in a <c>static partial</c> class.</param>
/// <param name="Reason">Why it cannot be specialized (the generator's KG0009 words), when it cannot.</param>
public sealed record PoolingAdvice(
    int Rank, string Configuration, string Descriptor, string Element, long Calls, double TotalSeconds,
    bool CanSpecialize, string? Attribute, string? MethodSignature, string? Reason);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PoolingSnapshot))]
internal sealed partial class PoolingJsonContext : JsonSerializerContext;
