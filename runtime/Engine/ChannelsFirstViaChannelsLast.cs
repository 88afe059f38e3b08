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
    private static int Block => Vector256<T>.Count;

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
    /// Whether the route takes the call: AVX-512, a 1-d or 2-d plane of at least a transpose block of input and output
    /// cells (8 floats, 4 doubles) and at most <see cref="MaxPlaneCells"/>, a group's worth of planes, and a configuration
    /// where the two transposes cost less than the lanes and phase splits they save (<see cref="SavesMoreThanTransposes"/>).
    /// </summary>
    public static bool Applies(in PoolPlan plan) =>
        Lanes512<T>.IsSupported && plan.IsPlanar && plan.Input.PlaneCount >= GroupSize
        && plan.OutputPlane >= Block && plan.InputPlane >= Block && plan.InputPlane <= MaxPlaneCells
        && SavesMoreThanTransposes(plan);

    /// <summary>
    /// Where pooling across channels saved more than the two transposes cost, measured route against route in one process
    /// on 57 x 57 planes (bench/notes.md).
    /// <list type="bullet">
    /// <item>Float averages on 2-d planes: at width stride 3, whose output rows fill their vectors worst, from 3 taps;
    /// windows of two columns or more at width stride 4 from 4, and of two rows and columns or more at width stride 2 and
    /// height stride 1-2 from 6; otherwise from 9 at width strides 2 and up (1-d planes too); at width stride 1 from 14
    /// at height stride 1-2 (16 on 1-d planes), from 20 otherwise.</item>
    /// <item>Double averages at width strides 3-4 from 10 taps, at width stride 2 and height stride 1-2 from 9,
    /// otherwise from 18.</item>
    /// <item>Float max at width stride 3: from 9 taps at height stride 2 or more, 6-18 taps in windows of up to 4 rows
    /// at height stride 1, dilated from 5 taps in windows of up to 3 rows. At width stride 4, undilated: from 7 taps at
    /// height stride 3 or more, from 5 in windows of up to 5 rows and 2 columns or more at height stride 2, and in
    /// windows of 1-2 rows at height stride 1.</item>
    /// </list>
    /// Max at width strides 1-2, dilated max at width stride 4 and double max stay channels first: separable row maxima
    /// or the row blocks beat the transposes there.
    /// </summary>
    private static bool SavesMoreThanTransposes(in PoolPlan plan)
    {
        AxisPlan height = plan.Height, width = plan.Width;
        int taps = height.Kernel * width.Kernel;
        bool isFloat = typeof(T) == typeof(float);
        if (plan.IsMax)
        {
            if (!isFloat) return false;
            if (height.Dilation != 1 || width.Dilation != 1) return width.Stride == 3 && height.Kernel <= 3 && taps >= 5;
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
        if (!isFloat)
        {
            return width.Stride switch
            {
                3 or 4 => taps >= 10,
                2 => taps >= (height.Stride <= 2 ? 9 : 18),
                _ => taps >= 18,
            };
        }
        bool planar = height.Length > 1; // few-tap windows measured on 2-d planes only
        bool columns = width.Kernel >= 2; // windows one column wide keep the channels-first paths' single phase
        return width.Stride switch
        {
            1 => taps >= (planar && height.Stride <= 2 ? 14 : height.Stride == 1 ? 16 : 20),
            3 => taps >= (planar ? 3 : 9),
            2 when planar && columns && height.Kernel >= 2 && height.Stride <= 2 => taps >= 6,
            4 when planar && columns => taps >= 4,
            _ => taps >= 9,
        };
    }

    /// <summary>Pools planes <c>[firstPlane, firstPlane + planeCount)</c>: whole groups here, the rest on the next route that takes the call.</summary>
    public static unsafe void Run(in PoolPlan plan, ReadOnlySpan<T> input, Span<T> output, long firstPlane, int planeCount)
    {
        int groups = planeCount / GroupSize, inPlane = plan.InputPlane, outPlane = plan.OutputPlane;
        // The transposes read and write whole blocks through pointers: planes shorter than a block never get here.
        if (inPlane < Block || outPlane < Block) throw new InvalidOperationException("KernelGen internal error: a plane is shorter than a transpose block.");
        if (groups > 0)
        {
            var image = new PoolShape(1, GroupSize, plan.Input.Depth, plan.Input.Height, plan.Input.Width);
            var pooled = new PoolShape(1, GroupSize, plan.Output.Depth, plan.Output.Height, plan.Output.Width);
            var groupPlan = new PoolPlan(plan.Descriptor.WithLayout(PoolLayout.ChannelsLast), image, pooled);
            var route = EngineRoutes<T>.Select(EngineWork.ChannelsLast, groupPlan);
            int outputRows = plan.Output.Depth * plan.Output.Height;
            // A vector more than the images need, so that both can start on a cache line: every load of the channels-last
            // routes is then whole (a rented array starts wherever the GC put it; they are pinned while in use).
            int lanes = Lanes512<T>.Count;
            T[] inScratch = ScratchArrays<T>.Rent(inPlane * GroupSize + lanes), outScratch = ScratchArrays<T>.Rent(outPlane * GroupSize + lanes);
            try
            {
                fixed (T* inRented = inScratch, outRented = outScratch)
                {
                    T* inImage = Lanes512<T>.Aligned(inRented), outImage = Lanes512<T>.Aligned(outRented);
                    var transposedIn = new Span<T>(inImage, inPlane * GroupSize);
                    var transposedOut = new Span<T>(outImage, outPlane * GroupSize);
                    for (int g = 0; g < groups; g++)
                    {
                        long plane = firstPlane + (long)g * GroupSize;
                        ReadOnlySpan<T> planes = input.Slice(checked((int)(plane * inPlane)), inPlane * GroupSize);
                        Span<T> outPlanes = output.Slice(checked((int)(plane * outPlane)), outPlane * GroupSize);
                        fixed (T* from = planes) ToChannelsLast(from, inImage, inPlane);
                        route.Run(groupPlan, transposedIn, transposedOut, default, 0, outputRows);
                        fixed (T* to = outPlanes) ToChannelsFirst(outImage, to, outPlane);
                    }
                }
            }
            finally
            {
                ScratchArrays<T>.Return(inScratch);
                ScratchArrays<T>.Return(outScratch);
            }
        }
        int done = groups * GroupSize;
        if (done < planeCount)
            EngineRoutes<T>.SelectAfter(EngineRoute.ChannelsFirstViaChannelsLast, EngineWork.ChannelsFirst, plan)
                .Run(plan, input, output, default, firstPlane + done, planeCount - done);
    }

    /// <summary>
    /// <c>to[cell * GroupSize + p] = from[p * cells + cell]</c>: <see cref="GroupSize"/> planes of <paramref name="cells"/>
    /// cells (at least a block) into one channels-last image.
    /// </summary>
    private static unsafe void ToChannelsLast(T* from, T* to, int cells) => TransposeGroup(from, to, cells, toChannelsLast: true);

    /// <summary><c>to[p * cells + cell] = from[cell * GroupSize + p]</c>: the inverse of <see cref="ToChannelsLast"/>.</summary>
    private static unsafe void ToChannelsFirst(T* from, T* to, int cells) => TransposeGroup(to, from, cells, toChannelsLast: false);

    /// <summary>
    /// Transposes between <paramref name="planes"/> (channels first) and <paramref name="image"/> (channels last) a block of
    /// cells by a block of planes at a time, the last block of cells overlapping the one before.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransposeGroup(T* planes, T* image, int cells, bool toChannelsLast)
    {
        for (int cell = 0; ; cell += Block)
        {
            int c0 = Math.Min(cell, cells - Block);
            for (int p = 0; p < GroupSize; p += Block)
            {
                T* inPlanes = planes + (nint)p * cells + c0, inImage = image + (nint)c0 * GroupSize + p;
                if (toChannelsLast) Transposer.Transpose(inPlanes, cells, inImage, GroupSize);
                else Transposer.Transpose(inImage, GroupSize, inPlanes, cells);
            }
            if (c0 == cells - Block) break;
        }
    }

    /// <summary>
    /// A square block of a 256-bit vector's lanes (8 floats, 4 doubles) transposed in registers: each row's halves
    /// loaded into the halves of two vectors, then only in-lane unpacks and shuffles, no lane-crossing ones (the measured
    /// alternatives are in bench/notes.md).
    /// </summary>
    private static class Transposer
    {
        public static int Size => Vector256<T>.Count;

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
