using System;
using System.Collections.Generic;
using System.Numerics;

namespace KernelGen.Engine;

/// <summary>The general engine's routes: each names the routine that pools a call.</summary>
internal enum EngineRoute
{
    ClampedWindowsViaChannelsLast,
    ClampedWindows,
    WholePlaneWindows,
    NarrowRowsMax,
    FlatPlaneMax,
    FlatPairsAverage,
    NarrowRowsAverage,
    ColumnWindows,
    ChannelsFirstViaChannelsLast,
    SeparableRowsMax,
    ChannelsFirstRowBlocks,
    MaxViaChannelsLast,
    ChannelsFirstAnyRank,
    ChannelsLastSlidingMax,
    ChannelsLastSeparableMax,
    ChannelsLastSlidingSum,
    ChannelsLastBlocked,
    ChannelsLastWindows,
    MaxIndicesPooling,
}

/// <summary>What a call asks of the engine: the layout's work, or max pooling that also writes indices.</summary>
internal enum EngineWork { ChannelsFirst, ChannelsLast, MaxWithIndices }

/// <summary>Whether a route takes a validated call.</summary>
internal delegate bool RouteCondition(in PoolPlan plan);

/// <summary>
/// Pools units <c>[first, first + count)</c> of a validated call: (n, c) planes channels first and with indices, output
/// rows (n, od, oh) channels last. <paramref name="indices"/> is empty unless the work is <see cref="EngineWork.MaxWithIndices"/>.
/// </summary>
internal delegate void RouteRunner<T>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, Span<long> indices, long first, int count);

/// <summary>Pools units <c>[first, first + count)</c> of a validated call, without indices.</summary>
internal delegate void UnitRunner<T>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long first, int count);

/// <summary>One row of the dispatch table: the route, the condition under which it takes a call, the routine, and why.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Takes">Whether the route takes the call; asked only when no route before it did.</param>
/// <param name="Run">The routine.</param>
/// <param name="Why">Why the route exists and sits where it does in the order.</param>
/// <param name="PoolsPlaneAtATime">
/// Whether the route pools small planes a whole plane at a time (whole planes, narrow rows, flat passes): the generated
/// kernels for large stride-1 windows do not beat those, and hand such shapes to the engine.
/// </param>
/// <param name="UnitsPerBlock">How many units the route pools together: a parallel call splits its units into ranges of whole blocks.</param>
/// <param name="Handles">
/// Where the routine pools a call exactly, whether or not the table sends the call there (null: only where it takes
/// calls). The route audit times the routine there too, so a condition that measurement has outgrown shows as a loss,
/// and <c>EveryRouteTests</c> checks it there.
/// </param>
internal sealed record EngineRouteEntry<T>(EngineRoute Route, RouteCondition Takes, RouteRunner<T> Run, string Why, bool PoolsPlaneAtATime = false, int UnitsPerBlock = 1,
    RouteCondition? Handles = null)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A row whose routine takes no indices.</summary>
    public EngineRouteEntry(EngineRoute Route, RouteCondition Takes, UnitRunner<T> Run, string Why, bool PoolsPlaneAtATime = false, int UnitsPerBlock = 1,
        RouteCondition? Handles = null)
        : this(Route, Takes, (in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, Span<long> _, long first, int count) => Run(plan, input, output, first, count),
            Why, PoolsPlaneAtATime, UnitsPerBlock, Handles)
    {
        Routine = NameOf(Run.Method);
    }

    /// <summary>Whether the routine pools <paramref name="plan"/> exactly: where it takes calls, and where it <see cref="Handles"/> them.</summary>
    public bool CanPool(in PoolPlan plan) => Takes(plan) || (Handles?.Invoke(plan) ?? false);

    /// <summary>
    /// The routine's name (type.method). Rows can share one: the channels-last sliding, blocked and window rows all run
    /// <c>ChannelsLastPooling.RunWindows</c>, which takes the same conditions to pick its path.
    /// </summary>
    public string Routine { get; private init; } = NameOf(Run.Method);

    private static string NameOf(System.Reflection.MethodInfo method) => $"{method.DeclaringType?.Name}.{method.Name}";
}

