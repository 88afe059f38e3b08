using System.Collections.Generic;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;
using KernelGen.Shared;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// Channels-last max pooling without dilation, any stride (ResNet's 3x3 s2 stem, VGG's 2x2 s2, GoogLeNet's 3x3 s1,
/// YOLO's SPPF 5x5 in NHWC): separable, with the column maxima kept in registers while a vector of channels sweeps
/// along the output row.
/// </summary>
/// <remarks>
/// <para>
/// Max is order-free, so a window's maximum is the maximum of its column maxima (over the window's rows). One sweep
/// takes one vector of channels along a pass of output rows: at each input column it loads the pass's rows and
/// reduces them once, and neighbouring output cells whose windows share that column reuse the value from a register
/// (with stride 2 and a 3-wide window, out[ow] = max(cm[2ow-1], cm[2ow], cm[2ow+1]) and cm[2ow+1] serves ow + 1 too).
/// Nothing is stored but the outputs.
/// </para>
/// <para>
/// When two output rows' windows overlap (vertical stride below the kernel height), a pass takes both: it reads
/// StrideHeight + KernelHeight rows, each once, and reduces their common KernelHeight - StrideHeight rows once. For
/// ResNet's 3x3 stride-2 stem in NHWC that reads the shared row once instead of twice (each row is 28 KB, so the
/// second read would come from L2). Horizontal stride 1 also shares the middle of the window between
/// neighbouring columns: a step of two output columns reduces their common KernelWidth - 1 column maxima once. A 3x3
/// stride-1 window then costs 3 maxima per output instead of 8, a 5x5 one 5 instead of 24.
/// </para>
/// <para>
/// Padding: a row or column outside the input is replaced by the nearest one inside (its index clamped). PyTorch's
/// output size guarantees that every window holds an input cell, so the clamped row or column lies in every window
/// that reaches past the edge, and max(a, a) = a. No identity cells, no border branches.
/// </para>
/// <para>
/// The general engine's <c>ChannelsLastSlidingMax</c> and <c>ChannelsLastPooling.MaxSeparable</c> do the same for run-time
/// windows; neither side can replace the other without a slowdown on some shapes (bench/notes.md, "Issue 19: one owner").
/// </para>
/// </remarks>
internal sealed class SeparableMaxChannelsLastEmitter : KernelEmitter
{
    private readonly KernelConfiguration _c;

    public SeparableMaxChannelsLastEmitter(KernelConfiguration configuration) : base(configuration) => _c = configuration;

    /// <summary>Whether this kernel takes a channels-last configuration: max windows that overlap, without dilation.</summary>
    public static bool Applies(KernelConfiguration c) => SpecializationRule.SeparableMaxChannelsLast(c.Spec);

    /// <summary>Output rows one pass produces: two when their windows share rows, else one.</summary>
    private int RowsPerPass => _c.StrideHeight < _c.KernelHeight ? 2 : 1;

    /// <summary>Output columns one step of a sweep produces: two when horizontal stride 1 lets them share columns, else one.</summary>
    private int ColumnsPerStep => _c.StrideWidth == 1 ? 2 : 1;

    /// <summary>The input rows one pass reads.</summary>
    private int PassRows => (RowsPerPass - 1) * _c.StrideHeight + _c.KernelHeight;

    /// <summary>The input columns one step's windows span.</summary>
    private int StepSpan => (ColumnsPerStep - 1) * _c.StrideWidth + _c.KernelWidth;

    /// <summary>How far the first window moves from one step to the next.</summary>
    private int StepAdvance => ColumnsPerStep * _c.StrideWidth;

    /// <summary>The columns one step shares with the next (their maxima carry over in registers).</summary>
    private int Carried => System.Math.Max(0, StepSpan - StepAdvance);

    public override IEnumerable<string> Remarks()
    {
        yield return "Channels last, separable: a vector of channels sweeps along a pass of output rows. At each input column";
        yield return $"the pass's {PassRows} rows are reduced once to column maxima, which stay in registers for every window that";
        yield return "shares the column" + (RowsPerPass == 2 || ColumnsPerStep == 2
            ? "; two output rows (or, with stride 1, columns) whose windows overlap also share their common part."
            : ".");
        yield return "Rows and columns in the padding are clamped to the nearest inside the input: every window holds an";
        yield return "input cell, and max(a, a) = a. NaN propagates, and a zero maximum is +0.";
    }

