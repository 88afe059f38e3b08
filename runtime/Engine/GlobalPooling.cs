using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// Global max and average pooling: one output per (n, c) plane, the window being the whole plane.
/// </summary>
/// <remarks>
/// <para>A sum over a whole plane cannot be vectorized in sequential order, so the order is fixed another way that
/// every instruction set and both layouts can follow: cell p of the plane is added to stripe <c>p % S</c>, where
/// S = 64 bytes / sizeof(T) (16 floats, 8 doubles), each stripe starting from +0 and taking its cells in order;
/// then the stripes are added in order 0, 1, ..., S - 1 and the sum is divided by the cell count. Channels first, a
/// stripe is one lane of an S-wide accumulator (one Vector512, two Vector256, four Vector128 or S scalars);
/// channels last, a stripe is one of S accumulators per channel vector. The results are bit-identical across all
/// of them.</para>
/// <para>The loops here are the reference shape of that order and serve every instruction set. Where the machine has
/// the vectors for it, two kernels follow the same order faster: channels first, <see cref="GlobalPlaneBlocks"/>
/// reduces blocks of planes at once and transposes their stripe accumulators, so the final in-order sum of the
/// stripes is vertical; channels last, <see cref="GlobalAverageChannelPanels{T}"/> keeps the stripe rows of a panel of
/// channels in the L1 cache. Tests compare them all with the scalar reference bit for bit.</para>
/// </remarks>
internal static class GlobalPooling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Cells of a plane summed in parallel stripes: one 64-byte vector's worth.</summary>
    public static int Stripes => 64 / Unsafe.SizeOf<T>();

    /// <summary>
    /// Float planes are summed in blocks of this many cells, each in the stripe order, and the block sums added in
    /// double: a float stripe of a large plane would otherwise stop growing (at 2^24 for cells of 1). Doubles are not
    /// blocked. A plane of one block gets the same bits as a float sum divided in float.
    /// </summary>
    public static long BlockCells => typeof(T) == typeof(float) ? GlobalPlaneBlocks.BlockCells : long.MaxValue;

    /// <summary>Pools planes <c>[firstPlane, firstPlane + planeCount)</c>; <paramref name="channels"/> is not read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunChannelsFirst(PoolMode mode, ReadOnlySpan<T> input, Span<T> output, int planeSize, int channels, long firstPlane, int planeCount)
    {
        if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
        {
            // Whole blocks of planes at once where the machine has the vectors for it (see GlobalPlaneBlocks), in the
            // same order with the same bits; the rest below, one plane at a time.
            int done = typeof(T) == typeof(float)
                ? GlobalPlaneBlocks.Run(mode, MemoryMarshal.Cast<T, float>(input), MemoryMarshal.Cast<T, float>(output), planeSize, firstPlane, planeCount)
                : GlobalPlaneBlocks.Run(mode, MemoryMarshal.Cast<T, double>(input), MemoryMarshal.Cast<T, double>(output), planeSize, firstPlane, planeCount);
            firstPlane += done;
            planeCount -= done;
        }
        for (long p = firstPlane; p < firstPlane + planeCount; p++)
        {
            ReadOnlySpan<T> plane = input.Slice(checked((int)(p * planeSize)), planeSize);
            // + 0: a zero maximum is +0, as in every max kernel (see MaxOp).
            output[(int)p] = mode == PoolMode.Max ? PlaneMaximum(plane) + T.Zero : PlaneAverage(plane);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T PlaneAverage(ReadOnlySpan<T> plane)
    {
        if (plane.Length <= BlockCells) return PlaneSum(plane) / T.CreateTruncating(plane.Length);
        double total = 0;
        for (int start = 0; start < plane.Length; start += (int)BlockCells)
            total += double.CreateTruncating(PlaneSum(plane.Slice(start, (int)Math.Min(BlockCells, plane.Length - start))));
        return T.CreateTruncating(total / plane.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T PlaneMaximum(ReadOnlySpan<T> plane)
    {
        // Max is exact in any order (IEEE maximum is commutative but for NaN payloads), so the widest loop serves.
        ref T cells = ref MemoryMarshal.GetReference(plane);
        nint i = 0, n = plane.Length;
        T best = T.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            var acc = Vector512.Create(T.NegativeInfinity);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                acc = Vector512.Max(acc, Vector512.LoadUnsafe(ref cells, (nuint)i));
            for (int lane = 0; lane < Vector512<T>.Count; lane++) best = T.Max(best, acc[lane]);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            var acc = Vector256.Create(T.NegativeInfinity);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                acc = Vector256.Max(acc, Vector256.LoadUnsafe(ref cells, (nuint)i));
            for (int lane = 0; lane < Vector256<T>.Count; lane++) best = T.Max(best, acc[lane]);
        }
        for (; i < n; i++) best = T.Max(best, Unsafe.Add(ref cells, i));
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T PlaneSum(ReadOnlySpan<T> plane)
    {
        ref T cells = ref MemoryMarshal.GetReference(plane);
        int n = plane.Length, full = n - n % Stripes;
        Span<T> stripes = stackalloc T[Stripes];
        stripes.Clear();
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<T>.Zero;
            for (int i = 0; i < full; i += Stripes) acc += Vector512.LoadUnsafe(ref cells, (nuint)i);
            acc.CopyTo(stripes);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> low = Vector256<T>.Zero, high = Vector256<T>.Zero;
            for (int i = 0; i < full; i += Stripes)
            {
                low += Vector256.LoadUnsafe(ref cells, (nuint)i);
                high += Vector256.LoadUnsafe(ref cells, (nuint)(i + Vector256<T>.Count));
            }
            low.CopyTo(stripes);
            high.CopyTo(stripes[Vector256<T>.Count..]);
        }
        else
        {
            for (int i = 0; i < full; i += Stripes)
                for (int s = 0; s < Stripes; s++)
                    stripes[s] += Unsafe.Add(ref cells, i + s);
        }
        for (int i = full; i < n; i++) stripes[i - full] += Unsafe.Add(ref cells, i);
        return SumInOrder(stripes);
    }

    // The channels-last routes of GlobalRoutes: images [firstImage, firstImage + imageCount), planeSize cells of C channels each.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunChannelsLastMax(PoolMode mode, ReadOnlySpan<T> input, Span<T> output, int planeSize, int channels, long firstImage, int imageCount)
    {
        for (long n = firstImage; n < firstImage + imageCount; n++)
        {
            ReadOnlySpan<T> image = Image(input, planeSize, channels, n);
            Span<T> target = output.Slice(checked((int)(n * channels)), channels);
            target.Fill(T.NegativeInfinity);
            for (int p = 0; p < planeSize; p++)
                VectorOps<T>.Accumulate<MaxOp<T>>(target, image.Slice(p * channels, channels));
            VectorOps<T>.Accumulate<AddOp<T>>(target, T.Zero); // a zero maximum is +0 (see MaxOp)
        }
    }

    public static void RunChannelsLastAveragePanels(PoolMode mode, ReadOnlySpan<T> input, Span<T> output, int planeSize, int channels, long firstImage, int imageCount)
    {
        for (long n = firstImage; n < firstImage + imageCount; n++)
            GlobalAverageChannelPanels<T>.Run(Image(input, planeSize, channels, n), output.Slice(checked((int)(n * channels)), channels), planeSize, channels);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunChannelsLastAverage(PoolMode mode, ReadOnlySpan<T> input, Span<T> output, int planeSize, int channels, long firstImage, int imageCount)
    {
        for (long n = firstImage; n < firstImage + imageCount; n++)
            AverageChannelsLast(Image(input, planeSize, channels, n), output.Slice(checked((int)(n * channels)), channels), planeSize, channels);
    }

    private static ReadOnlySpan<T> Image(ReadOnlySpan<T> input, int planeSize, int channels, long n) =>
        input.Slice(checked((int)(n * planeSize * channels)), planeSize * channels);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AverageChannelsLast(ReadOnlySpan<T> image, Span<T> target, int planeSize, int channels)
    {
        if (planeSize <= BlockCells)
        {
            SumChannelsLast(image, target, planeSize, channels);
            VectorOps<T>.Accumulate<DivideOp<T>>(target, T.CreateTruncating(planeSize));
            return;
        }
        double[] totals = ScratchArrays<double>.Rent(channels);
        try
        {
            totals.AsSpan(0, channels).Clear();
            for (int start = 0; start < planeSize; start += (int)BlockCells)
            {
                // A block's first cell is a multiple of the stripe count, so its stripes are the plane's.
                int cells = (int)Math.Min(BlockCells, planeSize - start);
                SumChannelsLast(image.Slice(start * channels, cells * channels), target, cells, channels);
                for (int c = 0; c < channels; c++) totals[c] += double.CreateTruncating(target[c]);
            }
            for (int c = 0; c < channels; c++) target[c] = T.CreateTruncating(totals[c] / planeSize);
        }
        finally
        {
            ScratchArrays<double>.Return(totals);
        }
    }

    // One accumulator row per stripe (S rows of C channels); cell p goes to row p % S, then rows are added in order.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumChannelsLast(ReadOnlySpan<T> image, Span<T> target, int planeSize, int channels)
    {
        int stripes = Math.Min(Stripes, planeSize);
        T[] rented = ScratchArrays<T>.Rent(stripes * channels);
        try
        {
            Span<T> rows = rented.AsSpan(0, stripes * channels);
            rows.Clear();
            for (int p = 0; p < planeSize; p++)
                VectorOps<T>.Accumulate<AddOp<T>>(rows.Slice(p % stripes * channels, channels), image.Slice(p * channels, channels));
            rows[..channels].CopyTo(target);
            for (int s = 1; s < stripes; s++)
                VectorOps<T>.Accumulate<AddOp<T>>(target, rows.Slice(s * channels, channels));
        }
        finally
        {
            ScratchArrays<T>.Return(rented);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T SumInOrder(ReadOnlySpan<T> stripes)
    {
        T sum = stripes[0];
        for (int s = 1; s < stripes.Length; s++) sum += stripes[s];
        return sum;
    }
}
