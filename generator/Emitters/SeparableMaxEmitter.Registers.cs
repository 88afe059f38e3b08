using System.Collections.Generic;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

// The AVX-512 path for narrow planes (rows of at most a few vectors, as in most networks' stride-1 pooling layers):
// the rows a window covers stay in registers while the window slides down the plane, so every input row is loaded
// once, and the window's columns are neighbouring lanes joined across vectors with valignd rather than reloaded
// unaligned from a scratch copy. Measured on GoogLeNet's 3x3 (28-wide rows) this ran in half the time of the
// two-pass path, which stores every row's maxima and loads them back.
internal sealed partial class SeparableMaxEmitter
{
    /// <summary>The widest row, in vectors, kept in registers: the window's other rows cost that many registers each.</summary>
    private int MaxRegisterBlocks => System.Math.Min(4, 16 / System.Math.Max(1, Rows - 1));

    /// <summary>
    /// Rows slide one at a time (vertical stride 1), and every horizontal tap is at most one vector away from the
    /// output lane it feeds, so one align instruction reaches it.
    /// </summary>
    private bool HasRegisterPath =>
        _c.StrideHeight == 1 && _c.PadWidth <= Lanes512 && Taps - 1 - _c.PadWidth <= Lanes512 && MaxRegisterBlocks >= 1;

    /// <summary>
    /// Rows whose last vector holds half a vector of cells or fewer (YOLO's 20-wide rows: 16 + 4 floats) keep that block
    /// in a 256-bit register, when every tap is within half a vector of the lane it feeds (see RegisterRow.Shifted).
    /// Zen 4 runs a 256-bit operation in half the pipe time of a 512-bit one.
    /// </summary>
    private bool HasHalfLastRows => HasRegisterPath && TapsWithinHalfVector;

    /// <summary>Every row shape the register path has a method for.</summary>
    private IEnumerable<RegisterRow> RegisterRows =>
        Enumerable.Range(1, MaxRegisterBlocks).SelectMany(blocks => HasHalfLastRows
            ? new[] { new RegisterRow(blocks, halfLast: false), new RegisterRow(blocks, halfLast: true) }
            : new[] { new RegisterRow(blocks, halfLast: false) });

