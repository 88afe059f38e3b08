using System.Collections.Generic;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// Channels-first max pooling with a horizontal stride of 1 (GoogLeNet's 3x3, YOLO's SPPF 5x5, ...): separable, so
/// each input row's maxima over the window's columns are computed once and reused by every output row whose window
/// covers that row.
/// </summary>
/// <remarks>
/// A k x k window then costs 2k loads and 2(k - 1) maxima per output vector instead of k^2 and k^2 - 1. The row maxima
/// of a plane go to a scratch buffer whose rows are a whole number of vectors wide, so the vertical pass never needs a
/// mask; the horizontal pass loads masked only in the blocks that reach past a row's ends.
/// </remarks>
internal sealed partial class SeparableMaxEmitter : KernelEmitter
{
    private readonly KernelConfiguration _c;

    public SeparableMaxEmitter(KernelConfiguration configuration) : base(configuration) => _c = configuration;


    private int Rows => _c.KernelHeight;

    private int Taps => _c.KernelWidth;

    /// <summary>Row maxima are stored in rows padded to a multiple of the widest vector.</summary>
    private int PitchMultiple => VectorIsa.V512.LaneCount(_c.Element);

    private string RowParameters => string.Join(", ", Enumerable.Range(0, Rows).Select(r => $"{T}* row{r}"));

    private string RowArguments => string.Join(", ", Enumerable.Range(0, Rows).Select(r => $"row{r}"));

    public override IEnumerable<string> Remarks()
    {
        yield return "Channels first, horizontal stride 1, separable: a first pass computes every input row's maxima over";
        yield return $"the window's {Taps} columns once; a second pass takes, for each output row, the maximum of the {Rows}";
        yield return "row maxima its window covers (a row of -inf for rows in the padding). Vectors run along the rows;";
        yield return "only the blocks that reach past a row's ends load masked. NaN propagates, and a zero maximum is +0.";
        if (HasRegisterPath)
        {
            yield return $"On AVX-512, planes whose rows are at most {MaxRegisterBlocks} vectors wide skip the scratch buffer: the window's rows stay";
            yield return "in registers as it slides down the plane, and its columns are neighbouring lanes joined with valign.";
            if (Rows > 2 || UsesColumnPairs)
                yield return "Maxima of 2, 4, ... rows and of column pairs are each made once and shared by the windows that contain them.";
            yield return "That path first uses the one-instruction maximum, which is exact unless an operand is NaN, and sums every";
            yield return "cell it loads; a plane whose sum is NaN is pooled again with the NaN-propagating maximum.";
        }
    }

    public override void Emit(SourceWriter w)
    {
        w.Line($"private const int KernelHeight = {_c.KernelHeight}, KernelWidth = {_c.KernelWidth};");
        w.Line($"private const int StrideHeight = {_c.StrideHeight}, PadTop = {_c.PadHeight}, PadLeft = {_c.PadWidth};");
        w.Line();
        EmitRegistration(w);
        EmitRun(w);
        if (HasRegisterPath)
        {
            EmitRegisterPathDispatch(w);
            foreach (var row in RegisterRows)
                EmitPlaneInRegisters(w, row);
        }
        EmitPlane(w);
        EmitPasses(w);
        foreach (var isa in VectorIsa.All)
        {
            EmitHorizontalBlock(w, isa, border: false);
            EmitHorizontalBlock(w, isa, border: true);
            EmitVerticalBlock(w, isa);
        }
    }

