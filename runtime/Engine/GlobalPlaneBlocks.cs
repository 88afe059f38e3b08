using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Quad = (System.Runtime.Intrinsics.Vector512<float>, System.Runtime.Intrinsics.Vector512<float>, System.Runtime.Intrinsics.Vector512<float>, System.Runtime.Intrinsics.Vector512<float>);

namespace KernelGen.Engine;

/// <summary>
/// Channels-first global average and max on AVX-512, sixteen planes of floats (eight of doubles) at a time. The average follows the
/// stripe order of <see cref="GlobalPooling{T}"/> exactly, so its results are bit-identical to the
/// one-plane-at-a-time path; the max is exact in any order.
/// </summary>
/// <remarks>
/// <para>One plane at a time, the final step (adding the 16 stripes in order 0..15) is a chain of 15 dependent scalar
/// additions after moving every lane out of the vector: on small planes such as ResNet-50's 7x7 head it costs more than
/// reading the plane. Here each of 16 planes first sums its cells into a 16-lane stripe accumulator, as the plane
/// path does; the 16 accumulators are then transposed (a 16x16 float transpose, 64 shuffles), so that vector k holds
/// stripe k of all 16 planes. Adding vectors 0..15 in order performs, in every lane, exactly the scalar sequence
/// <c>((s0 + s1) + s2) + ... + s15</c>, for 16 planes at once, and one vector division gives 16 averages. The max
/// goes the same way with the maximum in place of the sum (and +0 added to the result, as every max kernel does).</para>
/// <para>The cells past the last multiple of 16 (the plane's tail) are loaded masked, with the identity (+0, or -inf
/// for max) in the other lanes, so each stripe still takes its cells in order; adding +0 to a stripe changes nothing,
/// since a stripe starts at +0 and so can never be -0 (round to nearest gives -0 only for -0 + -0), and a NaN stays
/// the same NaN. Masked-off lanes are not read, so the last plane's tail cannot fault.</para>
/// </remarks>
internal static class GlobalPlaneBlocks
{
    /// <summary>Planes per block of floats, and stripes per plane: one Vector512 of floats.</summary>
    public const int Planes = 16;

    /// <summary>Planes per block of doubles, and stripes per plane: one Vector512 of doubles.</summary>
    public const int DoublePlanes = 8;

    /// <summary>Planes per block of floats on AVX (no AVX-512): each plane's 16 stripes are two Vector256.</summary>
    public const int AvxPlanes = 4;

    /// <summary>Cells of a float plane summed in float before the sum goes into a double (see <see cref="GlobalPooling{T}.BlockCells"/>).</summary>
    public const int BlockCells = 4096;

    /// <summary>Whether the AVX-512 kernels run on this machine.</summary>
    private static bool IsAvx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>Whether the AVX kernel (floats only) runs on this machine.</summary>
    private static bool IsAvx => Vector256.IsHardwareAccelerated && Avx.IsSupported;

    /// <summary>Whether blocks of <typeparamref name="T"/> planes run on this machine: AVX-512, or AVX for float.</summary>
    public static bool IsSupported<T>() => typeof(T) == typeof(float) ? IsAvx512 || IsAvx : typeof(T) == typeof(double) && IsAvx512;

    /// <summary>
    /// Pools the planes <c>[firstPlane, firstPlane + planeCount)</c> in whole blocks of 16 (AVX-512) or 4 (AVX) and
    /// returns how many it did; the caller does the rest one plane at a time. Without AVX it does nothing.
    /// </summary>
    public static int Run(PoolMode mode, ReadOnlySpan<float> input, Span<float> output, int planeSize, long firstPlane, int planeCount)
    {
        if (IsAvx512)
        {
            return mode == PoolMode.Max
                ? Run<MaxOp<float>>(input, output, planeSize, firstPlane, planeCount)
                : Run<AddOp<float>>(input, output, planeSize, firstPlane, planeCount);
        }
        if (IsAvx)
        {
            return mode == PoolMode.Max
                ? RunAvx<MaxOp<float>>(input, output, planeSize, firstPlane, planeCount)
                : RunAvx<AddOp<float>>(input, output, planeSize, firstPlane, planeCount);
        }
        return 0;
    }

