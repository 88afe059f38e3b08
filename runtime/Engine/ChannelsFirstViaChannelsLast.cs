using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Engine;

/// <summary>
/// Channels-first planes pooled on the channels-last routes: each group of two vectors' worth of consecutive (n, c)
/// planes (32 floats, 16 doubles) is transposed into one channels-last image, pooled there with every lane a channel,
/// and the output transposed back.
/// </summary>
/// <remarks>
/// Vectorized along the output width, a channels-first plane needs its input split into stride phases and fills its
/// vectors only as far as a row's outputs reach (17 to 19 outputs on a 57-wide row at stride 3 fill two vectors just over half);
/// across channels, every tap of every window is one full vector load at any stride, width or dilation. Each lane still
/// reduces its own window in the same order, so the bits are those of every other route; the transposes are copies.
/// </remarks>
internal static class ChannelsFirstViaChannelsLast<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The cells of a 256-bit transpose block: the least an output plane holds here.</summary>
    private static int Block => Vector256<T>.Count;

    /// <summary>The cells of a 512-bit transpose block: the least an input plane holds here.</summary>
    private static int WideBlock => Vector512<T>.Count;

    /// <summary>Planes pooled together: two channel vectors, so the channels-last routes run eight chains at a time.</summary>
    public static int GroupSize => 2 * Vector512<T>.Count;

    /// <summary>
    /// The largest transposed input image of a group, in bytes: a group's planes and their image together stay within
    /// a 1 MB L2 with room for the output (on 60- to 64-wide float planes the route lost where it wins on 57-wide ones).
    /// </summary>
    private const int MaxGroupBytes = 448 * 1024;

    /// <summary>The largest plane the route takes, in cells: a group of them fills <see cref="MaxGroupBytes"/>.</summary>
    public static int MaxPlaneCells => MaxGroupBytes / (GroupSize * Unsafe.SizeOf<T>());

    /// <summary>
    /// Whether the route takes the call: AVX-512, a 1-d or 2-d plane of at least a 512-bit transpose block of input cells
    /// (16 floats, 8 doubles), at most <see cref="MaxPlaneCells"/> of them, a group's worth of planes, and a
    /// configuration where the two transposes cost less than the lanes and phase splits they save
    /// (<see cref="SavesMoreThanTransposes"/>) or a small plane (<see cref="TakesSmallPlanes"/>).
    /// </summary>
    public static bool Applies(in PoolPlan plan) => FitsGroups(plan) && (SavesMoreThanTransposes(plan) || TakesSmallPlanes(plan));

    /// <summary>
    /// Whether the route takes windows longer than their axis (<see cref="ClampedWindows{T}"/>' calls) within its size
    /// limits: channels last every tap is one vector for 32 (16) planes or more, where channels-first ClampedWindows
    /// reduces a cell at a time (measurements in bench/notes.md).
    /// </summary>
    public static bool TakesClampedWindows(in PoolPlan plan) => ClampedWindows<T>.Applies(plan) && FitsGroups(plan);

    /// <summary>
    /// Whether <see cref="Run"/> pools <paramref name="plan"/> exactly: every call whose planes fit the groups, but for
    /// windows or strides longer than their axis, which take <see cref="RunClampedWindows"/>.
    /// </summary>
    public static bool Handles(in PoolPlan plan) => FitsGroups(plan) && !ClampedWindows<T>.Applies(plan);

    /// <summary>AVX-512, a 1-d or 2-d plane of a transpose block to <see cref="MaxPlaneCells"/> cells, a group's worth of planes.</summary>
    private static bool FitsGroups(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && plan.IsPlanar && plan.Input.PlaneCount >= GroupSize
        && plan.InputPlane >= WideBlock && plan.InputPlane <= MaxPlaneCells;

    /// <summary>Planes up to this many cells (20 x 20, late layers' maps) are small for <see cref="TakesSmallPlanes"/>.</summary>
    public const int SmallPlaneCells = 400;

    /// <summary>Float planes up to this many cells (14 x 14) are small for <see cref="TakesSmallPlanes"/> even where the row blocks apply.</summary>
    private const int SmallFloatPlaneCells = 196;

    /// <summary>
    /// On small planes, every call the row blocks do not take, and averages in windows one column wide and several rows
    /// tall; on float planes also the row blocks' other calls, where the call has planes for images of several groups
    /// (<see cref="WideGroup"/>) but for max at width stride 1 on planes larger than 14 x 14, or on planes up to 14 x 14
    /// at width strides of 2 or more or from 8 taps. The other routes' set-up per
    /// plane (the any-rank path's prepared copy and call per row, the row blocks' per row) outweighs their work there,
    /// where this route pools 32 planes or more at once; with a group to an image the row blocks keep dense few-tap
    /// rows, where the transposes cost more (measurements in bench/notes.md).
    /// </summary>
    private static bool TakesSmallPlanes(in PoolPlan plan)
    {
        if (plan.InputPlane > SmallPlaneCells) return false;
        if (typeof(T) == typeof(float) && plan.Input.PlaneCount >= 2 * GroupSize
            && (plan.InputPlane <= SmallFloatPlaneCells || !plan.IsMax || plan.Width.Stride > 1)) return true;
        if (typeof(T) == typeof(float) && plan.InputPlane <= SmallFloatPlaneCells
            && (plan.Width.Stride >= 2 || plan.Height.Kernel * plan.Width.Kernel >= 8)) return true;
        if (!plan.IsMax && plan.Width.Kernel == 1 && plan.Height.Kernel >= 2) return true;
        return !ChannelsFirstRowBlocks<T>.Applies(plan);
    }

    /// <summary>
    /// Where pooling across channels saved more than the two transposes cost, measured route against route in one process
    /// on 57 x 57 planes (bench/notes.md).
    /// <list type="bullet">
    /// <item>Float averages on 2-d planes by the window's shape (<see cref="TakesFloatAverageByColumns"/>), and: at width
    /// stride 3, whose output rows fill their vectors worst, from 3 taps;
    /// windows of two columns or more at width stride 4 from 4, and of two rows and columns or more at width stride 2 and
    /// height stride 1-2 from 6; otherwise from 9 at width strides 2 and up (1-d planes too); at width stride 1 from 14
    /// at height stride 1-2 (16 on 1-d planes), from 20 otherwise. Windows one column wide on 2-d planes at width stride
    /// 3, and at 4 on planes up to <see cref="RowSharingPaysAboveCells"/> cells.</item>
    /// <item>Double averages on 2-d planes at width strides 3-4: windows of three columns or more from 3 taps, of two
    /// from 6, of one from 10; at width stride 2: three columns or more from 5 taps, two from 4 at height stride 1 and
    /// from 10 otherwise, one from 9 at height strides 1-2 and from 18 otherwise; at width stride 1 from 16 taps. 1-d
    /// planes by taps alone, as one column.</item>
    /// <item>Float max at width stride 3: from 9 taps at height stride 2 or more, 6-18 taps in windows of up to 4 rows
    /// at height stride 1, dilated from 5 taps in windows of up to 3 rows. At width stride 4, undilated: from 7 taps at
    /// height stride 3 or more, from 5 in windows of up to 5 rows and 2 columns or more at height stride 2, and in
    /// windows of 1-2 rows at height stride 1. Not the calls on rows of 48 to 64 cells that the separable rows pool
    /// faster (<see cref="SeparableRowsMax{T}.BeatsTheDetour"/>).</item>
    /// </list>
    /// Double max at width stride 2 and height stride 1, on rows of up to four vectors or in windows of up to 3 columns,
    /// that the row blocks would pool with a loop over the window's taps, which measured slower there
    /// (<see cref="ChannelsFirstRowBlocks{T}.LoopsOverStrideTwoTaps"/>).
    /// Float max at width strides 1-2, dilated max at width stride 4 and other double max stay channels first here:
    /// separable row maxima or the row blocks beat the transposes there (the table's last row before the any-rank path
    /// takes some of them after all, <see cref="TakesMaxLeftToAnyRank"/>).
    /// <para>
    /// Windows shorter than the height stride, undilated, leave rows unread, and the route does not transpose those: it
    /// takes them at width strides 3-4 in windows of two columns or more (double: three taps or more), max windows of
    /// one row at width stride 2 from 4 columns, and float max at width stride 1 from 6 columns.
    /// </para>
    /// <para>
    /// Max windows dilated down the rows at a height stride of 2 or more and width strides 3-4, two columns wide or more
    /// and dilated along the row by at most 2 (float at width stride 4: not at all).
    /// </para>
    /// </summary>
    private static bool SavesMoreThanTransposes(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        int taps = height.Kernel * width.Kernel;
        bool isFloat = typeof(T) == typeof(float);
        if (TakesRowSkippingWindows(plan, isFloat)) return true;
        if (plan.IsMax)
        {
            if (TakesRowDilatedMax(plan, isFloat)) return true;
            if (!isFloat)
                return width.Stride == 2 && height.Stride == 1 && (width.Length <= 4 * Vector512<T>.Count || width.Kernel <= 3)
                    && ChannelsFirstRowBlocks<T>.LoopsOverStrideTwoTaps(plan);
            if (IsWideSameStride1(height, width)) return true;
            if (height.Dilation != 1 || width.Dilation != 1) return width.Stride == 3 && height.Kernel <= 3 && taps >= 5;
            if (SeparableRowsMax<T>.BeatsTheDetour(plan)) return false;
            return width.Stride switch
            {
                3 => height.Stride >= 2 ? taps >= 9 : height.Kernel <= 4 && taps is >= 6 and <= 18,
                4 => height.Stride switch
                {
                    1 => height.Kernel <= 2 && taps >= 5,
                    2 => height.Kernel <= 5 && width.Kernel >= 2 && taps >= 5,
                    _ => taps >= 7,
                },
                _ => false,
            };
        }
        bool planar = height.Length > 1; // few-tap windows measured on 2-d planes only
        if (!isFloat)
        {
            int wide = planar ? width.Kernel : 1; // 1-d planes: the rules measured before by taps alone
            return width.Stride switch
            {
                3 or 4 => taps >= (wide >= 3 ? 3 : wide == 2 ? 6 : 10),
                2 when wide >= 3 => taps >= 5,
                2 when wide == 2 => taps >= (height.Stride == 1 ? 4 : 10),
                2 => taps >= (height.Stride <= 2 ? 9 : 18),
                _ => taps >= 16,
            };
        }
        if (planar && TakesFloatAverageByColumns(height, width)) return true;
        bool columns = width.Kernel >= 2; // windows one column wide keep the channels-first paths' single phase
        // Windows one column wide at width stride 3, and at 4 on planes where the any-rank path shares little work.
        if (planar && !columns && (width.Stride == 3 || (width.Stride == 4 && plan.InputPlane <= RowSharingPaysAboveCells))) return true;
        return width.Stride switch
        {
            1 => taps >= (planar && height.Stride <= 2 ? 14 : height.Stride == 1 ? 16 : 20),
            3 => taps >= (planar ? 3 : 9),
            2 when planar && columns && height.Kernel >= 2 && height.Stride <= 2 => taps >= 6,
            4 when planar && columns => taps >= 4,
            _ => taps >= 9,
        };
    }

    /// <summary>
    /// Stride 1 both ways, the output as wide as the input, undilated, windows of 5 columns or more: float max here
    /// measured faster than <see cref="FlatPlaneMax{T}"/>'s flat passes, which then leaves them here (bench/notes.md).
    /// </summary>
    public static bool IsWideSameStride1(in AxisPlan height, in AxisPlan width) =>
        height.Stride == 1 && width.Stride == 1 && width.Output == width.Length && width.Kernel >= 5
        && height.Dilation == 1 && width.Dilation == 1;

    /// <summary>
    /// Float averages on 2-d planes, undilated, that the route takes by the window's shape (<see cref="SavesMoreThanTransposes"/>):
    /// at width stride 1, windows of two columns or more from 4 taps in two rows or more at height stride 1 (one row
    /// stays channels first, where the row blocks sum four output rows at a time), from 6 at height stride 2 (one row:
    /// from 6 columns), from 10 taps or 5 columns at height stride 3, from 4 columns beyond; at width stride 2, three
    /// columns or more but not four (whose pairs the row blocks take whole) nor one row of three, and two columns in
    /// windows of two rows or more at height stride 1; at width stride 4, from 3 taps in two columns or more.
    /// </summary>
    private static bool TakesFloatAverageByColumns(in AxisPlan height, in AxisPlan width)
    {
        if (height.Dilation != 1 || width.Dilation != 1) return false;
        int rows = height.Kernel, columns = width.Kernel, taps = rows * columns;
        return width.Stride switch
        {
            1 => columns >= 2 && height.Stride switch
            {
                1 => rows >= 2 && taps >= 4,
                2 => (rows >= 2 && taps >= 6) || columns >= 6,
                3 => taps >= 10 || columns >= 5,
                _ => columns >= 4,
            },
            2 => (columns >= 3 && columns != 4 && !(rows == 1 && columns == 3)) || (rows >= 2 && columns == 2 && height.Stride == 1),
            4 => columns >= 2 && taps >= 3,
            _ => false,
        };
    }

    /// <summary>
    /// Whether the route takes windows shorter than the height stride, undilated (<see cref="SavesMoreThanTransposes"/>);
    /// those it does not are asked the general rules.
    /// </summary>
    private static bool TakesRowSkippingWindows(in PoolPlan plan, bool isFloat)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (height.Kernel >= height.Stride || height.Dilation > 1 || width.Dilation > 1) return false;
        if (width.Stride >= 3) return width.Kernel >= 2 && (isFloat || height.Kernel * width.Kernel >= 3);
        if (!plan.IsMax) return false;
        return width.Stride == 2
            ? height.Kernel == 1 && width.Kernel >= 4
            : isFloat && width.Kernel >= 6;
    }

    /// <summary>
    /// Whether the route takes max windows dilated down the rows (<see cref="SavesMoreThanTransposes"/>); those it does
    /// not are asked the general rules.
    /// </summary>
    private static bool TakesRowDilatedMax(in PoolPlan plan, bool isFloat)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (height.Dilation == 1 || height.Stride < 2 || width.Stride < 3 || width.Kernel < 2 || width.Dilation > 2) return false;
        return !isFloat || width.Stride == 3 || width.Dilation == 1;
    }

    /// <summary>Pools planes <c>[firstPlane, firstPlane + planeCount)</c>: whole groups here, the rest on the next route that takes the call.</summary>
    public static void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount) =>
        RunGroups(EngineRoute.ChannelsFirstViaChannelsLast, plan, input, output, firstPlane, planeCount);

    /// <summary><see cref="Run"/> for windows longer than their axis: the planes left over go to <see cref="ClampedWindows{T}"/>.</summary>
    public static void RunClampedWindows(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount) =>
        RunGroups(EngineRoute.ClampedWindowsViaChannelsLast, plan, input, output, firstPlane, planeCount);

    /// <summary>
    /// Whether the table's row before the any-rank path sends <paramref name="plan"/> here: max that no in-place route
    /// took, at a height stride of 3 or more (where the any-rank path's output rows share few row maxima); on 2-d planes
    /// of up to <see cref="RowSharingPaysAboveCells"/> cells all but windows one column wide at width stride 1; on larger
    /// planes undilated windows of two columns or more at height stride 1 and width stride 3, and float undilated windows
    /// at width stride 2 of up to 16 taps at height stride 1 and 32 at height stride 2 (the channels-last max pools such
    /// output rows several at a time); otherwise in windows of two columns or more, but float at width stride 2, windows
    /// of 5 rows or more at height stride 1 and windows of two rows or more on unpadded rows at width stride 1, and double
    /// windows of more than 24 taps, where the any-rank path's shared row maxima (on the input itself, for unpadded rows)
    /// measured faster (bench/notes.md).
    /// </summary>
    public static bool TakesMaxLeftToAnyRank(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        if (!plan.IsMax || !Handles(plan)) return false;
        if (height.Stride >= 3) return true;
        if (plan.InputPlane <= RowSharingPaysAboveCells && height.Length > 1) return !(width.Kernel == 1 && width.Stride == 1);
        if (height.Stride == 1 && width.Stride == 3 && height.Dilation == 1 && width.Kernel >= 2) return true;
        if (typeof(T) == typeof(float) && width.Stride == 2 && height.Stride <= 2 && height.Dilation == 1 && height.Kernel * width.Kernel <= 16 * height.Stride)
            return true;
        bool sharesRowMaxima = (height.Stride == 1 && height.Kernel >= 5) || (width.Stride == 1 && width.IsUnpadded && height.Kernel >= 2);
        return width.Kernel >= 2 && !(typeof(T) == typeof(float) && width.Stride == 2) && !sharesRowMaxima
            && !(typeof(T) == typeof(double) && height.Kernel * width.Kernel > 24);
    }

    /// <summary>
    /// The in-place routes that share work across output rows (the any-rank path's row maxima, SeparableRowsMax's
    /// scratch rows) pool max faster than this route only on planes of more cells than this: on smaller ones their
    /// set-up per plane outweighs what they share.
    /// </summary>
    public const int RowSharingPaysAboveCells = 1200;

    /// <summary><see cref="Run"/> for <see cref="TakesMaxLeftToAnyRank"/>'s calls: the planes left over go to the any-rank path.</summary>
    public static void RunMaxLeftToAnyRank(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount) =>
        RunGroups(EngineRoute.MaxViaChannelsLast, plan, input, output, firstPlane, planeCount);

    /// <summary>Pools whole groups of the planes here and hands the rest to the first route after <paramref name="route"/>'s row that takes the call.</summary>
    private static void RunGroups(EngineRoute route, in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        // The input transposes read and write whole 512-bit blocks through pointers: shorter planes never get here.
        if (plan.InputPlane < WideBlock) throw new InvalidOperationException("KernelGen internal error: a plane is shorter than a transpose block.");
        int wide = WideGroup(plan, planeCount);
        int done = wide > GroupSize ? PoolGroups(plan, input, output, firstPlane, planeCount, wide) : 0;
        done += PoolGroups(plan, input, output, firstPlane + done, planeCount - done, GroupSize);
        if (done < planeCount)
            EngineRoutes<T>.SelectAfter(route, EngineWork.ChannelsFirst, plan)
                .Run(plan, input, output, default, firstPlane + done, planeCount - done);
    }

    /// <summary>The largest image of several groups' planes, in bytes: within L2, with room for the planes and the output.</summary>
    private const int MaxWideGroupBytes = 256 * 1024;

    /// <summary>The most groups one image holds: 8, 256 float (128 double) channels.</summary>
    private const int MaxGroupsPerImage = 8;

    /// <summary>
    /// How many planes to pool together: <see cref="GroupSize"/>, or on small planes a power-of-two multiple of it up to
    /// <see cref="MaxGroupsPerImage"/>, while the image stays within <see cref="MaxWideGroupBytes"/> and the call has that
    /// many planes. The channels-last routes' set-up per call and per cell then serves several groups (on 7 x 7 planes it
    /// cost more than their work; measurements in bench/notes.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int WideGroup(in PoolPlan plan, int planeCount)
    {
        int group = GroupSize;
        while (group < MaxGroupsPerImage * GroupSize && 2 * group <= planeCount && (long)2 * group * plan.InputPlane * Unsafe.SizeOf<T>() <= MaxWideGroupBytes)
            group *= 2;
        return group;
    }

    /// <summary>
    /// Pools the whole groups of <paramref name="group"/> planes among <c>[firstPlane, firstPlane + planeCount)</c>,
    /// each through one channels-last image of <paramref name="group"/> channels; returns how many planes it pooled.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int PoolGroups(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount, int group)
    {
        int groups = planeCount / group, inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        if (groups == 0) return 0;
        var image = new PoolShape(1, group, plan.Input.Depth, plan.Input.Height, plan.Input.Width);
        var pooled = new PoolShape(1, group, plan.Output.Depth, plan.Output.Height, plan.Output.Width);
        var groupPlan = new PoolPlan(plan.Descriptor.WithLayout(PoolLayout.ChannelsLast), image, pooled);
        var groupRoute = EngineRoutes<T>.Select(EngineWork.ChannelsLast, groupPlan);
        int outputRows = plan.Output.Depth * plan.Output.Height, width = plan.Input.Width;
        // Rows no window reads are not transposed: the channels-last routes read only their windows' rows.
        int[] rowRuns = ScratchArrays<int>.Rent(plan.Input.Height + 1);
        int runBounds = RowsRead(plan.Height, rowRuns);
        // A vector more than the images need, so that both can start on a cache line: every load of the channels-last
        // routes is then whole (a rented array starts wherever the GC put it; they are pinned while in use).
        int lanes = Lanes512<T>.Count;
        T[] inScratch = ScratchArrays<T>.Rent(inPlane * group + lanes), outScratch = ScratchArrays<T>.Rent(outPlane * group + lanes);
        try
        {
            fixed (T* inRented = inScratch, outRented = outScratch)
            {
                T* inImage = Lanes512<T>.Aligned(inRented), outImage = Lanes512<T>.Aligned(outRented);
                var transposedIn = new Span<T>(inImage, inPlane * group);
                var transposedOut = new Span<T>(outImage, outPlane * group);
                for (int g = 0; g < groups; g++)
                {
                    long plane = firstPlane + (long)g * group;
                    ReadOnlySpan<T> planes = input.Slice(checked((int)(plane * inPlane)), inPlane * group);
                    Span<T> outPlanes = output.Slice(checked((int)(plane * outPlane)), outPlane * group);
                    fixed (T* from = planes)
                        for (int i = 0; i < runBounds; i += 2) ToChannelsLast(from, inImage, inPlane, group, rowRuns[i] * width, rowRuns[i + 1] * width);
                    groupRoute.Run(groupPlan, transposedIn, transposedOut, default, 0, outputRows);
                    fixed (T* to = outPlanes) ToChannelsFirst(outImage, to, outPlane, group);
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(inScratch);
            ScratchArrays<T>.Return(outScratch);
            ScratchArrays<int>.Return(rowRuns);
        }
        return groups * group;
    }

    /// <summary>
    /// Writes the runs of input rows some window reads to <paramref name="runs"/> as (first, end) pairs (one run of every
    /// row when the windows leave none out) and returns how many values it wrote. <paramref name="runs"/> holds at least
    /// one more value than there are rows.
    /// </summary>
    private static int RowsRead(in AxisPlan height, int[] runs)
    {
        if (!height.SkipsPositions)
        {
            (runs[0], runs[1]) = (0, height.Length);
            return 2;
        }
        bool[] read = ScratchArrays<bool>.Rent(height.Length);
        try
        {
            height.MarkRead(read.AsSpan(0, height.Length));
            int count = 0;
            for (int row = 0; row < height.Length; row++)
            {
                if (!read[row]) continue;
                if (count > 0 && runs[count - 1] == row) runs[count - 1] = row + 1;
                else { runs[count++] = row; runs[count++] = row + 1; }
            }
            return count;
        }
        finally { ScratchArrays<bool>.Return(read); }
    }

    /// <summary>
    /// <c>to[cell * group + p] = from[p * cells + cell]</c> for the cells <c>[first, end)</c> (and, where that range
    /// is shorter than a transpose block, the cells next to it) of <paramref name="group"/> planes of <paramref name="cells"/>
    /// cells (at least a block) into one channels-last image.
    /// </summary>
    private static unsafe void ToChannelsLast(T* from, T* to, int cells, int group, int first, int end) =>
        TransposeGroup(from, to, cells, group, first, end, toChannelsLast: true);

    /// <summary>
    /// <c>to[p * cells + cell] = from[cell * group + p]</c>: the inverse of <see cref="ToChannelsLast"/>, for every
    /// cell; output planes smaller than a 256-bit block (late layers' small maps) a cell at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ToChannelsFirst(T* from, T* to, int cells, int group)
    {
        if (cells >= Block)
        {
            TransposeGroup(to, from, cells, group, 0, cells, toChannelsLast: false);
            return;
        }
        for (int cell = 0; cell < cells; cell++)
            for (int p = 0; p < group; p++)
                to[(nint)p * cells + cell] = from[(nint)cell * group + p];
    }

    /// <summary>
    /// Transposes between <paramref name="planes"/> (channels first) and <paramref name="image"/> (channels last, a
    /// whole number of 512-bit blocks across its <paramref name="group"/> channels) the cells <c>[first, end)</c>, a
    /// square block of cells and planes at a time: 512-bit blocks (16 floats, 8 doubles), and 256-bit ones on output
    /// planes smaller than that (at least one such block: <see cref="ToChannelsFirst"/>). The last block of the range
    /// overlaps the one before (and a range shorter than a block takes the block that ends at its end, or the plane's first).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransposeGroup(T* planes, T* image, int cells, int group, int first, int end, bool toChannelsLast)
    {
        bool wide = cells >= WideBlock;
        int block = wide ? WideBlock : Block;
        for (int cell = first; ; cell += block)
        {
            int c0 = Math.Max(0, Math.Min(cell, end - block));
            for (int p = 0; p < group; p += block)
            {
                T* inPlanes = planes + (nint)p * cells + c0, inImage = image + (nint)c0 * group + p;
                if (wide)
                {
                    if (toChannelsLast) Transposer512.Transpose(inPlanes, cells, inImage, group);
                    else Transposer512.Transpose(inImage, group, inPlanes, cells);
                }
                else Transposer256.Transpose(inImage, group, inPlanes, cells); // input planes hold a wide block (Applies)
            }
            if (cell + block >= end) break;
        }
    }

    /// <summary>
    /// A square block of a 512-bit vector's lanes (16 floats, 8 doubles) transposed in registers: whole rows loaded,
    /// then in-lane unpacks and 128-bit-lane shuffles.
    /// </summary>
    private static class Transposer512
    {
        /// <summary>Row r of the block (cells at <c>from + r * fromStride</c>) becomes column r (<c>to + c * toStride</c>, lane r).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Transpose(T* from, nint fromStride, T* to, nint toStride)
        {
            if (typeof(T) == typeof(float)) Transpose16((float*)from, fromStride, (float*)to, toStride);
            else Transpose8((double*)from, fromStride, (double*)to, toStride);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Transpose8(double* from, nint fromStride, double* to, nint toStride)
        {
            // Row pairs unpacked: t0 = (r0, r1) at columns 0 2 4 6, t1 = (r0, r1) at columns 1 3 5 7, ...
            var r0 = Vector512.Load(from); var r1 = Vector512.Load(from + fromStride);
            var r2 = Vector512.Load(from + 2 * fromStride); var r3 = Vector512.Load(from + 3 * fromStride);
            var r4 = Vector512.Load(from + 4 * fromStride); var r5 = Vector512.Load(from + 5 * fromStride);
            var r6 = Vector512.Load(from + 6 * fromStride); var r7 = Vector512.Load(from + 7 * fromStride);
            Columns(Avx512F.UnpackLow(r0, r1), Avx512F.UnpackLow(r2, r3), Avx512F.UnpackLow(r4, r5), Avx512F.UnpackLow(r6, r7), to, 0, toStride);
            Columns(Avx512F.UnpackHigh(r0, r1), Avx512F.UnpackHigh(r2, r3), Avx512F.UnpackHigh(r4, r5), Avx512F.UnpackHigh(r6, r7), to, 1, toStride);
        }

        /// <summary>
        /// Columns j, j + 2, j + 4, j + 6 from four vectors whose 128-bit lane L holds rows (2i, 2i + 1) at column 2L + j.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Columns(Vector512<double> t0, Vector512<double> t1, Vector512<double> t2, Vector512<double> t3, double* to, int j, nint toStride)
        {
            var evenTop = Avx512F.Shuffle4x128(t0, t1, 0x88); // lanes 0 and 2 of t0, then of t1: columns j, j + 4 of rows 0-3
            var evenBottom = Avx512F.Shuffle4x128(t2, t3, 0x88); // the same of rows 4-7
            var oddTop = Avx512F.Shuffle4x128(t0, t1, 0xDD); // lanes 1 and 3: columns j + 2, j + 6
            var oddBottom = Avx512F.Shuffle4x128(t2, t3, 0xDD);
            Avx512F.Shuffle4x128(evenTop, evenBottom, 0x88).Store(to + j * toStride);
            Avx512F.Shuffle4x128(evenTop, evenBottom, 0xDD).Store(to + (j + 4) * toStride);
            Avx512F.Shuffle4x128(oddTop, oddBottom, 0x88).Store(to + (j + 2) * toStride);
            Avx512F.Shuffle4x128(oddTop, oddBottom, 0xDD).Store(to + (j + 6) * toStride);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Transpose16(float* from, nint fromStride, float* to, nint toStride)
        {
            // Four rows at a time into 4x4 blocks: q(4i + j) holds, in 128-bit lane L, rows 4i..4i + 3 of column 4L + j.
            var (q0, q1, q2, q3) = Quads(from, fromStride);
            var (q4, q5, q6, q7) = Quads(from + 4 * fromStride, fromStride);
            var (q8, q9, q10, q11) = Quads(from + 8 * fromStride, fromStride);
            var (q12, q13, q14, q15) = Quads(from + 12 * fromStride, fromStride);
            Columns(q0, q4, q8, q12, to, 0, toStride);
            Columns(q1, q5, q9, q13, to, 1, toStride);
            Columns(q2, q6, q10, q14, to, 2, toStride);
            Columns(q3, q7, q11, q15, to, 3, toStride);
        }

        /// <summary>Rows 0-3 at <paramref name="from"/> as four vectors; vector j's 128-bit lane L holds the four rows' column 4L + j.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Quads(float* from, nint fromStride)
        {
            var r0 = Vector512.Load(from); var r1 = Vector512.Load(from + fromStride);
            var r2 = Vector512.Load(from + 2 * fromStride); var r3 = Vector512.Load(from + 3 * fromStride);
            Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble(), t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
            Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble(), t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
            return (Avx512F.UnpackLow(t0, t2).AsSingle(), Avx512F.UnpackHigh(t0, t2).AsSingle(),
                Avx512F.UnpackLow(t1, t3).AsSingle(), Avx512F.UnpackHigh(t1, t3).AsSingle());
        }

        /// <summary>Columns j, j + 4, j + 8, j + 12 from the quads of column j of rows 0-3, 4-7, 8-11 and 12-15.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Columns(Vector512<float> rows0, Vector512<float> rows4, Vector512<float> rows8, Vector512<float> rows12, float* to, int j, nint toStride)
        {
            var low = Avx512F.Shuffle4x128(rows0, rows4, 0x44); // lanes 0-1 of each: columns j, j + 4
            var high = Avx512F.Shuffle4x128(rows0, rows4, 0xEE); // lanes 2-3: columns j + 8, j + 12
            var low8 = Avx512F.Shuffle4x128(rows8, rows12, 0x44);
            var high8 = Avx512F.Shuffle4x128(rows8, rows12, 0xEE);
            Avx512F.Shuffle4x128(low, low8, 0x88).Store(to + j * toStride);
            Avx512F.Shuffle4x128(low, low8, 0xDD).Store(to + (j + 4) * toStride);
            Avx512F.Shuffle4x128(high, high8, 0x88).Store(to + (j + 8) * toStride);
            Avx512F.Shuffle4x128(high, high8, 0xDD).Store(to + (j + 12) * toStride);
        }
    }

    /// <summary>
    /// A square block of a 256-bit vector's lanes (8 floats, 4 doubles) transposed in registers, for output planes
    /// smaller than a 512-bit block: each row's halves loaded into the halves of two vectors, then only in-lane unpacks
    /// and shuffles, no lane-crossing ones.
    /// </summary>
    private static class Transposer256
    {
        /// <summary>Row r of the block (cells at <c>from + r * fromStride</c>) becomes column r (<c>to + c * toStride</c>, lane r).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Transpose(T* from, nint fromStride, T* to, nint toStride)
        {
            if (typeof(T) == typeof(float)) Transpose8((float*)from, fromStride, (float*)to, toStride);
            else Transpose4((double*)from, fromStride, (double*)to, toStride);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Transpose4(double* from, nint fromStride, double* to, nint toStride)
        {
            // Row pairs (0, 2) and (1, 3) in the halves: r0 = a00 a01 | a20 a21, r1 = a10 a11 | a30 a31, ...
            var r0 = Halves(from, from + 2 * fromStride);
            var r1 = Halves(from + fromStride, from + 3 * fromStride);
            var r2 = Halves(from + 2, from + 2 * fromStride + 2);
            var r3 = Halves(from + fromStride + 2, from + 3 * fromStride + 2);
            Avx.UnpackLow(r0, r1).Store(to);
            Avx.UnpackHigh(r0, r1).Store(to + toStride);
            Avx.UnpackLow(r2, r3).Store(to + 2 * toStride);
            Avx.UnpackHigh(r2, r3).Store(to + 3 * toStride);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Transpose8(float* from, nint fromStride, float* to, nint toStride)
        {
            // Rows i and i + 4 in the halves: r0 = a00..a03 | a40..a43, ..., r4 = a04..a07 | a44..a47, ...
            var r0 = Halves(from, from + 4 * fromStride);
            var r1 = Halves(from + fromStride, from + 5 * fromStride);
            var r2 = Halves(from + 2 * fromStride, from + 6 * fromStride);
            var r3 = Halves(from + 3 * fromStride, from + 7 * fromStride);
            var r4 = Halves(from + 4, from + 4 * fromStride + 4);
            var r5 = Halves(from + fromStride + 4, from + 5 * fromStride + 4);
            var r6 = Halves(from + 2 * fromStride + 4, from + 6 * fromStride + 4);
            var r7 = Halves(from + 3 * fromStride + 4, from + 7 * fromStride + 4);
            Columns(r0, r1, r2, r3, to, toStride);
            Columns(r4, r5, r6, r7, to + 4 * toStride, toStride);
        }

        /// <summary>Four columns from four vectors holding rows (i, i + 4) of four consecutive cells in their halves.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void Columns(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, float* to, nint toStride)
        {
            var t0 = Avx.UnpackLow(r0, r1); // a00 a10 a01 a11 | a40 a50 a41 a51
            var t1 = Avx.UnpackHigh(r0, r1); // a02 a12 a03 a13 | ...
            var t2 = Avx.UnpackLow(r2, r3); // a20 a30 a21 a31 | a60 a70 a61 a71
            var t3 = Avx.UnpackHigh(r2, r3);
            Avx.Shuffle(t0, t2, 0x44).Store(to); // a00 a10 a20 a30 | a40 a50 a60 a70
            Avx.Shuffle(t0, t2, 0xEE).Store(to + toStride);
            Avx.Shuffle(t1, t3, 0x44).Store(to + 2 * toStride);
            Avx.Shuffle(t1, t3, 0xEE).Store(to + 3 * toStride);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector256<TLane> Halves<TLane>(TLane* low, TLane* high) where TLane : unmanaged =>
            Vector256.Create(Vector128.Load(low), Vector128.Load(high));
    }
}
