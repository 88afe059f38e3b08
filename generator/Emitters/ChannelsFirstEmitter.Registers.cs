using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

// The AVX-512 path for narrow planes: rows of at most a few vectors (VGG's 28-wide pool4, DenseNet's 56-wide
// transitions, Inception's 35-wide 3x3 average). There the block-by-block path spends more on finding each block's
// border masks, calls and overlap than on pooling. This path loads a window row as whole vectors once (masks computed
// once per call), then makes every tap of every output block from those registers: even/odd permutes for stride 2 and
// one valign across neighbouring vectors for a tap's shift. Each row width in vectors gets its own straight-line code.
internal sealed partial class ChannelsFirstEmitter
{
    private const int MaxRegisterBlocks = 4;

    /// <summary>The cell offsets of the window's columns from an output's first cell: kw - PadLeft.</summary>
    private IEnumerable<int> ColumnOffsets => Enumerable.Range(0, Taps).Select(kw => kw - _c.PadWidth);

    /// <summary>Every tap is within one vector of the lane it feeds (after the stride-2 split), so one valign reaches it.</summary>
    private bool HasRegisterPath =>
        ColumnOffsets.All(d => System.Math.Abs(PhaseShift(d)) <= Lanes512);

    /// <summary>How many lanes tap offset <paramref name="d"/> is shifted within its phase (floor division for stride 2).</summary>
    private int PhaseShift(int d) => _c.StrideWidth == 1 ? d : (d >= 0 ? d / 2 : -((1 - d) / 2));

    /// <summary>How many output blocks a row of <paramref name="blocks"/> input vectors can have, at most.</summary>
    private int OutputBlocks(int blocks)
    {
        // outWidth <= (width + PadLeft + PadRight - KernelWidth) / StrideWidth + 1, and one more under ceil mode.
        long widest = ((long)blocks * Lanes512 + (long)_c.PadWidth + _c.PadWidthEnd - Taps) / _c.StrideWidth + (_c.CeilMode ? 2 : 1);
        return (int)System.Math.Max(1, (widest + Lanes512 - 1) / Lanes512);
    }

    private string PlaneDivisorParameter => VaryingDivisor ? $", {T}* divisors" : "";

    private string PlaneDivisorArgument => VaryingDivisor ? ", divisors" : "";

    private void EmitRegisterPath(SourceWriter w)
    {
        if (!HasRegisterPath) return;
        int lanes = Lanes512;
        w.Line("/// <summary>");
        w.Line($"/// Pools every plane from whole-row registers when a row is at most {MaxRegisterBlocks} vectors of {lanes}{(HasWidePath ? ", and wider rows with" : "; false when rows are")}");
        w.Line(HasWidePath ? "/// phase blocks sliding along the row." : "/// wider, which the block-by-block path then handles.");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static bool TryPoolFromRegisters512({T}* source, {T}* target, {T}* padding{PlaneDivisorParameter}, long planeCount, int height, int width, int outHeight, int outWidth)"))
        {
            w.Line($"int blocks = (width + {lanes - 1}) / {lanes};");
            if (!HasWidePath) w.Line($"if (blocks > {MaxRegisterBlocks}) return false;");
            var sliding = Enumerable.Range(1, MaxRegisterBlocks).Where(SlidesSums).ToList();
            if (sliding.Count > 0)
                w.Line($"if (blocks <= {sliding.Max()} && outWidth > blocks * {lanes}) return false; // an output block past the row's last vector");
            w.Line($"var lastInside = {VectorIsa.V512.InsideMask(_c.Element)}((blocks - 1) * {lanes}, width); // the last vector's cells inside the row");
            if (HasHalfLastRows) EmitHalfLastTest(w);
            w.Line("long planeSize = (long)height * width, outPlaneSize = (long)outHeight * outWidth;");
            EmitWholePlanes(w, $"(outWidth + {lanes - 1}) / {lanes} * {lanes} - outWidth"); // stores stop at the row's last block (a half stores less)
            // Narrow planes are many and small: each method runs them all, so its masks and constants are set up once per
            // call, not per plane, whatever the JIT inlines (with dynamic PGO off a per-plane call is markedly slower).
            using (w.Block("switch (blocks)"))
            {
                for (int blocks = 1; blocks <= MaxRegisterBlocks; blocks++)
                {
                    // Whole-vector stores but for the last planes (see IRowStores).
                    string rest = "planeSize, outPlaneSize, height, width, outHeight, outWidth, lastInside";
                    w.Line($"case {blocks}:");
                    using (w.Indent())
                    {
                        void Planes(RegisterRow row)
                        {
                            string arguments = row.HalfLast ? rest + ".GetLower()" : rest;
                            w.Line($"NarrowPlanes512{row.Name}<WholeVectorStores>(source, target, padding{PlaneDivisorArgument}, wholePlanes, {arguments});");
                            w.Line($"NarrowPlanes512{row.Name}<MaskedStores>(source + wholePlanes * planeSize, target + wholePlanes * outPlaneSize, padding{PlaneDivisorArgument}, planeCount - wholePlanes, {arguments});");
                            w.Line("return true;");
                        }
                        if (HasHalfLastRows && SlidesSums(blocks))
                        {
                            using (w.Block("if (halfLast)"))
                                Planes(new RegisterRow(blocks, halfLast: true));
                        }
                        Planes(new RegisterRow(blocks, halfLast: false));
                    }
                }
            }
            if (HasWidePath)
            {
                using (w.Block("for (long plane = 0; plane < planeCount; plane++)"))
                {
                    w.Line($"{T}* input = source + plane * planeSize, output = target + plane * outPlaneSize;");
                    // A NaN anywhere in the plane sends it through the exact maximum again (see UncheckedMax512).
                    string arguments = "(input, output, padding, height, width, outHeight, outWidth, blocks, lastInside)";
                    w.Line($"if (!WidePlane512<UncheckedMax512>{arguments})");
                    using (w.Indent())
                        w.Line($"WidePlane512<PropagatingMax512>{arguments};");
                }
                w.Line("return true;");
            }
            else w.Line("return false;");
        }
        w.Line();
        for (int blocks = 1; blocks <= MaxRegisterBlocks; blocks++)
            EmitNarrowPlane(w, blocks);
        if (HasWidePath)
            EmitWidePlane(w);
    }

