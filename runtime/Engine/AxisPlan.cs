using System;
using KernelGen.Shared;

namespace KernelGen.Engine;

/// <summary>
/// One spatial axis of a validated pooling call: the input length, the output length and the window. Answers the
/// questions every kernel asks per output cell: where its window starts, which taps fall inside the input, and what
/// the average divisor counts.
/// </summary>
internal readonly struct AxisPlan
{
    public AxisPlan(int length, int output, PoolAxis axis)
    {
        Length = length;
        Output = output;
        Kernel = axis.Kernel;
        Stride = axis.Stride;
        Dilation = axis.Dilation;
        PadBegin = axis.PadBegin;
        PadEnd = axis.PadEnd;
    }

    public int Length { get; }
    public int Output { get; }
    public int Kernel { get; }
    public int Stride { get; }
    public int Dilation { get; }
    public int PadBegin { get; }
    public int PadEnd { get; }

    /// <summary>
    /// A 2-wide window with stride 2 and no padding before, whose outputs are exactly the whole pairs of cells (a
    /// last odd cell is dropped): output o is cells 2o and 2o + 1.
    /// </summary>
    public bool IsPairs => Kernel == 2 && Stride == 2 && PadBegin == 0 && Dilation == 1 && Output == Length / 2;

    /// <summary>Whether every tap of every window lies inside the input: no begin padding, and no window reaching past the end.</summary>
    public bool IsUnpadded => PadBegin == 0 && PaddedLength == Length;

    /// <summary>Whether some input positions lie in no window: a kernel shorter than the stride, or dilation.</summary>
    public bool SkipsPositions => Kernel < Stride || Dilation > 1;

    /// <summary>
    /// Sets <c>read[p]</c> for every input position p some window has a tap at and clears the others; <paramref name="read"/>
    /// holds <see cref="Length"/> entries. Found from each output's taps inside the input, so the work is at most outputs
    /// x length however long the window.
    /// </summary>
    public void MarkRead(Span<bool> read)
    {
        read.Clear();
        for (int o = 0; o < Output; o++)
        {
            var (first, end) = InsideTaps(o);
            for (int t = first; t < end; t++) read[(int)(WindowStart(o) + (long)t * Dilation)] = true;
        }
    }

    /// <summary>(k - 1) * d + 1, up to 2^62.</summary>
    public long EffectiveKernel => (long)(Kernel - 1) * Dilation + 1;

    /// <summary>The input position of tap 0 of output <paramref name="o"/>; negative inside the begin padding.</summary>
    public long WindowStart(int o) => (long)o * Stride - PadBegin;

    /// <summary>
    /// The taps <c>[first, end)</c> of output <paramref name="o"/> whose positions <c>start + t * d</c> fall inside
    /// the input. Empty (first &gt;= end) for a window made only of padding, which ONNX's limits allow.
    /// </summary>
    public (int First, int End) InsideTaps(int o) => PoolDivisorRule.InsideTaps(WindowStart(o), Length, Kernel, Dilation);

    /// <summary>
    /// For each output: the position of its first tap inside the input, and how many of its taps are inside (taps in the
    /// padding are skipped; a window made only of padding has none).
    /// </summary>
    public void WriteInsideWindows(Span<int> firstPositions, Span<int> counts)
    {
        for (int o = 0; o < Output; o++)
        {
            var (first, end) = InsideTaps(o);
            firstPositions[o] = (int)(WindowStart(o) + (long)first * Dilation);
            counts[o] = Math.Max(0, end - first);
        }
    }

    /// <summary>
    /// The divisor factor of output <paramref name="o"/> on this axis (shared-src/PoolDivisorRule.cs: the taps before
    /// the end of the end padding, or only those inside the input).
    /// </summary>
    public int DivisorFactor(int o, bool countIncludePad) =>
        PoolDivisorRule.AxisCells(WindowStart(o), Length, Kernel, Dilation, PadEnd, countIncludePad);

    /// <summary>
    /// The length of a row padded so that every tap of every output is inside it: begin padding, the input, and
    /// enough end cells for the last window (which under ceil mode may reach past the end padding).
    /// </summary>
    public long PaddedLength => Math.Max((long)PadBegin + Length + PadEnd, (long)(Output - 1) * Stride + EffectiveKernel);
}
