using System.Collections.Generic;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// Channels-last (NHWC) kernels: the C values of a cell are contiguous, so vectors run across channels and every tap
/// is a plain load at any stride or dilation.
/// </summary>
/// <remarks>
/// <para>
/// Each output cell gathers pointers to its window's taps. Interior cells (whose window lies inside the input) compute
/// them from constant offsets; border cells point taps in the padding at a cell of identity values (-inf for max, +0
/// for sums). The reduction over the taps is then one unrolled block per channel vector, the same for every cell.
/// </para>
/// <para>
/// The AVX-512 loop reduces several channel vectors per iteration, tap by tap, so that their independent chains
/// overlap (a sum is a chain of dependent additions in PyTorch's order), and alternates the sum's vaddps with an FMA by
/// 1, which is exactly the same addition and runs on the FMA pipes (Zen 4 has two FADD and two FMA pipes). With
/// stride 1 across, a row's interior cells are one run of vectors (<c>PoolSpan</c>): cell ow + 1's taps are cell
/// ow's, one cell on, so the run does not stop at cell boundaries.
/// </para>
/// <para>
/// Kernels with overlapping windows and no dilation go to the sweeping emitters instead
/// (<see cref="SeparableMaxChannelsLastEmitter"/>, <see cref="SlidingAverageChannelsLastEmitter"/>), which load each
/// cell once per sweep rather than once per window; this one keeps 2x2 stride 2, dilated and large windows, except those
/// where it is slower than the general engine (SpecializationRule in shared-src/).
/// </para>
/// </remarks>
internal sealed class ChannelsLastEmitter : KernelEmitter
{
    private readonly KernelConfiguration _c;

    public ChannelsLastEmitter(KernelConfiguration configuration) : base(configuration) => _c = configuration;

    /// <summary>Whether a channels-last configuration falls to this emitter (the sweeping emitters take the rest).</summary>
    public static bool Takes(KernelConfiguration c) =>
        c.Layout == PoolLayout.ChannelsLast && !SeparableMaxChannelsLastEmitter.Applies(c) && !SlidingAverageChannelsLastEmitter.Applies(c);

    private int TapCount => _c.KernelHeight * _c.KernelWidth;

    /// <summary>Stride 1 across: a row's interior cells are reduced as one run (<c>PoolSpan</c>), not cell by cell.</summary>
    private bool FlatInterior => _c.StrideWidth == 1;

    private bool VaryingDivisor => !_c.IsMax && ConstantDivisor is null;

    public override IEnumerable<string> Remarks()
    {
        yield return "Channels last: vectors run across the channels of a cell, so each of the window's taps is one plain";
        yield return "load whatever the stride. Interior cells take their taps from constant offsets; border cells point";
        yield return "the taps in the padding at a cell of identity values, so both run the same unrolled reduction, over";
        yield return _c.StrideWidth == 1
            ? "several channel vectors at a time; a row's interior cells are one run (stride 1: each cell's taps are the last one's, one cell on)."
            : "several channel vectors at a time.";
        yield return _c.IsMax
            ? "NaN propagates, and a zero maximum is +0."
            : "Taps are added in PyTorch's row-major order from +0, then divided: bit-identical to the general engine.";
    }

    public override void Emit(SourceWriter w)
    {
        w.Line($"private const int KernelHeight = {_c.KernelHeight}, KernelWidth = {_c.KernelWidth};");
        w.Line($"private const int StrideHeight = {_c.StrideHeight}, StrideWidth = {_c.StrideWidth};");
        w.Line($"private const int PadTop = {_c.PadHeight}, PadLeft = {_c.PadWidth}, Dilation = {_c.Dilation};");
        EmitEndPaddingConstants(w);
        w.Line();
        EmitRegistration(w);
        EmitRun(w);
        EmitImage(w);
        EmitCell(w);
    }

