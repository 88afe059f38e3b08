using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using KernelGen.Testing;

namespace KernelGen.Generator.Tests.Verification;

/// <summary>
/// The child process's side of the verification: runs every case's kernel on every shape, on two inputs, with the
/// input against an inaccessible page at its end and then at its start, and the output between sentinel cells. Each
/// kernel call is announced on a "RUN" line first, so a fault names its case; a mismatch is a "FAIL" line (the first of
/// the configuration, which then stops), a general engine that differs from the scalar reference an "ENGINE" line.
/// </summary>
internal sealed class KernelVerifier(TextWriter report)
{
    public const string Shape = "SHAPE", Run = "RUN", Fail = "FAIL", EngineFail = "ENGINE", Done = "DONE";

    private const int Guard = 67; // odd, more than a 512-bit vector of doubles or floats on either side

    private readonly GuardedMemory _memory = new();

    /// <summary>Verifies <paramref name="cases"/> from <paramref name="from"/> on; ends with a "DONE" line.</summary>
    public void Verify(IReadOnlyList<VerificationCase> cases, CompiledKernels kernels, int from)
    {
        foreach (var verification in cases.Skip(from))
        {
            var c = verification.Configuration;
            if (!kernels.Compiles(c)) continue;
            if (c.IsDouble) Verify<double>(verification, (SpecializedPoolKernel<double>)kernels.Kernel(c));
            else Verify<float>(verification, (SpecializedPoolKernel<float>)kernels.Kernel(c));
        }
        report.WriteLine(Done);
    }

    private void Verify<T>(VerificationCase verification, SpecializedPoolKernel<T> kernel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = verification.Configuration;
        var descriptor = c.Descriptor;
        var random = new Random(c.Index * 7919 + 17);
        T sentinel = T.CreateTruncating(-7.25e30);
        bool engineReported = false;
        foreach (var shape in verification.Shapes)
        {
            report.WriteLine($"{Shape}\t{c.Index}\t{shape}");
            var outputShape = descriptor.GetOutputShape(shape);
            int inCount = (int)shape.ElementCount, outCount = (int)outputShape.ElementCount;
            // The pattern first: its mismatches are the easier to follow by hand.
            foreach (string inputKind in new[] { "pattern", "random" })
            {
                var input = inputKind == "random"
                    ? RandomInput.Mixed<T>(random, inCount)
                    : Enumerable.Range(0, inCount).Select(i => T.CreateTruncating(i % 7 + 1)).ToArray();
                var engine = new T[outCount];
                if (input is float[] floats) Pooling.RunGeneral(descriptor, floats, (float[])(object)engine, shape, 1);
                else Pooling.RunGeneral(descriptor, (double[])(object)input, (double[])(object)engine, shape, 1);
                var reference = ReferencePooling.Pool<T>(descriptor, input, shape);
                string where = $"{shape} {(inputKind == "pattern" ? "x[i] = i % 7 + 1" : "random")} input";
                if (!engineReported && FirstDifference(engine, reference, c.IsMax) is int e)
                {
                    engineReported = true;
                    report.WriteLine($"{EngineFail}\t{c.Index}\t{where}: the general engine gives {Show(engine[e])} at {Cell(c, outputShape, e)}, the scalar reference {Show(reference[e])}");
                }

                // Against the page before first: a kernel that reads left of a row's start then faults (an out-of-bounds
                // read) rather than reading stale data and failing as a wrong value.
                foreach (bool atEnd in new[] { false, true })
                {
                    string placement = atEnd ? "input against the page after it" : "input against the page before it";
                    var guarded = _memory.Place<T>(inCount, atEnd);
                    input.CopyTo(guarded);
                    var buffer = new T[outCount + 2 * Guard];
                    buffer.AsSpan().Fill(sentinel);
                    report.WriteLine($"{Run}\t{c.Index}\t{where}, {placement}");
                    kernel(guarded, buffer.AsSpan(Guard, outCount), shape);
                    if (Outside(buffer, outCount, sentinel) is int o)
                    {
                        report.WriteLine($"{Fail}\t{c.Index}\t{where}: wrote {Show(buffer[o])} at output offset {o - Guard} (outside the {outCount} output cells)");
                        return;
                    }
                    var actual = buffer.AsSpan(Guard, outCount);
                    if (FirstBitDifference<T>(engine, actual) is int i)
                    {
                        report.WriteLine($"{Fail}\t{c.Index}\t{where}, {placement}: output {i} of {outCount} at {Cell(c, outputShape, i)} is {Show(actual[i])}, the general engine gives {Show(engine[i])}, the reference {Show(reference[i])}");
                        return;
                    }
                }
            }
        }
    }

    /// <summary>The first cell where the engine and the reference differ: bits for average, value for max (NaN = NaN, -0 = +0).</summary>
    private static int? FirstDifference<T>(T[] engine, T[] reference, bool isMax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!isMax) return FirstBitDifference<T>(engine, reference);
        for (int i = 0; i < engine.Length; i++)
            if (!(engine[i] == reference[i] || (T.IsNaN(engine[i]) && T.IsNaN(reference[i])))) return i;
        return null;
    }

    private static int? FirstBitDifference<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual) where T : unmanaged
    {
        var e = MemoryMarshal.AsBytes(expected);
        var a = MemoryMarshal.AsBytes(actual);
        int size = e.Length / Math.Max(1, expected.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!e.Slice(i * size, size).SequenceEqual(a.Slice(i * size, size))) return i;
        return null;
    }

    private static int? Outside<T>(T[] buffer, int outCount, T sentinel) where T : unmanaged
    {
        for (int i = 0; i < buffer.Length; i++)
            if ((i < Guard || i >= Guard + outCount) && FirstBitDifference<T>([buffer[i]], [sentinel]) is not null) return i;
        return null;
    }

    private static string Cell(UserConfiguration c, PoolShape s, int index)
    {
        int w, h, ch, n;
        if (c.ChannelsLast)
        {
            ch = index % s.Channels; index /= s.Channels;
            w = index % s.Width; index /= s.Width;
            h = index % s.Height; n = index / s.Height;
        }
        else
        {
            w = index % s.Width; index /= s.Width;
            h = index % s.Height; index /= s.Height;
            ch = index % s.Channels; n = index / s.Channels;
        }
        return $"(n {n}, c {ch}, h {h}, w {w})";
    }

    private static string Show<T>(T value) where T : IFloatingPointIeee754<T> =>
        T.IsNegative(value) && T.IsZero(value) ? "-0" : string.Format(CultureInfo.InvariantCulture, "{0:R}", value);
}