    /// <summary>
    /// Max reduces the window's rows before the taps, so a sliding window of three phase blocks (previous, current,
    /// next) is all a wide row needs in registers. Average keeps every row's taps apart and stays block by block.
    /// </summary>
    private bool HasWidePath => _c.IsMax;

    private void EmitWidePlane(SourceWriter w)
    {
        var isa = VectorIsa.V512;
        int lanes = Lanes512;
        int stride = _c.StrideWidth;
        string vector = isa.Type(T);
        string rows = string.Join(", ", Enumerable.Range(0, Rows).Select(r => $"row{r}"));
        string rowParameters = string.Join(", ", Enumerable.Range(0, Rows).Select(r => $"{T}* row{r}"));
        w.Line("/// <summary>");
        w.Line($"/// A plane whose rows are wider than {MaxRegisterBlocks} vectors. Along each output row the column maxima slide through three");
        w.Line($"/// phase blocks (the previous, the current and the next {stride * lanes} cells), each computed once: every output block");
        w.Line("/// takes its taps from them, then the blocks move on. Only the last blocks of a row load masked or read -inf.");
        w.Line($"/// Returns false when <typeparamref name=\"TMax\"/> needs a NaN check and a loaded cell may have been NaN: the sum of");
        w.Line($"/// the column maxima over window rows 0 to r, for r = {CheckedRowsText}, is NaN (a NaN in row r makes that maximum NaN, and");
        w.Line("/// those rows cover every input row a window reads).");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static bool WidePlane512<TMax>({T}* plane, {T}* output, {T}* padding, int height, int width, int outHeight, int outWidth, int vectors, {Mask512} lastInside) where TMax : struct, IMax512"))
        {
            w.Line($"var fill = {isa.Vector}.Create({Identity});");
            w.Line($"var loadedSum = {vector}.Zero;");
            using (w.Block("for (int oh = 0; oh < outHeight; oh++, output += outWidth)"))
            {
                EmitWindowRows(w);
                w.Line(stride == 1 ? $"{vector} cellsPrevious = fill;" : $"{vector} evenPrevious = fill, oddPrevious = fill;");
                EmitWidePhase(w, "Current", 0, rows, plain: false);
                w.Line("int block = 0;");
                w.Line($"// Blocks whose next phase block is whole vectors inside the row, and whose outputs all exist.");
                using (w.Block($"for (; (block + 2) * {stride} < vectors && (block + 1) * {lanes} <= outWidth; block++)"))
                {
                    EmitWidePhase(w, "Next", 1, rows, plain: true);
                    EmitWideResult(w);
                    w.Line($"result.Store(output + block * {lanes});");
                    EmitWideSlide(w);
                }
                w.Line("// The rest of the row: the next phase block may be partly or wholly past the row's end.");
                using (w.Block($"for (; block * {lanes} < outWidth; block++)"))
                {
                    EmitWidePhase(w, "Next", 1, rows, plain: false);
                    EmitWideResult(w);
                    w.Line($"if ((block + 1) * {lanes} <= outWidth) result.Store(output + block * {lanes});");
                    w.Line($"else KernelLanes512.StoreFirst(output + block * {lanes}, result, outWidth - block * {lanes});");
                    EmitWideSlide(w);
                }
            }
            w.Line("return !TMax.NeedsNaNCheck || Vector512.EqualsAll(loadedSum, loadedSum); // NaN is the one value unequal to itself");
        }
        w.Line();

        w.Line("/// <summary>");
        w.Line("/// The column maxima of input vector <paramref name=\"index\"/> over the window's rows: -inf past the row's end. Adds the");
        w.Line("/// checked rows' cells to <paramref name=\"loadedSum\"/> when <typeparamref name=\"TMax\"/> needs a NaN check.");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static {vector} ColumnMaxima512<TMax>({rowParameters}, int index, int vectors, {Mask512} lastInside, {vector} fill, ref {vector} loadedSum) where TMax : struct, IMax512"))
        {
            using (w.Block("if (index < vectors - 1)"))
            {
                EmitCheckedRowMaxima(w, "maxima", r => $"Vector512.Load(row{r} + index * {lanes})");
                w.Line("return maxima;");
            }
            using (w.Block("if (index == vectors - 1)"))
            {
                EmitCheckedRowMaxima(w, "maxima", r => $"Avx512F.MaskLoad(row{r} + index * {lanes}, lastInside.{MaskAs}, fill)", pastRowEnd: true);
                w.Line("return maxima;");
            }
            w.Line("return fill;");
        }
        w.Line();
    }