    /// <summary>
    /// Pools the planes <c>[firstPlane, firstPlane + planeCount)</c> in whole blocks of 8 on AVX-512 and returns how
    /// many it did; the caller does the rest one plane at a time. Without AVX-512 it does nothing.
    /// </summary>
    public static int Run(PoolMode mode, ReadOnlySpan<double> input, Span<double> output, int planeSize, long firstPlane, int planeCount)
    {
        if (!IsAvx512) return 0;
        return mode == PoolMode.Max
            ? Run<MaxOp<double>>(input, output, planeSize, firstPlane, planeCount)
            : Run<AddOp<double>>(input, output, planeSize, firstPlane, planeCount);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    private static unsafe int Run<TOp>(ReadOnlySpan<float> input, Span<float> output, int planeSize, long firstPlane, int planeCount)
        where TOp : ILaneOp<float>
    {
        bool isMax = typeof(TOp) == typeof(MaxOp<float>);
        int blocks = planeCount / Planes;
        if (blocks == 0) return 0;
        nint cells = planeSize;
        nint full = planeSize - planeSize % Planes; // cells [0, full) fill every stripe; [full, planeSize) is the tail
        var tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(planeSize % Planes)).AsSingle();
        bool hasTail = planeSize % Planes != 0;
        var identity = Vector512.Create(isMax ? float.NegativeInfinity : 0f);
        var divisor = Vector512.Create((float)planeSize);
        var (blocked, step) = Blocking(isMax, planeSize);
        var cellCount = Vector512.Create((double)planeSize);

        fixed (float* source = input, target = output)
        {
            for (int block = 0; block < blocks; block++)
            {
                long first = firstPlane + (long)block * Planes;
                float* p = source + first * planeSize; // plane j starts at p + j * cells
                Vector512<double> low = Vector512<double>.Zero, high = Vector512<double>.Zero; // planes 0-7, 8-15
                for (nint start = 0; start < cells; start += step)
                {
                    // Stripe accumulators: lane k of s<j> reduces cells start + k, start + k + 16, ... of plane j, from the identity.
                    Vector512<float> s0 = identity, s1 = identity, s2 = identity, s3 = identity;
                    Vector512<float> s4 = identity, s5 = identity, s6 = identity, s7 = identity;
                    Vector512<float> s8 = identity, s9 = identity, s10 = identity, s11 = identity;
                    Vector512<float> s12 = identity, s13 = identity, s14 = identity, s15 = identity;
                    for (nint i = start, end = Math.Min(start + step, full); i < end; i += Planes)
                    {
                        float* row = p + i;
                        s0 = TOp.Apply(s0, Vector512.Load(row));
                        s1 = TOp.Apply(s1, Vector512.Load(row + cells));
                        s2 = TOp.Apply(s2, Vector512.Load(row + 2 * cells));
                        s3 = TOp.Apply(s3, Vector512.Load(row + 3 * cells));
                        s4 = TOp.Apply(s4, Vector512.Load(row + 4 * cells));
                        s5 = TOp.Apply(s5, Vector512.Load(row + 5 * cells));
                        s6 = TOp.Apply(s6, Vector512.Load(row + 6 * cells));
                        s7 = TOp.Apply(s7, Vector512.Load(row + 7 * cells));
                        s8 = TOp.Apply(s8, Vector512.Load(row + 8 * cells));
                        s9 = TOp.Apply(s9, Vector512.Load(row + 9 * cells));
                        s10 = TOp.Apply(s10, Vector512.Load(row + 10 * cells));
                        s11 = TOp.Apply(s11, Vector512.Load(row + 11 * cells));
                        s12 = TOp.Apply(s12, Vector512.Load(row + 12 * cells));
                        s13 = TOp.Apply(s13, Vector512.Load(row + 13 * cells));
                        s14 = TOp.Apply(s14, Vector512.Load(row + 14 * cells));
                        s15 = TOp.Apply(s15, Vector512.Load(row + 15 * cells));
                    }
                    if (hasTail && IsLastBlock(start, step, cells))
                    {
                        float* row = p + full;
                        s0 = TOp.Apply(s0, Avx512F.MaskLoad(row, tail, identity));
                        s1 = TOp.Apply(s1, Avx512F.MaskLoad(row + cells, tail, identity));
                        s2 = TOp.Apply(s2, Avx512F.MaskLoad(row + 2 * cells, tail, identity));
                        s3 = TOp.Apply(s3, Avx512F.MaskLoad(row + 3 * cells, tail, identity));
                        s4 = TOp.Apply(s4, Avx512F.MaskLoad(row + 4 * cells, tail, identity));
                        s5 = TOp.Apply(s5, Avx512F.MaskLoad(row + 5 * cells, tail, identity));
                        s6 = TOp.Apply(s6, Avx512F.MaskLoad(row + 6 * cells, tail, identity));
                        s7 = TOp.Apply(s7, Avx512F.MaskLoad(row + 7 * cells, tail, identity));
                        s8 = TOp.Apply(s8, Avx512F.MaskLoad(row + 8 * cells, tail, identity));
                        s9 = TOp.Apply(s9, Avx512F.MaskLoad(row + 9 * cells, tail, identity));
                        s10 = TOp.Apply(s10, Avx512F.MaskLoad(row + 10 * cells, tail, identity));
                        s11 = TOp.Apply(s11, Avx512F.MaskLoad(row + 11 * cells, tail, identity));
                        s12 = TOp.Apply(s12, Avx512F.MaskLoad(row + 12 * cells, tail, identity));
                        s13 = TOp.Apply(s13, Avx512F.MaskLoad(row + 13 * cells, tail, identity));
                        s14 = TOp.Apply(s14, Avx512F.MaskLoad(row + 14 * cells, tail, identity));
                        s15 = TOp.Apply(s15, Avx512F.MaskLoad(row + 15 * cells, tail, identity));
                    }

                    // Lane k of s<j> is stripe k of plane j: transposed, lane j of vector k is stripe k of plane j, so
                    // combining the vectors in order 0..15 combines every plane's stripes in order, as the scalar path does.
                    var r = TransposeAndCombine<TOp>(s0, first: true, (s0, s1, s2, s3), (s4, s5, s6, s7), (s8, s9, s10, s11), (s12, s13, s14, s15));
                    if (blocked)
                    {
                        (low, high) = (low + Vector512.WidenLower(r), high + Vector512.WidenUpper(r));
                        continue;
                    }
                    // A zero maximum is +0 (see MaxOp); an average divides by the cell count.
                    Vector512.Store(isMax ? r + Vector512<float>.Zero : r / divisor, target + first);
                }
                if (blocked) Vector512.Store(Vector512.Narrow(low / cellCount, high / cellCount), target + first);
            }
        }
        return blocks * Planes;
    }