    public override void Emit(SourceWriter w)
    {
        w.Line($"private const int StrideHeight = {_c.StrideHeight}, PadTop = {_c.PadHeight}, PadLeft = {_c.PadWidth};");
        w.Line();
        w.Line($"/// <summary>Output rows per pass (they share input rows) and output columns per step of a sweep (they share column maxima).</summary>");
        w.Line($"private const int RowsPerPass = {RowsPerPass}, ColumnsPerStep = {ColumnsPerStep};");
        w.Line();
        w.Line($"/// <summary>How far a step moves the sweep along the input row, in columns.</summary>");
        w.Line($"private const int StepAdvance = {StepAdvance};");
        w.Line();
        EmitRegistration(w);
        EmitRun(w);
        EmitImage(w);
        foreach (var isa in VectorIsa.All)
        {
            int lanes = isa.LaneCount(_c.Element);
            if (Unroll > 1)
                EmitSweep(w, SweepName(isa, Unroll), isa.Type(T), lanes, Unroll, p => $"{isa.Vector}.Load({p})", isa.Max, (v, p) => $"({v} + {isa.Type(T)}.Zero).Store({p});");
            EmitSweep(w, SweepName(isa, 1), isa.Type(T), lanes, 1, p => $"{isa.Vector}.Load({p})", isa.Max, (v, p) => $"({v} + {isa.Type(T)}.Zero).Store({p});");
        }
        EmitSweep(w, "SweepScalar", T, 1, 1, p => $"*({p})", $"{T}.Max", (v, p) => $"*({p}) = {v} + {Literal(0)};");
    }

    private static string SweepName(VectorIsa isa, int unroll) => "Sweep" + isa.Bits + (unroll == 1 ? "" : "x" + unroll);

    /// <summary>
    /// Vectors of channels one sweep takes side by side, so that it reads more of each cell's cache lines at once: as
    /// many as the column maxima it keeps (RowsPerPass x StepSpan per vector) leave registers for (24 of AVX-512's 32),
    /// rounded down to a power of two so that common channel counts divide evenly. One vector per sweep would stride
    /// through memory a cache line at a time (bench/notes.md).
    /// </summary>
    private int Unroll
    {
        get
        {
            int fits = System.Math.Max(1, System.Math.Min(4, 24 / (RowsPerPass * StepSpan)));
            return fits >= 4 ? 4 : fits >= 2 ? 2 : 1;
        }
    }

    private void EmitRun(SourceWriter w)
    {
        using (BeginRun(w))
        {
            w.Line("int channels = shape.Channels, height = shape.Height, width = shape.Width, outHeight = outputShape.Height, outWidth = outputShape.Width;");
            using (w.Block($"fixed ({T}* source = input, target = output)"))
            {
                w.Line("long imageSize = (long)height * width * channels, outImageSize = (long)outHeight * outWidth * channels;");
                using (w.Block("for (long n = 0; n < shape.Batch; n++)"))
                    w.Line("PoolImage(source + n * imageSize, target + n * outImageSize, height, width, channels, outHeight, outWidth);");
            }
        }
        w.Line();
    }

    private string SweepArguments(string channelOffset)
    {
        var arguments = Enumerable.Range(0, PassRows).Select(k => $"row{k}{channelOffset}").ToList();
        arguments.Add($"out0{channelOffset}");
        if (RowsPerPass == 2) { arguments.Add($"out1{channelOffset}"); arguments.Add("secondRow"); }
        arguments.Add("width");
        arguments.Add("channels");
        arguments.Add("outWidth");
        return string.Join(", ", arguments);
    }