    /// <summary>
    /// The first window row whose cells the NaN check sums. The last StrideHeight rows of every window cover every input
    /// row from the first window's row KernelHeight - StrideHeight on; window rows from PadTop on start at input row 0.
    /// Checking from the smaller of the two covers every input row a window reads.
    /// </summary>
    private int FirstCheckedRow => System.Math.Min(System.Math.Max(0, Rows - _c.StrideHeight), _c.PadHeight);

    private string CheckedRowsText => FirstCheckedRow == Rows - 1 ? $"{FirstCheckedRow}" : $"{FirstCheckedRow} to {Rows - 1}";

    /// <summary>
    /// Declares <paramref name="name"/>, the maximum over the window's rows of the cells <paramref name="load"/> gives
    /// for each row (loaded once into locals), taken row by row, and folds the checked rows into <c>loadedSum</c>.
    /// </summary>
    /// <remarks>
    /// The check folds in the running maxima (through row r, for each checked row r) instead of the rows' cells:
    /// <c>vmaxps</c> returns its second operand when either is NaN, so a NaN in row r makes the running maximum through
    /// row r NaN. Running maxima from row PadTop on include a row inside the input in every window, so they are -inf
    /// only in lanes past the row's end, where every row is; two of them can then go into one product
    /// (<c>KernelLanes512.AddProduct</c>, one instruction for two rows where adding the cells takes two) without a
    /// finite cell meeting a padding row's -inf. Earlier ones go in by addition. With <paramref name="pastRowEnd"/>
    /// (a vector partly past the row's end, -inf in those lanes of every row) products would be +inf there and meet
    /// the added rows' -inf as NaN, a false alarm on every plane; so when any row is added, all are.
    /// The rows' terms are summed apart and join <c>loadedSum</c> in one addition: a chain through <c>loadedSum</c>
    /// would make every vector wait for the previous one's whole check.
    /// </remarks>
    private void EmitCheckedRowMaxima(SourceWriter w, string name, System.Func<int, string> load, bool pastRowEnd = false)
    {
        for (int r = 0; r < Rows; r++) w.Line($"var {name}Row{r} = {load(r)};");
        string Through(int r) => r == 0 ? $"{name}Row0" : r == Rows - 1 ? name : $"{name}Through{r}";
        for (int r = 1; r < Rows; r++) w.Line($"var {Through(r)} = TMax.Max({Through(r - 1)}, {name}Row{r});");
        if (Rows == 1) w.Line($"var {name} = {name}Row0;");
        var added = Enumerable.Range(FirstCheckedRow, Rows - FirstCheckedRow).Select(r => (Row: r, Maximum: Through(r))).ToList();
        var byAddition = added.Where(t => t.Row < _c.PadHeight).ToList();
        var inProducts = added.Where(t => t.Row >= _c.PadHeight).ToList();
        if (inProducts.Count % 2 == 1) { byAddition.Add(inProducts[0]); inProducts.RemoveAt(0); }
        if (pastRowEnd && byAddition.Count > 0) { byAddition.AddRange(inProducts); inProducts.Clear(); }
        var terms = byAddition.Select(t => (Left: t.Maximum, Right: (string?)null))
            .Concat(Enumerable.Range(0, inProducts.Count / 2).Select(i => (Left: inProducts[2 * i].Maximum, Right: (string?)inProducts[2 * i + 1].Maximum)))
            .ToList();
        string Fold(string sum, (string Left, string? Right) term) => term.Right is null
            ? $"KernelLanes512.Add({term.Left}, {sum})"
            : $"KernelLanes512.AddProduct({term.Left}, {term.Right}, {sum})";
        if (terms.Count == 1)
        {
            w.Line($"if (TMax.NeedsNaNCheck) loadedSum = {Fold("loadedSum", terms[0])};");
            return;
        }
        string rows = terms[0].Right is null ? terms[0].Left : $"{terms[0].Left} * {terms[0].Right}";
        rows = terms.Skip(1).Aggregate(rows, Fold);
        w.Line($"if (TMax.NeedsNaNCheck) loadedSum = KernelLanes512.Add({rows}, loadedSum);");
    }

