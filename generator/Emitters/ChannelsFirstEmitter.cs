using System.Collections.Generic;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// Channels-first (NCHW) kernels: vectors run along the output width, one output row at a time.
/// </summary>
/// <remarks>
/// <para>Rows: an output row's window covers <c>KernelHeight</c> input rows, handed to the row code as pointers; a row
/// in the padding (or past the input under ceil mode) points at a row of identity cells (-inf for max, +0 for sums),
/// so every output row runs the same unrolled code.</para>
/// <para>Columns: blocks of one vector of outputs. Blocks whose reads stay inside the row are "interior" and use plain
/// loads; the few at the borders load masked, with the identity in the lanes outside the row, and store masked past
/// the row's end. Which columns are interior follows from constants known when the kernel is generated.</para>
/// <para>Stride 1: tap kw of a block is a load at column + kw. Stride 2: a block reads 2V consecutive cells and
/// splits them into even and odd phases; tap kw is phase kw % 2 shifted by kw / 2 lanes. Max reduces the rows first
/// (max is order-free), average adds the taps in PyTorch's row-major order starting from +0, so its rounding is the
/// general engine's and PyTorch's.</para>
/// </remarks>
internal sealed partial class ChannelsFirstEmitter : KernelEmitter
{
    private readonly KernelConfiguration _c;

    public ChannelsFirstEmitter(KernelConfiguration configuration) : base(configuration) => _c = configuration;

    private int Rows => _c.KernelHeight;

    private int Taps => _c.KernelWidth;

    /// <summary>The first output column whose window starts inside the row: ceil(PadLeft / StrideWidth).</summary>
    private int FirstInteriorColumn => (_c.PadWidth + _c.StrideWidth - 1) / _c.StrideWidth;

    private bool VaryingDivisor => !_c.IsMax && ConstantDivisor is null;

    private string RowParameters => string.Join(", ", Enumerable.Range(0, Rows).Select(r => $"{T}* row{r}"));

    private string RowArguments => string.Join(", ", Enumerable.Range(0, Rows).Select(r => $"row{r}"));

    private string DivisorParameters => VaryingDivisor ? $", {T}* divisors, {T} rowFactor" : "";

    private string DivisorArguments => VaryingDivisor ? ", divisors, rowFactor" : "";

    public override IEnumerable<string> Remarks()
    {
        yield return $"Channels first: vectors run along each output row. The {Rows} input rows of a window are passed";
        yield return "as pointers, with a row of identity cells standing in for rows in the padding, so every output row";
        yield return "runs the same unrolled code. Blocks of columns whose reads stay inside the row use plain loads; the";
        yield return "border blocks load masked, reading the identity outside the row.";
        if (HasRegisterPath)
        {
            yield return $"On AVX-512, planes whose rows are at most {MaxRegisterBlocks} vectors wide load each window row once as whole vectors";
            yield return "and take every tap from those registers (even/odd permutes, valign for shifts), in straight-line code.";
        }
        if (_c.StrideWidth == 2)
            yield return "Stride 2: each block splits 2V input cells into even and odd phases instead of discarding lanes.";
        if (_c.IsMax)
            yield return "Max reduces the window's rows first; NaN propagates, and a zero maximum is +0.";
        else
            yield return "Average adds the taps in PyTorch's row-major order from +0, then divides: bit-identical to the general engine.";
    }

    public override void Emit(SourceWriter w)
    {
        EmitConstants(w);
        EmitRegistration(w);
        EmitRun(w);
        EmitRegisterPath(w);
        EmitPlane(w);
        EmitRow(w);
        foreach (var isa in VectorIsa.All)
        {
            EmitColumns(w, isa);
            EmitBlock(w, isa, border: false);
            EmitBlock(w, isa, border: true);
        }
        EmitScalarColumn(w);
    }

    private void EmitConstants(SourceWriter w)
    {
        w.Line($"private const int KernelHeight = {_c.KernelHeight}, KernelWidth = {_c.KernelWidth};");
        w.Line($"private const int StrideHeight = {_c.StrideHeight}, StrideWidth = {_c.StrideWidth};");
        w.Line($"private const int PadTop = {_c.PadHeight}, PadLeft = {_c.PadWidth};");
        EmitEndPaddingConstants(w);
        w.Line("/// <summary>The first output column whose window starts inside the row: ceil(PadLeft / StrideWidth).</summary>");
        w.Line($"private const int FirstInteriorColumn = {FirstInteriorColumn};");
        w.Line();
    }