    private void EmitImage(SourceWriter w)
    {
        w.Line("/// <summary>One image, a pass of output rows at a time; each vector of channels sweeps the pass, the widest vectors first.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier");
        using (w.Block($"private static void PoolImage({T}* image, {T}* output, int height, int width, int channels, int outHeight, int outWidth)"))
        {
            w.Line("long rowStride = (long)width * channels, outRowStride = (long)outWidth * channels;");
            using (w.Block("for (int oh = 0; oh < outHeight; oh += RowsPerPass)"))
            {
                w.Line("int top = oh * StrideHeight - PadTop;");
                w.Line("// The pass's input rows, clamped into the image: a clamped row lies in every window that reaches past the edge.");
                for (int k = 0; k < PassRows; k++)
                    w.Line($"{T}* row{k} = image + Math.Clamp(top{(k == 0 ? "" : $" + {k}")}, 0, height - 1) * rowStride;");
                w.Line($"{T}* out0 = output + oh * outRowStride;");
                if (RowsPerPass == 2)
                {
                    w.Line("// An odd last row: the pass still computes a second row (its reads stay inside the image) but does not store it.");
                    w.Line("bool secondRow = oh + 1 < outHeight;");
                    w.Line($"{T}* out1 = out0 + (secondRow ? outRowStride : 0);");
                }
                ChannelBlocks.Emit(w, _c.Element, Unroll, (isa, unroll) => $"{(isa is null ? "SweepScalar" : SweepName(isa, unroll))}({SweepArguments(" + c")})");
            }
        }
        w.Line();
    }