    /// <summary>The phase block <paramref name="ahead"/> blocks after the current one, as cells (stride 1) or even and odd cells.</summary>
    private void EmitWidePhase(SourceWriter w, string name, int ahead, string rows, bool plain)
    {
        var isa = VectorIsa.V512;
        int lanes = Lanes512;
        void Vector(string variable, int offset)
        {
            string index = ahead == 0 ? (offset == 0 ? "0" : Number(offset)) : $"(block + {ahead}) * {_c.StrideWidth}{(offset == 0 ? "" : $" + {offset}")}";
            if (plain) EmitCheckedRowMaxima(w, variable, r => $"Vector512.Load(row{r} + ({index}) * {lanes})");
            else w.Line($"var {variable} = ColumnMaxima512<TMax>({rows}, {index}, vectors, lastInside, fill, ref loadedSum);");
        }
        if (_c.StrideWidth == 1)
        {
            Vector($"cells{name}", 0);
            return;
        }
        Vector($"low{name}", 0);
        Vector($"high{name}", 1);
        w.Line($"var even{name} = KernelLanes512.Even(low{name}, high{name}); var odd{name} = KernelLanes512.Odd(low{name}, high{name});");
    }

    private void EmitWideResult(SourceWriter w)
    {
        var taps = ColumnOffsets.Select(d =>
        {
            string phase = _c.StrideWidth == 1 ? "cells" : (d & 1) == 0 ? "even" : "odd";
            int shift = PhaseShift(d);
            if (shift == 0) return phase + "Current";
            return shift > 0
                ? VectorIsa.V512.AlignRight(_c.Element, phase + "Next", phase + "Current", shift)
                : VectorIsa.V512.AlignRight(_c.Element, phase + "Current", phase + "Previous", Lanes512 + shift);
        }).ToList();
        w.Line($"var result = KernelLanes512.PlusZero({MaxExpression("TMax.Max", taps)});");
    }

    private void EmitWideSlide(SourceWriter w)
    {
        w.Line(_c.StrideWidth == 1
            ? "cellsPrevious = cellsCurrent; cellsCurrent = cellsNext;"
            : "evenPrevious = evenCurrent; oddPrevious = oddCurrent; evenCurrent = evenNext; oddCurrent = oddNext;");
    }

    /// <summary>
    /// Stride-1 average over rows of <paramref name="blocks"/> vectors keeps the sums of the windows a row belongs to in
    /// registers while the window slides down the plane: each row's taps are loaded once, when it enters, and added to
    /// every open window's sum in PyTorch's order (see EmitRowEnters). Past a few dozen vectors the registers spill,
    /// and the row-at-a-time code is kept.
    /// </summary>
    private bool SlidesSums(int blocks) =>
        !_c.IsMax && _c.StrideWidth == 1 && _c.StrideHeight == 1 && Rows * Taps * blocks <= 48;

    /// <summary>
    /// The sliding average also has a method for rows whose last vector holds half a vector of cells or fewer
    /// (Inception's 35-wide rows: 32 + 3 floats), with that block's taps and sums in 256-bit registers, when every tap
    /// is within half a vector of the lane it feeds (see RegisterRow.Shifted). Zen 4 runs a 256-bit operation in half
    /// the pipe time of a 512-bit one.
    /// </summary>
    private bool HasHalfLastRows =>
        HasRegisterPath && SlidesSums(1) && TapsWithinHalfVector;