    /// <summary>
    /// How a plane is cut into blocks: a large plane's average in blocks of <see cref="BlockCells"/> cells whose float
    /// sums are added in double; a max or a small plane in one block.
    /// </summary>
    private static (bool Blocked, nint Step) Blocking(bool isMax, int planeSize) =>
        !isMax && planeSize > BlockCells ? (true, BlockCells) : (false, planeSize);

    /// <summary>Whether the block from <paramref name="start"/> is the plane's last, the one that holds the tail.</summary>
    private static bool IsLastBlock(nint start, nint step, nint cells) => cells - start <= step;

    /// <summary>
    /// Averages planes of floats whose pooling window is the whole plane (an AveragePool with the plane's size, as
    /// older ResNet exports write their head), in the window's own order: every cell of the plane, first to last, added
    /// to a sum that starts at +0, then one division by <paramref name="divisor"/>. This is the order of the window
    /// engine and PyTorch's avg_pool, not the stripe order of global average pooling, so the bits are theirs. Runs
    /// whole blocks of 16 planes on AVX-512 and returns how many planes it did (0 elsewhere); the caller does the rest.
    /// </summary>
    /// <remarks>
    /// A plane's cells are one long dependent chain of additions, so the planes go in lanes: sixteen planes load
    /// sixteen consecutive cells each, a 16x16 transpose turns that into sixteen vectors of one cell of every plane,
    /// and those are added to the sixteen running sums in cell order. The cells past the last multiple of 16 are
    /// loaded masked with +0 in the other lanes; adding +0 to a sum that started at +0 changes nothing (the sum is
    /// never -0) and keeps a NaN the same NaN. A tail of at most four cells is gathered instead, a cell of all sixteen
    /// planes per gather: ResNet's 7x7 plane has one, which a transpose would spend 64 shuffles on.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe int AverageInCellOrder(ReadOnlySpan<float> input, Span<float> output, int planeSize, float divisor, long firstPlane, int planeCount)
    {
        int blocks = planeCount / Planes;
        if (!IsAvx512 || blocks == 0) return 0;
        nint cells = planeSize;
        nint full = planeSize - planeSize % Planes;
        var tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(planeSize % Planes)).AsSingle();
        bool hasTail = planeSize % Planes != 0;
        // Gathers for a tail of up to a quarter of a transpose's cells, if plane offsets fit the gather's int32 indices.
        bool tailByGather = hasTail && planeSize % Planes <= Planes / 4 && planeSize <= int.MaxValue / Planes;
        var planeOffsets = Vector256<int>.Indices * (tailByGather ? planeSize : 0); // planes 0-7, and from p + 8 planes 8-15
        var zero = Vector512<float>.Zero;
        var divisors = Vector512.Create(divisor);

