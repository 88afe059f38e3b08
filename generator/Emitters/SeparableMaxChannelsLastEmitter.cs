using System.Collections.Generic;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// Channels-last max pooling with a horizontal stride of 1 and no dilation (GoogLeNet's 3x3, YOLO's SPPF 5x5 in NHWC):
/// separable, like <see cref="SeparableMaxEmitter"/>, with vectors across channels.
/// </summary>
/// <remarks>
/// A first pass stores, for every input row and output column, the maximum over the window's columns (all channels);
/// a second takes, for each output cell, the maximum of the row maxima its window's rows hold. 2k loads per output
/// vector instead of k^2. Taps in the padding read a cell of -inf, so both passes run one unrolled reduction.
/// </remarks>
internal sealed class SeparableMaxChannelsLastEmitter : KernelEmitter
{
    private readonly KernelConfiguration _c;

    public SeparableMaxChannelsLastEmitter(KernelConfiguration configuration) : base(configuration) => _c = configuration;

    public override IEnumerable<string> Remarks()
    {
        yield return "Channels last, horizontal stride 1, separable: a first pass stores every input row's maxima over the";
        yield return $"window's {_c.KernelWidth} columns for each output column, a second takes the maximum of the {_c.KernelHeight} row maxima";
        yield return "each output cell's window covers. Vectors run across channels; taps in the padding read a cell of -inf.";
        yield return "NaN propagates, and a zero maximum is +0.";
    }

    public override void Emit(SourceWriter w)
    {
        w.Line($"private const int KernelHeight = {_c.KernelHeight}, KernelWidth = {_c.KernelWidth};");
        w.Line($"private const int StrideHeight = {_c.StrideHeight}, PadTop = {_c.PadHeight}, PadLeft = {_c.PadWidth};");
        w.Line();
        EmitRegistration(w);
        EmitRun(w);
        EmitImage(w);
        EmitReduction(w, _c.KernelWidth, "MaxOfColumns", finalResult: false);
        EmitReduction(w, _c.KernelHeight, "MaxOfRows", finalResult: true);
    }

    private void EmitRun(SourceWriter w)
    {
        using (BeginRun(w))
        {
            w.Line("int channels = shape.Channels, height = shape.Height, width = shape.Width, outHeight = outputShape.Height, outWidth = outputShape.Width;");
            w.Line("// Scratch: one image's row maxima (height x outWidth cells), then one cell of -inf for taps in the padding.");
            w.Line("long scratchLength = ((long)height * outWidth + 1) * channels;");
            w.Line("if (scratchLength > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(shape), shape, \"One image's row maxima would not fit in an array.\");");
            w.Line($"{T}[] scratch = ArrayPool<{T}>.Shared.Rent((int)scratchLength);");
            using (w.Block("try"))
            {
                using (w.Block($"fixed ({T}* source = input, target = output, rowMaxima = scratch)"))
                {
                    w.Line($"{T}* padding = rowMaxima + (long)height * outWidth * channels;");
                    w.Line($"new Span<{T}>(padding, channels).Fill({T}.NegativeInfinity);");
                    w.Line("long imageSize = (long)height * width * channels, outImageSize = (long)outHeight * outWidth * channels;");
                    using (w.Block("for (long n = 0; n < shape.Batch; n++)"))
                        w.Line("PoolImage(source + n * imageSize, target + n * outImageSize, rowMaxima, padding, height, width, channels, outHeight, outWidth);");
                }
            }
            using (w.Block("finally"))
                w.Line($"ArrayPool<{T}>.Shared.Return(scratch);");
        }
        w.Line();
    }

    private void EmitImage(SourceWriter w)
    {
        int taps = System.Math.Max(_c.KernelWidth, _c.KernelHeight);
        w.Line("/// <summary>One image: the row maxima of every input row, then every output cell from the row maxima of its window's rows.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier");
        using (w.Block($"private static void PoolImage({T}* image, {T}* output, {T}* rowMaxima, {T}* padding, int height, int width, int channels, int outHeight, int outWidth)"))
        {
            w.Line($"{T}** taps = stackalloc {T}*[{taps}];");
            w.Line("// Horizontal: rowMaxima[h, ow] = max over the window's columns of input[h, ow - PadLeft + kw].");
            using (w.Block("for (int h = 0; h < height; h++)"))
            {
                w.Line($"{T}* row = image + (long)h * width * channels;");
                using (w.Block("for (int ow = 0; ow < outWidth; ow++)"))
                {
                    w.Line("int left = ow - PadLeft;");
                    w.Line("bool inside = left >= 0 && left + KernelWidth - 1 < width;");
                    for (int kw = 0; kw < _c.KernelWidth; kw++)
                    {
                        string at = kw == 0 ? "left" : $"left + {kw}";
                        w.Line($"taps[{kw}] = inside || (uint)({at}) < (uint)width ? row + (long)({at}) * channels : padding;");
                    }
                    w.Line("MaxOfColumns(taps, rowMaxima + ((long)h * outWidth + ow) * channels, channels);");
                }
            }
            w.Line("// Vertical: output[oh, ow] = max over the window's rows of rowMaxima[oh * StrideHeight - PadTop + kh, ow].");
            using (w.Block("for (int oh = 0; oh < outHeight; oh++)"))
            {
                w.Line("int top = oh * StrideHeight - PadTop;");
                using (w.Block("for (int ow = 0; ow < outWidth; ow++)"))
                {
                    for (int kh = 0; kh < _c.KernelHeight; kh++)
                    {
                        string at = kh == 0 ? "top" : $"top + {kh}";
                        w.Line($"taps[{kh}] = (uint)({at}) < (uint)height ? rowMaxima + ((long)({at}) * outWidth + ow) * channels : padding;");
                    }
                    w.Line("MaxOfRows(taps, output + ((long)oh * outWidth + ow) * channels, channels);");
                }
            }
        }
        w.Line();
    }

    /// <summary>The maximum of <paramref name="count"/> tap cells across all channels; the final pass adds +0 (a zero maximum is +0).</summary>
    private void EmitReduction(SourceWriter w, int count, string name, bool finalResult)
    {
        w.Line($"/// <summary>The maximum of {count} cells, across all channels, widest vectors first{(finalResult ? "; +0 makes a zero maximum +0" : "")}.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void {name}({T}** taps, {T}* output, int channels)"))
        {
            w.Line("int c = 0;");
            foreach (var isa in VectorIsa.All)
            {
                int lanes = isa.LaneCount(_c.Element);
                w.Line($"if ({isa.Condition})");
                using (w.Block(""))
                using (w.Block($"for (; c <= channels - {lanes}; c += {lanes})"))
                {
                    var loads = Enumerable.Range(0, count).Select(i => $"{isa.Vector}.Load(taps[{i}] + c)").ToList();
                    string result = EmitMaxTree(w, isa.Max, loads);
                    w.Line(finalResult ? $"({result} + {isa.Type(T)}.Zero).Store(output + c);" : $"{result}.Store(output + c);");
                }
            }
            using (w.Block("for (; c < channels; c++)"))
            {
                var loads = Enumerable.Range(0, count).Select(i => $"taps[{i}][c]").ToList();
                string result = EmitMaxTree(w, $"{T}.Max", loads);
                w.Line(finalResult ? $"output[c] = {result} + {Literal(0)};" : $"output[c] = {result};");
            }
        }
        w.Line();
    }
}
