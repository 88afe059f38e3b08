using System.Collections.Generic;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;
using KernelGen.Shared;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// Channels-last average pooling whose windows overlap along the row (Inception's 3x3 stride 1, the 3x3 stride 2
/// average): vectors of channels sweep along an output row and keep the window's cells in registers, so a step loads
/// only the columns the window slides onto.
/// </summary>
/// <remarks>
/// <para>
/// The sum keeps PyTorch's order (kh outer, kw inner, from +0), so unlike max nothing is shared between neighbouring
/// windows but the loads: a cell-by-cell kernel loads all KernelHeight x KernelWidth taps per output vector, and at
/// one 512-bit load per cycle (Zen 4) those loads, not the additions, bounded it. Here a step loads KernelHeight x
/// StrideWidth vectors and takes the rest from registers; with vertical stride 1 a sweep produces two output rows
/// from KernelHeight + 1 input rows, which shares the loads of their common rows too.
/// </para>
/// <para>
/// Padding adds +0 in place of the skipped cells: a sum that starts from +0 is never -0, so adding +0 changes nothing.
/// Rows outside the input read a row of zeros; columns outside it are the zero vector.
/// </para>
/// <para>
/// A row is swept in tiles of output columns, every channel vector over a tile before the next tile: with many channels
/// a sweep takes only some of each cell's cache lines, and a whole row's worth of the pass's input rows would leave L1
/// before the next channel vector came back to it. A tile reloads the carried columns of its first step, nothing else.
/// </para>
/// <para>
/// The general engine's <c>ChannelsLastSlidingSum</c> shares loads for run-time windows (four cells a step, all of their
/// channels before the next); neither can replace the other without a slowdown on some shapes (bench/notes.md, "Issue
/// 19: one owner").
/// </para>
/// </remarks>
internal sealed class SlidingAverageChannelsLastEmitter : KernelEmitter
{
    private readonly KernelConfiguration _c;

    public SlidingAverageChannelsLastEmitter(KernelConfiguration configuration) : base(configuration) => _c = configuration;

    /// <summary>
    /// Whether this kernel applies: average windows that overlap along the row, small enough that a window's cells fit
    /// in registers (16 vectors). Larger or non-overlapping windows keep <see cref="ChannelsLastEmitter"/>.
    /// </summary>
    public static bool Applies(KernelConfiguration c) => SpecializationRule.SlidingAverageChannelsLast(c.Spec);

    private int TapCount => _c.KernelHeight * _c.KernelWidth;


    /// <summary>
    /// Output rows one sweep produces: with vertical stride 1 two, which read KernelHeight + 1 input rows instead of
    /// 2 x KernelHeight (when the window's cells of both still fit in 16 registers).
    /// </summary>
    private int RowsPerPass => _c.StrideHeight == 1 && (_c.KernelHeight + 1) * _c.KernelWidth <= 16 ? 2 : 1;

    /// <summary>The input rows one sweep reads.</summary>
    private int PassRows => RowsPerPass - 1 + _c.KernelHeight;

    /// <summary>The columns a step carries over to the next (the window's overlap with its right neighbour).</summary>
    private int Carried => _c.KernelWidth - _c.StrideWidth;

    private bool VaryingDivisor => ConstantDivisor is null;

    /// <summary>The input bytes a tile of a pass reads, all channels: within a 32 KB L1 data cache, as C# text.</summary>
    private const string TileBytes = "24 * 1024";

    /// <summary>Registers for the window's cells (of AVX-512's 32; the rest hold the sums, divisors and the constant 1).</summary>
    private const int CellBudget = 24;

    /// <summary>Channel vectors one sweep takes side by side: as many as keep the window's cells within <see cref="CellBudget"/> registers (a power of two).</summary>
    private int Unroll
    {
        get
        {
            int fits = System.Math.Max(1, System.Math.Min(4, CellBudget / (PassRows * _c.KernelWidth)));
            return fits >= 4 ? 4 : fits >= 2 ? 2 : 1;
        }
    }