        fixed (float* source = input, target = output)
        {
            for (int block = 0; block < blocks; block++)
            {
                long first = firstPlane + (long)block * Planes;
                float* p = source + first * planeSize; // plane j starts at p + j * cells
                var sum = zero;                        // lane j: plane j's running sum
                for (nint i = 0; i < full; i += Planes)
                {
                    float* c = p + i;
                    sum = TransposeAndCombine<AddOp<float>>(sum, first: false,
                        (Vector512.Load(c), Vector512.Load(c + cells), Vector512.Load(c + 2 * cells), Vector512.Load(c + 3 * cells)),
                        (Vector512.Load(c + 4 * cells), Vector512.Load(c + 5 * cells), Vector512.Load(c + 6 * cells), Vector512.Load(c + 7 * cells)),
                        (Vector512.Load(c + 8 * cells), Vector512.Load(c + 9 * cells), Vector512.Load(c + 10 * cells), Vector512.Load(c + 11 * cells)),
                        (Vector512.Load(c + 12 * cells), Vector512.Load(c + 13 * cells), Vector512.Load(c + 14 * cells), Vector512.Load(c + 15 * cells)));
                }
                if (tailByGather)
                {
                    // A short tail: one gather per cell (cell full + t of the 16 planes) costs less than a transpose.
                    // (Two 8-lane gathers: .NET has no 16-lane gather.)
                    for (nint t = full; t < cells; t++)
                        sum += Vector512.Create(Avx2.GatherVector256(p + t, planeOffsets, sizeof(float)),
                                               Avx2.GatherVector256(p + t + 8 * cells, planeOffsets, sizeof(float)));
                }
                else if (hasTail)
                {
                    float* c = p + full;
                    sum = TransposeAndCombine<AddOp<float>>(sum, first: false,
                        (Avx512F.MaskLoad(c, tail, zero), Avx512F.MaskLoad(c + cells, tail, zero),
                         Avx512F.MaskLoad(c + 2 * cells, tail, zero), Avx512F.MaskLoad(c + 3 * cells, tail, zero)),
                        (Avx512F.MaskLoad(c + 4 * cells, tail, zero), Avx512F.MaskLoad(c + 5 * cells, tail, zero),
                         Avx512F.MaskLoad(c + 6 * cells, tail, zero), Avx512F.MaskLoad(c + 7 * cells, tail, zero)),
                        (Avx512F.MaskLoad(c + 8 * cells, tail, zero), Avx512F.MaskLoad(c + 9 * cells, tail, zero),
                         Avx512F.MaskLoad(c + 10 * cells, tail, zero), Avx512F.MaskLoad(c + 11 * cells, tail, zero)),
                        (Avx512F.MaskLoad(c + 12 * cells, tail, zero), Avx512F.MaskLoad(c + 13 * cells, tail, zero),
                         Avx512F.MaskLoad(c + 14 * cells, tail, zero), Avx512F.MaskLoad(c + 15 * cells, tail, zero)));
                }
                Vector512.Store(sum / divisors, target + first);
            }
        }
        return blocks * Planes;
    }

    // The float kernel's twin for doubles: 8 planes of 8 stripes, and an 8x8 transpose (24 shuffles).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    private static unsafe int Run<TOp>(ReadOnlySpan<double> input, Span<double> output, int planeSize, long firstPlane, int planeCount)
        where TOp : ILaneOp<double>
    {
        bool isMax = typeof(TOp) == typeof(MaxOp<double>);
        int blocks = planeCount / DoublePlanes;
        if (blocks == 0) return 0;
        nint cells = planeSize;
        nint full = planeSize - planeSize % DoublePlanes; // cells [0, full) fill every stripe; [full, planeSize) is the tail
        var tail = Vector512.LessThan(Vector512<long>.Indices, Vector512.Create((long)(planeSize % DoublePlanes))).AsDouble();
        bool hasTail = planeSize % DoublePlanes != 0;
        var identity = Vector512.Create(isMax ? double.NegativeInfinity : 0d);
        var divisor = Vector512.Create((double)planeSize);

        fixed (double* source = input, target = output)
        {
            for (int block = 0; block < blocks; block++)
            {
                long first = firstPlane + (long)block * DoublePlanes;
                double* p = source + first * planeSize; // plane j starts at p + j * cells

                // Stripe accumulators: lane k of s<j> reduces cells k, k + 8, k + 16, ... of plane j, from the identity.
                Vector512<double> s0 = identity, s1 = identity, s2 = identity, s3 = identity;
                Vector512<double> s4 = identity, s5 = identity, s6 = identity, s7 = identity;
                for (nint i = 0; i < full; i += DoublePlanes)
                {
                    double* row = p + i;
                    s0 = TOp.Apply(s0, Vector512.Load(row));
                    s1 = TOp.Apply(s1, Vector512.Load(row + cells));
                    s2 = TOp.Apply(s2, Vector512.Load(row + 2 * cells));
                    s3 = TOp.Apply(s3, Vector512.Load(row + 3 * cells));
                    s4 = TOp.Apply(s4, Vector512.Load(row + 4 * cells));
                    s5 = TOp.Apply(s5, Vector512.Load(row + 5 * cells));
                    s6 = TOp.Apply(s6, Vector512.Load(row + 6 * cells));
                    s7 = TOp.Apply(s7, Vector512.Load(row + 7 * cells));
                }
                if (hasTail)
                {
                    double* row = p + full;
                    s0 = TOp.Apply(s0, Avx512F.MaskLoad(row, tail, identity));
                    s1 = TOp.Apply(s1, Avx512F.MaskLoad(row + cells, tail, identity));
                    s2 = TOp.Apply(s2, Avx512F.MaskLoad(row + 2 * cells, tail, identity));
                    s3 = TOp.Apply(s3, Avx512F.MaskLoad(row + 3 * cells, tail, identity));
                    s4 = TOp.Apply(s4, Avx512F.MaskLoad(row + 4 * cells, tail, identity));
                    s5 = TOp.Apply(s5, Avx512F.MaskLoad(row + 5 * cells, tail, identity));
                    s6 = TOp.Apply(s6, Avx512F.MaskLoad(row + 6 * cells, tail, identity));
                    s7 = TOp.Apply(s7, Avx512F.MaskLoad(row + 7 * cells, tail, identity));
                }

                // Transpose, step 1: interleave the lanes of plane pairs within each 128-bit block. Block b of
                // t<2i+m> is stripe 2b+m of planes 2i and 2i+1.
                var t0 = Avx512F.UnpackLow(s0, s1).AsSingle(); var t1 = Avx512F.UnpackHigh(s0, s1).AsSingle();
                var t2 = Avx512F.UnpackLow(s2, s3).AsSingle(); var t3 = Avx512F.UnpackHigh(s2, s3).AsSingle();
                var t4 = Avx512F.UnpackLow(s4, s5).AsSingle(); var t5 = Avx512F.UnpackHigh(s4, s5).AsSingle();
                var t6 = Avx512F.UnpackLow(s6, s7).AsSingle(); var t7 = Avx512F.UnpackHigh(s6, s7).AsSingle();

                // Steps 2 and 3: gather the 128-bit blocks (moved as floats; a block is a block). Stripe 2b+m of the
                // 8 planes is block b of t<m>, t<2+m>, t<4+m> and t<6+m>, in that order.
                var (x0, x2, x4, x6) = Blocks(t0, t2, t4, t6);
                var (x1, x3, x5, x7) = Blocks(t1, t3, t5, t7);

                // Lane j of x<k> is stripe k of plane j: combine the stripes in order 0..7, as the scalar path does.
                var r = TOp.Apply(x0.AsDouble(), x1.AsDouble());
                r = TOp.Apply(r, x2.AsDouble()); r = TOp.Apply(r, x3.AsDouble()); r = TOp.Apply(r, x4.AsDouble());
                r = TOp.Apply(r, x5.AsDouble()); r = TOp.Apply(r, x6.AsDouble()); r = TOp.Apply(r, x7.AsDouble());
                Vector512.Store(isMax ? r + Vector512<double>.Zero : r / divisor, target + first);
            }
        }
        return blocks * DoublePlanes;
    }

    // The float kernel on AVX (AVX2 machines, or AVX-512 turned off): 4 planes per block, each plane's 16 stripes in
    // two Vector256 (stripes 0-7 and 8-15), each half transposed 4x8 so that a Vector128 holds one stripe of the 4
    // planes, combined in order 0..15.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    private static unsafe int RunAvx<TOp>(ReadOnlySpan<float> input, Span<float> output, int planeSize, long firstPlane, int planeCount)
        where TOp : ILaneOp<float>
    {
        const int Half = 8; // stripes per Vector256
        bool isMax = typeof(TOp) == typeof(MaxOp<float>);
        int blocks = planeCount / AvxPlanes;
        if (blocks == 0) return 0;
        nint cells = planeSize;
        nint full = planeSize - planeSize % Planes; // cells [0, full) fill every stripe; [full, planeSize) is the tail
        int rest = planeSize % Planes;
        bool hasTail = rest != 0;
        // Tail lanes: stripe k of the low half takes cell full + k if k < rest; of the high half if 8 + k < rest.
        var lowTail = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(rest)).AsSingle();
        var highTail = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(rest - Half)).AsSingle();
        var identity = Vector256.Create(isMax ? float.NegativeInfinity : 0f);
        var divisor = Vector128.Create((float)planeSize);
        var (blocked, step) = Blocking(isMax, planeSize);
        var cellCount = Vector128.Create((double)planeSize);

        fixed (float* source = input, target = output)
        {
            for (int block = 0; block < blocks; block++)
            {
                long first = firstPlane + (long)block * AvxPlanes;
                float* p = source + first * planeSize; // plane j starts at p + j * cells
                Vector128<double> low = Vector128<double>.Zero, high = Vector128<double>.Zero; // planes 0-1, 2-3
                for (nint start = 0; start < cells; start += step)
                {
                    // l<j> holds stripes 0-7 of plane j, h<j> stripes 8-15, each from the identity.
                    Vector256<float> l0 = identity, l1 = identity, l2 = identity, l3 = identity;
                    Vector256<float> h0 = identity, h1 = identity, h2 = identity, h3 = identity;
                    for (nint i = start, end = Math.Min(start + step, full); i < end; i += Planes)
                    {
                        float* row = p + i;
                        l0 = TOp.Apply(l0, Vector256.Load(row));
                        h0 = TOp.Apply(h0, Vector256.Load(row + Half));
                        l1 = TOp.Apply(l1, Vector256.Load(row + cells));
                        h1 = TOp.Apply(h1, Vector256.Load(row + cells + Half));
                        l2 = TOp.Apply(l2, Vector256.Load(row + 2 * cells));
                        h2 = TOp.Apply(h2, Vector256.Load(row + 2 * cells + Half));
                        l3 = TOp.Apply(l3, Vector256.Load(row + 3 * cells));
                        h3 = TOp.Apply(h3, Vector256.Load(row + 3 * cells + Half));
                    }
                    if (hasTail && IsLastBlock(start, step, cells))
                    {
                        // vmaskmovps reads only the lanes set in the mask (and zeroes the others), so it cannot fault past
                        // the input; the identity then goes in the other lanes.
                        float* row = p + full;
                        l0 = TOp.Apply(l0, Vector256.ConditionalSelect(lowTail, Avx.MaskLoad(row, lowTail), identity));
                        h0 = TOp.Apply(h0, Vector256.ConditionalSelect(highTail, Avx.MaskLoad(row + Half, highTail), identity));
                        l1 = TOp.Apply(l1, Vector256.ConditionalSelect(lowTail, Avx.MaskLoad(row + cells, lowTail), identity));
                        h1 = TOp.Apply(h1, Vector256.ConditionalSelect(highTail, Avx.MaskLoad(row + cells + Half, highTail), identity));
                        l2 = TOp.Apply(l2, Vector256.ConditionalSelect(lowTail, Avx.MaskLoad(row + 2 * cells, lowTail), identity));
                        h2 = TOp.Apply(h2, Vector256.ConditionalSelect(highTail, Avx.MaskLoad(row + 2 * cells + Half, highTail), identity));
                        l3 = TOp.Apply(l3, Vector256.ConditionalSelect(lowTail, Avx.MaskLoad(row + 3 * cells, lowTail), identity));
                        h3 = TOp.Apply(h3, Vector256.ConditionalSelect(highTail, Avx.MaskLoad(row + 3 * cells + Half, highTail), identity));
                    }

                    var r = CombineHalf<TOp>(Vector128<float>.Zero, first: true, l0, l1, l2, l3);
                    r = CombineHalf<TOp>(r, first: false, h0, h1, h2, h3);
                    if (!blocked) Vector128.Store(isMax ? r + Vector128<float>.Zero : r / divisor, target + first);
                    else (low, high) = (low + Vector128.WidenLower(r), high + Vector128.WidenUpper(r));
                }
                if (blocked) Vector128.Store(Vector128.Narrow(low / cellCount, high / cellCount), target + first);
            }
        }
        return blocks * AvxPlanes;
    }

    /// <summary>
    /// Transposes the 8 stripes of 4 planes (a, b, c, d) so that a Vector128 holds one stripe of the 4 planes, and
    /// combines those into <paramref name="r"/> in stripe order (starting from the first stripe when
    /// <paramref name="first"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> CombineHalf<TOp>(Vector128<float> r, bool first, Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
        where TOp : ILaneOp<float>
    {
        // Within each 128-bit half (stripes 4h..4h+3): interleave lanes, then 64-bit pairs. Half h of u<m> is then
        // stripe 4h+m of planes a, b, c, d.
        var ab0 = Avx.UnpackLow(a, b).AsDouble(); var ab1 = Avx.UnpackHigh(a, b).AsDouble();
        var cd0 = Avx.UnpackLow(c, d).AsDouble(); var cd1 = Avx.UnpackHigh(c, d).AsDouble();
        var u0 = Avx.UnpackLow(ab0, cd0).AsSingle(); var u1 = Avx.UnpackHigh(ab0, cd0).AsSingle();
        var u2 = Avx.UnpackLow(ab1, cd1).AsSingle(); var u3 = Avx.UnpackHigh(ab1, cd1).AsSingle();
        r = first ? u0.GetLower() : TOp.Apply(r, u0.GetLower());
        r = TOp.Apply(r, u1.GetLower()); r = TOp.Apply(r, u2.GetLower()); r = TOp.Apply(r, u3.GetLower());
        r = TOp.Apply(r, u0.GetUpper()); r = TOp.Apply(r, u1.GetUpper()); r = TOp.Apply(r, u2.GetUpper()); r = TOp.Apply(r, u3.GetUpper());
        return r;
    }

    /// <summary>
    /// Transposes sixteen vectors, given in four groups of four (s0..s3, s4..s7, s8..s11, s12..s15), with a 16x16 float
    /// transpose (64 shuffles), so that vector k holds lane k of s0, s1, ..., s15 in that order, and combines those
    /// sixteen vectors into <paramref name="r"/> in order 0..15 (starting from vector 0 itself when
    /// <paramref name="first"/>): in every lane j, the scalar sequence <c>((r op s_j[0]) op s_j[1]) op ... op s_j[15]</c>.
    /// </summary>
    /// <remarks>
    /// Groups rather than sixteen vector parameters: the JIT inlines no method with more than 16 arguments, and called,
    /// the vectors went through the stack, whose 16-byte alignment split them across cache lines in some processes
    /// (ResNet's 7x7 head ran at half speed in those).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TransposeAndCombine<TOp>(Vector512<float> r, bool first, Quad s0to3, Quad s4to7, Quad s8to11, Quad s12to15)
        where TOp : ILaneOp<float>
    {
        // Steps 1 and 2, per group: block b of u<4g+m> is lane 4b+m of the group's vectors s<4g>..s<4g+3>.
        var (u0, u1, u2, u3) = Interleave(s0to3);
        var (u4, u5, u6, u7) = Interleave(s4to7);
        var (u8, u9, u10, u11) = Interleave(s8to11);
        var (u12, u13, u14, u15) = Interleave(s12to15);

        // Steps 3 and 4: gather the 128-bit blocks. Lane 4b+m of the sixteen vectors is block b of u<m>, u<4+m>,
        // u<8+m> and u<12+m>, in that order.
        var (x0, x4, x8, x12) = Blocks(u0, u4, u8, u12);
        var (x1, x5, x9, x13) = Blocks(u1, u5, u9, u13);
        var (x2, x6, x10, x14) = Blocks(u2, u6, u10, u14);
        var (x3, x7, x11, x15) = Blocks(u3, u7, u11, u15);

        // Lane j of x<k> is lane k of s<j>: combine in order 0..15.
        r = first ? x0 : TOp.Apply(r, x0);
        r = TOp.Apply(r, x1); r = TOp.Apply(r, x2); r = TOp.Apply(r, x3); r = TOp.Apply(r, x4); r = TOp.Apply(r, x5);
        r = TOp.Apply(r, x6); r = TOp.Apply(r, x7); r = TOp.Apply(r, x8); r = TOp.Apply(r, x9); r = TOp.Apply(r, x10);
        r = TOp.Apply(r, x11); r = TOp.Apply(r, x12); r = TOp.Apply(r, x13); r = TOp.Apply(r, x14); r = TOp.Apply(r, x15);
        return r;
    }

    /// <summary>
    /// Steps 1 and 2 of the 16x16 transpose for four vectors a, b, c, d: interleave the 32-bit lanes of (a, b) and
    /// (c, d) within each 128-bit block, then their 64-bit pairs, so that block k of result m holds lane 4k+m of a, b,
    /// c and d, in that order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Quad Interleave(Quad s)
    {
        var (a, b, c, d) = s;
        var ab0 = Avx512F.UnpackLow(a, b).AsDouble(); var ab1 = Avx512F.UnpackHigh(a, b).AsDouble();
        var cd0 = Avx512F.UnpackLow(c, d).AsDouble(); var cd1 = Avx512F.UnpackHigh(c, d).AsDouble();
        return (Avx512F.UnpackLow(ab0, cd0).AsSingle(), Avx512F.UnpackHigh(ab0, cd0).AsSingle(),
                Avx512F.UnpackLow(ab1, cd1).AsSingle(), Avx512F.UnpackHigh(ab1, cd1).AsSingle());
    }

    /// <summary>
    /// From four vectors a, b, c, d of 128-bit blocks, the four vectors (a[i], b[i], c[i], d[i]) for i = 0..3:
    /// a 4x4 transpose of blocks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Blocks(
        Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        // Shuffle4x128(x, y, control): blocks 0 and 1 of the result come from x, blocks 2 and 3 from y, two bits each.
        var ab01 = Avx512F.Shuffle4x128(a, b, 0b01_00_01_00); // a0 a1 b0 b1
        var ab23 = Avx512F.Shuffle4x128(a, b, 0b11_10_11_10); // a2 a3 b2 b3
        var cd01 = Avx512F.Shuffle4x128(c, d, 0b01_00_01_00); // c0 c1 d0 d1
        var cd23 = Avx512F.Shuffle4x128(c, d, 0b11_10_11_10); // c2 c3 d2 d3
        return (Avx512F.Shuffle4x128(ab01, cd01, 0b10_00_10_00), // a0 b0 c0 d0
                Avx512F.Shuffle4x128(ab01, cd01, 0b11_01_11_01), // a1 b1 c1 d1
                Avx512F.Shuffle4x128(ab23, cd23, 0b10_00_10_00), // a2 b2 c2 d2
                Avx512F.Shuffle4x128(ab23, cd23, 0b11_01_11_01)); // a3 b3 c3 d3
    }
}
