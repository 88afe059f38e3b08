using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace KernelGen.Tool;

/// <summary>How KernelGen's output of a layer compares with ONNX Runtime's.</summary>
internal enum Agreement
{
    /// <summary>Every cell equal (max pooling must be).</summary>
    Exact,

    /// <summary>Average pooling within the tolerance.</summary>
    WithinTolerance,

    /// <summary>Differences only where ONNX Runtime departs from the ONNX specification (docs/semantics.md).</summary>
    OrtDeparture,

    /// <summary>A difference nothing explains.</summary>
    Mismatch,

    /// <summary>KernelGen does not run the layer.</summary>
    NotCompared,
}

/// <summary>The comparison of one layer's output.</summary>
internal sealed record LayerComparison(Agreement Agreement, long Cells, long Mismatches, double MaxAbsoluteError, double MaxRelativeError, string Detail)
{
    /// <summary>Average pooling sums in another order than ORT: 1e-5 relative to the larger value.</summary>
    public const double RelativeTolerance = 1e-5;

    public static LayerComparison NotCompared(string why) => new(Agreement.NotCompared, 0, 0, 0, 0, why);

    /// <summary>
    /// Compares <paramref name="actual"/> (KernelGen) with <paramref name="expected"/> (ORT). Max pooling must agree bit
    /// for bit up to the sign of zero, except the two documented ORT departures: ORT drops NaN, and gives the lowest
    /// finite value where the maximum is -inf. Averages agree within <see cref="RelativeTolerance"/> of the larger
    /// value, or of the input's mean magnitude when the average is smaller than that (a sum that cancels).
    /// </summary>
    public static LayerComparison Compare<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected, bool exact, double inputMeanMagnitude)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (actual.Length != expected.Length)
            return new(Agreement.Mismatch, expected.Length, Math.Max(actual.Length, expected.Length), double.NaN, double.NaN,
                $"KernelGen wrote {actual.Length} cells, ONNX Runtime {expected.Length}");
        long mismatches = 0, droppedNaN = 0, lowestForMinusInfinity = 0;
        double maxAbsolute = 0, maxRelative = 0;
        string? first = null;
        T lowest = T.CreateTruncating(typeof(T) == typeof(float) ? float.MinValue : double.MinValue);
        for (int i = 0; i < actual.Length; i++)
        {
            T a = actual[i], e = expected[i];
            if (a == e || (T.IsNaN(a) && T.IsNaN(e))) continue;
            if (T.IsNaN(a) && !T.IsNaN(e)) { droppedNaN++; continue; }
            if (T.IsNegativeInfinity(a) && e == lowest) { lowestForMinusInfinity++; continue; }
            double da = double.CreateTruncating(a), de = double.CreateTruncating(e);
            double absolute = Math.Abs(da - de);
            double scale = Math.Max(Math.Max(Math.Abs(da), Math.Abs(de)), inputMeanMagnitude);
            double relative = scale > 0 ? absolute / scale : double.PositiveInfinity;
            if (!double.IsNaN(absolute)) maxAbsolute = Math.Max(maxAbsolute, absolute);
            maxRelative = Math.Max(maxRelative, double.IsNaN(relative) ? double.PositiveInfinity : relative);
            if (exact || !(relative <= RelativeTolerance))
            {
                mismatches++;
                first ??= string.Create(CultureInfo.InvariantCulture, $"first at cell {i}: KernelGen {da:R}, ONNX Runtime {de:R}");
            }
        }
        var departures = new List<string>();
        if (droppedNaN > 0) departures.Add($"{droppedNaN} cells: ORT drops NaN from max (docs/semantics.md, ORT departure 1)");
        if (lowestForMinusInfinity > 0) departures.Add($"{lowestForMinusInfinity} cells: ORT gives the lowest finite value for a -inf maximum (departure 2)");
        if (mismatches > 0)
            return new(Agreement.Mismatch, actual.Length, mismatches, maxAbsolute, maxRelative, $"{mismatches} cells differ ({first})" + (departures.Count > 0 ? "; " + string.Join("; ", departures) : ""));
        if (departures.Count > 0)
            return new(Agreement.OrtDeparture, actual.Length, 0, maxAbsolute, maxRelative, string.Join("; ", departures));
        return maxAbsolute == 0
            ? new(Agreement.Exact, actual.Length, 0, 0, 0, "bit for bit")
            : new(Agreement.WithinTolerance, actual.Length, 0, maxAbsolute, maxRelative,
                string.Create(CultureInfo.InvariantCulture, $"max relative difference {maxRelative:0.0e+0} (tolerance {RelativeTolerance:0e+0})"));
    }
}