    /// <summary>
    /// One sweep: a vector (or one element) of channels along a pass of output rows. <paramref name="load"/> and
    /// <paramref name="store"/> spell a load from a pointer and the final store (which adds +0).
    /// </summary>
    private void EmitSweep(SourceWriter w, string name, string type, int lanes, int unroll, System.Func<string, string> load, string max,
        System.Func<string, string, string> store)
    {
        _unroll = unroll;
        _lanes = lanes;
        _temporaries = 0;
        var parameters = Enumerable.Range(0, PassRows).Select(k => $"{T}* row{k}").ToList();
        parameters.Add($"{T}* out0");
        if (RowsPerPass == 2) { parameters.Add($"{T}* out1"); parameters.Add("bool secondRow"); }
        parameters.Add("int width");
        parameters.Add("int channels");
        parameters.Add("int outWidth");

        string what = type == T ? "one channel" : $"{(unroll == 1 ? "one" : Number(unroll))} {type.Substring(0, type.IndexOf('<'))} of channels";
        w.Line($"/// <summary>Sweeps {what} along a pass of output rows: column maxima of the pass's rows, reused by every window that shares them.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static void {name}({string.Join(", ", parameters)})"))
        {
            w.Line("int last = width - 1;");
            w.Line("int x = -PadLeft; // the first column of the step's first window");
            w.Line("long at;");
            if (Carried > 0)
            {
                w.Line("// The columns a step carries over from the previous one: the first step finds them here.");
                for (int i = 0; i < Carried; i++)
                    for (int u = 0; u < unroll; u++)
                        EmitColumn(w, i, u, load, max);
            }
            using (w.Block("for (int ow = 0; ow < outWidth; ow += ColumnsPerStep)"))
            {
                for (int i = Carried; i < StepSpan; i++)
                    for (int u = 0; u < unroll; u++)
                        EmitColumn(w, i, u, load, max);
                for (int u = 0; u < unroll; u++)
                    EmitOutputs(w, 0, u, max, store);
                if (RowsPerPass == 2)
                    using (w.Block("if (secondRow)"))
                        for (int u = 0; u < unroll; u++)
                            EmitOutputs(w, 1, u, max, store);
                if (Carried > 0)
                {
                    w.Line("// Slide: the next step's first columns are this step's last.");
                    for (int g = 0; g < RowsPerPass; g++)
                        for (int u = 0; u < unroll; u++)
                            w.Line(string.Join(" ", Enumerable.Range(0, Carried).Select(i => $"{Column(g, i, u)} = {Column(g, i + StepAdvance, u)};")));
                }
                w.Line("x += StepAdvance;");
            }
        }
        w.Line();
    }

    private int _temporaries, _unroll, _lanes;

    /// <summary>The column maximum of output row <paramref name="g"/> of the pass at column <paramref name="i"/> of the step, vector <paramref name="u"/>.</summary>
    private string Column(int g, int i, int u) => _unroll == 1 ? $"column{g}_{i}" : $"column{g}_{i}_{u}";

    /// <summary>The offset of vector <paramref name="u"/> of a sweep that takes several vectors of channels.</summary>
    private string Offset(int u) => u == 0 ? "" : $" + {u * _lanes}";

    /// <summary>Loads column x + i of the pass's rows (clamped into the row) and reduces them to each output row's column maximum.</summary>
    private void EmitColumn(SourceWriter w, int i, int u, System.Func<string, string> load, string max)
    {
        if (u == 0)
            w.Line($"at = (long)Math.Clamp(x{(i == 0 ? "" : $" + {i}")}, 0, last) * channels;");
        var rows = Enumerable.Range(0, PassRows).Select(k => _unroll == 1 ? $"row{k}_{i}" : $"row{k}_{i}_{u}").ToList();
        for (int k = 0; k < PassRows; k++)
            w.Line($"var {rows[k]} = {load($"row{k} + at{Offset(u)}")};");
        const string var = "var ";
        if (RowsPerPass == 1)
        {
            w.Line($"{var}{Column(0, i, u)} = {Tree(w, max, rows)};");
            return;
        }
        // Two output rows: rows StrideHeight .. KernelHeight - 1 are in both windows, the rows before them only in the
        // first, the rows after them only in the second.
        int stride = _c.StrideHeight, kernel = _c.KernelHeight;
        string common = Tree(w, max, rows.Skip(stride).Take(kernel - stride).ToList());
        w.Line($"{var}{Column(0, i, u)} = {TreeExpression(w, max, rows.Take(stride).Append(common).ToList())};");
        w.Line($"{var}{Column(1, i, u)} = {TreeExpression(w, max, rows.Skip(kernel).Prepend(common).ToList())};");
    }

    /// <summary>The step's outputs of row <paramref name="g"/> of the pass: one window, or two neighbours sharing their middle columns.</summary>
    private void EmitOutputs(SourceWriter w, int g, int u, string max, System.Func<string, string, string> store)
    {
        var columns = Enumerable.Range(0, StepSpan).Select(i => Column(g, i, u)).ToList();
        string target = $"out{g}";
        if (ColumnsPerStep == 1)
        {
            w.Line(store(Tree(w, max, columns.Take(_c.KernelWidth).ToList()), $"{target} + (long)ow * channels{Offset(u)}"));
            return;
        }
        // Two outputs: columns 1 .. KernelWidth - 1 are in both windows.
        var shared = columns.Skip(1).Take(_c.KernelWidth - 1).ToList();
        string first, second;
        if (shared.Count == 0)
        {
            first = columns[0];
            second = columns[StepSpan - 1];
        }
        else
        {
            string common = Tree(w, max, shared);
            first = NewTemporary();
            second = NewTemporary();
            w.Line($"var {first} = {max}({columns[0]}, {common});");
            w.Line($"var {second} = {max}({common}, {columns[StepSpan - 1]});");
        }
        w.Line(store(first, $"{target} + (long)ow * channels{Offset(u)}"));
        w.Line($"if (ow + 1 < outWidth) {store(second, $"{target} + (long)(ow + 1) * channels{Offset(u)}")}");
    }

    private string NewTemporary() => $"max{_temporaries++}";

    /// <summary>The maximum of <paramref name="operands"/> as a balanced tree (short dependency chains); returns the variable holding it.</summary>
    private string Tree(SourceWriter w, string max, IReadOnlyList<string> operands)
    {
        string maximum = TreeExpression(w, max, operands);
        if (operands.Count == 1) return maximum;
        string variable = NewTemporary();
        w.Line($"var {variable} = {maximum};");
        return variable;
    }

    /// <summary>
    /// The maximum of <paramref name="operands"/> as a balanced tree whose last maximum is the expression returned (the
    /// levels below it are declared as temporaries).
    /// </summary>
    private string TreeExpression(SourceWriter w, string max, IReadOnlyList<string> operands)
    {
        var level = operands.ToList();
        while (level.Count > 2)
        {
            var next = new List<string>();
            for (int i = 0; i + 1 < level.Count; i += 2)
            {
                string variable = NewTemporary();
                w.Line($"var {variable} = {max}({level[i]}, {level[i + 1]});");
                next.Add(variable);
            }
            if (level.Count % 2 == 1) next.Add(level[level.Count - 1]);
            level = next;
        }
        return level.Count == 1 ? level[0] : $"{max}({level[0]}, {level[1]})";
    }
}
