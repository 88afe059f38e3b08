using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;

namespace KernelGen.Testing;

/// <summary>One line of the PyTorch golden files (see TestData/pytorch/README.md).</summary>
public sealed class GoldenCase
{
    /// <summary>File name and 1-based line, e.g. <c>max.jsonl.gz:17</c>: identifies the case.</summary>
    public required string Id { get; init; }
    public required string Family { get; init; }
    public required string Op { get; init; }
    public required string DType { get; init; }
    public required int[] Shape { get; init; }
    public required int[] Kernel { get; init; }
    public required int[] Stride { get; init; }
    public required int[] Padding { get; init; }
    public required int[] Dilation { get; init; }
    public bool CeilMode { get; init; }
    public bool CountIncludePad { get; init; } = true;
    public int? DivisorOverride { get; init; }
    public string? Style { get; init; }
    public string? Error { get; init; }
    public int[]? OutShape { get; init; }
    public byte[] InputBytes { get; init; } = [];
    public byte[]? OutputBytes { get; init; }
    public byte[]? IndicesBytes { get; init; }

    public bool IsMax => Op.StartsWith("max_pool", StringComparison.Ordinal);
    public bool IsAverage => Op.StartsWith("avg_pool", StringComparison.Ordinal);
    public int SpatialRank => Shape.Length - 2;

    /// <summary>The input shape as a <see cref="PoolShape"/>.</summary>
    public PoolShape PoolShape => ToPoolShape(Shape);

    /// <summary>The expected output shape.</summary>
    public PoolShape? OutPoolShape => OutShape is null ? null : ToPoolShape(OutShape);

    public static PoolShape ToPoolShape(int[] s) => s.Length switch
    {
        3 => new PoolShape(s[0], s[1], s[2]),
        4 => new PoolShape(s[0], s[1], s[2], s[3]),
        5 => new PoolShape(s[0], s[1], s[2], s[3], s[4]),
        _ => throw new InvalidDataException($"Unsupported shape rank {s.Length}."),
    };

    public float[] InputFloat => Floats(InputBytes);
    public double[] InputDouble => Doubles(InputBytes);
    public float[] OutputFloat => Floats(OutputBytes ?? []);
    public double[] OutputDouble => Doubles(OutputBytes ?? []);
    public long[] Indices => Longs(IndicesBytes ?? []);

    private static float[] Floats(byte[] b)
    {
        var r = new float[b.Length / 4];
        for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(4 * i));
        return r;
    }

    private static double[] Doubles(byte[] b)
    {
        var r = new double[b.Length / 8];
        for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(8 * i));
        return r;
    }

    private static long[] Longs(byte[] b)
    {
        var r = new long[b.Length / 8];
        for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(8 * i));
        return r;
    }

    /// <summary>
    /// The descriptor PyTorch's call corresponds to, through <see cref="PoolDescriptor"/>'s PyTorch factories. Throws
    /// what the factory throws for a configuration it rejects.
    /// </summary>
    public PoolDescriptor CreateDescriptor(PoolLayout layout = PoolLayout.ChannelsFirst)
    {
        int[] k = Kernel, s = Stride, p = Padding, d = Dilation;
        return Op switch
        {
            "max_pool1d" => PoolDescriptor.MaxPool1d(k[0], s[0], p[0], d[0], CeilMode, layout),
            "max_pool2d" => PoolDescriptor.MaxPool2d((k[0], k[1]), (s[0], s[1]), (p[0], p[1]), (d[0], d[1]), CeilMode, layout),
            "max_pool3d" => PoolDescriptor.MaxPool3d((k[0], k[1], k[2]), (s[0], s[1], s[2]), (p[0], p[1], p[2]), (d[0], d[1], d[2]), CeilMode, layout),
            "avg_pool1d" => PoolDescriptor.AvgPool1d(k[0], s[0], p[0], CeilMode, CountIncludePad, layout),
            "avg_pool2d" => PoolDescriptor.AvgPool2d((k[0], k[1]), (s[0], s[1]), (p[0], p[1]), CeilMode, CountIncludePad, DivisorOverride, layout),
            "avg_pool3d" => PoolDescriptor.AvgPool3d((k[0], k[1], k[2]), (s[0], s[1], s[2]), (p[0], p[1], p[2]), CeilMode, CountIncludePad, DivisorOverride, layout),
            _ => throw new NotSupportedException($"Operation {Op} is not supported by the conformance runner."),
        };
    }

    public override string ToString()
    {
        string text = $"{Id} {Op} {DType} shape [{string.Join(",", Shape)}] k [{string.Join(",", Kernel)}] s [{string.Join(",", Stride)}] " +
                      $"p [{string.Join(",", Padding)}] d [{string.Join(",", Dilation)}] ceil={CeilMode}";
        if (IsAverage) text += $" include_pad={CountIncludePad} divisor={DivisorOverride?.ToString() ?? "none"}";
        return text + $" style={Style}";
    }
}

