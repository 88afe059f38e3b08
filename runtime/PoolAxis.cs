using System;

namespace KernelGen;

/// <summary>The window along one spatial axis: its size, step, padding on each side and tap spacing.</summary>
/// <param name="Kernel">Number of taps in the window (k).</param>
/// <param name="Stride">Step between neighbouring windows (s).</param>
/// <param name="PadBegin">Implicit cells before the first input cell (top / left / front).</param>
/// <param name="PadEnd">Implicit cells after the last input cell (bottom / right / back).</param>
/// <param name="Dilation">Distance between neighbouring taps (d); 1 for a dense window.</param>
public readonly record struct PoolAxis(int Kernel, int Stride, int PadBegin, int PadEnd, int Dilation)
{
    /// <summary>A dense window with the same padding on both sides.</summary>
    public PoolAxis(int kernel, int stride, int padding = 0)
        : this(kernel, stride, padding, padding, 1) { }

    /// <summary>The span of input cells one window covers: <c>(k - 1) * d + 1</c>.</summary>
    public int EffectiveKernel => (int)Math.Min(int.MaxValue, (long)(Kernel - 1) * Dilation + 1);

    /// <summary>The axis that leaves a lower-rank shape's missing axes alone.</summary>
    internal static PoolAxis Identity => new(1, 1, 0, 0, 1);
}