    private void EmitNarrowPlane(SourceWriter w, int blocks)
    {
        if (SlidesSums(blocks))
        {
            EmitSlidingAveragePlane(w, new RegisterRow(blocks, halfLast: false));
            if (HasHalfLastRows) EmitSlidingAveragePlane(w, new RegisterRow(blocks, halfLast: true));
            return;
        }
        int outBlocks = OutputBlocks(blocks);
        w.Line("/// <summary>");
        w.Line($"/// Every plane, when rows are {blocks} vector{(blocks == 1 ? "" : "s")} wide (the last one partly inside the row), output row by output row:");
        w.Line(_c.IsMax
            ? "/// the window's rows are reduced vector by vector, then each output block takes its taps from those registers."
            : "/// each window row is loaded once, and each output block adds its taps from those registers in PyTorch's order.");
        w.Line("/// </summary>");
        EmitNarrowPlanesMethod(w, new RegisterRow(blocks, halfLast: false), outBlocks, () =>
        {
            using (w.Block("for (int oh = 0; oh < outHeight; oh++, output += outWidth)"))
                EmitNarrowRow(w, blocks, outBlocks);
        });
    }

    /// <summary>
    /// NarrowPlanes512 for <paramref name="row"/>, which runs every plane of a narrow-row kernel: the fills and the store
    /// masks (<paramref name="storeBlocks"/> of them) are set up once per call, then <paramref name="emitPlane"/> writes
    /// one plane's body, with <c>plane</c> and <c>output</c> declared. The caller writes the doc comment.
    /// </summary>
    private void EmitNarrowPlanesMethod(SourceWriter w, RegisterRow row, int storeBlocks, System.Action emitPlane)
    {
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static void NarrowPlanes512{row.Name}<TStores>({T}* source, {T}* target, {T}* padding{PlaneDivisorParameter}, long planeCount, long planeSize, long outPlaneSize, int height, int width, int outHeight, int outWidth, {row.LastMaskType(_c.Element)} lastInside) where TStores : struct, IRowStores"))
        {
            if (row.HasFullBlocks) w.Line($"var fill = {VectorIsa.V512.Vector}.Create({Identity});");
            if (row.HalfLast) w.Line($"var fillHalf = {VectorIsa.V512Half.Vector}.Create({Identity});");
            EmitStoreMasks(w, storeBlocks, row.HalfLast);
            if (VaryingDivisor) EmitFullWindowDivisors(w, row, storeBlocks);
            using (w.Block("for (long planeIndex = 0; planeIndex < planeCount; planeIndex++)"))
            {
                w.Line($"{T}* plane = source + planeIndex * planeSize, output = target + planeIndex * outPlaneSize;");
                emitPlane();
            }
        }
        w.Line();
    }

    /// <summary>One output row of a narrow plane: its window rows, the maxima or sums of the taps, the stores.</summary>
    private void EmitNarrowRow(SourceWriter w, int blocks, int outBlocks)
    {
        var isa = VectorIsa.V512;
        string vector = isa.Type(T);
        EmitWindowRows(w);
        if (VaryingDivisor) EmitRowDivisors(w, new RegisterRow(blocks, halfLast: false), outBlocks);

        if (_c.IsMax)
        {
            w.Line("// Down the window's rows, a vector at a time.");
            for (int j = 0; j < blocks; j++)
                w.Line($"var cells{j} = {MaxOverRows(isa, r => RowVector($"row{r}", j, blocks))};");
            var phases = EmitPhases(w, "cells", "", blocks);
            for (int b = 0; b < outBlocks; b++)
            {
                using (OutputBlock(w, b))
                {
                    var taps = ColumnOffsets.Select(d => TapFrom(phases, b, d)).ToList();
                    w.Line($"var result{b} = {MaxExpression(isa.Max, taps)} + {vector}.Zero;");
                    EmitStore(w, b, $"result{b}");
                }
            }
        }
        else
        {
            var rowPhases = new List<Phases>();
            for (int r = 0; r < Rows; r++)
            {
                for (int j = 0; j < blocks; j++)
                    w.Line($"var cells{r}_{j} = {RowVector($"row{r}", j, blocks)};");
                rowPhases.Add(EmitPhases(w, $"cells{r}_", r.ToString(CultureInfo.InvariantCulture), blocks));
            }
            for (int b = 0; b < outBlocks; b++)
            {
                using (OutputBlock(w, b))
                {
                    w.Line($"// PyTorch's order: row by row, left to right, from +0.");
                    w.Line($"var sum{b} = {vector}.Zero;");
                    foreach (var phases in rowPhases)
                        w.Line($"sum{b} = sum{b} + {string.Join($" + ", ColumnOffsets.Select(d => TapFrom(phases, b, d)))};");
                    EmitAverage(w, b);
                    EmitStore(w, b, $"average{b}");
                }
            }
        }
    }