    private void EmitRun(SourceWriter w)
    {
        using (BeginRun(w))
        {
            w.Line("int height = shape.Height, width = shape.Width, outHeight = outputShape.Height, outWidth = outputShape.Width;");
            w.Line();
            w.Line(VaryingDivisor
                ? "// Scratch: a row of identity cells for window rows in the padding, then each output column's divisor factor."
                : "// Scratch: a row of identity cells for window rows in the padding.");
            string length = VaryingDivisor ? $"width + outWidth + {VectorIsa.V512.LaneCount(_c.Element)}" : "width";
            w.Line($"{T}[] scratch = ArrayPool<{T}>.Shared.Rent({length});");
            using (w.Block("try"))
            {
                using (w.Block($"fixed ({T}* source = input, target = output, padding = scratch)"))
                {
                    w.Line($"new Span<{T}>(padding, width).Fill({Identity});");
                    if (VaryingDivisor)
                    {
                        w.Line($"{T}* divisors = padding + width;");
                        using (w.Block($"for (int ow = 0; ow < outWidth + {VectorIsa.V512.LaneCount(_c.Element)}; ow++)"))
                            w.Line($"divisors[ow] = ow < outWidth ? {DivisorFactor("ow * StrideWidth - PadLeft", "width", "KernelWidth", PadRight)} : 1;");
                    }
                    if (HasRegisterPath)
                    {
                        w.Line($"if ({VectorIsa.V512.Condition} && TryPoolFromRegisters512(source, target, padding{PlaneDivisorArgument}, shape.PlaneCount, height, width, outHeight, outWidth))");
                        using (w.Indent())
                            w.Line("return;");
                    }
                    w.Line("long planeSize = (long)height * width, outPlaneSize = (long)outHeight * outWidth;");
                    using (w.Block("for (long plane = 0; plane < shape.PlaneCount; plane++)"))
                        w.Line($"PoolPlane(source + plane * planeSize, target + plane * outPlaneSize, padding{(VaryingDivisor ? ", divisors" : "")}, height, width, outHeight, outWidth);");
                }
            }
            using (w.Block("finally"))
                w.Line($"ArrayPool<{T}>.Shared.Return(scratch);");
        }
        w.Line();
    }

    private void EmitPlane(SourceWriter w)
    {
        w.Line("/// <summary>One (n, c) plane, row by row: each output row gets pointers to its window's input rows.</summary>");
        string divisors = VaryingDivisor ? $", {T}* divisors" : "";
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier");
        using (w.Block($"private static void PoolPlane({T}* plane, {T}* output, {T}* padding{divisors}, int height, int width, int outHeight, int outWidth)"))
        {
            using (w.Block("for (int oh = 0; oh < outHeight; oh++)"))
            {
                EmitWindowRows(w);
                if (VaryingDivisor)
                    w.Line($"{T} rowFactor = {DivisorFactor("top", "height", "KernelHeight", PadBottom)};");
                w.Line($"PoolRow({RowArguments}, output + (long)oh * outWidth{DivisorArguments}, width, outWidth);");
            }
        }
        w.Line();
    }

    /// <summary>
    /// Inside an output-row loop over <c>oh</c>: <c>top</c>, the window's first input row, and a pointer to each of the
    /// window's rows, the identity row <c>padding</c> standing in for rows outside the input.
    /// </summary>
    private void EmitWindowRows(SourceWriter w)
    {
        w.Line("int top = oh * StrideHeight - PadTop;");
        for (int r = 0; r < Rows; r++)
        {
            string at = r == 0 ? "top" : $"top + {r}";
            w.Line($"{T}* row{r} = (uint)({at}) < (uint)height ? plane + (long)({at}) * width : padding;");
        }
    }