    public override IEnumerable<string> Remarks()
    {
        yield return "Channels last, sliding: vectors of channels sweep along an output row with the window's cells in";
        yield return $"registers; a step loads the {PassRows * _c.StrideWidth} cells the window{(RowsPerPass == 2 ? "s of two output rows slide" : " slides")} onto, not {RowsPerPass * TapCount}. Cells are added in PyTorch's";
        yield return "row-major order from +0 (padding adds +0, which changes nothing), then divided: bit-identical to the general engine.";
    }

    public override void Emit(SourceWriter w)
    {
        w.Line($"private const int KernelHeight = {_c.KernelHeight}, KernelWidth = {_c.KernelWidth};");
        w.Line($"private const int StrideHeight = {_c.StrideHeight}, StrideWidth = {_c.StrideWidth}, PadTop = {_c.PadHeight}, PadLeft = {_c.PadWidth};");
        EmitEndPaddingConstants(w);
        w.Line();
        EmitRegistration(w);
        EmitRun(w);
        EmitImage(w);
        foreach (var isa in VectorIsa.All)
        {
            int lanes = isa.LaneCount(_c.Element);
            if (Unroll > 1)
                EmitSweep(w, isa, lanes, Unroll);
            EmitSweep(w, isa, lanes, 1);
        }
        EmitSweep(w, null, 1, 1);
    }

    private static string SweepName(VectorIsa? isa, int unroll) =>
        isa is null ? "SweepScalar" : "Sweep" + isa.Bits + (unroll == 1 ? "" : "x" + unroll);

    private void EmitRun(SourceWriter w)
    {
        using (BeginRun(w))
        {
            w.Line("int channels = shape.Channels, height = shape.Height, width = shape.Width, outHeight = outputShape.Height, outWidth = outputShape.Width;");
            w.Line("// Scratch: one row of zeros, which window rows outside the input read.");
            w.Line("int rowLength = width * channels; // no overflow: one input row fits in the input span");
            w.Line($"{T}[] scratch = ArrayPool<{T}>.Shared.Rent(rowLength);");
            using (w.Block("try"))
            {
                using (w.Block($"fixed ({T}* source = input, target = output, zeros = scratch)"))
                {
                    w.Line($"new Span<{T}>(zeros, rowLength).Clear();");
                    w.Line("long imageSize = (long)height * rowLength, outImageSize = (long)outHeight * outWidth * channels;");
                    using (w.Block("for (long n = 0; n < shape.Batch; n++)"))
                        w.Line("PoolImage(source + n * imageSize, target + n * outImageSize, zeros, height, width, channels, outHeight, outWidth);");
                }
            }
            using (w.Block("finally"))
                w.Line($"ArrayPool<{T}>.Shared.Return(scratch);");
        }
        w.Line();
    }

    private string SweepArguments()
    {
        var arguments = Enumerable.Range(0, PassRows).Select(k => $"row{k} + c").ToList();
        for (int g = 0; g < RowsPerPass; g++) arguments.Add($"target{g} + c");
        if (RowsPerPass == 2) arguments.Add("secondRow");
        arguments.Add("width");
        arguments.Add("channels");
        arguments.Add("first");
        arguments.Add("end");
        if (VaryingDivisor)
            for (int g = 0; g < RowsPerPass; g++) arguments.Add($"rowFactor{g}");
        return string.Join(", ", arguments);
    }