    /// <summary>
    /// Row <c>entering</c> enters the window: its taps are added, left to right, to every open window's sum, which keeps
    /// PyTorch's order (row by row, left to right, from +0) for each output. With <paramref name="completes"/>, the
    /// oldest open window takes its last row and is complete, as <c>sum{b}</c>; the others move up one, and a new one
    /// opens from +0. Each row's taps are made once, and the sums of the rows' windows are independent chains of
    /// additions the core overlaps. Every other addition is <c>KernelLanes512.Add</c>, the same sum on the FMA pipes,
    /// which relieves the add pipes. Before the first output row, <paramref name="openWindows"/> says how
    /// many windows have opened, and only those take the row.
    /// </summary>
    private void EmitRowEnters(SourceWriter w, RegisterRow row, bool completes, int openWindows = int.MaxValue)
    {
        int blocks = row.Blocks;
        int kept = Rows - 1;
        string fills = string.Join(", ", row.FillBlocks.Select(row.Fill));
        string taps = string.Join(", ", Enumerable.Range(0, blocks).SelectMany(b => Enumerable.Range(0, Taps).Select(kw => $"out var b{b}_t{kw}")));
        w.Line($"RowTaps512{row.Name}(plane, entering, height, width, lastInside, {fills}, {taps});");
        // Chain j continues open{j} (j = Rows - 1 completes a window); chain 0 opens a new window from +0.
        var chains = Enumerable.Range(0, Rows).Where(j => (completes || j < kept) && j <= openWindows).Reverse().ToList();
        string Chain(int j, int b) => j == kept ? $"sum{b}" : $"opening{j + 1}_b{b}";
        foreach (int j in chains)
            w.Line(string.Join(" ", Enumerable.Range(0, blocks).Select(b => $"var {Chain(j, b)} = {(j == 0 ? row.Fill(b) : $"open{j}_b{b}")};")));
        w.Line("// Each tap goes into every open window's sum; the additions alternate between the add and the FMA pipes.");
        for (int kw = 0; kw < Taps; kw++)
            foreach (int j in chains)
                w.Line(string.Join(" ", Enumerable.Range(0, blocks).Select(b => (kw + j) % 2 == 0 ? $"{Chain(j, b)} += b{b}_t{kw};" : $"{Chain(j, b)} = KernelLanes512.Add({Chain(j, b)}, b{b}_t{kw});")));
        for (int j = 1; j <= kept && j - 1 <= openWindows; j++) // open{j} is chain j - 1's sum
            w.Line(string.Join(" ", Enumerable.Range(0, blocks).Select(b => $"open{j}_b{b} = opening{j}_b{b};")));
    }

    /// <summary>Vector <paramref name="j"/> of a row: a plain load, or masked (identity past the row's end) for the last.</summary>
    private string RowVector(string row, int j, int blocks, RegisterRow? vectors = null)
    {
        string at = j == 0 ? row : $"{row} + {j * Lanes512}";
        var isa = vectors?.Isa(j) ?? VectorIsa.V512;
        return j < blocks - 1 ? $"Vector512.Load({at})" : $"{isa.Avx512Class}.MaskLoad({at}, lastInside.{MaskAs}, {vectors?.Fill(j) ?? "fill"})";
    }

    /// <summary>Output blocks past the first exist only when the output row reaches them.</summary>
    private SourceWriter.Scope OutputBlock(SourceWriter w, int b) =>
        w.Block(b == 0 ? "" : $"if (outWidth > {b * Lanes512})");

    /// <summary>Declares <c>average{b}</c>: output block <paramref name="b"/>'s sum divided by its divisor (its cells', or the constant one).</summary>
    private void EmitAverage(SourceWriter w, int b, RegisterRow? row = null)
    {
        var isa = row?.Isa(b) ?? VectorIsa.V512;
        string quotient = ConstantDivisor is int divisor
            ? DivideByConstant($"sum{b}", divisor, $"{isa.Vector}.Create")
            : $"sum{b} / divisor{b}";
        w.Line($"var average{b} = {quotient};");
    }

