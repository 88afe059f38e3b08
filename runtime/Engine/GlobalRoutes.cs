using System;
using System.Collections.Generic;
using System.Numerics;

namespace KernelGen.Engine;

/// <summary>The routes of global pooling (one output per (n, c) plane).</summary>
internal enum GlobalRoute { PlaneBlocks, PlaneLoop, ChannelsLastMax, ChannelsLastAveragePanels, ChannelsLastAverage }

/// <summary>Whether a global route takes a call of <paramref name="mode"/> over <paramref name="channels"/> channels.</summary>
internal delegate bool GlobalCondition(PoolMode mode, int channels);

/// <summary>
/// Pools units <c>[first, first + count)</c> of a validated global call: (n, c) planes channels first, images channels last.
/// </summary>
internal delegate void GlobalRunner<T>(PoolMode mode, ReadOnlySpan<T> input, Span<T> output, int planeSize, int channels, long first, int count);

/// <summary>One row of the global dispatch table.</summary>
internal sealed record GlobalRouteEntry<T>(GlobalRoute Route, GlobalCondition Takes, GlobalRunner<T> Run, string Why)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// Global pooling's dispatch table, per layout in the order asked. Every route sums in the same stripe order (see
/// <see cref="GlobalPooling{T}"/>), so the choice never changes a result.
/// </summary>
internal static class GlobalRoutes<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Channels-first routes.</summary>
    public static readonly IReadOnlyList<GlobalRouteEntry<T>> ChannelsFirst =
    [
        new(GlobalRoute.PlaneBlocks, static (_, _) => GlobalPlaneBlocks.IsSupported<T>(), GlobalPooling<T>.RunChannelsFirst,
            "AVX-512 (or AVX for float): blocks of 16 (8, 4) planes at once, their stripe accumulators transposed so the final sum is vertical; the planes left over go one at a time."),
        new(GlobalRoute.PlaneLoop, static (_, _) => true, GlobalPooling<T>.RunChannelsFirst,
            "Every instruction set: one plane at a time, the reference shape of the stripe order."),
    ];

    /// <summary>Channels-last routes.</summary>
    public static readonly IReadOnlyList<GlobalRouteEntry<T>> ChannelsLast =
    [
        new(GlobalRoute.ChannelsLastMax, static (mode, _) => mode == PoolMode.Max, GlobalPooling<T>.RunChannelsLastMax,
            "Max is exact in any order: each cell's channel vector folded into the image's maxima."),
        new(GlobalRoute.ChannelsLastAveragePanels, static (_, channels) => GlobalAverageChannelPanels<T>.Applies(channels), GlobalPooling<T>.RunChannelsLastAveragePanels,
            "Average over at least a vector of channels with vectors to do it: the stripe rows of a panel of channels stay in L1."),
        new(GlobalRoute.ChannelsLastAverage, static (_, _) => true, GlobalPooling<T>.RunChannelsLastAverage,
            "Everything else: one accumulator row per stripe, added in order."),
    ];

    /// <summary>The row whose route takes the call: the first whose condition holds.</summary>
    public static GlobalRouteEntry<T> Select(PoolMode mode, PoolLayout layout, int channels)
    {
        var routes = layout == PoolLayout.ChannelsLast ? ChannelsLast : ChannelsFirst;
        for (int i = 0; i < routes.Count - 1; i++)
            if (routes[i].Takes(mode, channels)) return routes[i];
        return routes[^1];
    }
}