    private void EmitRun(SourceWriter w)
    {
        using (BeginRun(w))
        {
            w.Line("int channels = shape.Channels, height = shape.Height, width = shape.Width, outHeight = outputShape.Height, outWidth = outputShape.Width;");
            w.Line("// Scratch: one cell of identity values, read by taps in the padding.");
            w.Line($"{T}[] scratch = ArrayPool<{T}>.Shared.Rent(channels);");
            using (w.Block("try"))
            {
                using (w.Block($"fixed ({T}* source = input, target = output, padding = scratch)"))
                {
                    w.Line($"new Span<{T}>(padding, channels).Fill({Identity});");
                    w.Line("long imageSize = (long)height * width * channels, outImageSize = (long)outHeight * outWidth * channels;");
                    using (w.Block("for (long n = 0; n < shape.Batch; n++)"))
                        w.Line("PoolImage(source + n * imageSize, target + n * outImageSize, padding, height, width, channels, outHeight, outWidth);");
                }
            }
            using (w.Block("finally"))
                w.Line($"ArrayPool<{T}>.Shared.Return(scratch);");
        }
        w.Line();
    }

    private void EmitImage(SourceWriter w)
    {
        w.Line("/// <summary>One image: for every output cell, the pointers to its window's taps, then the reduction.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no slow instrumented tier");
        using (w.Block($"private static void PoolImage({T}* image, {T}* output, {T}* padding, int height, int width, int channels, int outHeight, int outWidth)"))
        {
            w.Line($"{T}** taps = stackalloc {T}*[{TapCount}];");
            w.Line("long rowStride = (long)width * channels;");
            if (FlatInterior)
            {
                w.Line("// Output columns whose windows lie inside the input's width: [firstInside, lastInside).");
                w.Line("int firstInside = PadLeft, lastInside = Math.Min(outWidth, width - (KernelWidth - 1) * Dilation + PadLeft);");
            }
            using (w.Block("for (int oh = 0; oh < outHeight; oh++)"))
            {
                w.Line("int top = oh * StrideHeight - PadTop;");
                w.Line("bool rowsInside = top >= 0 && top + (KernelHeight - 1) * Dilation < height;");
                if (VaryingDivisor)
                    w.Line($"{T} rowFactor = {DivisorFactor("top", "height", "KernelHeight", PadBottom)};");
                using (w.Block("for (int ow = 0; ow < outWidth; ow++)"))
                {
                    if (FlatInterior)
                    {
                        w.Line("if (rowsInside && ow == firstInside && lastInside > firstInside)");
                        using (w.Block(""))
                        {
                            w.Line("// The row's interior cells at once: with stride 1 their taps advance by one cell per cell.");
                            string spanDivisor = VaryingDivisor ? $", rowFactor * {DivisorFactor("(ow - PadLeft)", "width", "KernelWidth", PadRight)}" : "";
                            w.Line($"PoolSpan(image + top * rowStride + (long)(ow - PadLeft) * channels, output + ((long)oh * outWidth + ow) * channels, (lastInside - ow) * channels, rowStride, channels{spanDivisor});");
                            w.Line("ow = lastInside - 1;");
                            w.Line("continue;");
                        }
                    }
                    w.Line("int left = ow * StrideWidth - PadLeft;");
                    w.Line("if (rowsInside && left >= 0 && left + (KernelWidth - 1) * Dilation < width)");
                    using (w.Block(""))
                    {
                        w.Line($"{T}* corner = image + top * rowStride + (long)left * channels;");
                        for (int kh = 0; kh < _c.KernelHeight; kh++)
                            for (int kw = 0; kw < _c.KernelWidth; kw++)
                            {
                                string rowPart = kh == 0 ? "" : kh * _c.Dilation == 1 ? " + rowStride" : $" + {kh * _c.Dilation} * rowStride";
                                string columnPart = kw == 0 ? "" : kw * _c.Dilation == 1 ? " + channels" : $" + {kw * _c.Dilation} * channels";
                                w.Line($"taps[{kh * _c.KernelWidth + kw}] = corner{rowPart}{columnPart};");
                            }
                    }
                    w.Line("else");
                    using (w.Block(""))
                    {
                        w.Line("// A border cell: taps outside the input read the identity cell.");
                        using (w.Block("for (int kh = 0; kh < KernelHeight; kh++)"))
                        {
                            w.Line("int h = top + kh * Dilation;");
                            using (w.Block("for (int kw = 0; kw < KernelWidth; kw++)"))
                            {
                                w.Line("int x = left + kw * Dilation;");
                                w.Line("taps[kh * KernelWidth + kw] = (uint)h < (uint)height && (uint)x < (uint)width ? image + h * rowStride + (long)x * channels : padding;");
                            }
                        }
                    }
                    string divisor = VaryingDivisor ? $", rowFactor * {DivisorFactor("left", "width", "KernelWidth", PadRight)}" : "";
                    w.Line($"PoolCell(taps, output + ((long)oh * outWidth + ow) * channels, channels{divisor});");
                }
            }
        }
        w.Line();
    }

