using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Shared;

namespace KernelGen.Engine;

/// <summary>
/// The general engine for channels-last (N[D]HWC) data, vectorized across channels: the C values of one spatial cell
/// are contiguous, so every tap of a window is a plain vector load at any stride or dilation, with no shuffles.
/// </summary>
/// <remarks>
/// Each output cell lists the offsets of its window's cells inside the input once (padding is skipped: it is the
/// reduction's identity); one pass then reduces them for every channel block in registers. Taps are visited in
/// row-major window order, so sums round exactly as in the channels-first engine and in PyTorch. With stride 1 along
/// the row (for max, also 3-wide windows with stride 2), neighbouring cells share work: max reduces each input column
/// down the window once for four cells (<see cref="ChannelsLastSlidingMax{T}"/>), average shares their loads between
/// four or eight cells (<see cref="ChannelsLastSlidingSum{T}"/>).
/// Other max windows, where that reads clearly fewer vectors, go separably (<see cref="MaxSeparable"/>): the window's
/// rows first, for a whole output row at once, then its columns. At other strides, widths and dilations, interior cells
/// go four at a time with eight independent chains (<see cref="ChannelsLastBlocked{T}"/>).
/// </remarks>
internal static class ChannelsLastPooling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Output row r is (n, od, oh) flattened: all its output cells and channels.

    /// <summary>
    /// Whether consecutive output rows' windows share at least half their rows (or are dilated down the rows), so that
    /// at width strides of 2 and more the blocked path pools output rows together, loading the shared rows once.
    /// </summary>
    public static bool PairsWindowRows(in PoolPlan plan) => plan.Height.Dilation > 1 || 2 * plan.Height.Stride <= plan.Height.Kernel;

    /// <summary>Whether max takes the sliding path (<see cref="ChannelsLastSlidingMax{T}"/>) inside <see cref="RunWindows"/>.</summary>
    public static bool TakesSlidingMax(in PoolPlan plan) =>
        ChannelsLastSlidingMax<T>.Applies(plan) && ChannelsLastSlidingMax<T>.IsCheaperThanSeparable(plan) && !SeparableWinsOnShortRows(plan);

    /// <summary>
    /// Short image rows (width x channels), up to this many bytes: there the separable max beat the sliding one at
    /// stride 1 wherever it applies, whatever the operation counts say (measurements in bench/notes.md).
    /// </summary>
    private const int ShortRowBytes = 8 * 1024;

    private static bool SeparableWinsOnShortRows(in PoolPlan plan) =>
        plan.Width.Stride == 1 && SeparableIsCheaper(plan) && (long)plan.Width.Length * plan.Input.Channels * Unsafe.SizeOf<T>() <= ShortRowBytes;

    /// <summary>Whether max goes separably (<see cref="RunSeparableMax"/>); asked after <see cref="TakesSlidingMax"/>.</summary>
    public static bool TakesSeparableMax(in PoolPlan plan) => plan.IsMax && SeparableIsCheaper(plan);

    /// <summary>
    /// Pools output rows <c>[firstRow, firstRow + rowCount)</c> separably (max only).
    /// </summary>
    public static void RunSeparableMax(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstRow, int rowCount)
    {
        if (plan.Input.Channels == 0) return;
        MaxSeparable(plan, input, output, firstRow, rowCount);
    }

    /// <summary>
    /// Pools output rows <c>[firstRow, firstRow + rowCount)</c> window by window, with the sliding paths where they
    /// apply.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static void RunWindows(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstRow, int rowCount)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int channels = plan.Input.Channels;
        if (channels == 0) return;
        bool slidingMax = TakesSlidingMax(plan);
        long rowsPerImage = (long)depth.Output * height.Output;
        int imageSize = plan.InputPlane * channels;
        int[] taps = ScratchArrays<int>.Rent(depth.Kernel * height.Kernel * width.Kernel);
        int[] interiorTaps = ScratchArrays<int>.Rent(depth.Kernel * height.Kernel * width.Kernel);
        int[] rowOffsets = ScratchArrays<int>.Rent(depth.Kernel * height.Kernel);
        using var depthWindows = new AxisWindows(depth);
        using var heightWindows = new AxisWindows(height);
        using var widthWindows = new AxisWindows(width);
        long[] columnFactors = ScratchArrays<long>.Rent(width.Output);
        for (int ow = 0; ow < width.Output; ow++)
            columnFactors[ow] = width.DivisorFactor(ow, plan.Descriptor.CountIncludePad);
        // The cells whose windows lie inside the row, when they share one divisor, go at once: first, where they
        // apply, the sliding paths take four cells at a time, sharing work between neighbours; then the blocked path
        // (ChannelsLastBlocked) four at a time at any stride (not max at stride 1). With stride 1 the rest are one flat
        // reduction per row (channel j of cell ow takes the same taps at offsets C further for each next cell); with
        // larger strides they go cell by cell.
        bool slidingSum = ChannelsLastSlidingSum<T>.TakesInteriorCells(plan), blocked = ChannelsLastBlocked<T>.Applies(plan);
        // Where consecutive windows share at least half their rows (or are dilated down the rows), output rows take the
        // blocked path together, loading the shared rows once: averages two rows (ChannelsLastBlocked.RunRowPair), max up
        // to MaxRowsAtOnce rows that all share a row, each shared row reduced once (ChannelsLastBlocked.RunMaxRowRun).
        bool poolsRowsTogether = blocked && width.Stride > 1 && !slidingMax && PairsWindowRows(plan);
        int[] nextRowOffsets = poolsRowsTogether ? ScratchArrays<int>.Rent(depth.Kernel * height.Kernel) : [];
        int[] unionOffsets = poolsRowsTogether ? ScratchArrays<int>.Rent(MaxRowsAtOnce * depth.Kernel * height.Kernel) : [];
        long runEnd = -1; // output rows before this one, after the row that started the run, had their interior cells pooled with it
        int runCells = 0;
        // Averages the sliding sums take on rows of eight cells or more go a whole row at a time, each cell with its divisor.
        bool wholeRows = ChannelsLastSlidingSum<T>.TakesWholeRows(plan);
        T[] cellDivisors = wholeRows ? ScratchArrays<T>.Rent(width.Output) : [];
        // Where consecutive windows share at least half their rows, two whole rows at a time, the shared rows loaded once.
        bool rowPairs = ChannelsLastSlidingSum<T>.TakesRowPairs(plan);
        int[] pairRowOffsets = rowPairs ? ScratchArrays<int>.Rent(depth.Kernel * height.Kernel) : [];
        T[] pairDivisors = rowPairs ? ScratchArrays<T>.Rent(width.Output) : [];
        var (interiorFirst, interiorEnd) = width.Stride == 1 || slidingMax || blocked ? InteriorCells(widthWindows, width) : (0, 0);
        for (int ow = interiorFirst + 1; ow < interiorEnd; ow++)
            if (columnFactors[ow] != columnFactors[interiorFirst]) interiorEnd = interiorFirst; // no shared divisor
        try
        {
            for (long r = firstRow; r < firstRow + rowCount; r++)
            {
                long n = r / rowsPerImage;
                int od = (int)(r % rowsPerImage / height.Output), oh = (int)(r % height.Output);
                ReadOnlySpan<T> image = input.Slice(checked((int)(n * imageSize)), imageSize);
                long rowFactor = plan.IsMax ? 0 : plan.RowDivisorFactor(od, oh);
                int windowRows = WindowRows(plan, depthWindows, heightWindows, od, oh, rowOffsets);
                if (wholeRows)
                {
                    int rowLength = width.Output * channels;
                    for (int ow = 0; ow < width.Output; ow++) cellDivisors[ow] = Divisor(plan, rowFactor, columnFactors[ow]);
                    Span<T> outputRow = output.Slice(checked((int)(r * rowLength)), rowLength);
                    if (rowPairs && r + 1 < firstRow + rowCount && oh + 1 < height.Output)
                    {
                        int pairRows = WindowRows(plan, depthWindows, heightWindows, od, oh + 1, pairRowOffsets);
                        long pairFactor = plan.RowDivisorFactor(od, oh + 1);
                        for (int ow = 0; ow < width.Output; ow++) pairDivisors[ow] = Divisor(plan, pairFactor, columnFactors[ow]);
                        if (ChannelsLastSlidingSum<T>.RunRowPair(plan, image, rowOffsets.AsSpan(0, windowRows), pairRowOffsets.AsSpan(0, pairRows),
                            cellDivisors.AsSpan(0, width.Output), pairDivisors.AsSpan(0, width.Output), outputRow,
                            output.Slice(checked((int)((r + 1) * rowLength)), rowLength)))
                        {
                            r++;
                            continue;
                        }
                    }
                    ChannelsLastSlidingSum<T>.RunRow(plan, image, rowOffsets.AsSpan(0, windowRows), cellDivisors.AsSpan(0, width.Output), outputRow);
                    continue;
                }
                // A window whose columns are all inside the input has the same cells, relative to its first column,
                // as every other such window of the row: their offsets are listed once per row.
                int interiorCount = 0;
                for (int i = 0; i < windowRows; i++)
                    for (int kw = 0; kw < width.Kernel; kw++)
                        interiorTaps[interiorCount++] = rowOffsets[i] + kw * width.Dilation * channels;
                bool interiorAtOnce = interiorEnd > interiorFirst && interiorCount > 0;
                int doneEnd = interiorEnd; // the end of the interior cells done at once
                if (r < runEnd)
                {
                    doneEnd = interiorFirst + runCells;
                }
                else if (interiorAtOnce)
                {
                    ReadOnlySpan<T> from = image[checked((int)(width.WindowStart(interiorFirst) * channels))..];
                    Span<T> cells = output.Slice(checked((int)((r * width.Output + interiorFirst) * channels)), (interiorEnd - interiorFirst) * channels);
                    if (plan.IsMax)
                    {
                        int slid = slidingMax ? ChannelsLastSlidingMax<T>.Run(plan, from, rowOffsets.AsSpan(0, windowRows), interiorEnd - interiorFirst, cells) : 0;
                        var (rowsAtOnce, shift) = slid == 0 && poolsRowsTogether
                            ? RowRun(plan, r, firstRow + rowCount, rowFactor, depthWindows, heightWindows, od, oh, rowOffsets, windowRows, nextRowOffsets, unionOffsets)
                            : (1, 0);
                        if (rowsAtOnce > 1)
                        {
                            slid = ChannelsLastBlocked<T>.RunMaxRowRun(plan, from, unionOffsets.AsSpan(0, windowRows + (rowsAtOnce - 1) * shift), windowRows, shift, rowsAtOnce,
                                interiorEnd - interiorFirst, output[checked((int)((r * width.Output + interiorFirst) * channels))..], width.Output * channels);
                            (runEnd, runCells) = (r + rowsAtOnce, slid);
                        }
                        // With stride 1 max keeps the flat reduction below: one call for the whole run, and blocking did not pay there.
                        else if (blocked && width.Stride > 1) slid += RunBlocked(plan, from, rowOffsets.AsSpan(0, windowRows), interiorEnd - interiorFirst, slid, T.Zero, cells);
                        if (width.Stride == 1)
                            VectorOps<T>.Reduce<MaxOp<T>>(from[(slid * channels)..], interiorTaps.AsSpan(0, interiorCount), cells[(slid * channels)..], startFromZero: false);
                        else
                            doneEnd = interiorFirst + slid;
                    }
                    else
                    {
                        T divisor = Divisor(plan, rowFactor, columnFactors[interiorFirst]);
                        int slid = slidingSum ? ChannelsLastSlidingSum<T>.Run(plan, from, rowOffsets.AsSpan(0, windowRows), interiorEnd - interiorFirst, divisor, cells) : 0;
                        var (rowsAtOnce, shift) = slid == 0 && poolsRowsTogether
                            ? RowRun(plan, r, firstRow + rowCount, rowFactor, depthWindows, heightWindows, od, oh, rowOffsets, windowRows, nextRowOffsets, unionOffsets)
                            : (1, 0);
                        if (rowsAtOnce > 1)
                        {
                            slid = RunRowPair(plan, from, output, r, interiorFirst, interiorEnd, unionOffsets, windowRows, shift, divisor, cells);
                            (runEnd, runCells) = (r + 2, slid);
                        }
                        else if (blocked) slid += RunBlocked(plan, from, rowOffsets.AsSpan(0, windowRows), interiorEnd - interiorFirst, slid, divisor, cells);
                        if (width.Stride == 1)
                        {
                            cells = cells[(slid * channels)..];
                            VectorOps<T>.Reduce<AddOp<T>>(from[(slid * channels)..], interiorTaps.AsSpan(0, interiorCount), cells, startFromZero: true);
                            VectorOps<T>.Accumulate<DivideOp<T>>(cells, divisor);
                        }
                        else
                        {
                            doneEnd = interiorFirst + slid;
                        }
                    }
                }
                int skipFrom = interiorAtOnce && doneEnd > interiorFirst ? interiorFirst : -1; // the cells done above
                for (int ow = 0; ow < width.Output; ow++)
                {
                    if (ow == skipFrom)
                    {
                        ow = doneEnd - 1;
                        continue;
                    }
                    var (wFirst, wEnd) = widthWindows[ow];
                    long wStart = width.WindowStart(ow);
                    Span<T> cell = output.Slice(checked((int)((r * width.Output + ow) * channels)), channels);
                    if (wFirst == 0 && wEnd == width.Kernel && interiorCount > 0)
                    {
                        ReadOnlySpan<T> from = image[checked((int)(wStart * channels))..];
                        if (plan.IsMax)
                        {
                            VectorOps<T>.Reduce<MaxOp<T>>(from, interiorTaps.AsSpan(0, interiorCount), cell, startFromZero: false);
                        }
                        else
                        {
                            VectorOps<T>.Reduce<AddOp<T>>(from, interiorTaps.AsSpan(0, interiorCount), cell, startFromZero: true);
                            VectorOps<T>.Accumulate<DivideOp<T>>(cell, Divisor(plan, rowFactor, columnFactors[ow]));
                        }
                        continue;
                    }

                    // A window clipped by the row's ends: its cells inside the input, in row-major order, as offsets
                    // into the image.
                    int count = 0;
                    for (int i = 0; i < windowRows; i++)
                        for (int kw = wFirst; kw < wEnd; kw++)
                            taps[count++] = rowOffsets[i] + (int)((wStart + (long)kw * width.Dilation) * channels);

                    if (plan.IsMax)
                    {
                        if (count == 0) cell.Fill(T.NegativeInfinity); // a window made only of padding (ONNX limits only)
                        else VectorOps<T>.Reduce<MaxOp<T>>(image, taps.AsSpan(0, count), cell, startFromZero: false);
                    }
                    else
                    {
                        if (count == 0) cell.Clear();
                        else VectorOps<T>.Reduce<AddOp<T>>(image, taps.AsSpan(0, count), cell, startFromZero: true);
                        // Division, not multiplication by a reciprocal: it is what PyTorch does, and it rounds once.
                        VectorOps<T>.Accumulate<DivideOp<T>>(cell, Divisor(plan, rowFactor, columnFactors[ow]));
                    }
                }
            }
        }
        finally
        {
            ScratchArrays<int>.Return(taps);
            ScratchArrays<int>.Return(interiorTaps);
            ScratchArrays<int>.Return(rowOffsets);
            if (poolsRowsTogether)
            {
                ScratchArrays<int>.Return(nextRowOffsets);
                ScratchArrays<int>.Return(unionOffsets);
            }
            ScratchArrays<long>.Return(columnFactors);
            if (wholeRows) ScratchArrays<T>.Return(cellDivisors);
            if (rowPairs)
            {
                ScratchArrays<int>.Return(pairRowOffsets);
                ScratchArrays<T>.Return(pairDivisors);
            }
        }
    }

    /// <summary>
    /// Whether the separable max reads clearly fewer vectors per output cell: about k_h x stride_w for the window's
    /// rows (the scratch row covers every input column) plus k_w, against k_h x k_w cell by cell; the scratch row's
    /// store and reload are the margin. It pays for YOLO's 5x5 s1 and GoogLeNet's 3x3 s1, not for VGG's 2x2 s2 or
    /// ResNet's 3x3 s2, which stay cell by cell. At width strides of 2 and more, where the cells go four at a time
    /// (<see cref="ChannelsLastBlocked{T}"/>), the separable max beats that from five rows and at most 4/7 of the reads
    /// (2/3 for double); and where its pass along the rows shares its loads (<see cref="ChannelsLastSlidingSum{T}.TakesMaxRows"/>)
    /// also in windows one row tall (read in place) and at most 4/5 of the reads (7/10 for double) where the blocked
    /// path does not share window rows between output rows (<see cref="BlockedSharesRows"/>) (measurements in bench/notes.md).
    /// </summary>
    private static bool SeparableIsCheaper(in PoolPlan plan)
    {
        long rows = (long)plan.Depth.Kernel * plan.Height.Kernel, taps = plan.Width.Kernel;
        long separable = rows * plan.Width.Stride + taps, cellByCell = rows * taps;
        bool isFloat = typeof(T) == typeof(float);
        bool blocked = plan.Width.Stride > 1 && ChannelsLastBlocked<T>.Applies(plan);
        bool muchFewerReads = rows >= 5 && (isFloat ? 7 * separable <= 4 * cellByCell : 3 * separable <= 2 * cellByCell);
        if (blocked && ChannelsLastSlidingSum<T>.TakesMaxRows(plan))
        {
            if (rows == 1) return true;
            bool fewerReads = isFloat ? 5 * separable <= 4 * cellByCell : 10 * separable <= 7 * cellByCell;
            return muchFewerReads || (fewerReads && !BlockedSharesRows(plan));
        }
        if (rows <= 1) return false;
        return blocked ? muchFewerReads : 4 * separable <= 3 * cellByCell;
    }

    /// <summary>
    /// Where the blocked path's runs of output rows, which reduce each shared window row once, beat the separable max
    /// whose rows of column maxima share their loads: rows that pair, but for windows of at most 3 rows at height stride 1
    /// and windows 5 columns wide or more at width stride 2 and height strides of 2 or more (bench/notes.md).
    /// </summary>
    private static bool BlockedSharesRows(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (!PairsWindowRows(plan)) return false;
        if (height.Stride == 1) return (long)plan.Depth.Kernel * height.Kernel > 3;
        return !(width.Stride == 2 && width.Kernel >= 5);
    }

    /// <summary>
    /// Max, separably: for each output row, the maximum over the window's input rows of the whole row at once (one
    /// long contiguous reduction over width x channels into a scratch row), then each output cell's maximum over its
    /// window's columns of that scratch row. Max is exact in any order, so this gives the bits of the cell-by-cell
    /// path with k_h + k_w reductions per cell instead of k_h x k_w (YOLO's 5x5: 10 instead of 25).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxSeparable(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstRow, int rowCount)
    {
        AxisPlan depth = plan.Depth, height = plan.Height, width = plan.Width;
        int channels = plan.Input.Channels;
        long rowsPerImage = (long)depth.Output * height.Output;
        int imageSize = plan.InputPlane * channels, rowSize = width.Length * channels;
        int[] rowTaps = ScratchArrays<int>.Rent(depth.Kernel * height.Kernel);
        int[] columnTaps = ScratchArrays<int>.Rent(2 * width.Kernel); // per cell, then the interior's
        int line = Lanes512<T>.Count; // a vector more, so that the row of maxima starts on a cache line (pinned while used)
        T[] columnMaxima = ScratchArrays<T>.Rent(rowSize + line);
        using var depthWindows = new AxisWindows(depth);
        using var heightWindows = new AxisWindows(height);
        using var widthWindows = new AxisWindows(width);
        // With stride 1, the output cells whose windows lie inside the row are one flat reduction per row: channel j of
        // cell ow is the maximum over kw of scratch value (ow + kw * dilation - padBegin) * C + j, the same taps at
        // consecutive offsets for consecutive cells. One call per row instead of one per cell.
        int interiorFirst = 0, interiorEnd = 0;
        // Along rows of eight cells or more, four cells at a time, each column of maxima loaded once for all the cells that take it.
        bool maxRows = ChannelsLastSlidingSum<T>.TakesMaxRows(plan);
        if (width.Stride == 1)
        {
            (interiorFirst, interiorEnd) = InteriorCells(widthWindows, width);
            for (int kw = 0; kw < width.Kernel; kw++) columnTaps[width.Kernel + kw] = kw * width.Dilation * channels; // after the per-cell taps
        }
        try
        {
            fixed (T* rented = columnMaxima)
            {
                var scratch = new Span<T>(Lanes512<T>.Aligned(rented), rowSize);
                for (long r = firstRow; r < firstRow + rowCount; r++)
                {
                    long n = r / rowsPerImage;
                    int od = (int)(r % rowsPerImage / height.Output), oh = (int)(r % height.Output);
                    ReadOnlySpan<T> image = input.Slice(checked((int)(n * imageSize)), imageSize);
                    int rows = WindowRows(plan, depthWindows, heightWindows, od, oh, rowTaps);
                    Span<T> outputRow = output.Slice(checked((int)(r * width.Output * channels)), width.Output * channels);
                    if (rows == 0)
                    {
                        outputRow.Fill(T.NegativeInfinity); // windows made only of padding (ONNX limits only)
                        continue;
                    }
                    // Down the window's rows, the whole row at once (a single row is read in place).
                    ReadOnlySpan<T> maxima = image.Slice(rowTaps[0], rowSize);
                    if (rows > 1)
                    {
                        VectorOps<T>.Reduce<MaxOp<T>>(image, rowTaps.AsSpan(0, rows), scratch, startFromZero: false);
                        maxima = scratch;
                    }
                    if (maxRows)
                    {
                        ChannelsLastSlidingSum<T>.RunMaxRow(plan, maxima, outputRow);
                        continue;
                    }
                    // Across the window's columns: the interior cells at once (stride 1), the others cell by cell.
                    if (interiorEnd > interiorFirst)
                    {
                        VectorOps<T>.Reduce<MaxOp<T>>(maxima[checked((int)(width.WindowStart(interiorFirst) * channels))..], columnTaps.AsSpan(width.Kernel, width.Kernel),
                            outputRow.Slice(interiorFirst * channels, (interiorEnd - interiorFirst) * channels), startFromZero: false);
                    }
                    for (int ow = 0; ow < width.Output; ow++)
                    {
                        if (ow == interiorFirst && interiorEnd > interiorFirst) ow = interiorEnd;
                        if (ow >= width.Output) break;
                        var (wFirst, wEnd) = widthWindows[ow];
                        long wStart = width.WindowStart(ow);
                        int count = 0;
                        for (int kw = wFirst; kw < wEnd; kw++)
                            columnTaps[count++] = (int)((wStart + (long)kw * width.Dilation) * channels);
                        Span<T> cell = outputRow.Slice(ow * channels, channels);
                        if (count == 0) cell.Fill(T.NegativeInfinity);
                        else VectorOps<T>.Reduce<MaxOp<T>>(maxima, columnTaps.AsSpan(0, count), cell, startFromZero: false);
                    }
                }
            }
        }
        finally
        {
            ScratchArrays<int>.Return(rowTaps);
            ScratchArrays<int>.Return(columnTaps);
            ScratchArrays<T>.Return(columnMaxima);
        }
    }

    /// <summary>
    /// <see cref="ChannelsLastBlocked{T}.Run"/> on the interior cells after the first <paramref name="done"/> of
    /// <paramref name="cells"/>, whose first window starts at <paramref name="from"/>; returns how many it did.
    /// </summary>
    private static int RunBlocked(in PoolPlan plan, ReadOnlySpan<T> from, ReadOnlySpan<int> rowOffsets, int cells, int done, T divisor, Span<T> output)
    {
        int channels = plan.Input.Channels;
        return ChannelsLastBlocked<T>.Run(plan, from[checked((int)((long)done * plan.Width.Stride * channels))..], rowOffsets, cells - done, divisor,
            output[(done * channels)..]);
    }

    private static bool IsWhole((int First, int End) window, int kernel) => window.First == 0 && window.End == kernel;

    /// <summary>The first run of output cells whose windows lie wholly inside the row, as [first, end) (empty if none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (int First, int End) InteriorCells(in AxisWindows widthWindows, in AxisPlan width)
    {
        int first = 0;
        while (first < width.Output && !IsWhole(widthWindows[first], width.Kernel)) first++;
        int end = first;
        while (end < width.Output && IsWhole(widthWindows[end], width.Kernel)) end++;
        return (first, end);
    }

    /// <summary>
    /// Lists the input rows inside output row (od, oh)'s window, in window order, as the offset in the image of each
    /// row's first value, ((d * H + h) * W) * C; returns how many there are (rows in the padding add nothing).
    /// </summary>
    private static int WindowRows(in PoolPlan plan, in AxisWindows depthWindows, in AxisWindows heightWindows, int od, int oh, int[] rowOffsets)
    {
        AxisPlan depth = plan.Depth, height = plan.Height;
        var (dFirst, dEnd) = depthWindows[od];
        var (hFirst, hEnd) = heightWindows[oh];
        long dStart = depth.WindowStart(od), hStart = height.WindowStart(oh);
        int count = 0;
        for (int kd = dFirst; kd < dEnd; kd++)
            for (int kh = hFirst; kh < hEnd; kh++)
                rowOffsets[count++] = (int)(((dStart + (long)kd * depth.Dilation) * height.Length + hStart + (long)kh * height.Dilation) * plan.Width.Length * plan.Input.Channels);
        return count;
    }

    /// <summary>The most consecutive output rows max pools together (<see cref="ChannelsLastBlocked{T}.RunMaxRowRun"/>).</summary>
    internal const int MaxRowsAtOnce = 4;

    /// <summary>
    /// How many consecutive output rows from r on go together, and how many window rows each adds to the one before
    /// (<c>(1, 0)</c> if none): all in the call's range and the same image, each window the one before's moved down by
    /// the same rows; an average pairs two rows with the same divisor factor that share at least half their rows, max
    /// takes up to <see cref="MaxRowsAtOnce"/> rows that all share a row. Asked only where the call's windows overlap by
    /// half (<c>poolsRowsTogether</c> in <see cref="RunWindows"/>); the checks here catch the rows near the edges, whose
    /// windows the padding clips. Writes the first row's window rows and then each next row's new ones to
    /// <paramref name="union"/>.
    /// </summary>
    private static (int Rows, int Shift) RowRun(in PoolPlan plan, long r, long end, long rowFactor, in AxisWindows depthWindows,
        in AxisWindows heightWindows, int od, int oh, int[] rows, int count, int[] nextRows, int[] union)
    {
        long most = Math.Min(plan.IsMax ? MaxRowsAtOnce : 2, Math.Min(end - r, plan.Height.Output - oh));
        if (count < 2 || most < 2) return (1, 0);
        Array.Copy(rows, union, count);
        int run = 1, shift = 0;
        for (; run < most; run++)
        {
            if (!plan.IsMax && plan.RowDivisorFactor(od, oh + run) != rowFactor) break;
            if (WindowRows(plan, depthWindows, heightWindows, od, oh + run, nextRows) != count) break;
            if (run == 1)
            {
                shift = 1;
                while (shift < count && rows[shift] != nextRows[0]) shift++;
                if (!plan.IsMax && 2 * shift > count) break;
            }
            int moved = run * shift; // this row's window is the first's from row `moved` on, plus `moved` rows
            if (moved >= count || !rows.AsSpan(moved, count - moved).SequenceEqual(nextRows.AsSpan(0, count - moved))) break;
            Array.Copy(nextRows, count - shift, union, count + (run - 1) * shift, shift);
        }
        return run > 1 ? (run, shift) : (1, 0);
    }

    /// <summary>Averages the interior cells of output rows r and r + 1 together; returns how many cells of each it did.</summary>
    private static int RunRowPair(in PoolPlan plan, ReadOnlySpan<T> from, Span<T> output, long r,
        int interiorFirst, int interiorEnd, int[] union, int count, int shift, T divisor, Span<T> cells)
    {
        int channels = plan.Input.Channels, width = plan.Width.Output;
        Span<T> nextCells = output.Slice(checked((int)(((r + 1) * width + interiorFirst) * channels)), (interiorEnd - interiorFirst) * channels);
        return ChannelsLastBlocked<T>.RunRowPair(plan, from, union.AsSpan(0, count + shift), shift, interiorEnd - interiorFirst, divisor, cells, nextCells);
    }

    /// <summary><see cref="PoolPlan.Divisor(long, int)"/> with the column's factor looked up rather than recomputed.</summary>
    private static T Divisor(in PoolPlan plan, long rowFactor, long columnFactor) =>
        T.CreateTruncating(PoolDivisorRule.Divisor(rowFactor * columnFactor, plan.Descriptor.DivisorOverride));
}