/// <summary>
/// The general engine's dispatch table: for each kind of work, an ordered list of routes; a call takes the first whose
/// condition holds, and the last holds always. To add a route, add it to <see cref="EngineRoute"/> and insert its row
/// where its condition must be asked.
/// </summary>
internal static class EngineRoutes<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly RouteCondition Always = static (in PoolPlan _) => true;

    /// <summary>Channels-first (NC[D]HW) routes, in the order they are asked.</summary>
    public static readonly IReadOnlyList<EngineRouteEntry<T>> ChannelsFirst =
    [
        new(EngineRoute.ClampedWindowsViaChannelsLast, ChannelsFirstViaChannelsLast<T>.TakesClampedWindows, ChannelsFirstViaChannelsLast<T>.RunClampedWindows,
            "AVX-512, ClampedWindows' calls on 1-d or 2-d planes of 16 float (8 double) to 3,584 cells, a group's worth of them: transposed to channels last as ChannelsFirstViaChannelsLast does and pooled by the channels-last routes (ClampedWindows on small images), every tap one vector for 32 (16) planes or more; the planes left over take ClampedWindows.",
            UnitsPerBlock: ChannelsFirstViaChannelsLast<T>.GroupSize),
        new(EngineRoute.ClampedWindows, ClampedWindows<T>.Applies, ClampedWindows<T>.Run,
            "A window or stride longer than its axis: the other routes size their tables by the window, so these go before them, with each window clamped to the input."),
        new(EngineRoute.WholePlaneWindows, WholePlaneWindows<T>.Applies, WholePlaneWindows<T>.Run,
            "The window is the whole plane (older exports' global heads): one reduction per plane instead of a row set-up per output.",
            PoolsPlaneAtATime: true),
        new(EngineRoute.NarrowRowsMax, NarrowRowsMax<T>.Applies, NarrowRowsMax<T>.Run,
            "AVX-512, 2-d max, stride 1, 'same' width, a window reaching at most 3 columns to each side (centred, off centre, one column), rows of at most four vectors: whole rows in registers, the window sliding down the plane as in the generated kernels (up to 9 rows), or two output rows at a time; not float planes up to 8 x 8 with 128 planes or more, which the channels-last detour pools faster.",
            PoolsPlaneAtATime: true),
        new(EngineRoute.FlatPlaneMax, FlatPlaneMax<T>.Applies, FlatPlaneMax<T>.Run,
            "AVX-512, 2-d max on planes up to 16 KB: 2x2 stride 2 on an even width (VGG's), or stride 1 'same' width on rows or windows too wide for NarrowRowsMax, but not on small planes the channels-last detour pools faster (float up to 400 cells, double up to 196) nor float windows of 5 columns or more that it takes, nor one-column windows on rows of 28 cells or more (the any-rank path's); one flat pass over the plane.",
            PoolsPlaneAtATime: true),
        new(EngineRoute.FlatPairsAverage, FlatPairsAverage<T>.Applies, FlatPairsAverage<T>.Run,
            "AVX-512, 2-d average 2x2 stride 2 on even-width planes up to 16 KB (DenseNet's transitions): two scratch planes, one flat pass.",
            PoolsPlaneAtATime: true),
        new(EngineRoute.NarrowRowsAverage, NarrowRowsAverage<T>.Applies, NarrowRowsAverage<T>.Run,
            "AVX-512, 2-d average with NarrowRowsMax's shapes (Inception's 35-wide 3x3 p1): whole rows in registers; not float windows of three rows or more but 3x3 on planes up to 8 x 8 with 128 planes or more, which the channels-last detour pools faster.",
            PoolsPlaneAtATime: true),
        new(EngineRoute.ColumnWindows, ColumnWindows<T>.Applies, ColumnWindows<T>.Run,
            "AVX-512, windows one column wide at width stride 1 on planes of more than 400 cells, but double averages at height strides of 3 or more and max at height stride 1 (save undilated windows of 4 rows or more padded down the rows): each output row is its window rows reduced column-wise, four output rows at a time sharing each loaded input vector; the routes after it take such windows tap by tap or copy the plane first.",
            Handles: ColumnWindows<T>.Handles),
        new(EngineRoute.ChannelsFirstViaChannelsLast, ChannelsFirstViaChannelsLast<T>.Applies, ChannelsFirstViaChannelsLast<T>.Run,
            "AVX-512, 1-d or 2-d planes of up to 3,584 cells (a group 448 KB), at least 32 float (16 double) of them, averages of enough taps (float: or one column wide at width stride 3, and at 4 on planes up to 1,200 cells), float max at width strides 3-4 with enough taps (not on the 48- to 64-cell rows the separable rows pool faster), windows shorter than the height stride at width strides 3-4 or max of enough columns, max dilated down the rows at width strides 3-4, double max at width stride 2 and height stride 1 on rows of up to four vectors or in windows of up to 3 columns (the row blocks' any-taps loop and two-vector rows), float max at stride 1 'same' width from 5 columns (see the route's SavesMoreThanTransposes), and on planes of up to 400 cells whatever the row blocks do not take: groups of planes transposed to channels last (only the rows some window reads) and pooled there with every lane a channel; the planes left over take the next route.",
            UnitsPerBlock: ChannelsFirstViaChannelsLast<T>.GroupSize, Handles: ChannelsFirstViaChannelsLast<T>.Handles),
        new(EngineRoute.SeparableRowsMax, SeparableRowsMax<T>.Applies, SeparableRowsMax<T>.Run,
            "AVX-512, 1-d or 2-d max, windows of 4 rows or more, where it measured faster than the routes after it (bench/notes.md): at height stride 2, undilated float rows of 48 to 64 cells at width stride 2, or 4 with windows 4 wide or more; at height stride 3 or more, undilated at width stride 3-4 and 2 columns or more (float: where the detour leaves them, on rows of 48 to 64 cells), float one-column windows on rows of 48 to 64 cells at width stride 2, or double dilated along rows of more than three vectors at width stride 2. The input is read in place, each output row's window rows reduced column by column, rows of up to four vectors in registers (every tap then a permute of them), longer ones into a scratch row split into the width stride's phases (every tap one load).", Handles: SeparableRowsMax<T>.Handles),
        new(EngineRoute.ChannelsFirstRowBlocks, ChannelsFirstRowBlocks<T>.Applies, ChannelsFirstRowBlocks<T>.Run,
            "AVX-512, 1-d or 2-d, no horizontal dilation, horizontal stride 2 (or 1: average, max up to 5 wide), averages of fewer than 20 taps (at height stride 1 and width stride 2 not in windows one column wide and several rows tall, and float at most 4 taps), max only where the any-rank path's shared row maxima do not pay (height stride 1 over two rows or more, undilated: float rows of 128+ cells and up to 9 taps, double at width stride 2, or under 10 taps in windows of two columns or more; height stride 2: width stride 1 on padded rows (float under 15 taps) or double windows under 3 columns and 5 rows, width stride 2 under 7 columns (float also under 20 taps); height stride 3 and more): input rows read in place, blocks of outputs reduced in registers, averages four output rows (1-d: four planes) at a time.",
            Handles: ChannelsFirstRowBlocks<T>.Handles),
        new(EngineRoute.MaxViaChannelsLast, ChannelsFirstViaChannelsLast<T>.TakesMaxLeftToAnyRank, ChannelsFirstViaChannelsLast<T>.RunMaxLeftToAnyRank,
            "AVX-512, max that no in-place route took, where ChannelsFirstViaChannelsLast handles it: all of them at height stride 3 or more; on 2-d planes up to 1,200 cells all but windows one column wide at width stride 1; on larger planes undilated windows of two columns or more at height stride 1 and width stride 3, float undilated windows at width stride 2 of up to 16 taps at height stride 1 and 32 at height stride 2, and otherwise windows of two columns or more, not float at width stride 2, windows of 5 rows or more at height stride 1 or of two rows or more on unpadded rows at width stride 1, or double windows of more than 24 taps (whose shared row maxima the any-rank path reuses, on the input itself for unpadded rows): the channels-last detour measured faster than the any-rank path's prepared copy on the rest (bench/notes.md).",
            UnitsPerBlock: ChannelsFirstViaChannelsLast<T>.GroupSize),
        new(EngineRoute.ChannelsFirstAnyRank, Always, ChannelsFirstAnyRank<T>.Run,
            "Everything else (3-d, dilation, other strides, averages of many taps, no AVX-512): a padded, phase-split copy of each plane, vectorized along the output width."),
    ];

    /// <summary>Channels-last (N[D]HWC) routes, in the order they are asked; all vectorize across channels.</summary>
    public static readonly IReadOnlyList<EngineRouteEntry<T>> ChannelsLast =
    [
        new(EngineRoute.ClampedWindows, ClampedWindows<T>.TakesChannelsLast, ClampedWindows<T>.Run,
            "Windows or strides longer than their axis on images of up to 32 cells or with up to 4 outputs, or past 256 cells on some axis: each window clamped to the input; the routes after it size their tables by the window, and on small images set up more than they save."),
        new(EngineRoute.ChannelsLastSlidingMax, ChannelsLastPooling<T>.TakesSlidingMax, ChannelsLastPooling<T>.RunWindows,
            "AVX-512 max, at least a vector of channels, stride 1 up to 5 wide or 3 wide stride 2, where it makes fewer maxima than the separable route and, at stride 1, where that route applies, image rows (width x channels) are longer than 8 KB: four cells share each column's reduction."),
        new(EngineRoute.ChannelsLastSeparableMax, ChannelsLastPooling<T>.TakesSeparableMax, ChannelsLastPooling<T>.RunSeparableMax,
            "Max whose window rows then columns read clearly fewer vectors than cell by cell (YOLO's 5x5 s1): each output row's window rows reduced into a row of column maxima, then, at width strides 2-4 on rows of 8 cells or more, that row four cells a step, each column loaded once for every cell that takes it (ChannelsLastSlidingSum.RunMaxRow)."),
        new(EngineRoute.ChannelsLastSlidingSum, ChannelsLastSlidingSum<T>.Applies, ChannelsLastPooling<T>.RunWindows,
            "AVX-512 average, at least a vector of channels, undilated windows up to 9 wide: at stride 1 from 2 wide, at strides 2-4 wider than the stride where output rows do not pair and two columns wider where they do; neighbouring cells share their loads, four interior cells at a time at stride 1 up to 4 wide, else whole rows of 8 cells or more, eight at a time, half their sums on the FMA pipes, or, where rows pair, two rows at once, four cells of each a step, the shared window rows loaded once (narrower rows go to ChannelsLastBlocked)."),
        new(EngineRoute.ChannelsLastBlocked, ChannelsLastBlocked<T>.Applies, ChannelsLastPooling<T>.RunWindows,
            "AVX-512, at least a vector of channels, any other stride, width or dilation (max at stride 1 keeps the flat reduction of ChannelsLastWindows): interior cells four at a time, two channel vectors each, so eight independent chains hide each operation's latency (each lane still reduces in window order, PyTorch's for sums); averages the sliding sums leave whose consecutive windows share at least half their rows go two output rows at once, loading the shared rows once."),
        new(EngineRoute.ChannelsLastWindows, Always, ChannelsLastPooling<T>.RunWindows,
            "Everything else: each cell's window offsets listed once, reduced for every channel block in registers."),
    ];

    /// <summary>Max pooling with indices (either layout): PyTorch's scan, kept apart from the vectorized routes.</summary>
    public static readonly IReadOnlyList<EngineRouteEntry<T>> MaxWithIndices =
    [
        new(EngineRoute.MaxIndicesPooling, Always, MaxIndicesPooling<T>.Run,
            "Indices are for training only: a plain loop that follows PyTorch's scan order exactly (ties keep the first cell)."),
    ];

    /// <summary>The routes for <paramref name="work"/>, in order.</summary>
    public static IReadOnlyList<EngineRouteEntry<T>> For(EngineWork work) => work switch
    {
        EngineWork.ChannelsFirst => ChannelsFirst,
        EngineWork.ChannelsLast => ChannelsLast,
        _ => MaxWithIndices,
    };

    /// <summary>The row whose route takes <paramref name="plan"/>: the first whose condition holds.</summary>
    public static EngineRouteEntry<T> Select(EngineWork work, in PoolPlan plan) => FirstTaking(For(work), 0, plan);

    /// <summary>The first row after <paramref name="route"/>'s whose condition holds: where a route hands the part of a call it does not pool.</summary>
    public static EngineRouteEntry<T> SelectAfter(EngineRoute route, EngineWork work, in PoolPlan plan)
    {
        var routes = For(work);
        int i = 0;
        while (routes[i].Route != route) i++;
        return FirstTaking(routes, i + 1, plan);
    }

    /// <summary>The first of <paramref name="routes"/> from <paramref name="from"/> on whose condition holds; the last holds always.</summary>
    private static EngineRouteEntry<T> FirstTaking(IReadOnlyList<EngineRouteEntry<T>> routes, int from, in PoolPlan plan)
    {
        for (int i = from; i < routes.Count - 1; i++)
            if (routes[i].Takes(plan)) return routes[i];
        return routes[^1];
    }

    /// <summary>The route a validated call without indices takes (the layout's work).</summary>
    public static EngineRoute RouteOf(in PoolPlan plan) => Select(WorkOf(plan.Descriptor, withIndices: false), plan).Route;

    /// <summary>The work a call asks for.</summary>
    public static EngineWork WorkOf(in PoolDescriptor descriptor, bool withIndices) =>
        withIndices ? EngineWork.MaxWithIndices
        : descriptor.Layout == PoolLayout.ChannelsLast ? EngineWork.ChannelsLast : EngineWork.ChannelsFirst;

    /// <summary>
    /// Whether the route <paramref name="plan"/> takes pools small planes a whole plane at a time, or is the channels-last
    /// detour taking a call such a route left to it: the generated kernels for large stride-1 windows hand those shapes
    /// to the engine.
    /// </summary>
    public static bool PoolsPlaneAtATime(in PoolPlan plan)
    {
        var route = Select(WorkOf(plan.Descriptor, withIndices: false), plan);
        return route.PoolsPlaneAtATime || (route.Route == EngineRoute.ChannelsFirstViaChannelsLast && PlaneRouteLeftToDetour(plan));
    }

    /// <summary>Whether a plane-at-a-time route fits <paramref name="plan"/> but leaves it to the channels-last detour.</summary>
    private static bool PlaneRouteLeftToDetour(in PoolPlan plan) =>
        NarrowRowsMax<T>.LeavesToDetour(plan) || FlatPlaneMax<T>.LeavesToDetour(plan) || NarrowRowsAverage<T>.LeavesToDetour(plan);

    /// <summary>Pools units <c>[first, first + count)</c> of <paramref name="plan"/> on the route that takes it.</summary>
    public static void Run(EngineWork work, in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, Span<long> indices, long first, int count) =>
        Select(work, plan).Run(plan, input, output, indices, first, count);
}
