using System;

namespace KernelGen.Engine;

/// <summary>
/// The inside taps of every output index on one axis, computed once per call. <see cref="AxisPlan.InsideTaps"/>
/// divides by the dilation; looking the answer up instead keeps integer divisions out of the per-row and per-cell
/// loops, where they cost more than the vector work of a small row.
/// </summary>
internal readonly struct AxisWindows : IDisposable
{
    private readonly int[] _first;
    private readonly int[] _end;

    public AxisWindows(in AxisPlan axis)
    {
        _first = ScratchArrays<int>.Rent(axis.Output);
        _end = ScratchArrays<int>.Rent(axis.Output);
        for (int o = 0; o < axis.Output; o++)
            (_first[o], _end[o]) = axis.InsideTaps(o);
    }

    /// <summary>The taps <c>[First, End)</c> of output <paramref name="o"/> that fall inside the input.</summary>
    public (int First, int End) this[int o] => (_first[o], _end[o]);

    public void Dispose()
    {
        ScratchArrays<int>.Return(_first);
        ScratchArrays<int>.Return(_end);
    }
}
