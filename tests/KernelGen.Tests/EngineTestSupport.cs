using System;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using KernelGen.Testing;
using Xunit.Sdk;

namespace KernelGen.Tests;

/// <summary>Generic front doors to the float/double overloads of <see cref="Pooling"/>.</summary>
internal static class Engine
{
    public static void Run<T>(in PoolDescriptor d, ReadOnlySpan<T> input, Span<T> output, PoolShape shape, int maxDop = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Pooling.Run(d, MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output), shape, maxDop);
        else if (typeof(T) == typeof(double))
            Pooling.Run(d, MemoryMarshal.Cast<T, double>(input), MemoryMarshal.Cast<T, double>(output), shape, maxDop);
        else throw new NotSupportedException(typeof(T).Name);
    }

    /// <summary>The general engine (no specialized kernel), one thread.</summary>
    public static void RunGeneral<T>(in PoolDescriptor d, ReadOnlySpan<T> input, Span<T> output, PoolShape shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Pooling.RunGeneral(d, MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output), shape, 1);
        else if (typeof(T) == typeof(double))
            Pooling.RunGeneral(d, MemoryMarshal.Cast<T, double>(input), MemoryMarshal.Cast<T, double>(output), shape, 1);
        else throw new NotSupportedException(typeof(T).Name);
    }

    public static void Run<T>(in PoolDescriptor d, ReadOnlySpan<T> input, Span<T> output, Span<long> indices, PoolShape shape, int maxDop = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Pooling.Run(d, MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output), indices, shape, maxDop);
        else if (typeof(T) == typeof(double))
            Pooling.Run(d, MemoryMarshal.Cast<T, double>(input), MemoryMarshal.Cast<T, double>(output), indices, shape, maxDop);
        else throw new NotSupportedException(typeof(T).Name);
    }

    public static void GlobalMax<T>(ReadOnlySpan<T> input, Span<T> output, PoolShape shape, PoolLayout layout, int maxDop = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Pooling.GlobalMax(MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output), shape, layout, maxDop);
        else
            Pooling.GlobalMax(MemoryMarshal.Cast<T, double>(input), MemoryMarshal.Cast<T, double>(output), shape, layout, maxDop);
    }

    public static void GlobalAverage<T>(ReadOnlySpan<T> input, Span<T> output, PoolShape shape, PoolLayout layout, int maxDop = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Pooling.GlobalAverage(MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output), shape, layout, maxDop);
        else
            Pooling.GlobalAverage(MemoryMarshal.Cast<T, double>(input), MemoryMarshal.Cast<T, double>(output), shape, layout, maxDop);
    }

    /// <summary>Runs the descriptor and returns a fresh output (and indices when asked for).</summary>
    public static (T[] Output, long[]? Indices) Pool<T>(in PoolDescriptor d, ReadOnlySpan<T> input, PoolShape shape, bool withIndices, int maxDop = -1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var outShape = d.GetOutputShape(shape);
        var output = new T[outShape.ElementCount];
        if (!withIndices)
        {
            Run(d, input, output, shape, maxDop);
            return (output, null);
        }
        var indices = new long[outShape.ElementCount];
        Run(d, input, output, indices, shape, maxDop);
        return (output, indices);
    }
}

/// <summary>Outputs against an inaccessible page, so that a route writing past either end of its output faults.</summary>
internal static class GuardedOutput
{
    /// <summary>
    /// <paramref name="length"/> elements ending at the trailing guard page (<paramref name="atEnd"/>) or starting after
    /// the leading one, each set to a value no pooling of the test inputs gives, so a cell left unwritten fails the comparison.
    /// </summary>
    public static Span<T> Place<T>(GuardedMemory memory, int length, bool atEnd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var output = memory.Place<T>(length, atEnd);
        output.Fill(T.CreateTruncating(-3.0e38));
        return output;
    }
}

/// <summary>Comparisons with failure messages that say which case and which element.</summary>
internal static class PoolAssert
{
    private static string Show<T>(T value) where T : IFloatingPointIeee754<T> =>
        T.IsNegative(value) && T.IsZero(value) ? "-0" : string.Format(CultureInfo.InvariantCulture, "{0:R}", value);

    /// <summary>Exact equality, NaN equal to NaN and -0 equal to +0 (max pooling).</summary>
    public static void Exact<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string context) where T : IFloatingPointIeee754<T>
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{context}: length {actual.Length}, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            T e = expected[i], a = actual[i];
            if (T.IsNaN(e) && T.IsNaN(a)) continue;
            if (e == a) continue;
            throw new XunitException($"{context}: element {i} is {Show(a)}, expected {Show(e)}.");
        }
    }

    /// <summary>Within <c>tolerance * max(1, |expected|)</c>; NaN matches NaN and infinities must be equal.</summary>
    public static void Close<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, double tolerance, string context) where T : IFloatingPointIeee754<T>
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{context}: length {actual.Length}, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateChecked(expected[i]), a = double.CreateChecked(actual[i]);
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (e == a) continue;
            if (!double.IsFinite(e) || !double.IsFinite(a) || Math.Abs(a - e) > tolerance * Math.Max(1, Math.Abs(e)))
                throw new XunitException($"{context}: element {i} is {Show(actual[i])}, expected {Show(expected[i])} (tolerance {tolerance}).");
        }
    }

    /// <summary>Bit-for-bit equality (NaN payloads and zero signs included).</summary>
    public static void Bits<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string context) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{context}: length {actual.Length}, expected {expected.Length}.");
        var eb = MemoryMarshal.AsBytes(expected);
        var ab = MemoryMarshal.AsBytes(actual);
        if (eb.SequenceEqual(ab)) return;
        int size = eb.Length / Math.Max(1, expected.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!eb.Slice(i * size, size).SequenceEqual(ab.Slice(i * size, size)))
                throw new XunitException($"{context}: element {i} is {Show(actual[i])}, expected bit-identical {Show(expected[i])}.");
    }

    public static void Indices(ReadOnlySpan<long> expected, ReadOnlySpan<long> actual, string context)
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{context}: {actual.Length} indices, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
                throw new XunitException($"{context}: index {i} is {actual[i]}, expected {expected[i]}.");
    }
}