    private void EmitRow(SourceWriter w)
    {
        w.Line("/// <summary>One output row, on the widest vector path the machine accelerates (the JIT keeps only that one).</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void PoolRow({RowParameters}, {T}* output{DivisorParameters}, int width, int outWidth)"))
        {
            bool first = true;
            foreach (var isa in VectorIsa.All)
            {
                w.Line($"{(first ? "if" : "else if")} ({isa.Condition})");
                using (w.Indent())
                    w.Line($"Columns{isa.Bits}({RowArguments}, output{DivisorArguments}, width, outWidth);");
                first = false;
            }
            w.Line("else");
            using (w.Indent())
                w.Line("for (int ow = 0; ow < outWidth; ow++)");
            using (w.Indent()) using (w.Indent())
                w.Line($"output[ow] = ScalarColumn({RowArguments}, ow{DivisorArguments}, width);");
        }
        w.Line();
    }

    /// <summary>How many cells a block of <paramref name="lanes"/> outputs reads, from its first tap on.</summary>
    private int ReadLength(VectorIsa isa, int lanes)
    {
        if (_c.StrideWidth == 1) return lanes + Taps - 1;
        if (isa.HasAlignRight)
            return WholePhaseBlocks(lanes) is int blocks ? 2 * blocks * lanes
                : Taps <= 2 ? 2 * lanes : Taps == 3 ? 2 * lanes + 1 : 3 * lanes;
        return 2 * lanes + 2 * ((Taps - 1) / 2);
    }

    private void EmitColumns(SourceWriter w, VectorIsa isa)
    {
        int lanes = isa.LaneCount(_c.Element);
        int read = ReadLength(isa, lanes);
        w.Line($"/// <summary>The row in blocks of {lanes} outputs: interior blocks where the {read} cells a block reads lie inside the row, border blocks elsewhere.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void Columns{isa.Bits}({RowParameters}, {T}* output{DivisorParameters}, int width, int outWidth)"))
        {
            w.Line($"int reach = width - {read} + PadLeft;");
            w.Line("int lastReadable = reach < 0 ? -1 : reach / StrideWidth; // the last block start whose reads stay in the row");
            w.Line($"int lastInterior = Math.Min(lastReadable, outWidth - {lanes});");
            w.Line("int ow = 0;");
            int firstInterior = FirstInteriorColumn;
            if (firstInterior > lanes)
            {
                w.Line($"// Blocks that start before column {firstInterior} read left of the row: {(firstInterior + lanes - 1) / lanes} border blocks.");
                w.Line($"for (; ow < FirstInteriorColumn && ow < outWidth; ow += {lanes})");
                using (w.Indent())
                    w.Line($"Border{isa.Bits}({RowArguments}, output, ow{DivisorArguments}, width, outWidth);");
            }
            else if (firstInterior > 0)
            {
                w.Line("// The first block reads left of the row.");
                w.Line($"Border{isa.Bits}({RowArguments}, output, 0{DivisorArguments}, width, outWidth);");
                w.Line($"ow = {lanes};");
            }
            w.Line($"for (; ow <= lastInterior; ow += {lanes})");
            using (w.Indent())
                w.Line($"Interior{isa.Bits}({RowArguments}, output, ow{DivisorArguments});");
            w.Line("if (ow >= outWidth) return;");
            w.Line($"// The rest of the row: one interior block ending at the row's end if it fits (it recomputes a few outputs), else border blocks.");
            w.Line($"if (outWidth - {lanes} >= FirstInteriorColumn && outWidth - {lanes} <= lastReadable)");
            using (w.Indent())
                w.Line($"Interior{isa.Bits}({RowArguments}, output, outWidth - {lanes}{DivisorArguments});");
            w.Line("else");
            using (w.Indent())
                w.Line($"for (; ow < outWidth; ow += {lanes})");
            using (w.Indent()) using (w.Indent())
                w.Line($"Border{isa.Bits}({RowArguments}, output, ow{DivisorArguments}, width, outWidth);");
        }
        w.Line();
    }

    private void EmitBlock(SourceWriter w, VectorIsa isa, bool border)
    {
        int lanes = isa.LaneCount(_c.Element);
        string vector = isa.Vector;
        string name = (border ? "Border" : "Interior") + isa.Bits;
        w.Line(border
            ? $"/// <summary>Outputs [ow, ow + {lanes}) where some reads fall outside the row: masked loads read the identity there; stores stop at the row's end.</summary>"
            : $"/// <summary>Outputs [ow, ow + {lanes}), every read inside the row.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        string extra = border ? ", int width, int outWidth" : "";
        using (w.Block($"private static void {name}({RowParameters}, {T}* output, int ow{DivisorParameters}{extra})"))
        {
            w.Line("int column = ow * StrideWidth - PadLeft;");
            var loads = new Loads(isa, border);
            if (border)
            {
                // Which lanes of each load lie inside the row; shared by all the window's rows.
                w.Line($"var fill = {vector}.Create({Identity});");
                foreach (int offset in LoadOffsets(isa, lanes))
                    w.Line($"var inside{offset} = {isa.InsideMask(_c.Element)}({(offset == 0 ? "column" : $"column + {offset}")}, width);");
            }

            string result = _c.StrideWidth == 1 ? EmitStride1(w, loads) : EmitStride2(w, isa, loads, lanes, border);
            result = _c.IsMax
                ? $"({result} + {isa.Type(T)}.Zero)" // a zero maximum is +0 whichever operand order the tree used
                : EmitDivision(w, isa, result);

            if (border)
            {
                w.Line("int count = outWidth - ow;");
                w.Line($"if (count >= {lanes}) {result}.Store(output + ow);");
                w.Line($"else {isa.Lanes}.StoreFirst(output + ow, {result}, count);");
            }
            else
            {
                w.Line($"{result}.Store(output + ow);");
            }
        }
        w.Line();
    }

    /// <summary>Stride 1: tap kw of row r is the vector at <c>row + column + kw</c>.</summary>
    private string EmitStride1(SourceWriter w, Loads loads)
    {
        if (_c.IsMax)
        {
            var taps = new List<string>();
            for (int r = 0; r < Rows; r++)
                for (int kw = 0; kw < Taps; kw++)
                    taps.Add(loads.Load($"row{r}", kw));
            return EmitMaxTree(w, loads.Isa.Max, taps);
        }
        w.Line($"var sum = {loads.Isa.Type(T)}.Zero;");
        for (int r = 0; r < Rows; r++)
        {
            var row = new List<string>();
            for (int kw = 0; kw < Taps; kw++) row.Add(loads.Load($"row{r}", kw));
            w.Line($"sum = sum + {string.Join(" + ", row)};");
        }
        return "sum";
    }

    /// <summary>
    /// Stride 2: the block's 2V cells split into even and odd phases; tap kw is phase kw % 2 shifted down by kw / 2
    /// lanes. With AVX-512 the shift is one valign across this block's phase and the next block's; the narrower paths
    /// split again at an offset of 2 * (kw / 2) cells.
    /// </summary>
    private string EmitStride2(SourceWriter w, VectorIsa isa, Loads loads, int lanes, bool border)
    {
        int shifts = (Taps - 1) / 2;
        string lanesClass = isa.Lanes;
        if (isa.HasAlignRight && WholePhaseBlocks(lanes) is int phaseBlocks)
            return EmitStride2WholePhases(w, isa, loads, lanes, phaseBlocks);
        if (isa.HasAlignRight)
        {
            bool needNext = Taps >= 3;
            bool broadcastNext = Taps == 3 && !border; // tap 2 needs just one cell past the block: broadcast it
            if (_c.IsMax)
            {
                w.Line("// Rows first: the column maxima of the window's rows.");
                w.Line($"var low = {MaxOverRows(isa, r => loads.Load($"row{r}", 0))};");
                w.Line($"var high = {MaxOverRows(isa, r => loads.Load($"row{r}", lanes))};");
                if (needNext)
                    w.Line(broadcastNext
                        ? $"var next = {MaxOverRows(isa, r => $"{isa.Vector}.Create(row{r}[column + {2 * lanes}])")};"
                        : $"var next = {MaxOverRows(isa, r => loads.Load($"row{r}", 2 * lanes))};");
                var taps = StrideTwoTaps(w, isa, "", needNext);
                return EmitMaxTree(w, isa.Max, taps);
            }
            w.Line($"var sum = {isa.Type(T)}.Zero;");
            for (int r = 0; r < Rows; r++)
            {
                string suffix = r.ToString(System.Globalization.CultureInfo.InvariantCulture);
                w.Line($"var low{suffix} = {loads.Load($"row{r}", 0)};");
                w.Line($"var high{suffix} = {loads.Load($"row{r}", lanes)};");
                if (needNext)
                    w.Line(broadcastNext
                        ? $"var next{suffix} = {isa.Vector}.Create(row{r}[column + {2 * lanes}]);"
                        : $"var next{suffix} = {loads.Load($"row{r}", 2 * lanes)};");
                var taps = StrideTwoTaps(w, isa, suffix, needNext);
                w.Line($"sum = sum + {string.Join(" + ", taps)};");
            }
            return "sum";
        }

        // Narrower paths: phases of the cells at column + 2q for each shift q.
        if (_c.IsMax)
        {
            var taps = new List<string>();
            for (int q = 0; q <= shifts; q++)
            {
                w.Line($"var low{q} = {MaxOverRows(isa, r => loads.Load($"row{r}", 2 * q))};");
                w.Line($"var high{q} = {MaxOverRows(isa, r => loads.Load($"row{r}", 2 * q + lanes))};");
                taps.Add($"{lanesClass}.Even(low{q}, high{q})");
                if (2 * q + 1 < Taps) taps.Add($"{lanesClass}.Odd(low{q}, high{q})");
            }
            return EmitMaxTree(w, isa.Max, taps);
        }
        w.Line($"var sum = {isa.Type(T)}.Zero;");
        for (int r = 0; r < Rows; r++)
        {
            var taps = new List<string>();
            for (int q = 0; q <= shifts; q++)
            {
                string name = $"r{r}q{q}";
                w.Line($"var low{name} = {loads.Load($"row{r}", 2 * q)};");
                w.Line($"var high{name} = {loads.Load($"row{r}", 2 * q + lanes)};");
                taps.Add($"{lanesClass}.Even(low{name}, high{name})");
                if (2 * q + 1 < Taps) taps.Add($"{lanesClass}.Odd(low{name}, high{name})");
            }
            w.Line($"sum = sum + {string.Join(" + ", taps)};");
        }
        return "sum";
    }

    /// <summary>
    /// With AVX-512, a block's taps shift by up to (KernelWidth - 1) / 2 lanes within their phase. Up to half a vector,
    /// the even and odd cells of one more vector (<c>next</c>) hold every shifted tap; past that, the block needs this
    /// many whole phase blocks (pairs of vectors split into even and odd), or null when the half suffices.
    /// </summary>
    private int? WholePhaseBlocks(int lanes)
    {
        int maxShift = (Taps - 1) / 2;
        return maxShift <= lanes / 2 ? null : 1 + (maxShift + lanes - 1) / lanes;
    }

    /// <summary>
    /// Stride 2 on AVX-512 for wide windows: phase blocks k = 0, 1, ... each split 2V cells from <c>column + 2kV</c>
    /// into even and odd cells, and tap kw is its phase shifted kw / 2 lanes along them (one valign across two blocks).
    /// </summary>
    private string EmitStride2WholePhases(SourceWriter w, VectorIsa isa, Loads loads, int lanes, int phaseBlocks)
    {
        string lanesClass = isa.Lanes;
        List<string> PhaseTaps(string suffix)
        {
            return Enumerable.Range(0, Taps).Select(kw =>
            {
                string phase = (kw % 2 == 0 ? "even" : "odd") + suffix + "_";
                int shift = kw / 2, block = shift / lanes, within = shift % lanes;
                string current = phase + Number(block);
                return within == 0 ? current : isa.AlignRight(_c.Element, phase + Number(block + 1), current, within);
            }).ToList();
        }
        void SplitPhases(string suffix, System.Func<int, string> vectorAt)
        {
            for (int k = 0; k < phaseBlocks; k++)
            {
                string low = vectorAt(2 * k * lanes), high = vectorAt((2 * k + 1) * lanes);
                w.Line($"var low{suffix}_{k} = {low}; var high{suffix}_{k} = {high};");
                w.Line($"var even{suffix}_{k} = {lanesClass}.Even(low{suffix}_{k}, high{suffix}_{k}); var odd{suffix}_{k} = {lanesClass}.Odd(low{suffix}_{k}, high{suffix}_{k});");
            }
        }
        if (_c.IsMax)
        {
            w.Line("// Rows first: the column maxima of the window's rows, split into phases.");
            SplitPhases("", offset => MaxOverRows(isa, r => loads.Load($"row{r}", offset)));
            return EmitMaxTree(w, isa.Max, PhaseTaps(""));
        }
        w.Line($"var sum = {isa.Type(T)}.Zero;");
        for (int r = 0; r < Rows; r++)
        {
            string suffix = Number(r);
            SplitPhases(suffix, offset => loads.Load($"row{r}", offset));
            w.Line($"sum = sum + {string.Join(" + ", PhaseTaps(suffix))};");
        }
        return "sum";
    }

    /// <summary>The taps of one row (or of the row maxima) from its low/high/next vectors, with valign for the shifts.</summary>
    private List<string> StrideTwoTaps(SourceWriter w, VectorIsa isa, string suffix, bool needNext)
    {
        string lanesClass = isa.Lanes;
        w.Line($"var even{suffix} = {lanesClass}.Even(low{suffix}, high{suffix});");
        w.Line($"var odd{suffix} = {lanesClass}.Odd(low{suffix}, high{suffix});");
        if (needNext)
        {
            w.Line($"var evenNext{suffix} = {lanesClass}.Even(next{suffix}, next{suffix});");
            if (Taps >= 4) w.Line($"var oddNext{suffix} = {lanesClass}.Odd(next{suffix}, next{suffix});");
        }
        var taps = new List<string>();
        for (int kw = 0; kw < Taps; kw++)
        {
            string phase = kw % 2 == 0 ? "even" : "odd";
            int shift = kw / 2;
            taps.Add(shift == 0 ? phase + suffix : isa.AlignRight(_c.Element, $"{phase}Next{suffix}", phase + suffix, shift));
        }
        return taps;
    }

    /// <summary>The maximum over the window's rows, row by row with <paramref name="isa"/>'s maximum, of what <paramref name="load"/> gives for each.</summary>
    private string MaxOverRows(VectorIsa isa, System.Func<int, string> load)
    {
        string expression = load(0);
        for (int r = 1; r < Rows; r++) expression = $"{isa.Max}({expression}, {load(r)})";
        return expression;
    }

    private string EmitDivision(SourceWriter w, VectorIsa isa, string sum)
    {
        if (ConstantDivisor is int divisor)
            return "(" + DivideByConstant(sum, divisor, $"{isa.Vector}.Create") + ")";
        w.Line($"var divisor = {isa.Vector}.Load(divisors + ow) * {isa.Vector}.Create(rowFactor);");
        return $"({sum} / divisor)";
    }

    private void EmitScalarColumn(SourceWriter w)
    {
        w.Line("/// <summary>One output without vectors (the path when the JIT accelerates no vector width).</summary>");
        using (w.Block($"private static {T} ScalarColumn({RowParameters}, int ow{DivisorParameters}, int width)"))
        {
            w.Line("int column = ow * StrideWidth - PadLeft;");
            w.Line($"{T} {(_c.IsMax ? "max" : "sum")} = {Identity};");
            for (int r = 0; r < Rows; r++)
            {
                w.Line("for (int kw = 0; kw < KernelWidth; kw++)");
                using (w.Indent())
                    w.Line(_c.IsMax
                        ? $"if ((uint)(column + kw) < (uint)width) max = {T}.Max(max, row{r}[column + kw]);"
                        : $"if ((uint)(column + kw) < (uint)width) sum += row{r}[column + kw];");
            }
            if (_c.IsMax) w.Line($"return max + {Literal(0)};");
            else if (ConstantDivisor is int divisor) w.Line($"return {DivideByConstant("sum", divisor, "")};");
            else w.Line("return sum / (divisors[ow] * rowFactor);");
        }
    }

    /// <summary>The cell offsets (from the block's first tap) at which a block loads vectors.</summary>
    private IEnumerable<int> LoadOffsets(VectorIsa isa, int lanes)
    {
        if (_c.StrideWidth == 1) return Enumerable.Range(0, Taps);
        if (isa.HasAlignRight)
            return WholePhaseBlocks(lanes) is int blocks ? Enumerable.Range(0, 2 * blocks).Select(i => i * lanes)
                : Taps >= 3 ? [0, lanes, 2 * lanes] : [0, lanes];
        // Distinct: with 2-lane vectors the high half of one shift is the low half of the next.
        return Enumerable.Range(0, (Taps - 1) / 2 + 1).SelectMany(q => new[] { 2 * q, 2 * q + lanes }).Distinct();
    }

    /// <summary>Spells a block's loads: plain for interior blocks, masked with the identity for border blocks.</summary>
    private sealed class Loads
    {
        private readonly bool _border;

        public Loads(VectorIsa isa, bool border)
        {
            Isa = isa;
            _border = border;
        }

        public VectorIsa Isa { get; }

        /// <summary>A load of <paramref name="row"/> at <c>column + offset</c>; border blocks declare mask <c>inside{offset}</c> first.</summary>
        public string Load(string row, int offset)
        {
            string at = offset == 0 ? "column" : $"column + {offset}";
            return _border ? $"{Isa.Lanes}.LoadInside({row}, {at}, inside{offset}, fill)" : $"{Isa.Vector}.Load({row} + {at})";
        }
    }
}