    private void EmitImage(SourceWriter w)
    {
        w.Line("/// <summary>One image, an output row at a time; vectors of channels sweep the row a tile at a time, the widest first.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier");
        using (w.Block($"private static void PoolImage({T}* image, {T}* output, {T}* zeros, int height, int width, int channels, int outHeight, int outWidth)"))
        {
            w.Line("long rowStride = (long)width * channels, outRowStride = (long)outWidth * channels;");
            w.Line("// Output columns per tile: every channel vector sweeps a tile before the next tile, so that the tile's input cells");
            w.Line($"// ({PassRows} rows x {_c.StrideWidth} column{(_c.StrideWidth == 1 ? "" : "s")} per output column, all channels) stay in L1 while the channel vectors take their turns.");
            w.Line($"int tile = (int)Math.Max(8, {TileBytes} / ({PassRows * _c.StrideWidth}L * channels * sizeof({T})));");
            using (w.Block($"for (int oh = 0; oh < outHeight; oh += {RowsPerPass})"))
            {
                w.Line("int top = oh * StrideHeight - PadTop;");
                w.Line("// The window's rows; those outside the input read zeros (+0 added to a sum that starts at +0 changes nothing).");
                for (int k = 0; k < PassRows; k++)
                {
                    string row = k == 0 ? "top" : $"top + {k}";
                    w.Line($"{T}* row{k} = (uint)({row}) < (uint)height ? image + ({row}) * rowStride : zeros;");
                }
                if (VaryingDivisor)
                    for (int g = 0; g < RowsPerPass; g++)
                        w.Line($"{T} rowFactor{g} = {DivisorFactor(g == 0 ? "top" : $"(top + {g})", "height", "KernelHeight", PadBottom)};");
                w.Line($"{T}* target0 = output + oh * outRowStride;");
                if (RowsPerPass == 2)
                {
                    w.Line("// An odd last row: the sweep computes a second row from rows inside the image (or zeros) but does not store it.");
                    w.Line("bool secondRow = oh + 1 < outHeight;");
                    w.Line($"{T}* target1 = target0 + (secondRow ? outRowStride : 0);");
                }
                using (w.Block("for (int first = 0; first < outWidth; first += tile)"))
                {
                    w.Line("int end = Math.Min(outWidth, first + tile);");
                    ChannelBlocks.Emit(w, _c.Element, Unroll, (isa, unroll) => $"{SweepName(isa, unroll)}({SweepArguments()})");
                }
            }
        }
        w.Line();
    }

