using System.Numerics;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// The lanes' columns in a flat pass over a plane <c>w</c> cells wide, and the bounds that tell which of a lane's taps
/// stay inside its row: tap j columns to the left for lanes whose column is at least j, tap j to the right for lanes
/// whose column is below w - j.
/// </summary>
internal static unsafe class FlatColumns
{
    /// <summary>The columns of the lanes repeat every lcm(w, lanes) cells: that many vectors.</summary>
    public static int Period(int w, int lanes)
    {
        int a = w, b = lanes;
        while (b != 0) (a, b) = (b, a % b);
        return w / a;
    }

    /// <summary>The reach of a centred window, 1 to 3, or 0 for any other (which then takes <see cref="AnyReach"/>).</summary>
    public static int KnownReach(in AxisPlan width) =>
        width.Kernel == 2 * width.PadBegin + 1 && width.PadBegin <= 3 ? width.PadBegin : 0;

    /// <summary>
    /// Writes the column of each of the <paramref name="cells"/> lanes of a period of vectors (cell i is in column
    /// i mod w), so that a pass reads a vector's columns with one load.
    /// </summary>
    public static void Write<T>(T* columns, int cells, int w) where T : unmanaged, INumberBase<T>
    {
        for (int i = 0; i < cells; i++) columns[i] = T.CreateTruncating(i % w); // small integers, exact in float
    }

    /// <summary>
    /// Writes the bounds of taps 1 to <paramref name="left"/> to the left (<c>leftBound[j - 1] = j</c>) and 1 to
    /// <paramref name="right"/> to the right (<c>rightBound[j - 1] = w - j</c>).
    /// </summary>
    public static void WriteBounds<T>(Vector512<T>* leftBound, int left, Vector512<T>* rightBound, int right, int w)
        where T : unmanaged, INumberBase<T>
    {
        for (int j = 1; j <= left; j++) leftBound[j - 1] = Vector512.Create(T.CreateTruncating(j));
        for (int j = 1; j <= right; j++) rightBound[j - 1] = Vector512.Create(T.CreateTruncating(w - j));
    }
}
