// Compiled into both the generator (netstandard2.0) and the runtime: the engine computes every average divisor with it,
// and the generator decides with it whether a kernel's divisor is one constant and writes its per-window expression
// from the same formula. Keep it to what netstandard2.0 and C# latest allow.
using System;

namespace KernelGen.Shared;

/// <summary>The average pooling divisor, as PyTorch and ONNX define it.</summary>
internal static class PoolDivisorRule
{
    /// <summary>
    /// The taps <c>[first, end)</c> of a window whose tap 0 is at <paramref name="start"/> (negative inside the begin
    /// padding) that fall inside an axis of <paramref name="length"/> cells. Empty for a window made only of padding.
    /// </summary>
    public static (int First, int End) InsideTaps(long start, long length, int kernel, int dilation)
    {
        long first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        long last = length - 1 - start;
        long end = last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
        return ((int)Math.Min(first, kernel), (int)end);
    }

    /// <summary>
    /// What one axis contributes to the divisor of a window whose tap 0 is at <paramref name="start"/>: with
    /// <paramref name="countIncludePad"/>, the taps before the end of the end padding (PyTorch's
    /// <c>min(start + k, L + padEnd) - start</c>, extended to dilated taps as ONNX Runtime does); otherwise the taps
    /// inside the input.
    /// </summary>
    public static int AxisCells(long start, long length, int kernel, int dilation, int padEnd, bool countIncludePad)
    {
        if (!countIncludePad)
        {
            var (first, end) = InsideTaps(start, length, kernel, dilation);
            return Math.Max(0, end - first);
        }
        long last = length + padEnd - 1 - start;
        return last < 0 ? 0 : (int)Math.Min(kernel, last / dilation + 1);
    }

    /// <summary>
    /// <see cref="AxisCells"/> for an undilated window as a C# <c>int</c> expression over the generated kernel's names
    /// (average pooling has no dilation under PyTorch's limits, which [PoolKernel] follows).
    /// </summary>
    public static string AxisCellsExpression(string start, string length, string kernel, string padEnd, bool countIncludePad) => countIncludePad
        ? $"(Math.Min({start} + {kernel}, {length} + {padEnd}) - ({start}))"
        : $"(Math.Min({start} + {kernel}, {length}) - Math.Max({start}, 0))";

    /// <summary>
    /// A window's divisor from the product of its axes' <see cref="AxisCells"/>: the override when one is set, else the
    /// product, and 1 for a window with no cell (possible only under ONNX's padding limits), so its output is 0 as in
    /// ONNX Runtime, not 0 / 0.
    /// </summary>
    public static long Divisor(long cellsProduct, int divisorOverride) =>
        divisorOverride != 0 ? divisorOverride : cellsProduct == 0 ? 1 : cellsProduct;

    /// <summary>
    /// Whether every window has the same divisor: an override, or no window reaching into padding or past the end (the
    /// ceil-mode overhang). The generator asks it for every input size, the engine for the call's.
    /// </summary>
    public static bool IsConstant(int divisorOverride, bool anyWindowLeavesInput) => divisorOverride != 0 || !anyWindowLeavesInput;
}
