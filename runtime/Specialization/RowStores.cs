using System.ComponentModel;

namespace KernelGen.Specialization;

/// <summary>
/// How a generated register path stores the output blocks of a row. A whole vector past the row's end writes cells of
/// the next output row, which the kernel stores later (rows and planes go in address order), so every plane but a
/// call's last stores whole vectors (<see cref="WholeVectorStores"/>); the last masks each block to its row's cells
/// (<see cref="MaskedStores"/>), so nothing past the output is ever written.
/// </summary>
/// <remarks>
/// The JIT keeps a store mask that lives across the row loop as a vector and turns it back into a mask register at
/// every masked store, which is slow on narrow rows; per-store checks against the output's end cost more still. So
/// only the call's last plane masks (measurements in bench/notes.md).
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IRowStores
{
    /// <summary>Whether blocks are stored as whole vectors (true) or masked to their row's cells (false).</summary>
    static abstract bool Whole { get; }
}

/// <summary>Whole-vector stores: for every plane of a call but the last.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct WholeVectorStores : IRowStores
{
    /// <inheritdoc/>
    public static bool Whole => true;
}

/// <summary>Stores masked to each row's cells: for a call's last plane.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct MaskedStores : IRowStores
{
    /// <inheritdoc/>
    public static bool Whole => false;
}
