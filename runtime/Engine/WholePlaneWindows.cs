using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace KernelGen.Engine;

/// <summary>
/// Channels-first windows that cover each whole plane: one output per plane, the window exactly the plane (no padding
/// before it, no dilation). Older exports of ResNet, Inception and MobileNet write their head this way, as an
/// AveragePool or MaxPool with the feature map's size rather than a global pooling node.
/// </summary>
/// <remarks>
/// The window engine would treat each plane as one output row of one cell: a whole row's set-up for a single value.
/// Here a max is the plane's maximum, which global max pooling computes
/// exactly (max is exact in any order). An average must keep the window's order, cell by cell from the first, which is
/// not global average pooling's stripe order: <see cref="GlobalPlaneBlocks.AverageInCellOrder"/> runs blocks of 16
/// planes in that order, and the planes left over go through the window engine.
/// </remarks>
internal static class WholePlaneWindows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Applies(in PoolPlan plan) =>
        CoversAxis(plan.Depth) && CoversAxis(plan.Height) && CoversAxis(plan.Width);

    private static bool CoversAxis(in AxisPlan axis) =>
        axis.Output == 1 && axis.Kernel == axis.Length && axis.PadBegin == 0 && axis.Dilation == 1;

    /// <summary>Pools the planes <c>[firstPlane, firstPlane + planeCount)</c>.</summary>
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        if (plan.IsMax)
        {
            GlobalPooling<T>.RunChannelsFirst(PoolMode.Max, input, output, plan.InputPlane, plan.Input.Channels, firstPlane, planeCount);
            return;
        }
        int done = 0;
        if (typeof(T) == typeof(float))
        {
            // Every window has the same divisor: the override, or the cell count (padding after the plane, if any,
            // counts the same for every plane).
            float divisor = plan.Divisor(plan.RowDivisorFactor(0, 0), 0);
            done = GlobalPlaneBlocks.AverageInCellOrder(MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output),
                plan.InputPlane, divisor, firstPlane, planeCount);
        }
        if (done < planeCount) ChannelsFirstAnyRank<T>.Run(plan, input, output, firstPlane + done, planeCount - done);
    }
}