/// <summary>The cases read from the golden files, and what was skipped (out-of-scope families or element types).</summary>
public sealed class GoldenSet
{
    public required IReadOnlyList<GoldenCase> Cases { get; init; }

    /// <summary>Skipped lines by "family/op/dtype".</summary>
    public required IReadOnlyDictionary<string, int> Skipped { get; init; }

    public int SkippedCount => Skipped.Values.Sum();

    private readonly Dictionary<string, GoldenCase> _byId = new();

    public GoldenCase this[string id]
    {
        get
        {
            lock (_byId)
            {
                if (_byId.Count == 0)
                    foreach (var c in Cases) _byId[c.Id] = c;
            }
            return _byId[id];
        }
    }
}

/// <summary>Reads the PyTorch golden files.</summary>
public static class GoldenCases
{
    /// <summary>The families KernelGen's windowed pooling covers.</summary>
    public static readonly string[] SupportedFamilies = ["max1d", "max2d", "max3d", "avg1d", "avg2d", "avg3d", "common", "edge"];

    /// <summary>The element types read (float16/bfloat16 belong to the out-of-scope "narrow" family).</summary>
    public static readonly string[] SupportedDTypes = ["float32", "float64"];

    /// <summary>Where the test project copies the files: TestData/pytorch next to the test assembly.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "pytorch");

    private static readonly Lazy<GoldenSet> DefaultSet = new(() => Load(DefaultDirectory));

    /// <summary>The cases of the default directory, read once.</summary>
    public static GoldenSet Default => DefaultSet.Value;

    /// <summary>Reads every *.jsonl.gz in <paramref name="directory"/>, keeping the supported families and element types.</summary>
    public static GoldenSet Load(string directory)
    {
        var cases = new List<GoldenCase>();
        var skipped = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var files = Directory.GetFiles(directory, "*.jsonl.gz").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new FileNotFoundException($"No *.jsonl.gz golden files in {directory}.");
        foreach (var file in files)
        {
            using var stream = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            using var reader = new StreamReader(stream);
            string name = Path.GetFileName(file);
            int lineNumber = 0;
            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                string family = root.GetProperty("family").GetString()!;
                string op = root.GetProperty("op").GetString()!;
                string dtype = root.GetProperty("dtype").GetString()!;
                if (!SupportedFamilies.Contains(family) || !SupportedDTypes.Contains(dtype) || !(op.StartsWith("max_pool") || op.StartsWith("avg_pool")))
                {
                    string key = $"{family}/{op}/{dtype}";
                    skipped[key] = skipped.GetValueOrDefault(key) + 1;
                    continue;
                }
                cases.Add(Parse(root, $"{name}:{lineNumber}", family, op, dtype));
            }
        }
        return new GoldenSet { Cases = cases, Skipped = skipped };
    }

    private static GoldenCase Parse(JsonElement root, string id, string family, string op, string dtype)
    {
        var p = root.GetProperty("params");
        int[] kernel = Ints(p.GetProperty("kernel"));
        int rank = kernel.Length;
        int[] stride = p.TryGetProperty("stride", out var st) && st.ValueKind == JsonValueKind.Array && st.GetArrayLength() > 0 ? Ints(st) : kernel;
        int[] padding = p.TryGetProperty("padding", out var pd) && pd.ValueKind == JsonValueKind.Array ? Ints(pd) : new int[rank];
        int[] dilation = p.TryGetProperty("dilation", out var dl) && dl.ValueKind == JsonValueKind.Array ? Ints(dl) : Enumerable.Repeat(1, rank).ToArray();
        return new GoldenCase
        {
            Id = id,
            Family = family,
            Op = op,
            DType = dtype,
            Shape = Ints(root.GetProperty("shape")),
            Kernel = kernel,
            Stride = stride,
            Padding = padding,
            Dilation = dilation,
            CeilMode = p.TryGetProperty("ceil_mode", out var cm) && cm.GetBoolean(),
            CountIncludePad = !p.TryGetProperty("count_include_pad", out var cip) || cip.GetBoolean(),
            DivisorOverride = p.TryGetProperty("divisor_override", out var dv) && dv.ValueKind == JsonValueKind.Number ? dv.GetInt32() : null,
            Style = p.TryGetProperty("style", out var sy) ? sy.GetString() : null,
            Error = root.TryGetProperty("error", out var er) ? er.GetString() : null,
            OutShape = root.TryGetProperty("out_shape", out var os) && os.ValueKind == JsonValueKind.Array ? Ints(os) : null,
            InputBytes = root.TryGetProperty("input", out var inp) && inp.ValueKind == JsonValueKind.String ? Convert.FromBase64String(inp.GetString()!) : [],
            OutputBytes = root.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.String ? Convert.FromBase64String(o.GetString()!) : null,
            IndicesBytes = root.TryGetProperty("indices", out var ix) && ix.ValueKind == JsonValueKind.String ? Convert.FromBase64String(ix.GetString()!) : null,
        };
    }

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