    private void EmitRegisterPathDispatch(SourceWriter w)
    {
        int lanes = Lanes512;
        w.Line("/// <summary>");
        w.Line($"/// Pools every plane with its rows held in registers, when a row is at most {MaxRegisterBlocks} vectors of {lanes}; false when the");
        w.Line("/// rows are wider (or the last output block would lie wholly past the input), which the two-pass path then handles.");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static bool TryPoolInRegisters512({T}* source, {T}* target, long planeCount, int height, int width, int outHeight, int outWidth)"))
        {
            w.Line($"int blocks = (width + {lanes - 1}) / {lanes};");
            w.Line($"if (blocks > {MaxRegisterBlocks} || outWidth > blocks * {lanes}) return false;");
            if (HasHalfLastRows) EmitHalfLastTest(w);
            w.Line($"var lastInside = {VectorIsa.V512.InsideMask(_c.Element)}((blocks - 1) * {lanes}, width); // the last block's cells inside the row");
            w.Line("long planeSize = (long)height * width, outPlaneSize = (long)outHeight * outWidth;");
            EmitWholePlanes(w, HasHalfLastRows ? $"(long)blocks * {lanes} - (halfLast ? {lanes / 2} : 0) - outWidth" : $"(long)blocks * {lanes} - outWidth"); // every block is stored
            string shape = HasHalfLastRows ? "blocks, halfLast" : "blocks";
            using (w.Block("for (long plane = 0; plane < planeCount; plane++)"))
            {
                w.Line($"{T}* input = source + plane * planeSize, output = target + plane * outPlaneSize;");
                w.Line($"if (plane < wholePlanes) PlaneInRegisters512<WholeVectorStores>(input, output, {shape}, height, width, outHeight, outWidth, lastInside);");
                w.Line($"else PlaneInRegisters512<MaskedStores>(input, output, {shape}, height, width, outHeight, outWidth, lastInside);");
            }
            w.Line("return true;");
        }
        w.Line();

        w.Line($"/// <summary>One plane from registers, by its row's width in vectors{(HasHalfLastRows ? " and whether the last is a half" : "")}.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void PlaneInRegisters512<TStores>({T}* input, {T}* output, int blocks, {(HasHalfLastRows ? "bool halfLast, " : "")}int height, int width, int outHeight, int outWidth, {Mask512} lastInside) where TStores : struct, IRowStores"))
        {
            w.Line("// A NaN anywhere in the plane sends it through the exact maximum again (see UncheckedMax512).");
            using (w.Block("switch (blocks)"))
            {
                for (int blocks = 1; blocks <= MaxRegisterBlocks; blocks++)
                {
                    w.Line($"case {blocks}:");
                    using (w.Indent())
                    {
                        if (HasHalfLastRows)
                        {
                            using (w.Block("if (halfLast)"))
                                EmitPlaneCall(w, new RegisterRow(blocks, halfLast: true));
                            using (w.Block("else"))
                                EmitPlaneCall(w, new RegisterRow(blocks, halfLast: false));
                        }
                        else EmitPlaneCall(w, new RegisterRow(blocks, halfLast: false));
                        w.Line("break;");
                    }
                }
            }
        }
        w.Line();
    }

    /// <summary>The fast pass over one plane, and the exact one when the plane may hold a NaN.</summary>
    private static void EmitPlaneCall(SourceWriter w, RegisterRow row)
    {
        string arguments = $"(input, output, height, width, outHeight, outWidth, lastInside{(row.HalfLast ? ".GetLower()" : "")})";
        w.Line($"if (!PlaneInRegisters512{row.Name}<UncheckedMax512, TStores>{arguments})");
        using (w.Indent())
            w.Line($"PlaneInRegisters512{row.Name}<PropagatingMax512, TStores>{arguments};");
    }

    /// <summary>One plane whose rows are exactly <paramref name="row"/>'s vectors (the last one partly inside the row).</summary>
    private void EmitPlaneInRegisters(SourceWriter w, RegisterRow row)
    {
        int blocks = row.Blocks;
        var isa = VectorIsa.V512;
        int kept = Rows - 1;
        w.Line($"/// <summary>");
        w.Line($"/// A plane whose rows are {row.Vectors} wide{row.HalfNote}. Each output row loads the one row that enters the window; the");
        w.Line($"/// maximum down the window's rows comes from {VerticalPlanText}. Across the columns, taps are");
        w.Line($"/// neighbouring lanes joined with valign{(UsesColumnPairs ? ", taken from the maxima of column pairs" : "")}. Rows in the padding, and lanes past the row's end, are -inf.");
        w.Line("/// Returns false when <typeparamref name=\"TMax\"/> needs a NaN check and a loaded cell may have been NaN (the sum of");
        w.Line("/// all loaded cells is NaN).");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static bool PlaneInRegisters512{row.Name}<TMax, TStores>({T}* plane, {T}* output, int height, int width, int outHeight, int outWidth, {row.LastMaskType(_c.Element)} lastInside) where TMax : struct, IMax512 where TStores : struct, IRowStores"))
        {
            if (row.HasFullBlocks) w.Line($"var fill = {isa.Vector}.Create({T}.NegativeInfinity);");
            if (row.HalfLast) w.Line($"var fillHalf = {VectorIsa.V512Half.Vector}.Create({T}.NegativeInfinity);");
            w.Line($"var loadedSum = {isa.Type(T)}.Zero;");
            w.Line("// Every output row stores the same lanes of each block: the masks are computed once.");
            EmitStoreMasks(w, blocks, row.HalfLast);
            if (kept > 0)
            {
                w.Line("// The row maxima the window keeps between output rows (see the loop); -inf until the first rows come in.");
                foreach (int size in Levels)
                    for (int slot = 0; slot < KeptAtLevel(size); slot++)
                        w.Line(DeclareFilled(LevelSlot(size, slot), row));
                w.Line("// The first output row's window, but its last row, enters.");
                using (w.Block($"for (int entering = -PadTop; entering < {kept} - PadTop; entering++)"))
                    EmitRowEnters(w, row, "entering", emitColumns: false);
            }
            w.Line($"for (int oh = 0, entering = {kept} - PadTop; oh < outHeight; oh++, entering++, output += outWidth)");
            using (w.Block(""))
            {
                EmitRowEnters(w, row, "entering", emitColumns: true);
                EmitAcrossColumns(w, row);
            }
            w.Line("return !TMax.NeedsNaNCheck || Vector512.EqualsAll(loadedSum, loadedSum); // NaN is the one value unequal to itself");
        }
        w.Line();

        string fills = string.Join("", row.FillBlocks.Select(b => $", {row.Isa(b).Type(T)} {row.Fill(b)}"));
        string outs = string.Join(", ", Enumerable.Range(0, blocks).Select(b => $"out {row.Isa(b).Type(T)} block{b}"));
        w.Line($"/// <summary>Input row <paramref name=\"row\"/> as {row.Vectors}{row.HalfNote}: -inf for a row in the padding and for lanes past the row's end.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void LoadRow512{row.Name}({T}* plane, int row, int height, int width, {row.LastMaskType(_c.Element)} lastInside{fills}, {outs})"))
        {
            using (w.Block("if ((uint)row < (uint)height)"))
            {
                w.Line($"{T}* cells = plane + (long)row * width;");
                for (int b = 0; b < blocks - 1; b++)
                    w.Line($"block{b} = {isa.Vector}.Load(cells{(b == 0 ? "" : $" + {b * Lanes512}")});");
                int last = blocks - 1;
                w.Line($"block{last} = {row.Isa(last).Avx512Class}.MaskLoad(cells{(last == 0 ? "" : $" + {last * Lanes512}")}, lastInside.{MaskAs}, {row.Fill(last)});");
            }
            using (w.Block("else"))
                w.Line(string.Join(" ", Enumerable.Range(0, blocks).Select(b => $"block{b} = {row.Fill(b)};")));
        }
        w.Line();
    }

    /// <summary>Declares the blocks of <paramref name="name"/>, every one -inf: one declaration per vector width.</summary>
    private string DeclareFilled(string name, RegisterRow row)
    {
        var declarations = Enumerable.Range(0, row.Blocks)
            .GroupBy(b => row.IsHalf(b))
            .Select(group => $"{row.Isa(group.First()).Type(T)} {string.Join(", ", group.Select(b => $"{name}_{b} = {row.Fill(b)}"))};");
        return string.Join(" ", declarations);
    }

    /// <summary>
    /// Adds a loaded row to the NaN check's sum (the JIT drops it for the exact maximum, which needs none). A 256-bit
    /// half goes in widened with zeros, which leave the sum as it is.
    /// </summary>
    private static void EmitNaNCheckSum(SourceWriter w, string name, RegisterRow row)
    {
        w.Line(AddToNaNCheckSum(Enumerable.Range(0, row.Blocks).Select(b => $"{name}_{b}{(row.IsHalf(b) ? ".ToVector512()" : "")}")));
    }

    /// <summary>
    /// Block <paramref name="block"/> of the row of vectors <paramref name="name"/> (column maxima or column pairs)
    /// moved <paramref name="shift"/> (not 0) lanes on: one valign of the block with a neighbour. Past the row's end the
    /// neighbour is -inf; before its start too, except for the pairs, whose block -1 ends with the pair of columns -1 and 0.
    /// </summary>
    private string ShiftedBlock(string name, int block, int shift, RegisterRow row) =>
        row.Shifted(_c.Element, index => index >= 0 && index < row.Blocks ? $"{name}{index}"
            : index == -1 && name == "pair" ? "pairBefore"
            : row.Fill(index), block, shift);

    // Down the rows, a sparse table: level s holds, for window row j, the maximum of rows j .. j + s - 1, for s = 1, 2, 4
    // up to TopLevel, the largest power of two not above the window's height. A row entering the window adds one value
    // to every level (level 2s from two values of level s, s rows apart), and a window's maximum is that of two values
    // of the top level, which together cover its rows. So each output row costs log2(TopLevel) + 1 maxima a vector
    // (one fewer when the height is a power of two) instead of Rows - 1: 3 instead of 4 for 5 rows, 3 instead of 6
    // for 7. Each level keeps, between output rows, the values the next rows will still combine: s for a lower level,
    // Rows - TopLevel for the top one (Rows - 1 in all, as many registers as the window's rows).

    /// <summary>The largest power of two not above the window's height.</summary>
    private int TopLevel
    {
        get
        {
            int size = 1;
            while (size * 2 <= Rows) size *= 2;
            return size;
        }
    }

    /// <summary>The sparse table's levels, smallest first: 1, 2, 4, ... TopLevel.</summary>
    private IEnumerable<int> Levels
    {
        get
        {
            for (int size = 1; size <= TopLevel; size *= 2) yield return size;
        }
    }

    /// <summary>The values of level <paramref name="size"/> kept between output rows, oldest first.</summary>
    private int KeptAtLevel(int size) => size == TopLevel ? Rows - TopLevel : size;

    private static string LevelSlot(int size, int slot) => $"rows{size}_{slot}";

    private static string NewLevelValue(int size) => $"rows{size}_new";

    private string VerticalPlanText => Rows <= 2
        ? "the rows it holds in registers"
        : $"maxima of {string.Join(", ", Levels.Skip(1))} rows held in registers, each made once as its last row enters";

    /// <summary>
    /// Row <paramref name="rowIndex"/> enters the window: it is loaded (and added to the NaN check's sum), every level
    /// gains its newest value, and the kept values move on by one. With <paramref name="emitColumns"/>, the window is
    /// complete, and the maxima down its rows are declared as column{b} before the kept values move.
    /// </summary>
    private void EmitRowEnters(SourceWriter w, RegisterRow row, string rowIndex, bool emitColumns)
    {
        int blocks = row.Blocks;
        string fills = string.Join("", row.FillBlocks.Select(b => $", {row.Fill(b)}"));
        w.Line($"LoadRow512{row.Name}(plane, {rowIndex}, height, width, lastInside{fills}, {string.Join(", ", Enumerable.Range(0, blocks).Select(b => $"out var {NewLevelValue(1)}_{b}"))});");
        EmitNaNCheckSum(w, NewLevelValue(1), row);
        foreach (int size in Levels.Where(size => size < TopLevel))
            for (int b = 0; b < blocks; b++)
                w.Line($"var {NewLevelValue(size * 2)}_{b} = TMax.Max({LevelSlot(size, 0)}_{b}, {NewLevelValue(size)}_{b});");
        if (emitColumns)
        {
            w.Line("// Down the window's rows: the top level's newest value and, when the window is taller, the one it keeps from Rows - TopLevel rows up.");
            for (int b = 0; b < blocks; b++)
                w.Line(Rows == TopLevel
                    ? $"var column{b} = {NewLevelValue(TopLevel)}_{b};"
                    : $"var column{b} = TMax.Max({LevelSlot(TopLevel, 0)}_{b}, {NewLevelValue(TopLevel)}_{b});");
        }
        foreach (int size in Levels)
        {
            int keep = KeptAtLevel(size);
            for (int slot = 0; slot < keep; slot++)
            {
                string from = slot + 1 < keep ? LevelSlot(size, slot + 1) : NewLevelValue(size);
                w.Line(string.Join(" ", Enumerable.Range(0, blocks).Select(b => $"{LevelSlot(size, slot)}_{b} = {from}_{b};")));
            }
        }
    }

    /// <summary>
    /// Windows of 4 or more columns take their taps in pairs: pair{b} is the maximum of each column and the next
    /// (one valign and one maximum a vector), so two taps cost one valign and one maximum. For 5 columns that is 3 maxima a
    /// vector instead of 4; for 3 the pairs would cost more than they save.
    /// </summary>
    private bool UsesColumnPairs => Taps >= 4;

    /// <summary>The window's columns for every output block of the row, and the stores.</summary>
    private void EmitAcrossColumns(SourceWriter w, RegisterRow row)
    {
        int blocks = row.Blocks;
        int lanes = Lanes512;
        w.Line($"// Across the window's columns: output lane i of block b takes columns {lanes}b + i - PadLeft + kw.");
        bool pairBefore = UsesColumnPairs && _c.PadWidth > 0;
        if (UsesColumnPairs)
        {
            for (int b = 0; b < blocks; b++)
                w.Line($"var pair{b} = TMax.Max(column{b}, {ShiftedBlock("column", b, 1, row)});");
            if (pairBefore) // the pairs ending in the row's first column: only the last lane holds a column of the row
                w.Line($"var pairBefore = {ShiftedBlock("column", -1, 1, row)};");
        }
        for (int b = 0; b < blocks; b++)
        {
            var taps = new List<string>();
            for (int kw = 0; kw < Taps; kw += UsesColumnPairs && kw + 1 < Taps ? 2 : 1)
            {
                bool pair = UsesColumnPairs && kw + 1 < Taps;
                string name = pair ? "pair" : "column";
                int shift = kw - _c.PadWidth;
                if (shift == 0) { taps.Add($"{name}{b}"); continue; }
                w.Line($"var tap{b}_{kw} = {ShiftedBlock(name, b, shift, row)};");
                taps.Add($"tap{b}_{kw}");
            }
            w.Line($"var result{b} = KernelLanes512.PlusZero({MaxExpression("TMax.Max", taps)});");
            EmitBlockStore(w, $"output{(b == 0 ? "" : $" + {b * lanes}")}", b, $"result{b}", row.Isa(b));
        }
    }
}