    private void EmitRun(SourceWriter w)
    {
        using (BeginRun(w))
        {
            w.Line("int height = shape.Height, width = shape.Width, outHeight = outputShape.Height, outWidth = outputShape.Width;");
            if (HasRegisterPath)
            {
                w.Line($"if ({VectorIsa.V512.Condition})");
                using (w.Block(""))
                {
                    w.Line($"fixed ({T}* source = input, target = output)");
                    using (w.Indent())
                        w.Line("if (TryPoolInRegisters512(source, target, shape.PlaneCount, height, width, outHeight, outWidth)) return;");
                }
                w.Line();
            }
            w.Line($"int pitch = (outWidth + {PitchMultiple - 1}) / {PitchMultiple} * {PitchMultiple}; // row maxima rows: whole vectors");
            w.Line();
            w.Line("// Scratch: the plane's row maxima, then one row of -inf for window rows in the padding.");
            w.Line($"{T}[] scratch = ArrayPool<{T}>.Shared.Rent((height + 1) * pitch);");
            using (w.Block("try"))
            {
                using (w.Block($"fixed ({T}* source = input, target = output, rowMaxima = scratch)"))
                {
                    w.Line($"{T}* padding = rowMaxima + (long)height * pitch;");
                    w.Line($"new Span<{T}>(padding, pitch).Fill({T}.NegativeInfinity);");
                    w.Line("long planeSize = (long)height * width, outPlaneSize = (long)outHeight * outWidth;");
                    using (w.Block("for (long plane = 0; plane < shape.PlaneCount; plane++)"))
                        w.Line("PoolPlane(source + plane * planeSize, target + plane * outPlaneSize, rowMaxima, padding, height, width, outHeight, outWidth, pitch);");
                }
            }
            using (w.Block("finally"))
                w.Line($"ArrayPool<{T}>.Shared.Return(scratch);");
        }
        w.Line();
    }

    private void EmitPlane(SourceWriter w)
    {
        w.Line("/// <summary>One (n, c) plane: all row maxima first, then each output row from the row maxima its window covers.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier");
        using (w.Block($"private static void PoolPlane({T}* plane, {T}* output, {T}* rowMaxima, {T}* padding, int height, int width, int outHeight, int outWidth, int pitch)"))
        {
            w.Line("HorizontalPass(plane, rowMaxima, height, width, outWidth, pitch);");
            using (w.Block("for (int oh = 0; oh < outHeight; oh++)"))
            {
                w.Line("int top = oh * StrideHeight - PadTop;");
                for (int r = 0; r < Rows; r++)
                {
                    string at = r == 0 ? "top" : $"top + {r}";
                    w.Line($"{T}* row{r} = (uint)({at}) < (uint)height ? rowMaxima + (long)({at}) * pitch : padding;");
                }
                w.Line($"VerticalPass({RowArguments}, output + (long)oh * outWidth, outWidth);");
            }
        }
        w.Line();
    }