    /// <summary>One sweep of <paramref name="unroll"/> vectors of channels (<paramref name="isa"/> null: one channel) along an output row.</summary>
    private void EmitSweep(SourceWriter w, VectorIsa? isa, int lanes, int unroll)
    {
        string type = isa is null ? T : isa.Type(T);
        string zero = isa is null ? Literal(0) : $"{type}.Zero";
        bool fused = isa == VectorIsa.V512;
        string Offset(int u) => u == 0 ? "" : $" + {u * lanes}";
        string Cell(int k, int i, int u) => unroll == 1 ? $"cell{k}_{i}" : $"cell{k}_{i}_{u}";

        var parameters = Enumerable.Range(0, PassRows).Select(k => $"{T}* row{k}").ToList();
        for (int g = 0; g < RowsPerPass; g++) parameters.Add($"{T}* target{g}");
        if (RowsPerPass == 2) parameters.Add("bool secondRow");
        parameters.Add("int width");
        parameters.Add("int channels");
        parameters.Add("int first");
        parameters.Add("int end");
        if (VaryingDivisor)
            for (int g = 0; g < RowsPerPass; g++) parameters.Add($"{T} rowFactor{g}");

        string what = isa is null ? "one channel" : $"{(unroll == 1 ? "one" : Number(unroll))} {isa.Vector} of channels";
        w.Line($"/// <summary>Sweeps {what} along output columns [first, end) of a row, the window's cells in registers.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static void {SweepName(isa, unroll)}({string.Join(", ", parameters)})"))
        {
            if (fused)
                w.Line($"var one = {isa!.Vector}.Create({Literal(1)}); // x * 1 + s is exactly x + s: the FMA pipes add too");
            bool hoistedDivisors = VaryingDivisor && isa is not null;
            if (hoistedDivisors)
            {
                // A window wholly inside the row divides by rowFactor * KernelWidth, made once per sweep rather than
                // made and broadcast at each step.
                for (int g = 0; g < RowsPerPass; g++)
                    w.Line($"var fullDivisor{g} = {isa!.Vector}.Create(rowFactor{g} * KernelWidth);");
            }
            w.Line("int x = first * StrideWidth - PadLeft; // the window's first column");
            w.Line("long at;");
            void EmitColumn(int i)
            {
                string column = i == 0 ? "x" : $"x + {i}";
                w.Line($"at = (long)({column}) * channels;");
                w.Line($"bool inside{i} = (uint)({column}) < (uint)width;");
                for (int k = 0; k < PassRows; k++)
                    for (int u = 0; u < unroll; u++)
                    {
                        string load = isa is null ? $"*(row{k} + at)" : $"{isa.Vector}.Load(row{k} + at{Offset(u)})";
                        w.Line($"var {Cell(k, i, u)} = inside{i} ? {load} : {zero};");
                    }
            }
            // Output row g of the sweep: its window's rows are the sweep's rows g .. g + KernelHeight - 1.
            void EmitRow(int g)
            {
                string divisor = "";
                if (hoistedDivisors)
                {
                    w.Line($"var divisorVector{g} = columnCells == KernelWidth ? fullDivisor{g} : {isa!.Vector}.Create(rowFactor{g} * columnCells);");
                    divisor = $"divisorVector{g}";
                }
                else if (ConstantDivisor is null)
                {
                    w.Line($"{T} divisor{g} = rowFactor{g} * {DivisorFactor("x", "width", "KernelWidth", PadRight)};");
                    divisor = $"divisor{g}";
                }
                w.Line("// PyTorch's order: from +0, kh outer, kw inner.");
                for (int t = 0; t < TapCount; t++)
                    for (int u = 0; u < unroll; u++)
                    {
                        string cell = Cell(g + t / _c.KernelWidth, t % _c.KernelWidth, u);
                        string sum = $"sum{g}_{u}";
                        if (t == 0) w.Line($"var {sum} = {zero} + {cell};");
                        else if (fused && t % 2 == 1) w.Line($"{sum} = Avx512F.FusedMultiplyAdd({cell}, one, {sum});");
                        else w.Line($"{sum} += {cell};");
                    }
                for (int u = 0; u < unroll; u++)
                {
                    string quotient = ConstantDivisor is int constant
                        ? DivideByConstant($"sum{g}_{u}", constant, isa is null ? "" : $"{isa.Vector}.Create")
                        : $"sum{g}_{u} / {divisor}";
                    string at = $"target{g} + (long)ow * channels{Offset(u)}";
                    w.Line(isa is null ? $"*({at}) = {quotient};" : $"({quotient}).Store({at});");
                }
            }
            if (Carried > 0)
            {
                w.Line("// The columns a step carries over from the previous one: the first step finds them here.");
                for (int i = 0; i < Carried; i++)
                    EmitColumn(i);
            }
            using (w.Block("for (int ow = first; ow < end; ow++)"))
            {
                for (int i = System.Math.Max(0, Carried); i < _c.KernelWidth; i++)
                    EmitColumn(i);
                if (hoistedDivisors)
                    w.Line($"int columnCells = {DivisorCells("x", "width", "KernelWidth", PadRight)};");
                for (int g = 0; g < RowsPerPass; g++)
                {
                    if (g == 0) EmitRow(0);
                    else using (w.Block("if (secondRow)")) EmitRow(g);
                }
                if (Carried > 0)
                {
                    w.Line("// Slide: the next window's first columns are this one's last.");
                    for (int k = 0; k < PassRows; k++)
                        for (int u = 0; u < unroll; u++)
                            w.Line(string.Join(" ", Enumerable.Range(0, Carried).Select(i => $"{Cell(k, i, u)} = {Cell(k, i + _c.StrideWidth, u)};")));
                }
                w.Line("x += StrideWidth;");
            }
        }
        w.Line();
    }
}
