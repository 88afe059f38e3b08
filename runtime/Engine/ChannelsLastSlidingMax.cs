using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelGen.Specialization;

namespace KernelGen.Engine;

/// <summary>
/// The general engine's channels-last max over the interior cells of an output row, for stride 1 along the row
/// (GoogLeNet's 3x3 s1) and 3-wide windows with stride 2 (ResNet's stem): four neighbouring output cells at a time,
/// one channel vector at a time. The window's rows are reduced once per input column into column maxima held in
/// registers, and the four cells take their maxima across those columns, neighbours sharing their common columns.
/// </summary>
/// <remarks>
/// The separable path (<see cref="ChannelsLastPooling{T}"/>) stores the rows' maxima to a scratch row and reads them
/// back, and makes kh - 1 + kw - 1 maxima per output vector; here a 3x3 window takes 4.5 (12 down the rows and 6
/// across for four cells), and nothing goes through memory. Cell by cell, a 3x3 stride 2 window takes 8 maxima and 9
/// loads per output vector, here 6.5 and 6.75. Max is exact in any order, NaN propagates (the
/// two-instruction maximum), and the result gets +0 added so that a zero maximum is +0, as everywhere in the engine.
/// The generator's <c>SeparableMaxChannelsLastEmitter</c> shares column maxima too, for kernels whose window is known at
/// compile time; neither can replace the other without a slowdown on some shapes (bench/notes.md, "Issue 19: one owner").
/// </remarks>
internal static class ChannelsLastSlidingMax<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int CellsPerStep = ChannelsLastSliding.CellsPerStep;

    /// <summary>
    /// Whether this path applies: AVX-512, float or double, a vector of channels or more, undilated windows 2 to 5
    /// columns wide with stride 1 along the row, or 3 wide with stride 2 (ResNet's stem).
    /// </summary>
    public static bool Applies(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && plan.IsMax && plan.Width.Dilation == 1 && plan.Input.Channels >= Vector512<T>.Count &&
        (plan.Width.Stride == 1 && plan.Width.Kernel is >= 2 and <= 5 || plan.Width.Stride == 2 && plan.Width.Kernel == 3);

    /// <summary>
    /// Whether this path makes fewer maxima per four output vectors than the separable one, which makes kh - 1 down
    /// the rows and kw - 1 across a vector and stores and reloads a scratch row (counted as 2 more). A 3x3 window
    /// takes 18 here against 24, a 5x5 one 46 against 40, so YOLO's stays separable (the timings agree; see
    /// bench/notes.md).
    /// </summary>
    /// <remarks>
    /// With stride 2 the separable path reads a scratch cell per input column, twice the output's, so it stays out:
    /// a 3x3 s2 window takes 9 x 2 + 8 = 26 maxima here for four cells, 32 cell by cell.
    /// </remarks>
    public static bool IsCheaperThanSeparable(in PoolPlan plan)
    {
        if (plan.Width.Stride == 2) return true;
        long rows = (long)plan.Depth.Kernel * plan.Height.Kernel;
        int kw = plan.Width.Kernel;
        int across = kw switch { 2 => 4, 3 => 6, 4 => 10, _ => 14 }; // see Across
        return (CellsPerStep + kw - 1) * (rows - 1) + across <= CellsPerStep * (rows - 1 + kw - 1 + 2);
    }

    /// <summary>
    /// Pools the first cells of a run of <paramref name="cells"/> interior output cells, four at a time, and returns
    /// how many it did (a multiple of four); the caller does the rest. <paramref name="image"/> starts at the first
    /// cell's window's first column, and <paramref name="rowOffsets"/> lists the window's rows inside the input
    /// (offsets into <paramref name="image"/>).
    /// </summary>
    public static int Run(in PoolPlan plan, ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, Span<T> output) =>
        plan.Width.Stride == 2
        ? ChannelsLastSliding.Run(image, rowOffsets, cells, kernelWidth: 3, stride: 2, plan.Input.Channels, output, new ThreeWideStride2Step())
        : plan.Width.Kernel switch
        {
            2 => Run<Count2>(image, rowOffsets, cells, plan.Input.Channels, output),
            3 => Run<Count3>(image, rowOffsets, cells, plan.Input.Channels, output),
            4 => Run<Count4>(image, rowOffsets, cells, plan.Input.Channels, output),
            _ => Run<Count5>(image, rowOffsets, cells, plan.Input.Channels, output),
        };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run<TColumns>(ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int channels, Span<T> output)
        where TColumns : IConstantCount =>
        ChannelsLastSliding.Run(image, rowOffsets, cells, TColumns.Value, stride: 1, channels, output, new Step<TColumns>());

    private readonly struct Step<TColumns> : ISlidingStep<T> where TColumns : IConstantCount
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Pool(T* at, int* rows, int rowCount, int channels, T* to)
        {
            ColumnMaxima(at, rows, rowCount, channels, 3 + TColumns.Value, out var m0, out var m1, out var m2, out var m3, out var m4, out var m5, out var m6, out var m7, out _);
            Across<TColumns>(m0, m1, m2, m3, m4, m5, m6, m7, to, channels);
        }
    }

    /// <summary>
    /// Four cells of a 3-wide window with stride 2: they cover 9 input columns, and cell u takes columns 2u to 2u + 2
    /// (only column 2u + 2 is shared, with the next cell).
    /// </summary>
    private readonly struct ThreeWideStride2Step : ISlidingStep<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Pool(T* at, int* rows, int rowCount, int channels, T* to)
        {
            ColumnMaxima(at, rows, rowCount, channels, 9, out var m0, out var m1, out var m2, out var m3, out var m4, out var m5, out var m6, out var m7, out var m8);
            Store(to, channels, Max(Max(m0, m1), m2), Max(Max(m2, m3), m4), Max(Max(m4, m5), m6), Max(Max(m6, m7), m8));
        }
    }

    /// <summary>
    /// The maxima down the window's rows of the step's first <paramref name="columns"/> input cells (5 to 9, a
    /// constant where this is inlined, so the JIT drops the others), C apart from <paramref name="at"/> in each row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void ColumnMaxima(T* at, int* rows, int rowCount, int channels, int columns,
        out Vector512<T> m0, out Vector512<T> m1, out Vector512<T> m2, out Vector512<T> m3, out Vector512<T> m4,
        out Vector512<T> m5, out Vector512<T> m6, out Vector512<T> m7, out Vector512<T> m8)
    {
        T* row = at + rows[0];
        m0 = Vector512.Load(row);
        m1 = Vector512.Load(row + channels);
        m2 = Vector512.Load(row + 2 * channels);
        m3 = Vector512.Load(row + 3 * channels);
        m4 = Vector512.Load(row + 4 * channels);
        m5 = columns > 5 ? Vector512.Load(row + 5 * channels) : default;
        m6 = columns > 6 ? Vector512.Load(row + 6 * channels) : default;
        m7 = columns > 7 ? Vector512.Load(row + 7 * channels) : default;
        m8 = columns > 8 ? Vector512.Load(row + 8 * channels) : default;
        for (int i = 1; i < rowCount; i++)
        {
            row = at + rows[i];
            m0 = Max(m0, Vector512.Load(row));
            m1 = Max(m1, Vector512.Load(row + channels));
            m2 = Max(m2, Vector512.Load(row + 2 * channels));
            m3 = Max(m3, Vector512.Load(row + 3 * channels));
            m4 = Max(m4, Vector512.Load(row + 4 * channels));
            if (columns > 5) m5 = Max(m5, Vector512.Load(row + 5 * channels));
            if (columns > 6) m6 = Max(m6, Vector512.Load(row + 6 * channels));
            if (columns > 7) m7 = Max(m7, Vector512.Load(row + 7 * channels));
            if (columns > 8) m8 = Max(m8, Vector512.Load(row + 8 * channels));
        }
    }

    /// <summary>
    /// Cell u's maximum is that of columns u to u + kw - 1. Neighbours share their common part: for kw 3 the pairs
    /// (1, 2) and (3, 4) serve two cells each; for kw 4 and 5 the pair maxima p_u = max(m_u, m_{u+1}) do.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Across<TColumns>(Vector512<T> m0, Vector512<T> m1, Vector512<T> m2, Vector512<T> m3, Vector512<T> m4, Vector512<T> m5,
        Vector512<T> m6, Vector512<T> m7, T* to, int channels) where TColumns : IConstantCount
    {
        Vector512<T> o0, o1, o2, o3;
        switch (TColumns.Value)
        {
            case 2:
                o0 = Max(m0, m1); o1 = Max(m1, m2); o2 = Max(m2, m3); o3 = Max(m3, m4);
                break;
            case 3:
                var p12 = Max(m1, m2);
                var p34 = Max(m3, m4);
                o0 = Max(m0, p12); o1 = Max(p12, m3); o2 = Max(m2, p34); o3 = Max(p34, m5);
                break;
            default:
                var p0 = Max(m0, m1); var p1 = Max(m1, m2); var p2 = Max(m2, m3); var p3 = Max(m3, m4);
                var p4 = Max(m4, m5); var p5 = Max(m5, m6);
                if (TColumns.Value == 4)
                {
                    o0 = Max(p0, p2); o1 = Max(p1, p3); o2 = Max(p2, p4); o3 = Max(p3, p5);
                }
                else
                {
                    o0 = Max(Max(p0, p2), m4); o1 = Max(Max(p1, p3), m5); o2 = Max(Max(p2, p4), m6); o3 = Max(Max(p3, p5), m7);
                }
                break;
        }
        Store(to, channels, o0, o1, o2, o3);
    }

    /// <summary>Stores the four cells' maxima, each + 0: a zero maximum is +0, whichever operand order gave it (see MaxOp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(T* to, int channels, Vector512<T> o0, Vector512<T> o1, Vector512<T> o2, Vector512<T> o3)
    {
        Lanes512<T>.PlusZero(o0).Store(to);
        Lanes512<T>.PlusZero(o1).Store(to + channels);
        Lanes512<T>.PlusZero(o2).Store(to + 2 * channels);
        Lanes512<T>.PlusZero(o3).Store(to + 3 * channels);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Max(Vector512<T> left, Vector512<T> right) => Lanes512<T>.Max<PropagatingMax512>(left, right);
}
