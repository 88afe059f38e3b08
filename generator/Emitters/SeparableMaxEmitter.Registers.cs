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
    private bool HasRegisterPath => _c.StrideHeight == 1 && _c.PadWidth <= Lanes512 && Taps - 1 - _c.PadWidth <= Lanes512;

    private void EmitRegisterPathDispatch(SourceWriter w)
    {
        int lanes = Lanes512;
        w.Line("/// <summary>");
        w.Line($"/// Pools every plane with its rows held in registers, when a row is at most {MaxRegisterBlocks} vectors of {lanes}; false when the");
        w.Line("/// rows are wider (or the last output block would lie wholly past the input), which the two-pass path then handles.");
        w.Line("/// </summary>");
        using (w.Block($"private static bool TryPoolInRegisters512({T}* source, {T}* target, long planeCount, int height, int width, int outHeight, int outWidth)"))
        {
            w.Line($"int blocks = (width + {lanes - 1}) / {lanes};");
            w.Line($"if (blocks > {MaxRegisterBlocks} || outWidth > blocks * {lanes}) return false;");
            w.Line($"var lastInside = {VectorIsa.V512.InsideMask(_c.Element)}((blocks - 1) * {lanes}, width); // the last block's cells inside the row");
            w.Line("long planeSize = (long)height * width, outPlaneSize = (long)outHeight * outWidth;");
            using (w.Block("for (long plane = 0; plane < planeCount; plane++)"))
            {
                w.Line($"{T}* input = source + plane * planeSize, output = target + plane * outPlaneSize;");
                w.Line("// A NaN anywhere in the plane sends it through the exact maximum again (see UncheckedMax512).");
                using (w.Block("switch (blocks)"))
                {
                    for (int blocks = 1; blocks <= MaxRegisterBlocks; blocks++)
                    {
                        string arguments = "(input, output, height, width, outHeight, outWidth, lastInside)";
                        w.Line($"case {blocks}:");
                        using (w.Indent())
                        {
                            w.Line($"if (!PlaneInRegisters512x{blocks}<UncheckedMax512>{arguments})");
                            using (w.Indent())
                                w.Line($"PlaneInRegisters512x{blocks}<PropagatingMax512>{arguments};");
                            w.Line("break;");
                        }
                    }
                }
            }
            w.Line("return true;");
        }
        w.Line();
    }

    /// <summary>One plane whose rows are exactly <paramref name="blocks"/> vectors (the last one partly inside the row).</summary>
    private void EmitPlaneInRegisters(SourceWriter w, int blocks)
    {
        int lanes = Lanes512;
        var isa = VectorIsa.V512;
        string vector = isa.Type(T);
        int kept = Rows - 1;
        w.Line($"/// <summary>");
        w.Line($"/// A plane whose rows are {blocks} vector{(blocks == 1 ? "" : "s")} wide. Registers hold the window's first {kept} row{(kept == 1 ? "" : "s")}; each output row loads the one");
        w.Line("/// row that enters the window, takes the maximum down the window's rows, then across its columns with valign, and");
        w.Line("/// moves the window down a row. Rows in the padding, and lanes past the row's end, are -inf. Returns false when");
        w.Line("/// <typeparamref name=\"TMax\"/> needs a NaN check and a loaded cell may have been NaN (the sum of all loaded cells is NaN).");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static bool PlaneInRegisters512x{blocks}<TMax>({T}* plane, {T}* output, int height, int width, int outHeight, int outWidth, {Mask512} lastInside) where TMax : struct, IMax512"))
        {
            w.Line($"var fill = {isa.Vector}.Create({T}.NegativeInfinity);");
            w.Line($"var loadedSum = {vector}.Zero;");
            w.Line("// Every output row stores the same lanes of each block: the masks are computed once.");
            EmitStoreMasks(w, blocks);
            for (int r = 0; r < kept; r++)
            {
                string row = r == 0 ? "-PadTop" : $"{r} - PadTop";
                w.Line($"{vector} {RowBlocks($"window{r}", blocks)};");
                w.Line($"LoadRow512x{blocks}(plane, {row}, height, width, lastInside, fill, {string.Join(", ", Enumerable.Range(0, blocks).Select(b => $"out window{r}_{b}"))});");
                EmitNaNCheckSum(w, $"window{r}", blocks);
            }
            w.Line($"for (int oh = 0, entering = {kept} - PadTop; oh < outHeight; oh++, entering++, output += outWidth)");
            using (w.Block(""))
            {
                w.Line($"LoadRow512x{blocks}(plane, entering, height, width, lastInside, fill, {string.Join(", ", Enumerable.Range(0, blocks).Select(b => $"out var window{kept}_{b}"))});");
                EmitNaNCheckSum(w, $"window{kept}", blocks);
                w.Line("// Down the window's rows, a vector at a time.");
                for (int b = 0; b < blocks; b++)
                {
                    var operands = Enumerable.Range(0, Rows).Select(r => $"window{r}_{b}").ToList();
                    w.Line($"var column{b} = {MaxExpression("TMax.Max", operands)};");
                }
                w.Line($"// Across the window's columns: output lane i of block b takes columns {lanes}b + i - PadLeft + kw.");
                for (int b = 0; b < blocks; b++)
                {
                    var taps = new List<string>();
                    for (int kw = 0; kw < Taps; kw++)
                    {
                        int shift = kw - _c.PadWidth;
                        if (shift == 0) { taps.Add($"column{b}"); continue; }
                        w.Line($"var tap{b}_{kw} = {ShiftedColumns(b, shift, blocks, lanes)};");
                        taps.Add($"tap{b}_{kw}");
                    }
                    w.Line($"var result{b} = KernelLanes512.PlusZero({MaxExpression("TMax.Max", taps)});");
                    w.Line($"Avx512F.MaskStore(output{(b == 0 ? "" : $" + {b * lanes}")}, storeMask{b}, result{b});");
                }
                if (kept > 0)
                {
                    w.Line("// The window moves down a row.");
                    for (int r = 0; r < kept; r++)
                        w.Line(string.Join(" ", Enumerable.Range(0, blocks).Select(b => $"window{r}_{b} = window{r + 1}_{b};")));
                }
            }
            w.Line("return !TMax.NeedsNaNCheck || Vector512.EqualsAll(loadedSum, loadedSum); // NaN is the one value unequal to itself");
        }
        w.Line();

        w.Line($"/// <summary>Input row <paramref name=\"row\"/> as {blocks} vector{(blocks == 1 ? "" : "s")}: -inf for a row in the padding and for lanes past the row's end.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void LoadRow512x{blocks}({T}* plane, int row, int height, int width, {Mask512} lastInside, {vector} fill, {string.Join(", ", Enumerable.Range(0, blocks).Select(b => $"out {vector} block{b}"))})"))
        {
            using (w.Block("if ((uint)row < (uint)height)"))
            {
                w.Line($"{T}* cells = plane + (long)row * width;");
                for (int b = 0; b < blocks - 1; b++)
                    w.Line($"block{b} = {isa.Vector}.Load(cells{(b == 0 ? "" : $" + {b * lanes}")});");
                w.Line($"block{blocks - 1} = Avx512F.MaskLoad(cells{(blocks == 1 ? "" : $" + {(blocks - 1) * lanes}")}, lastInside.{MaskAs}, fill);");
            }
            using (w.Block("else"))
                w.Line(string.Join(" ", Enumerable.Range(0, blocks).Select(b => $"block{b} = fill;")));
        }
        w.Line();
    }

    /// <summary>Adds a loaded row to the NaN check's sum (the JIT drops it for the exact maximum, which needs none).</summary>
    private static void EmitNaNCheckSum(SourceWriter w, string row, int blocks)
    {
        w.Line(AddToNaNCheckSum(Enumerable.Range(0, blocks).Select(b => $"{row}_{b}")));
    }

    /// <summary>
    /// The column maxima <paramref name="shift"/> (not 0) lanes after block <paramref name="block"/>'s: one valign of
    /// the block with a neighbour (-inf past either end of the row).
    /// </summary>
    private string ShiftedColumns(int block, int shift, int blocks, int lanes)
    {
        string Block(int index) => index >= 0 && index < blocks ? $"column{index}" : "fill";
        return shift > 0
            ? VectorIsa.V512.AlignRight(_c.Element, Block(block + 1), Block(block), shift)
            : VectorIsa.V512.AlignRight(_c.Element, Block(block), Block(block - 1), lanes + shift);
    }

    private static string RowBlocks(string name, int blocks) => string.Join(", ", Enumerable.Range(0, blocks).Select(b => $"{name}_{b}"));
}
