using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// What the channels-last sliding paths (<see cref="ChannelsLastSlidingSum{T}"/>, <see cref="ChannelsLastSlidingMax{T}"/>)
/// share: they take a run of interior output cells four at a time, and check once that every step's reads and writes
/// lie inside the spans they then read and write through pointers.
/// </summary>
internal static class ChannelsLastSliding
{
    /// <summary>Output cells per step: their windows' columns are loaded once for all four.</summary>
    public const int CellsPerStep = 4;

    /// <summary>
    /// Runs <paramref name="step"/> over the first cells of a run of <paramref name="cells"/> interior output cells, four
    /// at a time and one channel vector at a time, and returns how many cells it did (a multiple of four); the caller
    /// does the rest. Windows are <paramref name="stride"/> columns apart. <paramref name="image"/> starts at the
    /// first cell's window's first column, and
    /// <paramref name="rowOffsets"/> lists the window's rows inside the input (offsets into <paramref name="image"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int Run<T, TStep>(ReadOnlySpan<T> image, ReadOnlySpan<int> rowOffsets, int cells, int kernelWidth, int stride, int channels, Span<T> output, TStep step)
        where T : unmanaged where TStep : struct, ISlidingStep<T>
    {
        int steps = Steps(image.Length, rowOffsets, cells, kernelWidth, stride, channels, output.Length);
        if (steps == 0) return 0;
        int lanes = Vector512<T>.Count;
        fixed (T* source = image, target = output)
        fixed (int* rows = rowOffsets)
        {
            for (int s = 0; s < steps; s++)
            {
                long cell = (long)s * CellsPerStep * channels, column = cell * stride;
                // The last channel vector may overlap the one before: it recomputes a few channels with the same bits.
                for (int j = 0; ; j += lanes)
                {
                    if (j > channels - lanes) j = channels - lanes;
                    step.Pool(source + column + j, rows, rowOffsets.Length, channels, target + cell + j);
                    if (j == channels - lanes) break;
                }
            }
        }
        return steps * CellsPerStep;
    }

    /// <summary>
    /// How many whole steps a run of <paramref name="cells"/> cells takes (0 if no window row is inside the input),
    /// after checking that each of <paramref name="rowOffsets"/>' rows holds the steps' windows' input cells
    /// (<paramref name="kernelWidth"/> is the columns one window spans) and <paramref name="outputLength"/> their
    /// output cells.
    /// </summary>
    public static int Steps(int imageLength, ReadOnlySpan<int> rowOffsets, int cells, int kernelWidth, int stride, int channels, int outputLength)
    {
        int steps = cells / CellsPerStep, done = steps * CellsPerStep;
        if (steps == 0 || rowOffsets.IsEmpty) return 0;
        RequireRowsInside(imageLength, rowOffsets, ((long)(done - 1) * stride + kernelWidth) * channels);
        if ((long)done * channels > outputLength) throw new InvalidOperationException("KernelGen internal error: the output row is shorter than its cells.");
        return steps;
    }

    /// <summary>Checks that <paramref name="rowSpan"/> values from each of <paramref name="rowOffsets"/> lie inside an image of <paramref name="imageLength"/>.</summary>
    public static void RequireRowsInside(int imageLength, ReadOnlySpan<int> rowOffsets, long rowSpan)
    {
        foreach (int offset in rowOffsets)
            if (offset < 0 || offset + rowSpan > imageLength) throw new InvalidOperationException("KernelGen internal error: a window row lies outside the image.");
    }
}

/// <summary>One step of a channels-last sliding path: four neighbouring output cells, one vector of their channels.</summary>
internal interface ISlidingStep<T> where T : unmanaged
{
    /// <summary>
    /// Pools the four cells at <paramref name="to"/> (C = <paramref name="channels"/> apart) from the window rows at
    /// <paramref name="at"/> + <paramref name="rows"/>[i], each starting at the first cell's window's first column
    /// (input cells are C apart too).
    /// </summary>
    unsafe void Pool(T* at, int* rows, int rowCount, int channels, T* to);
}