    /// <summary>
    /// Declares <c>fullDivisor{b}</c> for each output block, once per call: the divisors of a row whose windows lie
    /// wholly inside the input vertically (the column factors times KernelHeight). Blocks past the output are 1.
    /// </summary>
    private void EmitFullWindowDivisors(SourceWriter w, RegisterRow row, int outBlocks)
    {
        w.Line("// The divisors of rows whose windows' rows all lie inside the input: every row but the edge ones.");
        for (int b = 0; b < outBlocks; b++)
            w.Line($"var fullDivisor{b} = {BlockDivisors(row, b, "KernelHeight")};");
    }

    /// <summary>
    /// Output block <paramref name="b"/>'s column factors times <paramref name="rowFactor"/>; 1 for a block past the
    /// output row, whose load would read past the column factors' table.
    /// </summary>
    private string BlockDivisors(RegisterRow row, int b, string rowFactor)
    {
        var isa = row.Isa(b);
        string product = $"{isa.Vector}.Load(divisors{(b == 0 ? "" : $" + {b * Lanes512}")}) * {rowFactor}";
        return b == 0 ? product : $"outWidth > {b * Lanes512} ? {product} : {isa.Type(T)}.One";
    }

    /// <summary>
    /// Declares <c>divisor{b}</c> for each output block of the output row whose window starts at input row <c>top</c>:
    /// the divisors made once per call when the row factor is KernelHeight, else the column factors times the row's
    /// factor, rather than multiplying in every row.
    /// </summary>
    private void EmitRowDivisors(SourceWriter w, RegisterRow row, int outBlocks)
    {
        w.Line(string.Join(" ", Enumerable.Range(0, outBlocks).Select(b => $"{row.Isa(b).Type(T)} divisor{b};")));
        w.Line($"int rowCells = {DivisorCells("top", "height", "KernelHeight", PadBottom)};");
        using (w.Block("if (rowCells == KernelHeight)"))
            w.Line(string.Join(" ", Enumerable.Range(0, outBlocks).Select(b => $"divisor{b} = fullDivisor{b};")));
        using (w.Block("else"))
            w.Line(string.Join(" ", Enumerable.Range(0, outBlocks).Select(b => $"divisor{b} = {BlockDivisors(row, b, "rowCells")};")));
    }

    /// <summary>Stores output block <paramref name="b"/> of the row, the local <paramref name="value"/>.</summary>
    private void EmitStore(SourceWriter w, int b, string value, RegisterRow? row = null) =>
        EmitBlockStore(w, b == 0 ? "output" : $"output + {b * Lanes512}", b, value, row?.Isa(b));

    /// <summary>The vectors a row's taps come from: the row's own vectors (stride 1), or its even and odd cells (stride 2).</summary>
    private sealed class Phases
    {
        public Phases(string even, string? odd, int count) { Even = even; Odd = odd; Count = count; }

        /// <summary>Name prefix of phase-0 vectors (all cells for stride 1).</summary>
        public string Even { get; }

        /// <summary>Name prefix of phase-1 vectors, null for stride 1.</summary>
        public string? Odd { get; }

        public int Count { get; }
    }

    private Phases EmitPhases(SourceWriter w, string cells, string suffix, int blocks)
    {
        if (_c.StrideWidth == 1) return new Phases(cells, null, blocks);
        int pairs = (blocks + 1) / 2;
        for (int b = 0; b < pairs; b++)
        {
            string low = $"{cells}{2 * b}", high = 2 * b + 1 < blocks ? $"{cells}{2 * b + 1}" : "fill";
            w.Line($"var even{suffix}_{b} = KernelLanes512.Even({low}, {high}); var odd{suffix}_{b} = KernelLanes512.Odd({low}, {high});");
        }
        return new Phases($"even{suffix}_", $"odd{suffix}_", pairs);
    }

    /// <summary>Tap <paramref name="d"/> (cell offset from each output's first cell) for output block <paramref name="b"/>.</summary>
    /// <remarks>Without <paramref name="row"/>, every phase vector is 512 bits wide.</remarks>
    private string TapFrom(Phases phases, int b, int d, RegisterRow? row = null)
    {
        string prefix = _c.StrideWidth == 1 || (d & 1) == 0 ? phases.Even : phases.Odd!;
        int shift = PhaseShift(d);
        var vectors = row ?? new RegisterRow(phases.Count, halfLast: false);
        string Vector(int index) => index >= 0 && index < phases.Count ? prefix + index.ToString(CultureInfo.InvariantCulture) : vectors.Fill(index);
        return shift == 0 ? Vector(b) : vectors.Shifted(_c.Element, Vector, b, shift);
    }