    /// <summary>Channel vectors the AVX-512 loop takes per iteration: independent reductions for the out-of-order core to overlap.</summary>
    private int Unroll => _c.IsMax ? 4 : 8;

    private void EmitCell(SourceWriter w)
    {
        w.Line("/// <summary>Reduces the taps of one output cell across all channels, widest vectors first.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)] // called once per output cell: keep the call out of the cell loop");
        string divisorParameter = VaryingDivisor ? $", {T} divisor" : "";
        using (w.Block($"private static void PoolCell({T}** taps, {T}* output, int channels{divisorParameter})"))
        {
            w.Line("// The tap pointers in locals: the stores to output could alias taps[], which would make the JIT reload them.");
            for (int i = 0; i < TapCount; i += 8)
                w.Line($"{T}* " + string.Join(", ", Enumerable.Range(i, System.Math.Min(8, TapCount - i)).Select(t => $"tap{t} = taps[{t}]")) + ";");
            EmitChannelLoops(w, "channels");
        }
        w.Line();
        if (!FlatInterior) return;

        w.Line("/// <summary>");
        w.Line("/// Reduces <paramref name=\"count\"/> values of consecutive interior cells of one output row (stride 1: cell ow + 1's");
        w.Line("/// taps are cell ow's, one cell on), as one run of vectors that does not stop at cell boundaries.");
        w.Line("/// </summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"private static void PoolSpan({T}* corner, {T}* output, int count, long rowStride, int channels{divisorParameter})"))
        {
            for (int kh = 0; kh < _c.KernelHeight; kh++)
            {
                var taps = new List<string>();
                for (int kw = 0; kw < _c.KernelWidth; kw++)
                {
                    string rowPart = kh == 0 ? "" : kh * _c.Dilation == 1 ? " + rowStride" : $" + {kh * _c.Dilation} * rowStride";
                    string columnPart = kw == 0 ? "" : kw * _c.Dilation == 1 ? " + channels" : $" + {kw * _c.Dilation} * channels";
                    taps.Add($"tap{kh * _c.KernelWidth + kw} = corner{rowPart}{columnPart}");
                }
                w.Line($"{T}* {string.Join(", ", taps)};");
            }
            EmitChannelLoops(w, "count");
        }
        w.Line();
    }

    /// <summary>
    /// Reduces the taps <c>tap0</c>, <c>tap1</c>, ... at offsets <c>c</c> = 0 .. <paramref name="count"/> - 1 into
    /// <c>output + c</c>, widest vectors first.
    /// </summary>
    private void EmitChannelLoops(SourceWriter w, string count)
    {
        {
            w.Line("int c = 0;");
            foreach (var isa in VectorIsa.All)
            {
                int lanes = isa.LaneCount(_c.Element);
                w.Line($"if ({isa.Condition})");
                using (w.Block(""))
                {
                    bool fused = isa == VectorIsa.V512 && !_c.IsMax;
                    if (fused)
                        w.Line($"var one = {isa.Vector}.Create({Literal(1)}); // x * 1 + s is exactly x + s: the FMA pipes add too");
                    if (VaryingDivisor)
                        w.Line($"var divisorVector = {isa.Vector}.Create(divisor);");
                    if (isa == VectorIsa.V512)
                        using (w.Block($"for (; c <= {count} - {Unroll * lanes}; c += {Unroll * lanes})"))
                            EmitVectors(w, isa, lanes, Unroll, fused);
                    using (w.Block($"for (; c <= {count} - {lanes}; c += {lanes})"))
                        EmitVectors(w, isa, lanes, 1, fused);
                }
            }
            using (w.Block($"for (; c < {count}; c++)"))
            {
                var loads = Enumerable.Range(0, TapCount).Select(i => $"tap{i}[c]").ToList();
                string result = Reduce(w, null, T, loads);
                if (_c.IsMax)
                    result = $"{result} + {Literal(0)}";
                else
                    result = ConstantDivisor is int constant ? DivideByConstant(result, constant, "") : $"{result} / divisor";
                w.Line($"output[c] = {result};");
            }
        }
    }

    /// <summary>
    /// One iteration over <paramref name="unroll"/> channel vectors, tap by tap so that the vectors' reductions
    /// interleave. <paramref name="fused"/> alternates the sum's additions between vaddps and an FMA by 1.
    /// </summary>
    private void EmitVectors(SourceWriter w, VectorIsa isa, int lanes, int unroll, bool fused)
    {
        string type = isa.Type(T);
        string Load(int tap, int u) => $"{isa.Vector}.Load(tap{tap} + c{(u == 0 ? "" : $" + {u * lanes}")})";
        var results = new List<string>();
        if (_c.IsMax)
        {
            for (int u = 0; u < unroll; u++)
                results.Add(MaxTree(w, isa.Max, Enumerable.Range(0, TapCount).Select(i => Load(i, u)).ToList(), $"max{u}_"));
        }
        else
        {
            // PyTorch's order: one chain per vector from +0, taps in row-major order.
            for (int i = 0; i < TapCount; i++)
                for (int u = 0; u < unroll; u++)
                {
                    if (i == 0) w.Line($"var sum{u} = {type}.Zero + {Load(0, u)};");
                    else if (fused && i % 2 == 1) w.Line($"sum{u} = Avx512F.FusedMultiplyAdd({Load(i, u)}, one, sum{u});");
                    else w.Line($"sum{u} += {Load(i, u)};");
                }
            for (int u = 0; u < unroll; u++)
                results.Add($"sum{u}");
        }
        for (int u = 0; u < unroll; u++)
        {
            string result = results[u];
            if (_c.IsMax)
                result = $"({result} + {type}.Zero)"; // a zero maximum is +0 whichever operand order the tree used
            else
                result = ConstantDivisor is int constant
                    ? "(" + DivideByConstant(result, constant, $"{isa.Vector}.Create") + ")"
                    : $"({result} / divisorVector)";
            w.Line($"{result}.Store(output + c{(u == 0 ? "" : $" + {u * lanes}")});");
        }
    }

    /// <summary>
    /// Max: a balanced tree (IEEE maximum is order-free). Sum: one left-to-right chain from +0 in row-major tap order,
    /// which is PyTorch's rounding.
    /// </summary>
    private string Reduce(SourceWriter w, string? vectorMax, string type, List<string> loads)
    {
        if (!_c.IsMax)
        {
            string zero = vectorMax is null ? Literal(0) : $"{type}.Zero";
            w.Line($"var sum = {zero} + {string.Join(" + ", loads)};");
            return "sum";
        }
        return EmitMaxTree(w, vectorMax ?? $"{T}.Max", loads);
    }

    /// <summary>
    /// <see cref="KernelEmitter.EmitMaxTree"/> with the temporaries named <paramref name="prefix"/>0, 1, ..., so that
    /// several trees can share a scope.
    /// </summary>
    private static string MaxTree(SourceWriter w, string max, IReadOnlyList<string> operands, string prefix)
    {
        var level = operands.ToList();
        int counter = 0;
        while (level.Count > 1)
        {
            var next = new List<string>();
            for (int i = 0; i + 1 < level.Count; i += 2)
            {
                string variable = prefix + counter++;
                w.Line($"var {variable} = {max}({level[i]}, {level[i + 1]});");
                next.Add(variable);
            }
            if (level.Count % 2 == 1) next.Add(level[level.Count - 1]);
            level = next;
        }
        return level[0];
    }
}
