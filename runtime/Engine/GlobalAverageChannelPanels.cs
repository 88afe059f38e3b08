using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// Channels-last global average on AVX-512 or AVX2. It follows the stripe order of <see cref="GlobalPooling{T}"/> exactly,
/// so its results are bit-identical to the other paths and layouts.
/// </summary>
/// <remarks>
/// <para>Channels last, a stripe is one row of accumulators, one per channel: row s sums cells s, s + S, s + 2S, ...
/// (S = 16 floats or 8 doubles, 64 bytes' worth) from +0, and the rows are then added in order 0..S-1. The plain way,
/// adding each cell's channels into its row, loads and stores an accumulator for every input vector. Here a row takes
/// up to four of its cells per pass, summed in a register, so it is stored once per four input vectors (once in all
/// on ResNet's 7x7 planes); the channels go in panels of 256 so that the rows (16 KB) stay in the L1 cache.</para>
/// <para>Why not keep all S rows of a block of channels in registers and walk down the whole plane? The walk reads
/// one 64-byte piece of every cell, a row of channels apart; with the usual power-of-two channel counts those pieces
/// fall in the same L1 cache sets and evict each other (several times slower at 2048 channels than at 2000). Four
/// cells per pass stay within the cache's associativity.</para>
/// <para>Panels are whole vectors wide; when the channel count is not a multiple of the panel, the last panel
/// overlaps the one before and computes the same values again.</para>
/// </remarks>
internal static class GlobalAverageChannelPanels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Stripes: cells of a plane summed in separate accumulator rows.</summary>
    private static int Stripes => GlobalPooling<T>.Stripes;

    /// <summary>Channels per vector: a Vector512 on AVX-512, else a Vector256.</summary>
    private static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector256<T>.Count;

    /// <summary>Channels per panel: the S accumulator rows of a panel take 16 KB.</summary>
    private const int PanelChannels = 256;

    /// <summary>Cells of one stripe added per pass over its row.</summary>
    private const int CellsPerPass = 4;

    /// <summary>Whether this path handles images of <paramref name="channels"/> channels on this machine.</summary>
    public static bool Applies(int channels) =>
        (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated) &&
        (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && channels >= Lanes;

    /// <summary>Averages every channel of one image (<paramref name="planeSize"/> cells of <paramref name="channels"/> channels) into <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier
    public static unsafe void Run(ReadOnlySpan<T> image, Span<T> target, int planeSize, int channels)
    {
        int stripes = Math.Min(Stripes, planeSize); // rows past the plane's cells would stay +0: adding them changes nothing
        // Whole vectors per panel: a vector overlapping the one before would add that one's cells to the row again.
        int width = Math.Min(PanelChannels, channels - channels % Lanes);
        nint stride = channels; // from one cell to the next
        T divisor = T.CreateTruncating(planeSize);
        // A large float plane goes in blocks of cells whose sums are added in double (see GlobalPooling.BlockCells).
        bool blocked = planeSize > GlobalPooling<T>.BlockCells;
        int blockCells = blocked ? (int)GlobalPooling<T>.BlockCells : planeSize;
        T[] rented = ScratchArrays<T>.Rent(Stripes * PanelChannels);
        double[] totals = blocked ? ScratchArrays<double>.Rent(PanelChannels) : [];
        try
        {
            fixed (T* source = image, output = target, rows = rented)
            {
                for (int c = 0; ; c += width)
                {
                    c = Math.Min(c, channels - width);
                    for (int start = 0; start < planeSize; start += blockCells)
                    {
                        int end = Math.Min(start + blockCells, planeSize);
                        // Blocks of 4 S consecutive cells, so that the input is read in order, a few rows at a time.
                        for (int block = start; block < end; block += CellsPerPass * Stripes)
                        {
                            for (int s = 0; s < stripes; s++)
                            {
                                int first = block + s;
                                if (first >= end) break;
                                int cells = Math.Min(CellsPerPass, (end - first + Stripes - 1) / Stripes);
                                AddCells(source + first * stride + c, stride * Stripes, cells, rows + s * width, width, fromZero: block == start);
                            }
                        }
                        if (!blocked) SumRows(rows, stripes, width, divisor, output + c);
                        else AddRowsToTotals(rows, Math.Min(stripes, end - start), width, totals, fromZero: start == 0);
                    }
                    if (blocked)
                        for (int j = 0; j < width; j++) output[c + j] = T.CreateTruncating(totals[j] / planeSize);
                    if (c == channels - width) break;
                }
            }
        }
        finally
        {
            ScratchArrays<T>.Return(rented);
            if (blocked) ScratchArrays<double>.Return(totals);
        }
    }

    /// <summary>
    /// <c>totals[j] (+)= (double)(((row0[j] + row1[j]) + ...) + row<sub>stripes-1</sub>[j])</c>: one block's sum, added in
    /// stripe order in T as <see cref="SumRows"/> does, then in double. Once per block of thousands of cells, so scalar.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AddRowsToTotals(T* rows, int stripes, int width, double[] totals, bool fromZero)
    {
        for (int j = 0; j < width; j++)
        {
            T sum = rows[j];
            for (int s = 1; s < stripes; s++) sum += rows[s * width + j];
            totals[j] = (fromZero ? 0 : totals[j]) + double.CreateTruncating(sum);
        }
    }

    /// <summary>
    /// <c>row[j] = (((start + cell[j]) + cell[step + j]) + ...)</c> over <paramref name="cells"/> cells (1 to 4), where
    /// start is +0 or <c>row[j]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddCells(T* cell, nint step, int cells, T* row, int width, bool fromZero)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            for (int j = 0; j < width; j += Vector512<T>.Count)
            {
                var sum = fromZero ? Vector512<T>.Zero : Vector512.Load(row + j);
                T* at = cell + j;
                sum += Vector512.Load(at);
                if (cells > 1) sum += Vector512.Load(at + step);
                if (cells > 2) sum += Vector512.Load(at + 2 * step);
                if (cells > 3) sum += Vector512.Load(at + 3 * step);
                Vector512.Store(sum, row + j);
            }
        }
        else
        {
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                var sum = fromZero ? Vector256<T>.Zero : Vector256.Load(row + j);
                T* at = cell + j;
                sum += Vector256.Load(at);
                if (cells > 1) sum += Vector256.Load(at + step);
                if (cells > 2) sum += Vector256.Load(at + 2 * step);
                if (cells > 3) sum += Vector256.Load(at + 3 * step);
                Vector256.Store(sum, row + j);
            }
        }
    }

    /// <summary><c>output[j] = (((row0[j] + row1[j]) + ...) + row<sub>S-1</sub>[j]) / divisor</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SumRows(T* rows, int stripes, int width, T divisor, T* output)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var by = Vector512.Create(divisor);
            for (int j = 0; j < width; j += Vector512<T>.Count)
            {
                var sum = Vector512.Load(rows + j);
                for (int s = 1; s < stripes; s++) sum += Vector512.Load(rows + s * width + j);
                Vector512.Store(sum / by, output + j);
            }
        }
        else
        {
            var by = Vector256.Create(divisor);
            for (int j = 0; j < width; j += Vector256<T>.Count)
            {
                var sum = Vector256.Load(rows + j);
                for (int s = 1; s < stripes; s++) sum += Vector256.Load(rows + s * width + j);
                Vector256.Store(sum / by, output + j);
            }
        }
    }
}