    private void EmitSlidingAveragePlane(SourceWriter w, RegisterRow row)
    {
        int blocks = row.Blocks;
        int kept = Rows - 1;
        w.Line("/// <summary>");
        w.Line($"/// Every plane, when rows are {row.Vectors} wide{row.HalfNote} (the last one partly inside the row). Each output row makes the taps");
        w.Line($"/// of the one row entering the window and adds them to the sums of the {Rows} windows that row belongs to, in PyTorch's");
        w.Line("/// order; the oldest window is then complete, divided and stored.");
        w.Line("/// </summary>");
        EmitNarrowPlanesMethod(w, row, blocks, () =>
        {
            w.Line($"// The sums of the windows still open: open{{j}} holds the first j rows of the window whose top row entered j rows ago.");
            for (int j = 1; j <= kept; j++)
                w.Line(string.Join(" ", Enumerable.Range(0, blocks).Select(b => $"var open{j}_b{b} = {row.Fill(b)};")));
            if (kept > 0)
            {
                w.Line("// The rows above the first output row's last window row enter, each into the windows opened so far.");
                for (int opened = 0; opened < kept; opened++)
                {
                    using (w.Block(""))
                    {
                        w.Line($"int entering = {(opened == 0 ? "" : $"{opened} ")}- PadTop;");
                        EmitRowEnters(w, row, completes: false, openWindows: opened);
                    }
                }
            }
            using (w.Block($"for (int oh = 0, entering = {kept} - PadTop; oh < outHeight; oh++, entering++, output += outWidth)"))
            {
                EmitRowEnters(w, row, completes: true);
                if (VaryingDivisor)
                {
                    w.Line("int top = oh - PadTop;");
                    EmitRowDivisors(w, row, blocks);
                }
                for (int b = 0; b < blocks; b++)
                {
                    using (OutputBlock(w, b))
                    {
                        EmitAverage(w, b, row);
                        EmitStore(w, b, $"average{b}", row);
                    }
                }
            }
        });

        w.Line($"/// <summary>Every tap of every output block from input row <paramref name=\"row\"/>: +0 for a row in the padding and for cells outside the row.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        string fillParameters = string.Join(", ", row.FillBlocks.Select(b => $"{row.Isa(b).Type(T)} {row.Fill(b)}"));
        string outs = string.Join(", ", Enumerable.Range(0, blocks).SelectMany(b => Enumerable.Range(0, Taps).Select(kw => $"out {row.Isa(b).Type(T)} b{b}_t{kw}")));
        using (w.Block($"private static void RowTaps512{row.Name}({T}* plane, int row, int height, int width, {row.LastMaskType(_c.Element)} lastInside, {fillParameters}, {outs})"))
        {
            using (w.Block("if ((uint)row < (uint)height)"))
            {
                w.Line($"{T}* cells = plane + (long)row * width;");
                for (int j = 0; j < blocks; j++)
                    w.Line($"var cells{j} = {RowVector("cells", j, blocks, row)};");
                var phases = new Phases("cells", null, blocks);
                for (int b = 0; b < blocks; b++)
                    w.Line(string.Join(" ", Enumerable.Range(0, Taps).Select(kw => $"b{b}_t{kw} = {Tap(phases, row, b, kw)};")));
            }
            using (w.Block("else"))
            {
                for (int b = 0; b < blocks; b++)
                    w.Line(string.Join(" ", Enumerable.Range(0, Taps).Select(kw => $"b{b}_t{kw} = {row.Fill(b)};")));
            }
        }
        w.Line();
    }

    /// <summary>
    /// Tap <paramref name="kw"/> of output block <paramref name="b"/>: loaded unaligned when its cells lie inside the row
    /// for every width the row's method takes, else one valign of the row's vectors. Loads run on the load ports, where
    /// valign shares pipes with the additions.
    /// </summary>
    private string Tap(Phases phases, RegisterRow row, int b, int kw)
    {
        int start = b * Lanes512 + kw - _c.PadWidth;
        int narrowest = (row.Blocks - 1) * Lanes512 + 1;
        bool inside = start >= 0 && start + row.Isa(b).LaneCount(_c.Element) <= narrowest;
        return kw != _c.PadWidth && inside
            ? $"{row.Isa(b).Vector}.Load(cells{(start == 0 ? "" : $" + {start}")})"
            : TapFrom(phases, b, kw - _c.PadWidth, row);
    }
}