    private void EmitPasses(SourceWriter w)
    {
        w.Line("/// <summary>");
        w.Line("/// Every input row's maxima over the window's columns, for every output column, a column block at a time: the");
        w.Line("/// masks of a border block are the same for every row, so they are computed once per plane. Whole vectors are");
        w.Line("/// stored (the scratch rows are wide enough).");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)] // not inlined into PoolPlane: marked on its own");
        using (w.Block($"private static void HorizontalPass({T}* plane, {T}* rowMaxima, int height, int width, int outWidth, int pitch)"))
        {
            bool first = true;
            foreach (var isa in VectorIsa.All)
            {
                int lanes = isa.LaneCount(_c.Element);
                w.Line($"{(first ? "if" : "else if")} ({isa.Condition})");
                using (w.Block(""))
                {
                    w.Line($"var fill = {isa.Vector}.Create({T}.NegativeInfinity);");
                    w.Line($"int lastInterior = width - {lanes + Taps - 1} + PadLeft; // the last block start whose reads stay in the row");
                    using (w.Block($"for (int ow = 0; ow < outWidth; ow += {lanes})"))
                    {
                        w.Line("int column = ow - PadLeft;");
                        using (w.Block("if (ow >= PadLeft && ow <= lastInterior)"))
                        {
                            w.Line("for (int row = 0; row < height; row++)");
                            using (w.Indent())
                                w.Line($"HorizontalInterior{isa.Bits}(plane + (long)row * width + column, rowMaxima + (long)row * pitch + ow);");
                        }
                        using (w.Block("else"))
                        {
                            for (int kw = 0; kw < Taps; kw++)
                                w.Line($"var inside{kw} = {isa.InsideMask(_c.Element)}({(kw == 0 ? "column" : $"column + {kw}")}, width);");
                            w.Line("for (int row = 0; row < height; row++)");
                            using (w.Indent())
                                w.Line($"HorizontalBorder{isa.Bits}(plane + (long)row * width, column, rowMaxima + (long)row * pitch + ow, {string.Join(", ", Enumerable.Range(0, Taps).Select(kw => $"inside{kw}"))}, fill);");
                        }
                    }
                }
                first = false;
            }
            w.Line("else");
            using (w.Block(""))
            {
                using (w.Block("for (int row = 0; row < height; row++)"))
                using (w.Block("for (int ow = 0; ow < outWidth; ow++)"))
                {
                    w.Line($"{T} max = {T}.NegativeInfinity;");
                    w.Line("for (int kw = 0; kw < KernelWidth; kw++)");
                    using (w.Indent())
                        w.Line($"if ((uint)(ow - PadLeft + kw) < (uint)width) max = {T}.Max(max, plane[(long)row * width + ow - PadLeft + kw]);");
                    w.Line("rowMaxima[(long)row * pitch + ow] = max;");
                }
            }
        }
        w.Line();

        w.Line("/// <summary>One output row: the maximum of its window's row maxima.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void VerticalPass({RowParameters}, {T}* output, int outWidth)"))
        {
            bool first = true;
            foreach (var isa in VectorIsa.All)
            {
                int lanes = isa.LaneCount(_c.Element);
                w.Line($"{(first ? "if" : "else if")} ({isa.Condition} && outWidth >= {lanes})");
                using (w.Block(""))
                {
                    w.Line($"for (int ow = 0; ow < outWidth; ow += {lanes})");
                    using (w.Indent())
                        w.Line($"Vertical{isa.Bits}({RowArguments}, output, Math.Min(ow, outWidth - {lanes})); // the last block may overlap the one before");
                }
                first = false;
            }
            w.Line("else");
            using (w.Block(""))
            {
                using (w.Block("for (int ow = 0; ow < outWidth; ow++)"))
                {
                    string expression = "row0[ow]";
                    for (int r = 1; r < Rows; r++) expression = $"{T}.Max({expression}, row{r}[ow])";
                    w.Line($"output[ow] = {expression} + {Literal(0)};");
                }
            }
        }
        w.Line();
    }

    private void EmitHorizontalBlock(SourceWriter w, VectorIsa isa, bool border)
    {
        int lanes = isa.LaneCount(_c.Element);
        string vector = isa.Type(T);
        if (border)
        {
            w.Line($"/// <summary>{lanes} row maxima where some reads fall outside the row: masked loads read -inf there.</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            string masks = string.Join(", ", Enumerable.Range(0, Taps).Select(kw => $"{isa.Vector}<{(_c.Element == ElementKind.Float ? "int" : "long")}> inside{kw}"));
            using (w.Block($"private static void HorizontalBorder{isa.Bits}({T}* row, int column, {T}* target, {masks}, {vector} fill)"))
            {
                var taps = Enumerable.Range(0, Taps)
                    .Select(kw => $"{isa.Lanes}.LoadInside(row, {(kw == 0 ? "column" : $"column + {kw}")}, inside{kw}, fill)").ToList();
                w.Line($"{EmitMaxTree(w, isa.Max, taps)}.Store(target);");
            }
        }
        else
        {
            w.Line($"/// <summary>{lanes} row maxima, every read inside the row (<paramref name=\"cells\"/> is the first tap of the first output).</summary>");
            w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
            using (w.Block($"private static void HorizontalInterior{isa.Bits}({T}* cells, {T}* target)"))
            {
                var taps = Enumerable.Range(0, Taps).Select(kw => $"{isa.Vector}.Load(cells{(kw == 0 ? "" : $" + {kw}")})").ToList();
                w.Line($"{EmitMaxTree(w, isa.Max, taps)}.Store(target);");
            }
        }
        w.Line();
    }

    private void EmitVerticalBlock(SourceWriter w, VectorIsa isa)
    {
        int lanes = isa.LaneCount(_c.Element);
        w.Line($"/// <summary>Outputs [ow, ow + {lanes}): the maximum of the window's row maxima, +0 so that a zero maximum is +0.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void Vertical{isa.Bits}({RowParameters}, {T}* output, int ow)"))
        {
            var taps = Enumerable.Range(0, Rows).Select(r => $"{isa.Vector}.Load(row{r} + ow)").ToList();
            string result = EmitMaxTree(w, isa.Max, taps);
            w.Line($"({result} + {isa.Type(T)}.Zero).Store(output + ow);");
        }
        w.Line();
    }
}
