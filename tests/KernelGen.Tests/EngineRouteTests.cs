using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using KernelGen.Engine;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Pins the general engine's route for every representative configuration: the bench cases in both layouts, double,
/// dilation, 1-d, 3-d, narrow and wide rows, oversized windows, indices and global pooling. A change to the dispatch
/// table or to a route's condition that moves one of these to another route fails here and must update the pin.
/// </summary>
[Trait("Category", "Kernel")]
public class EngineRouteTests
{
    /// <summary>Whether the engine's AVX-512 routes run on this machine (and under this process's DOTNET_Enable* settings).</summary>
    private static readonly bool HasAvx512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    private const PoolLayout First = PoolLayout.ChannelsFirst, Last = PoolLayout.ChannelsLast;

    /// <summary>A configuration and the route it takes with AVX-512 and without it.</summary>
    private sealed record Pin(string Name, PoolDescriptor Descriptor, PoolShape Shape, bool IsDouble, EngineRoute WithAvx512, EngineRoute Otherwise);

    private static Pin P(string name, PoolDescriptor d, PoolShape shape, EngineRoute withAvx512, EngineRoute otherwise, bool isDouble = false) =>
        new(name, d, shape, isDouble, withAvx512, otherwise);

    private static readonly Pin[] Pins =
    [
        // bench/Cases.cs, channels first, float.
        P("resnet50.stem", PoolDescriptor.MaxPool2d(3, 2, 1), new(1, 64, 112, 112), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("vgg16.pool1", PoolDescriptor.MaxPool2d(2, 2), new(1, 64, 224, 224), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("vgg16.pool4", PoolDescriptor.MaxPool2d(2, 2), new(1, 512, 28, 28), EngineRoute.FlatPlaneMax, EngineRoute.ChannelsFirstAnyRank),
        P("googlenet.pool", PoolDescriptor.MaxPool2d(3, 1, 1), new(1, 192, 28, 28), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("yolov8.sppf", PoolDescriptor.MaxPool2d(5, 1, 2), new(1, 256, 20, 20), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("densenet.transition", PoolDescriptor.AvgPool2d(2, 2), new(1, 128, 56, 56), EngineRoute.FlatPairsAverage, EngineRoute.ChannelsFirstAnyRank),
        P("inception.pool", PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false), new(1, 256, 35, 35), EngineRoute.NarrowRowsAverage, EngineRoute.ChannelsFirstAnyRank),
        P("resnet50.head-window", PoolDescriptor.AvgPool2d((7, 7)), new(1, 2048, 7, 7), EngineRoute.WholePlaneWindows, EngineRoute.WholePlaneWindows),
        P("batch32", PoolDescriptor.MaxPool2d(3, 2, 1), new(32, 64, 56, 56), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),

        // The bench cases channels last, float.
        P("resnet50.stem-nhwc", PoolDescriptor.MaxPool2d(3, 2, 1, layout: Last), new(1, 64, 112, 112), EngineRoute.ChannelsLastSlidingMax, EngineRoute.ChannelsLastWindows),
        P("vgg16.pool1-nhwc", PoolDescriptor.MaxPool2d(2, 2, layout: Last), new(1, 64, 224, 224), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        P("googlenet.pool-nhwc", PoolDescriptor.MaxPool2d(3, 1, 1, layout: Last), new(1, 192, 28, 28), EngineRoute.ChannelsLastSlidingMax, EngineRoute.ChannelsLastSeparableMax),
        P("yolov8.sppf-nhwc", PoolDescriptor.MaxPool2d(5, 1, 2, layout: Last), new(1, 256, 20, 20), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax),
        P("densenet.transition-nhwc", PoolDescriptor.AvgPool2d(2, 2, layout: Last), new(1, 128, 56, 56), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        P("inception.pool-nhwc", PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false, layout: Last), new(1, 256, 35, 35), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows),

        // Double: half the lanes, so rows and planes that fit float's narrow and flat routes may not.
        P("googlenet.pool-double", PoolDescriptor.MaxPool2d(3, 1, 1), new(1, 192, 28, 28), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("vgg16.pool4-double", PoolDescriptor.MaxPool2d(2, 2), new(1, 512, 28, 28), EngineRoute.FlatPlaneMax, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("densenet.transition-double", PoolDescriptor.AvgPool2d(2, 2), new(1, 128, 56, 56), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("inception.pool-double", PoolDescriptor.AvgPool2d(3, 1, 1, countIncludePad: false), new(1, 256, 35, 35), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg3x3-s3-double", PoolDescriptor.AvgPool2d((3, 3), (3, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("googlenet.pool-nhwc-double", PoolDescriptor.MaxPool2d(3, 1, 1, layout: Last), new(1, 192, 28, 28), EngineRoute.ChannelsLastSlidingMax, EngineRoute.ChannelsLastSeparableMax, isDouble: true),

        // Small planes (up to 400 cells) of a group's worth go through channels last where the row blocks do not take
        // them, output planes of a few cells too; float planes also where the row blocks apply (below); larger ones, and
        // other calls the row blocks take, do not. With one group's planes, float planes up to 14 x 14 at width stride 2
        // or more or from 8 taps.
        P("avg9x6-s3-small-plane", PoolDescriptor.AvgPool2d((9, 6), (3, 3), countIncludePad: false), new(1, 256, 14, 14), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max7x5-s1x3-20x20-plane", PoolDescriptor.MaxPool2d((7, 5), (1, 3)), new(1, 32, 20, 20), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max7x5-s1x3-21x21-plane", PoolDescriptor.MaxPool2d((7, 5), (1, 3)), new(1, 32, 21, 21), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max2x4-s1x2-28x28-plane", PoolDescriptor.MaxPool2d((2, 4), (1, 2), (1, 1)), new(1, 32, 28, 28), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max6x1-s1x4-28x28-plane", PoolDescriptor.MaxPool2d((6, 1), (1, 4), (3, 0)), new(1, 32, 28, 28), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x9-s1x3-28x28-plane-double", PoolDescriptor.MaxPool2d((3, 9), (1, 3), (1, 4)), new(1, 32, 28, 28), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max6x1-s1-12x100-plane-one-column", PoolDescriptor.MaxPool2d((6, 1), (1, 1), (3, 0)), new(1, 32, 12, 100), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank),
        P("max6x1-s1-unpadded-12x100-plane-one-column", PoolDescriptor.MaxPool2d((6, 1), (1, 1)), new(1, 32, 12, 100), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max6x6-s2-57x57-plane-36-taps", PoolDescriptor.MaxPool2d((6, 6), (2, 2), (0, 1)), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max7x5-s1x3-36x36-plane", PoolDescriptor.MaxPool2d((7, 5), (1, 3)), new(1, 32, 36, 36), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2-small-plane-row-blocks", PoolDescriptor.MaxPool2d(3, 2, 1), new(1, 256, 14, 14), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2-15x15-plane-one-group", PoolDescriptor.MaxPool2d(3, 2, 1), new(1, 63, 15, 15), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2-small-plane-double", PoolDescriptor.MaxPool2d(3, 2, 1), new(1, 256, 14, 14), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg2x2-s2x1-small-plane-one-group", PoolDescriptor.AvgPool2d((2, 2), (2, 1), (0, 1)), new(1, 63, 14, 14), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg2x4-s2x1-small-plane-one-group", PoolDescriptor.AvgPool2d((2, 4), (2, 1)), new(1, 32, 14, 14), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        // Float calls of several groups' planes up to 400 cells, where the row blocks would take them too, but max at width
        // stride 1 on planes larger than 14 x 14.
        P("avg2x3-s2x1-small-plane-two-groups", PoolDescriptor.AvgPool2d((2, 3), (2, 1), (0, 1)), new(1, 64, 14, 14), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2-20x20-plane", PoolDescriptor.MaxPool2d(3, 2, 1), new(1, 256, 20, 20), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2-21x21-plane", PoolDescriptor.MaxPool2d(3, 2, 1), new(1, 256, 21, 21), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max3x2-s3x1-7x7-plane", PoolDescriptor.MaxPool2d((3, 2), (3, 1), (1, 1)), new(1, 512, 7, 7), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x2-s3x1-20x20-plane", PoolDescriptor.MaxPool2d((3, 2), (3, 1)), new(1, 256, 20, 20), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),

        // Channels-last stride-1 max on image rows (width x channels) of at most 8 KB goes separably where it can; 2x2
        // windows, which it cannot take, keep sliding.
        P("max3x3-s1-p1-nhwc-8kb-rows", PoolDescriptor.MaxPool2d(3, 1, 1, layout: Last), new(1, 64, 32, 32), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax),
        P("max3x3-s1-p1-nhwc-longer-rows", PoolDescriptor.MaxPool2d(3, 1, 1, layout: Last), new(1, 64, 33, 33), EngineRoute.ChannelsLastSlidingMax, EngineRoute.ChannelsLastSeparableMax),
        P("max3x3-s1-p1-nhwc-4kb-rows-double", PoolDescriptor.MaxPool2d(3, 1, 1, layout: Last), new(1, 32, 16, 16), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax, isDouble: true),
        P("max2x2-s1-nhwc-short-rows", PoolDescriptor.MaxPool2d(2, 1, layout: Last), new(1, 32, 28, 28), EngineRoute.ChannelsLastSlidingMax, EngineRoute.ChannelsLastWindows),

        // Dilation and strides other than 1 and 2 leave the row-block routes.
        P("max3x3-s1-p1-d2", PoolDescriptor.MaxPool2d(3, 1, 1, dilation: 2), new(1, 32, 28, 28), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s1-p1-d2-nhwc", PoolDescriptor.MaxPool2d(3, 1, 1, dilation: 2, layout: Last), new(1, 32, 28, 28), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax),
        P("max3x1-s1x3", PoolDescriptor.MaxPool2d((3, 1), (1, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max7x7-s1-p3-wide", PoolDescriptor.MaxPool2d(7, 1, 3), new(1, 16, 200, 200), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),

        // 1-d and 3-d.
        P("max1d-k3s2p1", PoolDescriptor.MaxPool1d(3, 2, 1), new(1, 16, 1000), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max1d-k3s1p1-narrow", PoolDescriptor.MaxPool1d(3, 1, 1), new(1, 16, 50), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("avg1d-k4s3p2", PoolDescriptor.AvgPool1d(4, 3, 2), new(2, 23, 71), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg1d-k3s1p1-long", PoolDescriptor.AvgPool1d(3, 1, 1), new(1, 64, 4000), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max3d-k3s2p1", PoolDescriptor.MaxPool3d(3, 2, 1), new(1, 8, 8, 16, 16), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg3d-k2s1-nhwc", PoolDescriptor.AvgPool3d(2, 1, layout: Last), new(1, 32, 4, 6, 19), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows),

        // Narrow and wide rows: stride-1 max on rows of at most four vectors, with windows reaching up to 3 columns to
        // each side (centred, off centre, one column wide), takes the narrow rows; wider rows or windows run flat, and
        // float one-column windows on rows of 28 cells and more (past four vectors) the any-rank path. Averages there
        // take the row blocks, or the any-rank path from 20 taps (one column wide: ColumnWindows, below).
        P("max3x1-s1-24-wide-one-column", PoolDescriptor.MaxPool2d((3, 1), (1, 1)), new(1, 32, 24, 24), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max3x1-s1-28-wide-one-column", PoolDescriptor.MaxPool2d((3, 1), (1, 1)), new(1, 32, 28, 28), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max1x1-s1-57-wide", PoolDescriptor.MaxPool2d((1, 1), (1, 1)), new(1, 32, 57, 57), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max3x1-s1-80-wide-one-column", PoolDescriptor.MaxPool2d((3, 1), (1, 1)), new(1, 8, 20, 80), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max3x1-s1-80-wide-one-column-double", PoolDescriptor.MaxPool2d((3, 1), (1, 1)), new(1, 8, 20, 80), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max4x1-s1-57-wide-one-column-double", PoolDescriptor.MaxPool2d((4, 1), (1, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max2x5-p0,1x3,1-on-14x14", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 5], [1, 1], [0, 3, 1, 1]), new(1, 32, 14, 14), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max2x5-p0,1x4,0-on-14x14", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 5], [1, 1], [0, 4, 1, 0]), new(1, 32, 14, 14), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max2x2-p0,1-on-64-wide", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 2], [1, 1], [0, 0, 1, 1]), new(1, 32, 20, 64), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max2x2-p0,1-on-65-wide", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 2], [1, 1], [0, 0, 1, 1]), new(1, 32, 20, 65), EngineRoute.FlatPlaneMax, EngineRoute.ChannelsFirstAnyRank),
        P("max1x1-s1-57-wide-double", PoolDescriptor.MaxPool2d((1, 1), (1, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // Windows one column wide at width stride 1 on planes past 400 cells: each output row is its window rows reduced
        // column-wise in place. Not max at height stride 1 but padded windows of 4 rows or more (the narrow rows or the
        // any-rank path, above), double averages at height strides of 3 or more (the row blocks), nor small planes (the
        // channels-last detour).
        P("avg9x1-s1-57x57-one-column", PoolDescriptor.AvgPool2d((9, 1), (1, 1)), new(1, 32, 57, 57), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank),
        P("max6x1-s2x1-p3-57x57-one-column", PoolDescriptor.MaxPool2d((6, 1), (2, 1), (3, 0)), new(1, 32, 57, 57), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank),
        P("max4x1-s3x1-d3-57x57-one-column", PoolDescriptor.MaxPool2d((4, 1), (3, 1), (1, 0), (3, 1)), new(1, 32, 57, 57), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank),
        P("avg8x1-s2x1-p2-one-column-double", PoolDescriptor.AvgPool2d((8, 1), (2, 1), (2, 0), countIncludePad: false), new(1, 32, 57, 57), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg3x1-s3x1-one-column-double", PoolDescriptor.AvgPool2d((3, 1), (3, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg3x1-s1-14x14-one-column", PoolDescriptor.AvgPool2d((3, 1), (1, 1)), new(1, 256, 14, 14), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        // Narrow-row max on float planes up to 8 x 8 with 128 planes or more goes through channels last.
        P("max3x3-p1-on-8x8-128", PoolDescriptor.MaxPool2d(3, 1, 1), new(1, 128, 8, 8), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-p1-on-8x8-127", PoolDescriptor.MaxPool2d(3, 1, 1), new(1, 127, 8, 8), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-p1-on-9x9-64", PoolDescriptor.MaxPool2d(3, 1, 1), new(1, 64, 9, 9), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-p1-on-8x8-64-double", PoolDescriptor.MaxPool2d(3, 1, 1), new(1, 64, 8, 8), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // Stride-1 max that FlatPlaneMax takes (rows past four vectors, windows reaching past 3 columns) goes through
        // channels last on small planes: float up to 400 cells but windows of at most 6 taps over 100 cells with fewer
        // than 64 planes, double up to 196 cells.
        P("max2x5-p0,1x0,4-on-10x10", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 5], [1, 1], [0, 0, 1, 4]), new(1, 32, 10, 10), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max2x2-p0,1-on-5x80-32", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 2], [1, 1], [0, 0, 1, 1]), new(1, 32, 5, 80), EngineRoute.FlatPlaneMax, EngineRoute.ChannelsFirstAnyRank),
        P("max2x2-p0,1-on-5x80-64", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 2], [1, 1], [0, 0, 1, 1]), new(1, 64, 5, 80), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-p0,2-on-5x80", PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], [1, 1], [0, 0, 2, 2]), new(1, 32, 5, 80), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-p0,2-on-5x81", PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], [1, 1], [0, 0, 2, 2]), new(1, 32, 5, 81), EngineRoute.FlatPlaneMax, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-p0,2-on-21x21", PoolDescriptor.FromOnnx(PoolMode.Max, [3, 3], [1, 1], [0, 0, 2, 2]), new(1, 32, 21, 21), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max2x9-p0,1x4,4-on-14x14-double", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 9], [1, 1], [0, 4, 1, 4]), new(1, 32, 14, 14), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max2x9-p0,1x4,4-on-15x15-double", PoolDescriptor.FromOnnx(PoolMode.Max, [2, 9], [1, 1], [0, 4, 1, 4]), new(1, 32, 15, 15), EngineRoute.FlatPlaneMax, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // Channels-last max at width strides of 2 and more goes separably, its rows of column maxima four cells a step,
        // from 4/5 of the cell-by-cell reads (7/10 for double) where the blocked path does not share window rows between
        // output rows, and in windows one row tall; otherwise four cells at a time (without AVX-512, by the stride-1 bar).
        P("max3x5-s1x2-nhwc", PoolDescriptor.MaxPool2d((3, 5), (1, 2), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax),
        P("max5x5-s2-nhwc", PoolDescriptor.MaxPool2d((5, 5), (2, 2), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax),
        P("max1x5-s2x3-nhwc", PoolDescriptor.MaxPool2d((1, 5), (2, 3), (0, 1), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastWindows),
        P("max8x8-s2x4-rows-shared-nhwc", PoolDescriptor.MaxPool2d((8, 8), (2, 4), (3, 3), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastSeparableMax),
        P("max7x7-s3-nhwc", PoolDescriptor.MaxPool2d((7, 7), (3, 3), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax),
        P("max9x4-s2-nhwc", PoolDescriptor.MaxPool2d((9, 4), (2, 2), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastSeparableMax),
        P("max9x4-s2-nhwc-double", PoolDescriptor.MaxPool2d((9, 4), (2, 2), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax, isDouble: true),
        // 1x1 averages take ColumnWindows at width stride 1, the row blocks at width stride 2.
        P("avg1x1-s1-57-wide", PoolDescriptor.AvgPool2d((1, 1), (1, 1)), new(1, 32, 57, 57), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x1-s1x2-111-wide", PoolDescriptor.AvgPool2d((1, 1), (1, 2)), new(1, 16, 20, 111), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x1-s1x2-112-wide", PoolDescriptor.AvgPool2d((1, 1), (1, 2)), new(1, 16, 20, 112), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x1-s1-57-wide-double", PoolDescriptor.AvgPool2d((1, 1), (1, 1)), new(1, 32, 57, 57), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg1x1-s2-57-wide", PoolDescriptor.AvgPool2d((1, 1), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max3x1-s1-28-wide-one-column-double", PoolDescriptor.MaxPool2d((3, 1), (1, 1)), new(1, 32, 28, 28), EngineRoute.NarrowRowsMax, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x3-s1-p1-wide-rows-small-plane", PoolDescriptor.MaxPool2d(3, 1, 1), new(1, 16, 10, 100), EngineRoute.FlatPlaneMax, EngineRoute.ChannelsFirstAnyRank),
        P("avg9x9-s1-p4-small-plane", PoolDescriptor.AvgPool2d(9, 1, 4), new(1, 16, 20, 20), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s1-p1-wide-rows", PoolDescriptor.MaxPool2d(3, 1, 1), new(1, 16, 200, 200), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg7x7-s1-p3-wide-rows", PoolDescriptor.AvgPool2d(7, 1, 3), new(1, 16, 200, 200), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x3-s1-p1-wide-rows", PoolDescriptor.AvgPool2d(3, 1, 1), new(1, 16, 200, 200), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),

        // With a group's worth of planes, averages of enough taps and float max at width strides 3-4 go through channels
        // last. Without (31 planes, or planes too large for a group), averages of 20 taps or more take the any-rank path,
        // and so do more than 4 at height stride 1 and width stride 2 (float) and windows one column wide at height
        // stride 1 and width stride 2; the rest take the row blocks. Float windows one column wide go through channels
        // last at width stride 3, and at 4 on planes up to 1,200 cells; at width stride 1 they take ColumnWindows.
        P("avg4x5-s1x2-many-taps", PoolDescriptor.AvgPool2d((4, 5), (1, 2)), new(1, 31, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x6-s1x2-above-4-taps", PoolDescriptor.AvgPool2d((3, 6), (1, 2)), new(1, 31, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x3-s1x2-double", PoolDescriptor.AvgPool2d((3, 3), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg2x2-s1x2-two-rows-two-columns", PoolDescriptor.AvgPool2d((2, 2), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg6x5-s3x2-30-taps", PoolDescriptor.AvgPool2d((6, 5), (3, 2)), new(1, 31, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg6x3-s4x2-18-taps", PoolDescriptor.AvgPool2d((6, 3), (4, 2)), new(1, 31, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x1-s2-one-column", PoolDescriptor.AvgPool2d((3, 1), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg5x1-s2-one-column-tall", PoolDescriptor.AvgPool2d((5, 1), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg4x1-s4x2-one-column-double", PoolDescriptor.AvgPool2d((4, 1), (4, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg6x1-s3x1-one-column", PoolDescriptor.AvgPool2d((6, 1), (3, 1)), new(1, 32, 57, 57), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x5-s2x1-15-taps", PoolDescriptor.AvgPool2d((3, 5), (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg4x3-s2x1-12-taps", PoolDescriptor.AvgPool2d((4, 3), (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg4x4-s3x1-16-taps", PoolDescriptor.AvgPool2d((4, 4), (3, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg4x1-s1x4-one-column", PoolDescriptor.AvgPool2d((4, 1), (1, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg2x2-s1x4-4-taps", PoolDescriptor.AvgPool2d((2, 2), (1, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x4-s2x2-4-taps", PoolDescriptor.AvgPool2d((1, 4), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg2x1-s4x3-one-column", PoolDescriptor.AvgPool2d((2, 1), (4, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x1-s4x4-one-column-small-plane", PoolDescriptor.AvgPool2d((3, 1), (4, 4)), new(1, 32, 28, 28), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x6-s1-one-row", PoolDescriptor.AvgPool2d((1, 6), (1, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg8x2-s1-16-taps-double", PoolDescriptor.AvgPool2d((8, 2), (1, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg7x1-s1x2-one-column", PoolDescriptor.AvgPool2d((7, 1), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x1-s1-p1x0-one-column-small-plane", PoolDescriptor.AvgPool2d((3, 1), (1, 1), (1, 0)), new(1, 32, 28, 28), EngineRoute.ColumnWindows, EngineRoute.ChannelsFirstAnyRank),
        P("avg6x6-s2-many-taps", PoolDescriptor.AvgPool2d(6, 2), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg5x7-s2-few-taps", PoolDescriptor.AvgPool2d((5, 7), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x2-s2-few-taps", PoolDescriptor.AvgPool2d((3, 2), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x3-s1-9-taps", PoolDescriptor.AvgPool2d(3, 1), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg4x4-s1-16-taps", PoolDescriptor.AvgPool2d(4, 1), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg4x5-s1x3", PoolDescriptor.AvgPool2d((4, 5), (1, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x6-s2x3-double", PoolDescriptor.AvgPool2d((3, 6), (2, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg3x5-s2x3-double-15-taps", PoolDescriptor.AvgPool2d((3, 5), (2, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg4x5-s1x3-few-planes", PoolDescriptor.AvgPool2d((4, 5), (1, 3)), new(1, 31, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg4x5-s1x3-large-plane", PoolDescriptor.AvgPool2d((4, 5), (1, 3)), new(1, 32, 65, 65), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("avg4x4-s1x4", PoolDescriptor.AvgPool2d((4, 4), (1, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x3-s1x2-9-taps", PoolDescriptor.AvgPool2d((3, 3), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg2x2-s2x3-4-taps", PoolDescriptor.AvgPool2d((2, 2), (2, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x2-s2x3-2-taps", PoolDescriptor.AvgPool2d((1, 2), (2, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg2x4-s1x2-8-taps", PoolDescriptor.AvgPool2d((2, 4), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x7-s2x1-21-taps", PoolDescriptor.AvgPool2d((3, 7), (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        // Float max at stride 1 'same' width: windows of 5 columns or more through channels last, narrower ones on rows
        // too wide for the narrow rows flat.
        P("max7x9-s1-same-9-columns", PoolDescriptor.MaxPool2d((7, 9), (1, 1), (3, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max9x3-s1-same-wide-rows", PoolDescriptor.MaxPool2d((9, 3), (1, 1), (4, 1)), new(1, 32, 12, 100), EngineRoute.FlatPlaneMax, EngineRoute.ChannelsFirstAnyRank),
        // Float averages by the window's shape: the row blocks keep few taps at height strides 3-4, four columns and one row of
        // three at width stride 2, and one row at width stride 1.
        P("avg2x3-s3x1-6-taps", PoolDescriptor.AvgPool2d((2, 3), (3, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg5x2-s3x1-10-taps", PoolDescriptor.AvgPool2d((5, 2), (3, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x3-s4x1-three-columns", PoolDescriptor.AvgPool2d((3, 3), (4, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x4-s4x1-four-columns", PoolDescriptor.AvgPool2d((1, 4), (4, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x3-s1x2-three-columns", PoolDescriptor.AvgPool2d((1, 3), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x4-s2x2-four-columns", PoolDescriptor.AvgPool2d((1, 4), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("avg2x8-s4x1-16-taps", PoolDescriptor.AvgPool2d((2, 8), (4, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x6-s1x2-double-18-taps", PoolDescriptor.AvgPool2d((3, 6), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg3x3-s2x2-60-wide", PoolDescriptor.AvgPool2d((3, 3), (2, 2)), new(1, 32, 60, 60), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max4x4-s4", PoolDescriptor.MaxPool2d(4, 4), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank), // 57-wide float rows: the separable rows beat the detour (bench/notes.md)
        P("max4x4-s2x4", PoolDescriptor.MaxPool2d((4, 4), (2, 4)), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max2x2-s2x4-4-taps", PoolDescriptor.MaxPool2d((2, 2), (2, 4)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max1x5-s1x4-one-row", PoolDescriptor.MaxPool2d((1, 5), (1, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s1x4-three-rows", PoolDescriptor.MaxPool2d((3, 3), (1, 4)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max2x3-s1x3-6-taps", PoolDescriptor.MaxPool2d((2, 3), (1, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max4x5-s1x3-20-taps", PoolDescriptor.MaxPool2d((4, 5), (1, 3)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max5x5-s1x3-five-rows", PoolDescriptor.MaxPool2d((5, 5), (1, 3)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max1x5-s1x3-d2", PoolDescriptor.MaxPool2d((1, 5), (1, 3), dilation: (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max2x2-s1x3-d2-4-taps", PoolDescriptor.MaxPool2d((2, 2), (1, 3), dilation: (2, 2)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2x4-d2", PoolDescriptor.MaxPool2d((3, 3), (2, 4), dilation: (2, 2)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max6x5-s2x4-six-rows", PoolDescriptor.MaxPool2d((6, 5), (2, 4)), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max8x1-s2x4-one-column", PoolDescriptor.MaxPool2d((8, 1), (2, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max4x5-s1x3-d2-four-rows", PoolDescriptor.MaxPool2d((4, 5), (1, 3), dilation: (2, 2)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x2-s4-skips-rows", PoolDescriptor.MaxPool2d((3, 2), (4, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x2-s3x4-below-7-taps", PoolDescriptor.MaxPool2d((3, 2), (3, 4)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        // Windows shorter than the height stride: the rows they skip are not transposed.
        P("max1x4-s2-skips-rows", PoolDescriptor.MaxPool2d((1, 4), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max1x3-s2-skips-rows-3-columns", PoolDescriptor.MaxPool2d((1, 3), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max1x3-s2x4-skips-rows-double", PoolDescriptor.MaxPool2d((1, 3), (2, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max1x2-s2x4-skips-rows-double-2-taps", PoolDescriptor.MaxPool2d((1, 2), (2, 4)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max2x6-s3x1-skips-rows", PoolDescriptor.MaxPool2d((2, 6), (3, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max1x5-s2x1-skips-rows-5-columns", PoolDescriptor.MaxPool2d((1, 5), (2, 1)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max1x6-s2x1-skips-rows-double", PoolDescriptor.MaxPool2d((1, 6), (2, 1)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // Max dilated down the rows at width strides 3-4 and height strides 2-4.
        P("max3x5-s2x3-d2-rows", PoolDescriptor.MaxPool2d((3, 5), (2, 3), dilation: (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max6x9-s4-d2-rows", PoolDescriptor.MaxPool2d((6, 9), (4, 4), dilation: (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max5x3-s2x4-d2-both-axes", PoolDescriptor.MaxPool2d((5, 3), (2, 4), dilation: (2, 2)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max2x3-s2x3-d2-double", PoolDescriptor.MaxPool2d((2, 3), (2, 3), dilation: (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max6x5-s1x3-d3-rows-height-stride-1", PoolDescriptor.MaxPool2d((6, 5), (1, 3), dilation: (3, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max4x1-s1x2-d2-rows-double", PoolDescriptor.MaxPool2d((4, 1), (1, 2), dilation: (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max4x1-s1x2-double", PoolDescriptor.MaxPool2d((4, 1), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg1x2-s2x4-skips-rows", PoolDescriptor.AvgPool2d((1, 2), (2, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg2x1-s3x4-skips-rows-one-column", PoolDescriptor.AvgPool2d((2, 1), (3, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2x3", PoolDescriptor.MaxPool2d((3, 3), (2, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2x3-double", PoolDescriptor.MaxPool2d((3, 3), (2, 3)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg5x5-s2x3-p2-allocation-test", PoolDescriptor.AvgPool2d((5, 5), (2, 3), (2, 2)), new(2, 16, 20, 20), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max2x5-s1", PoolDescriptor.MaxPool2d((2, 5), (1, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max2x5-s1-double", PoolDescriptor.MaxPool2d((2, 5), (1, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x3-s1x2-double", PoolDescriptor.MaxPool2d((3, 3), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg2x5-s1x4-double-10-taps", PoolDescriptor.AvgPool2d((2, 5), (1, 4)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // Double averages through channels last at width strides 2-4 by the window's columns: three or more, two (at
        // width stride 2 from height stride 1), not one.
        P("avg3x3-s1x3-double-three-columns", PoolDescriptor.AvgPool2d((3, 3), (1, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg1x3-s1x3-double-three-taps", PoolDescriptor.AvgPool2d((1, 3), (1, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg3x3-s3x2-double-three-columns", PoolDescriptor.AvgPool2d((3, 3), (3, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg1x4-s1x2-double-four-taps", PoolDescriptor.AvgPool2d((1, 4), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg3x2-s1x3-double-two-columns", PoolDescriptor.AvgPool2d((3, 2), (1, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg2x2-s1x3-double-two-columns-four-taps", PoolDescriptor.AvgPool2d((2, 2), (1, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg2x2-s1x2-double-two-columns", PoolDescriptor.AvgPool2d((2, 2), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg2x2-s2x2-double-two-columns", PoolDescriptor.AvgPool2d((2, 2), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg3x1-s1x3-double-one-column", PoolDescriptor.AvgPool2d((3, 1), (1, 3)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("avg4x1-s1x2-double-one-column", PoolDescriptor.AvgPool2d((4, 1), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x3-s1x2", PoolDescriptor.MaxPool2d((3, 3), (1, 2)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2x1-unpadded", PoolDescriptor.MaxPool2d((3, 3), (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max3x3-s2x1-p1-9-taps", PoolDescriptor.MaxPool2d((3, 3), (2, 1), (1, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max3x5-s2x1-p2-15-taps", PoolDescriptor.MaxPool2d((3, 5), (2, 1), (0, 2)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max2x2-s2x1-double", PoolDescriptor.MaxPool2d((2, 2), (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max2x3-s2x1-double", PoolDescriptor.MaxPool2d((2, 3), (2, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max4x5-s2-20-taps", PoolDescriptor.MaxPool2d((4, 5), (2, 2)), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max3x6-s2-18-taps", PoolDescriptor.MaxPool2d((3, 6), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max2x7-s2-double", PoolDescriptor.MaxPool2d((2, 7), (2, 2)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // Double max at width stride 2 on the row blocks' any-taps loop: through channels last only at height stride 1, on
        // rows of up to four vectors or in windows of up to 3 columns.
        P("max5x6-s2-double", PoolDescriptor.MaxPool2d((5, 6), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x4-s1x2-double", PoolDescriptor.MaxPool2d((3, 4), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x4-s1x2-double-short-rows", PoolDescriptor.MaxPool2d((3, 4), (1, 2)), new(1, 32, 28, 28), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x3-s1x2-p1-double-two-vector-rows", PoolDescriptor.MaxPool2d((3, 3), (1, 2), (1, 1)), new(1, 64, 12, 12), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x3-s2-double-two-vector-rows", PoolDescriptor.MaxPool2d((3, 3), (2, 2)), new(1, 64, 12, 12), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x4-s2-double-short-rows", PoolDescriptor.MaxPool2d((3, 4), (2, 2)), new(1, 32, 28, 28), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max1x4-s2-double", PoolDescriptor.MaxPool2d((1, 4), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x2-s3x1", PoolDescriptor.MaxPool2d((3, 2), (3, 1)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        // The separable rows' measured class (height stride 3+, 4+ rows, width stride 3-4, 2+ columns) and its edges; at width
        // stride 2 the row blocks' sliding phase blocks are faster, on rows of any length.
        P("max7x4-s3x2", PoolDescriptor.MaxPool2d((7, 4), (3, 2), (1, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max8x3-s3x2-double", PoolDescriptor.MaxPool2d((8, 3), (3, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max8x1-s4x2-wide-rows", PoolDescriptor.MaxPool2d((8, 1), (4, 2)), new(1, 32, 12, 100), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max7x4-s3x2-three-vector-rows", PoolDescriptor.MaxPool2d((7, 4), (3, 2), (1, 2)), new(1, 32, 28, 48), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max7x4-s3x2-49-wide", PoolDescriptor.MaxPool2d((7, 4), (3, 2), (1, 2)), new(1, 32, 28, 49), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max9x6-s3x2-double-28-wide", PoolDescriptor.MaxPool2d((9, 6), (3, 2), (2, 2)), new(1, 32, 28, 28), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max3x4-s3x2-three-rows", PoolDescriptor.MaxPool2d((3, 4), (3, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        P("max6x3-s4x3-double-28x28", PoolDescriptor.MaxPool2d((6, 3), (4, 3), (3, 0)), new(1, 32, 28, 28), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max6x3-s4x3-double", PoolDescriptor.MaxPool2d((6, 3), (4, 3), (3, 0)), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // Float: the separable rows' registers beat the detour on rows of 48 to 64 cells, not on 40-wide ones.
        P("max6x6-s3x4-57-wide", PoolDescriptor.MaxPool2d((6, 6), (3, 4), (1, 3)), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max6x6-s3x4-48-wide", PoolDescriptor.MaxPool2d((6, 6), (3, 4), (1, 3)), new(1, 32, 48, 48), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max6x6-s3x4-40-wide", PoolDescriptor.MaxPool2d((6, 6), (3, 4), (1, 3)), new(1, 32, 40, 40), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max7x1-s3x3-one-column-double", PoolDescriptor.MaxPool2d((7, 1), (3, 3), (3, 0)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // At height stride 3 or more, max no in-place route took goes through channels last, one-column and dilated windows too.
        P("max6x3-s3x4-d3-dilated", PoolDescriptor.FromOnnx(PoolMode.Max, [6, 3], [3, 4], [3, 1, 2, 1], [3, 3], OnnxAutoPad.NotSet, false, false, null, PoolLayout.ChannelsFirst), new(1, 32, 28, 28), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max8x5-s3x2-d1x3-double", PoolDescriptor.FromOnnx(PoolMode.Max, [8, 5], [3, 2], [4, 1, 0, 1], [1, 3], OnnxAutoPad.NotSet, false, false, null, PoolLayout.ChannelsFirst), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        P("max8x5-s3x2-d1x3", PoolDescriptor.FromOnnx(PoolMode.Max, [8, 5], [3, 2], [4, 1, 0, 1], [1, 3], OnnxAutoPad.NotSet, false, false, null, PoolLayout.ChannelsFirst), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("max5x6-s4x1-unpadded", PoolDescriptor.MaxPool2d((5, 6), (4, 1)), new(1, 32, 57, 57), EngineRoute.MaxViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        // Height stride 2, float rows of 48 to 64 cells, width stride 2 (or 4 with 4+ columns): separable rows in registers.
        P("max7x4-s2-height-stride-2", PoolDescriptor.MaxPool2d((7, 4), (2, 2)), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max7x4-s2-height-stride-2-112-wide", PoolDescriptor.MaxPool2d((7, 4), (2, 2)), new(1, 16, 112, 112), EngineRoute.ChannelsFirstAnyRank, EngineRoute.ChannelsFirstAnyRank),
        P("max7x4-s2-height-stride-2-double", PoolDescriptor.MaxPool2d((7, 4), (2, 2)), new(1, 32, 57, 57), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
        // Height stride 3+, width stride 2, float one-column windows on rows of 48 to 64 cells: separable rows in registers.
        P("max8x1-s4x2-one-column", PoolDescriptor.MaxPool2d((8, 1), (4, 2), (4, 0)), new(1, 32, 57, 57), EngineRoute.SeparableRowsMax, EngineRoute.ChannelsFirstAnyRank),
        P("max8x1-s4x2-one-column-112-wide", PoolDescriptor.MaxPool2d((8, 1), (4, 2), (4, 0)), new(1, 16, 112, 112), EngineRoute.ChannelsFirstRowBlocks, EngineRoute.ChannelsFirstAnyRank),
        // Stride-1 averages 5 to 9 wide: eight cells share their loads.
        P("avg2x7-s1-nhwc-double", PoolDescriptor.AvgPool2d((2, 7), (1, 1), countIncludePad: false, layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows, isDouble: true),
        P("avg8x9-s1-nhwc", PoolDescriptor.AvgPool2d((8, 9), (1, 1), (0, 4), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows),
        P("avg3x7-s1-nhwc-rows-of-six", PoolDescriptor.AvgPool2d((3, 7), (1, 1), layout: Last), new(1, 32, 9, 12), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        // Averages at width strides 2 to 4, wider than the stride, whose output rows do not pair: eight cells share their loads.
        P("avg3x3-s2-p1-nhwc", PoolDescriptor.AvgPool2d(3, 2, 1, layout: Last), new(1, 64, 56, 56), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows),
        P("avg4x7-s3x2-nhwc-double", PoolDescriptor.AvgPool2d((4, 7), (3, 2), (1, 1), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows, isDouble: true),
        P("avg5x8-s4x3-nhwc", PoolDescriptor.AvgPool2d((5, 8), (4, 3), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows),
        P("avg9x2-s4x2-nhwc", PoolDescriptor.AvgPool2d((9, 2), (4, 2), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        // Where output rows pair: windows at least two columns wider than the stride take two whole rows at a time on the
        // sliding sums; one column wider, the blocked path's row pairs.
        P("avg8x4-s1x2-nhwc", PoolDescriptor.AvgPool2d((8, 4), (1, 2), (0, 2), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows),
        P("avg5x9-s1x3-rows-pair-nhwc", PoolDescriptor.AvgPool2d((5, 9), (1, 3), (0, 1), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows),
        P("avg6x9-s2x2-rows-pair-nhwc-double", PoolDescriptor.AvgPool2d((6, 9), (2, 2), (2, 3), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastWindows, isDouble: true),
        P("avg5x4-s1x3-rows-pair-nhwc", PoolDescriptor.AvgPool2d((5, 4), (1, 3), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        P("avg4x3-s1x2-rows-pair-nhwc", PoolDescriptor.AvgPool2d((4, 3), (1, 2), (1, 1), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        P("avg3x3-s1-p1-d2-nhwc", PoolDescriptor.FromOnnx(PoolMode.Average, [3, 3], [1, 1], [1, 1, 1, 1], [2, 2], OnnxAutoPad.NotSet, false, true, null, Last), new(1, 32, 28, 28), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        P("max3x9-s1x4-nhwc", PoolDescriptor.MaxPool2d((3, 9), (1, 4), (1, 4), layout: Last), new(1, 32, 57, 57), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastWindows),
        P("avg3x3-s1-p1-few-channels-nhwc", PoolDescriptor.AvgPool2d(3, 1, 1, layout: Last), new(1, 3, 28, 28), EngineRoute.ChannelsLastWindows, EngineRoute.ChannelsLastWindows),

        // Windows longer than the input, either layout; channels first through channels last with a group of planes of
        // at least a transpose block (16 float, 8 double cells).
        P("max5x5-p2-on-3x3", PoolDescriptor.MaxPool2d(5, 1, 2), new(1, 8, 3, 3), EngineRoute.ClampedWindows, EngineRoute.ClampedWindows),
        P("max5x5-p2-on-3x3-nhwc", PoolDescriptor.MaxPool2d(5, 1, 2, layout: Last), new(1, 8, 3, 3), EngineRoute.ClampedWindows, EngineRoute.ClampedWindows),
        P("max9x9-p4-on-7x7", PoolDescriptor.MaxPool2d(9, 1, 4), new(1, 512, 7, 7), EngineRoute.ClampedWindowsViaChannelsLast, EngineRoute.ClampedWindows),
        P("avg9x9-s2-p4-on-7x7-31-planes", PoolDescriptor.AvgPool2d(9, 2, 4), new(1, 31, 7, 7), EngineRoute.ClampedWindows, EngineRoute.ClampedWindows),
        P("avg5x5-p2-on-3x5-double", PoolDescriptor.AvgPool2d(5, 1, 2), new(1, 16, 3, 5), EngineRoute.ClampedWindowsViaChannelsLast, EngineRoute.ClampedWindows, isDouble: true),
        P("avg5x5-p2-on-3x5", PoolDescriptor.AvgPool2d(5, 1, 2), new(1, 32, 3, 5), EngineRoute.ClampedWindows, EngineRoute.ClampedWindows),
        P("max1d-k9-on-8-nhwc", PoolDescriptor.MaxPool1d(9, 1, 4, layout: Last), new(1, 64, 8), EngineRoute.ClampedWindows, EngineRoute.ClampedWindows),
        // Channels last, modest windows on images of more than 32 cells and 4 outputs go to the vectorized routes; huge ones stay clamped.
        P("max9x9-p4-on-7x7-nhwc", PoolDescriptor.MaxPool2d(9, 1, 4, layout: Last), new(1, 64, 7, 7), EngineRoute.ChannelsLastSeparableMax, EngineRoute.ChannelsLastSeparableMax),
        P("avg7x7-s2-p3-on-4x8-nhwc", PoolDescriptor.AvgPool2d(7, 2, 3, layout: Last), new(1, 64, 4, 8), EngineRoute.ClampedWindows, EngineRoute.ClampedWindows),
        P("avg7x7-s2-p3-on-4x9-nhwc", PoolDescriptor.AvgPool2d(7, 2, 3, layout: Last), new(1, 64, 4, 9), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        P("max1d-k41-s20-p20-on-40-nhwc-3-outputs", PoolDescriptor.MaxPool1d(41, 20, 20, layout: Last), new(1, 64, 40), EngineRoute.ClampedWindows, EngineRoute.ClampedWindows),
        P("max1d-k41-s8-p20-on-40-nhwc-5-outputs", PoolDescriptor.MaxPool1d(41, 8, 20, layout: Last), new(1, 64, 40), EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows),
        P("max1d-k257-p128-on-100-nhwc", PoolDescriptor.MaxPool1d(257, 1, 128, layout: Last), new(1, 64, 100), EngineRoute.ClampedWindows, EngineRoute.ClampedWindows),
        // Narrow-row averages on planes up to 8 x 8 with 128 planes or more: float windows of three rows or more but
        // 3x3 go through channels last; fewer planes, larger planes, 3x3, one-row windows and double stay.
        P("avg5x5-p2-on-7x7-128", PoolDescriptor.AvgPool2d(5, 1, 2), new(1, 128, 7, 7), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x7-p1x3-on-8x8-128", PoolDescriptor.AvgPool2d((3, 7), (1, 1), (1, 3)), new(1, 128, 8, 8), EngineRoute.ChannelsFirstViaChannelsLast, EngineRoute.ChannelsFirstAnyRank),
        P("avg5x5-p2-on-7x7-127", PoolDescriptor.AvgPool2d(5, 1, 2), new(1, 127, 7, 7), EngineRoute.NarrowRowsAverage, EngineRoute.ChannelsFirstAnyRank),
        P("avg5x5-p2-on-9x9-128", PoolDescriptor.AvgPool2d(5, 1, 2), new(1, 128, 9, 9), EngineRoute.NarrowRowsAverage, EngineRoute.ChannelsFirstAnyRank),
        P("avg3x3-p1-on-7x7-128", PoolDescriptor.AvgPool2d(3, 1, 1), new(1, 128, 7, 7), EngineRoute.NarrowRowsAverage, EngineRoute.ChannelsFirstAnyRank),
        P("avg1x7-p0x3-on-7x7-128", PoolDescriptor.AvgPool2d((1, 7), (1, 1), (0, 3)), new(1, 128, 7, 7), EngineRoute.NarrowRowsAverage, EngineRoute.ChannelsFirstAnyRank),
        P("avg5x5-p2-on-7x7-128-double", PoolDescriptor.AvgPool2d(5, 1, 2), new(1, 128, 7, 7), EngineRoute.NarrowRowsAverage, EngineRoute.ChannelsFirstAnyRank, isDouble: true),
    ];

    public static TheoryData<string> PinNames() => [.. Pins.Select(p => p.Name)];

    [Theory]
    [MemberData(nameof(PinNames))]
    public void Each_configuration_takes_its_pinned_route(string name)
    {
        var pin = Pins.Single(p => p.Name == name);
        var plan = new PoolPlan(pin.Descriptor, pin.Shape, pin.Descriptor.GetOutputShape(pin.Shape));
        var route = pin.IsDouble ? EngineRoutes<double>.RouteOf(plan) : EngineRoutes<float>.RouteOf(plan);
        Assert.Equal(HasAvx512 ? pin.WithAvx512 : pin.Otherwise, route);
    }

    [Fact]
    public void Every_route_is_pinned_by_some_configuration()
    {
        // On AVX-512 every route of the table must be reached by a pinned configuration: one that is not is either
        // dead (delete it) or untested (pin a configuration that takes it).
        var pinned = Pins.Select(p => HasAvx512 ? p.WithAvx512 : p.Otherwise).Append(EngineRoute.MaxIndicesPooling).ToHashSet();
        var tabled = EngineRoutes<float>.ChannelsFirst.Concat(EngineRoutes<float>.ChannelsLast).Concat(EngineRoutes<float>.MaxWithIndices)
            .Select(r => r.Route).Where(r => HasAvx512 || !IsAvx512Only(r));
        var unpinned = tabled.Except(pinned).ToList();
        Assert.True(unpinned.Count == 0, $"No pinned configuration takes: {string.Join(", ", unpinned)}.");
    }

    private static bool IsAvx512Only(EngineRoute route) => route is EngineRoute.ClampedWindowsViaChannelsLast or EngineRoute.NarrowRowsMax or EngineRoute.FlatPlaneMax or
        EngineRoute.FlatPairsAverage or EngineRoute.NarrowRowsAverage or EngineRoute.ColumnWindows or EngineRoute.ChannelsFirstViaChannelsLast or EngineRoute.SeparableRowsMax or EngineRoute.ChannelsFirstRowBlocks or EngineRoute.MaxViaChannelsLast or
        EngineRoute.ChannelsLastSlidingMax or EngineRoute.ChannelsLastSlidingSum or EngineRoute.ChannelsLastBlocked;

    [Fact]
    public void Each_table_lists_each_route_once_and_ends_with_a_route_for_everything()
    {
        foreach (var work in Enum.GetValues<EngineWork>())
        {
            var routes = EngineRoutes<float>.For(work);
            Assert.Equal(routes.Count, routes.Select(r => r.Route).Distinct().Count());
            Assert.All(routes, r => Assert.False(string.IsNullOrWhiteSpace(r.Why)));
            // The last row takes any call: a 3-d dilated window with stride 3, which no fast route takes.
            var d = PoolDescriptor.MaxPool3d(3, 3, 1, dilation: 2, layout: work == EngineWork.ChannelsLast ? Last : First);
            var shape = new PoolShape(1, 3, 9, 9, 9);
            Assert.Equal(routes[^1].Route, EngineRoutes<float>.Select(work, new PoolPlan(d, shape, d.GetOutputShape(shape))).Route);
        }
    }

    [Fact]
    public void Rows_share_a_routine_only_where_the_routine_picks_its_path_by_their_conditions()
    {
        // bench --routes counts rows that run one routine once: only the channels-last window rows do.
        var shared = EngineRoutes<float>.ChannelsLast.Where(r => r.Routine == EngineRoutes<float>.ChannelsLast[^1].Routine).Select(r => r.Route);
        Assert.Equal([EngineRoute.ChannelsLastSlidingMax, EngineRoute.ChannelsLastSlidingSum, EngineRoute.ChannelsLastBlocked, EngineRoute.ChannelsLastWindows], shared);
        foreach (var work in Enum.GetValues<EngineWork>().Where(w => w != EngineWork.ChannelsLast))
        {
            var routes = EngineRoutes<float>.For(work);
            Assert.Equal(routes.Count, routes.Select(r => r.Routine).Distinct().Count());
        }
    }

    [Fact]
    public void Indices_take_the_indices_route_in_either_layout()
    {
        foreach (var layout in new[] { First, Last })
        {
            var d = PoolDescriptor.MaxPool2d(3, 1, 1, layout: layout);
            var shape = new PoolShape(1, 192, 28, 28);
            Assert.Equal(EngineRoute.MaxIndicesPooling,
                EngineRoutes<float>.Select(EngineRoutes<float>.WorkOf(d, withIndices: true), new PoolPlan(d, shape, d.GetOutputShape(shape))).Route);
        }
    }

    [Fact]
    public void Generated_kernels_hand_the_engine_exactly_the_shapes_it_pools_a_plane_at_a_time()
    {
        foreach (var pin in Pins.Where(p => !p.IsDouble))
        {
            var output = pin.Descriptor.GetOutputShape(pin.Shape);
            var plan = new PoolPlan(pin.Descriptor, pin.Shape, output);
            var route = EngineRoutes<float>.RouteOf(plan);
            // The plane-at-a-time routes, and the channels-last detour on the small planes those routes leave it.
            bool leftToDetour = NarrowRowsMax<float>.LeavesToDetour(plan) || FlatPlaneMax<float>.LeavesToDetour(plan) ||
                NarrowRowsAverage<float>.LeavesToDetour(plan);
            bool planeAtATime = route is EngineRoute.WholePlaneWindows or EngineRoute.NarrowRowsMax or EngineRoute.FlatPlaneMax or
                EngineRoute.FlatPairsAverage or EngineRoute.NarrowRowsAverage ||
                (route == EngineRoute.ChannelsFirstViaChannelsLast && leftToDetour);
            Assert.Equal(planeAtATime, KernelArguments.EngineHasPlanePath<float>(pin.Descriptor, pin.Shape, output));
        }
    }

    public static TheoryData<PoolMode, PoolLayout, int, bool> GlobalCases() => new()
    {
        { PoolMode.Average, First, 2048, false }, // resnet50.head
        { PoolMode.Max, First, 64, false },
        { PoolMode.Average, First, 64, true },
        { PoolMode.Average, Last, 2048, false },
        { PoolMode.Average, Last, 3, false },
        { PoolMode.Max, Last, 2048, true },
        { PoolMode.Average, Last, 2048, true },
    };

    [Theory]
    [MemberData(nameof(GlobalCases))]
    public void Global_pooling_takes_its_pinned_route(PoolMode mode, PoolLayout layout, int channels, bool isDouble)
    {
        var route = isDouble ? GlobalRoutes<double>.Select(mode, layout, channels).Route : GlobalRoutes<float>.Select(mode, layout, channels).Route;
        bool avx = Vector256.IsHardwareAccelerated && Avx.IsSupported;
        int lanes = Vector512.IsHardwareAccelerated ? 64 : 32; // bytes of the panels' vectors
        var expected = layout == First
            ? (HasAvx512 || (avx && !isDouble) ? GlobalRoute.PlaneBlocks : GlobalRoute.PlaneLoop)
            : mode == PoolMode.Max ? GlobalRoute.ChannelsLastMax
            : (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated) && channels * (isDouble ? 8 : 4) >= lanes
                ? GlobalRoute.ChannelsLastAveragePanels : GlobalRoute.ChannelsLastAverage;
        Assert.Equal(expected, route);
    }
}
