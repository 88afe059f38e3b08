using System;
using System.Numerics;
using CsCheck;
using KernelGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.Tests;

/// <summary>
/// The general engine reads only its input: each case runs on a copy of its input that ends exactly at an inaccessible
/// page, then on one that starts right after one (Linux), so a read past either end faults and the test run fails
/// instead of reading a neighbour's data by luck. The results must equal the run on an ordinary array, bit for bit.
/// Cases: the engine's property space (every rank, layout, mode and padding) and the width strides of 3 to 9.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class EngineGuardPageTests(ITestOutputHelper log) : IDisposable
{
    private const int Iterations = 1500;

    private readonly GuardedMemory _memory = new();

    private static readonly Gen<PoolCase> Cases = Gen.OneOf(EnginePropertyTests.Cases(Gen.Int[0, 2]), StridedPhasePropertyTests.Cases);

    [Fact]
    public void FloatReadsOnlyItsInput() => Cases.Sample(Check<float>, writeLine: log.WriteLine, iter: Iterations, threads: 1);

    [Fact]
    public void DoubleReadsOnlyItsInput() => Cases.Sample(Check<double>, writeLine: log.WriteLine, iter: Iterations, threads: 1);

    private void Check<T>(PoolCase pc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var descriptor = pc.Descriptor();
        var shape = pc.Shape;
        var input = pc.Input<T>();
        var (expected, expectedIndices) = Engine.Pool<T>(descriptor, input, shape, pc.WithIndices, maxDop: 1);
        _memory.OnBothSides<T>(input, (guarded, placement) =>
        {
            var (output, indices) = Engine.Pool<T>(descriptor, guarded, shape, pc.WithIndices, maxDop: 1);
            string context = $"{typeof(T).Name} {pc}, {placement}";
            PoolAssert.Exact<T>(expected, output, context);
            if (pc.WithIndices) PoolAssert.Indices(expectedIndices, indices, context);
        });
    }

    public void Dispose() => _memory.Dispose();
}
