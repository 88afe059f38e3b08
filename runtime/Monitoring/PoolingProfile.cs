using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace KernelGen.Monitoring;

/// <summary>
/// Writes the profile a project hands to the generator (<c>&lt;KernelGenProfile Include="..." /&gt;</c>): one entry per
/// configuration, element type and path, with the descriptor's fields, calls and time. The format is documented in
/// docs/profile-format.md; the generator's reader (generator/Profile) is its other half, so a change here changes
/// <see cref="Version"/> and both.
/// </summary>
internal static class PoolingProfile
{
    public const string Format = "KernelGen.PoolingProfile";
    public const int Version = 1;

    /// <summary>One aggregated entry: the call key without its shape, and the sums over every shape.</summary>
    public readonly record struct Entry(PoolingCallKey Key, long Calls, double TotalSeconds);

    public static string ToJson(DateTimeOffset startedAt, double elapsedSeconds, IEnumerable<Entry> entries)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", Format);
            json.WriteNumber("version", Version);
            json.WriteString("startedAt", startedAt);
            json.WriteNumber("elapsedSeconds", Math.Round(elapsedSeconds, 6));
            json.WriteStartArray("entries");
            foreach (var entry in entries.OrderByDescending(e => e.TotalSeconds).ThenBy(e => PoolingAdvisor.ConfigurationKey(e.Key), StringComparer.Ordinal))
                WriteEntry(json, entry);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    private static void WriteEntry(Utf8JsonWriter json, in Entry entry)
    {
        var key = entry.Key;
        json.WriteStartObject();
        json.WriteString("configuration", PoolingAdvisor.ConfigurationKey(key));
        json.WriteString("operation", key.Global ? "global" : key.WithIndices ? "maxWithIndices" : "window");
        json.WriteString("mode", key.Mode == PoolMode.Max ? "max" : "average");
        json.WriteString("element", key.IsDouble ? "double" : "float");
        json.WriteString("layout", key.Layout == PoolLayout.ChannelsLast ? "channelsLast" : "channelsFirst");
        if (!key.Global)
        {
            var d = key.Descriptor;
            var axes = Enumerable.Range(0, d.SpatialRank).Select(d.GetAxis).ToArray();
            WriteAxes(json, "kernel", axes, a => a.Kernel);
            WriteAxes(json, "stride", axes, a => a.Stride);
            WriteAxes(json, "padBegin", axes, a => a.PadBegin);
            WriteAxes(json, "padEnd", axes, a => a.PadEnd);
            WriteAxes(json, "dilation", axes, a => a.Dilation);
            json.WriteBoolean("ceilMode", d.CeilMode);
            json.WriteBoolean("countIncludePad", d.Mode == PoolMode.Max || d.CountIncludePad);
            json.WriteNumber("divisorOverride", d.DivisorOverride);
        }
        json.WriteString("path", key.Specialized ? "specialized" : "general");
        json.WriteString("kernelName", key.Kernel ?? "general");
        json.WriteBoolean("generalRequested", key.GeneralRequested);
        json.WriteNumber("calls", entry.Calls);
        json.WriteNumber("totalSeconds", Math.Round(entry.TotalSeconds, 9));
        json.WriteEndObject();
    }

    private static void WriteAxes(Utf8JsonWriter json, string name, PoolAxis[] axes, Func<PoolAxis, int> value)
    {
        // One line per array ("kernel": [3, 3]) keeps an entry readable and its fields on lines of their own.
        json.WritePropertyName(name);
        json.WriteRawValue("[" + string.Join(", ", axes.Select(a => value(a).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]", skipInputValidation: true);
    }
}
