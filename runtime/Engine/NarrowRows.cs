using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// A pass over planes whose rows are at most <see cref="NarrowRows{T}.MaxRowVectors"/> vectors, its type compiled for
/// the window's columns (<see cref="NarrowRowsAverage{T}"/>, <see cref="NarrowRowsMax{T}"/>), its method for the row's
/// width in vectors.
/// </summary>
internal interface INarrowRowsPass<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract void Run<TVectors>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TVectors : IConstantCount;
}

/// <summary>
/// What the narrow-row paths share: which calls they take (2-d, stride 1, 'same' width, rows of at most four vectors,
/// on AVX-512), the dispatch to a pass compiled for the row's vectors, and each output row's window rows.
/// </summary>
internal static class NarrowRows<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The widest row these paths take, in vectors.</summary>
    public const int MaxRowVectors = 4;

    /// <summary>The largest plane, in cells, that float calls with many planes leave to the channels-last detour: 8 x 8.</summary>
    private const int DetourPlaneCells = 64;

    /// <summary>
    /// Whether a float call on planes of at most <see cref="DetourPlaneCells"/> cells, with at least
    /// <paramref name="planes"/> planes, goes through channels last (<see cref="ChannelsFirstViaChannelsLast{T}"/>),
    /// which pools a full vector of channels per tap; the narrow rows' set-up per row outweighs their work there.
    /// </summary>
    public static bool DetourTakes(in PoolPlan plan, int planes) =>
        typeof(T) == typeof(float) && plan.InputPlane <= DetourPlaneCells && plan.Input.PlaneCount >= planes &&
        ChannelsFirstViaChannelsLast<T>.Applies(plan);

    private static int Lanes => Vector512<T>.Count;

    /// <summary>Whether <paramref name="plan"/>'s windows and rows fit these paths on this machine (max or average alike).</summary>
    public static bool Fits(in PoolPlan plan) => FitsRows(plan) && FlatColumns.KnownReach(plan.Width) > 0;

    /// <summary>
    /// <see cref="Fits"/> but for the window's columns: stride 1 undilated both ways, 'same' width, rows of at most
    /// <see cref="MaxRowVectors"/> vectors, on AVX-512.
    /// </summary>
    public static bool FitsRows(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        return Lanes512<T>.IsSupported && plan.IsPlanar &&
            height.Stride == 1 && height.Dilation == 1 && width.Stride == 1 && width.Dilation == 1 &&
            width.Output == width.Length && width.Length <= MaxRowVectors * Lanes;
    }

    /// <summary>Runs <typeparamref name="TPass"/> compiled for the plan's row width in vectors.</summary>
    public static void Run<TPass>(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
        where TPass : INarrowRowsPass<T>
    {
        switch ((plan.Width.Length + Lanes - 1) / Lanes)
        {
            case 1: TPass.Run<Count1>(plan, input, output, firstPlane, planeCount); break;
            case 2: TPass.Run<Count2>(plan, input, output, firstPlane, planeCount); break;
            case 3: TPass.Run<Count3>(plan, input, output, firstPlane, planeCount); break;
            default: TPass.Run<Count4>(plan, input, output, firstPlane, planeCount); break;
        }
    }

    /// <summary>
    /// Input row <paramref name="row"/> as <typeparamref name="TVectors"/> whole vectors: the last one loads only the
    /// cells inside the row (<paramref name="lastInside"/>), <paramref name="fill"/> past its end and in the unused ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void LoadRow<TVectors>(T* row, Vector512<T> lastInside, Vector512<T> fill,
        out Vector512<T> cells0, out Vector512<T> cells1, out Vector512<T> cells2, out Vector512<T> cells3) where TVectors : IConstantCount
    {
        int count = TVectors.Value;
        cells0 = count == 1 ? Lanes512<T>.MaskLoad(row, lastInside, fill) : Vector512.Load(row);
        cells1 = count < 2 ? fill : count == 2 ? Lanes512<T>.MaskLoad(row + Lanes, lastInside, fill) : Vector512.Load(row + Lanes);
        cells2 = count < 3 ? fill : count == 3 ? Lanes512<T>.MaskLoad(row + 2 * Lanes, lastInside, fill) : Vector512.Load(row + 2 * Lanes);
        cells3 = count < 4 ? fill : Lanes512<T>.MaskLoad(row + 3 * Lanes, lastInside, fill);
    }

    /// <summary>
    /// Stores output block <paramref name="block"/> of a row of <paramref name="count"/> blocks: whole, or the last one
    /// masked to the row's cells (<paramref name="lastInside"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreBlock(T* output, int block, int count, Vector512<T> lastInside, Vector512<T> value)
    {
        if (block < count - 1) value.Store(output + block * Lanes);
        else Lanes512<T>.MaskStore(output + block * Lanes, lastInside, value);
    }
}

/// <summary>
/// Output rows <c>oh</c> (upper) and <c>oh + 1</c> (lower, when there is one), which the narrow-row paths pool together:
/// the input rows <c>[First, End)</c> that either window holds, and which window holds a given row.
/// </summary>
internal readonly unsafe struct OutputRowPair
{
    private readonly int _upperFirst, _upperEnd, _lowerFirst, _lowerEnd;

    /// <param name="windowFirst">Each output row's first input row inside the input (see <see cref="AxisPlan.WriteInsideWindows"/>).</param>
    /// <param name="windowRows">How many of each output row's window rows are inside the input.</param>
    /// <param name="oh">The upper output row.</param>
    /// <param name="outHeight">The plane's output rows: without a row below <paramref name="oh"/>, the pair is the upper row alone.</param>
    public OutputRowPair(int* windowFirst, int* windowRows, int oh, int outHeight)
    {
        HasLower = oh + 1 < outHeight; // an odd last row goes alone
        _upperFirst = windowFirst[oh];
        _upperEnd = _upperFirst + windowRows[oh];
        _lowerFirst = HasLower ? windowFirst[oh + 1] : _upperEnd;
        _lowerEnd = HasLower ? _lowerFirst + windowRows[oh + 1] : _upperEnd;
    }

    public bool HasLower { get; }

    public int First => Math.Min(_upperFirst, _lowerFirst);

    public int End => Math.Max(_upperEnd, _lowerEnd);

    public bool InUpper(int ih) => ih >= _upperFirst && ih < _upperEnd;

    public bool InLower(int ih) => ih >= _lowerFirst && ih < _lowerEnd;
}
