using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace KernelGen.Generator.Tests;

/// <summary>One [PoolKernel] configuration as a user writes it, with the descriptor it must implement.</summary>
public sealed record UserConfiguration(
    int Index,
    bool IsMax,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadHeight, int PadWidth,
    int Dilation,
    bool CeilMode,
    bool CountIncludePad,
    int DivisorOverride,
    bool IsDouble,
    bool ChannelsLast,
    int? PadHeightEnd = null, int? PadWidthEnd = null)
{
    /// <summary>The bottom padding: <see cref="PadHeightEnd"/>, or the top padding when it is not given.</summary>
    public int PadBottom => PadHeightEnd ?? PadHeight;

    /// <summary>The right padding: <see cref="PadWidthEnd"/>, or the left padding when it is not given.</summary>
    public int PadRight => PadWidthEnd ?? PadWidth;

    public bool AsymmetricPadding => PadBottom != PadHeight || PadRight != PadWidth;

    public string MethodName => "Pool" + Index.ToString(CultureInfo.InvariantCulture);

    public PoolLayout Layout => ChannelsLast ? PoolLayout.ChannelsLast : PoolLayout.ChannelsFirst;

    public Type ElementType => IsDouble ? typeof(double) : typeof(float);

    /// <summary>Built by the test, not read from the generated code, so a wrong generated descriptor is caught too.</summary>
    public PoolDescriptor Descriptor => AsymmetricPadding
        ? PoolDescriptor.Create(IsMax ? PoolMode.Max : PoolMode.Average,
            [new PoolAxis(KernelHeight, StrideHeight, PadHeight, PadBottom, Dilation), new PoolAxis(KernelWidth, StrideWidth, PadWidth, PadRight, Dilation)],
            CeilMode, CountIncludePad, DivisorOverride == 0 ? null : DivisorOverride, Layout, PoolConvention.Onnx)
        : IsMax
        ? PoolDescriptor.MaxPool2d((KernelHeight, KernelWidth), (StrideHeight, StrideWidth), (PadHeight, PadWidth), (Dilation, Dilation), CeilMode, Layout)
        : PoolDescriptor.AvgPool2d((KernelHeight, KernelWidth), (StrideHeight, StrideWidth), (PadHeight, PadWidth), CeilMode, CountIncludePad,
            DivisorOverride == 0 ? null : DivisorOverride, Layout);

    /// <summary>The generator's name for the kernel (XNNPACK style), as in KernelConfiguration.KernelName.</summary>
    public string KernelName
    {
        get
        {
            static string Pair(int a, int b) => $"{a}x{b}";
            var parts = new List<string>
            {
                IsMax ? "MaxPool" : "AvgPool",
                "K" + Pair(KernelHeight, KernelWidth),
                "S" + (StrideHeight == StrideWidth ? StrideHeight.ToString(CultureInfo.InvariantCulture) : Pair(StrideHeight, StrideWidth)),
            };
            if (PadHeight != 0 || PadWidth != 0)
                parts.Add("P" + (PadHeight == PadWidth ? PadHeight.ToString(CultureInfo.InvariantCulture) : Pair(PadHeight, PadWidth)));
            if (AsymmetricPadding)
                parts.Add("PE" + (PadBottom == PadRight ? PadBottom.ToString(CultureInfo.InvariantCulture) : Pair(PadBottom, PadRight)));
            if (Dilation != 1) parts.Add("D" + Dilation.ToString(CultureInfo.InvariantCulture));
            if (CeilMode) parts.Add("Ceil");
            if (!IsMax && !CountIncludePad) parts.Add("ExcludePad");
            if (!IsMax && DivisorOverride != 0) parts.Add("Div" + DivisorOverride.ToString(CultureInfo.InvariantCulture).Replace('-', 'm'));
            parts.Add(IsDouble ? "F64" : "F32");
            parts.Add(ChannelsLast ? "Nhwc" : "Nchw");
            return string.Join("_", parts);
        }
    }

    /// <summary>Whether the generator specializes it (otherwise the generated method calls the general engine).</summary>
    public bool IsSpecialized => ChannelsLast ? !PlainChannelsLastSlower && !SlidingAverageSlower : Dilation == 1 && StrideWidth <= 2 && !SeparableMaxSlower;

    /// <summary>Double sliding averages 2 wide, with a vertical stride above 1 and more than 12 cells: one chain of additions per sweep.</summary>
    private bool SlidingAverageSlower =>
        !IsMax && IsDouble && StrideWidth == 1 && KernelWidth == 2 && StrideHeight > 1 && KernelHeight * KernelWidth is > 12 and <= 16;

    /// <summary>Channels-first max with horizontal stride 1 and a vertical stride of 4 (3 for double): SeparableMaxEmitter.SlowerThanGeneralEngine.</summary>
    private bool SeparableMaxSlower => IsMax && StrideWidth == 1 && StrideHeight >= (IsDouble ? 3 : 4);

    /// <summary>
    /// Whether it falls to the plain channels-last kernel (not the separable max or sliding average one) where that is
    /// slower than the general engine, as ChannelsLastEmitter.SlowerThanGeneralEngine says.
    /// </summary>
    private bool PlainChannelsLastSlower
    {
        get
        {
            bool overlap = StrideHeight < KernelHeight || StrideWidth < KernelWidth;
            bool sweeping = IsMax ? Dilation == 1 && overlap : StrideWidth < KernelWidth && KernelHeight * KernelWidth <= 16;
            int taps = KernelHeight * KernelWidth;
            // The engine's separable max: KernelHeight x StrideWidth row maxima and KernelWidth column maxima per output.
            bool separableCheaper = IsMax && KernelHeight > 1 && 7 * (KernelHeight * StrideWidth + KernelWidth) <= 4 * taps;
            // The engine's sliding sum shares the loads of windows 2 to 5 columns wide.
            bool slidingSumFaster = !IsMax && StrideWidth == 1 && KernelWidth is >= 2 and <= 5;
            bool tall = StrideWidth == 1 && taps >= 15 && KernelHeight >= KernelWidth;
            return !sweeping && (taps > 36 || separableCheaper || slidingSumFaster || tall);
        }
    }

    public string Attribute
    {
        get
        {
            var text = new StringBuilder($"[PoolKernel(1, 1, PoolMode.{(IsMax ? "Max" : "Average")}, ");
            text.Append($"KernelHeight = {KernelHeight}, KernelWidth = {KernelWidth}, StrideHeight = {StrideHeight}, StrideWidth = {StrideWidth}, ");
            text.Append($"PaddingHeight = {PadHeight}, PaddingWidth = {PadWidth}");
            if (PadHeightEnd is { } bottom) text.Append($", PaddingHeightEnd = {bottom}");
            if (PadWidthEnd is { } right) text.Append($", PaddingWidthEnd = {right}");
            if (Dilation != 1) text.Append($", Dilation = {Dilation}");
            if (CeilMode) text.Append(", CeilMode = true");
            if (!CountIncludePad) text.Append(", CountIncludePad = false");
            if (DivisorOverride != 0) text.Append($", DivisorOverride = {DivisorOverride}");
            if (ChannelsLast) text.Append(", Layout = PoolLayout.ChannelsLast");
            return text.Append(")]").ToString();
        }
    }

    public string Declaration
    {
        get
        {
            string t = IsDouble ? "double" : "float";
            return $"    {Attribute}\n    internal static partial void {MethodName}(ReadOnlySpan<{t}> input, Span<{t}> output, PoolShape shape);\n";
        }
    }

    public override string ToString() => $"{MethodName} {Attribute} on {(IsDouble ? "double" : "float")}";
}

/// <summary>Seeded random configurations over the whole space the attribute allows.</summary>
internal static class RandomConfigurations
{
    public const int Seed = 20251107;
    public const int Count = 48 + 23 + 24 + 6; // random, targeted, random asymmetric padding, targeted asymmetric

    public static IReadOnlyList<UserConfiguration> All { get; } = Create();

    private static List<UserConfiguration> Create()
    {
        var random = new Random(Seed);
        var all = new List<UserConfiguration>();
        for (int i = 0; i < 48; i++)
        {
            bool isMax = random.Next(2) == 0;
            int kh = random.Next(1, 8), kw = random.Next(1, 8);
            int sh = random.Next(1, 4), sw = random.Next(1, 4);
            int ph = random.Next(0, kh / 2 + 1), pw = random.Next(0, kw / 2 + 1);
            int dilation = isMax && random.Next(3) == 0 ? 2 : 1;
            bool ceil = random.Next(2) == 0;
            bool include = isMax || random.Next(2) == 0;
            int divisor = !isMax && random.Next(4) == 0 ? new[] { 1, 2, 3, 4, 5, 7, 8, 9, 16 }[random.Next(9)] : 0;
            bool isDouble = random.Next(2) == 0;
            bool channelsLast = random.Next(2) == 0;
            all.Add(new UserConfiguration(i, isMax, kh, kw, sh, sw, ph, pw, dilation, ceil, include, divisor, isDouble, channelsLast));
        }
        // Then fixed channels-first configurations aimed at the AVX-512 register paths, which random draws reach rarely:
        // stride 1 both ways (max and average), stride 2, an output row longer than its input (2 wide, padding 1),
        // a vertical stride the sliding paths must not take, and the divisor variants.
        (bool Max, int Kh, int Kw, int Sh, int Sw, int Ph, int Pw, bool Ceil, bool Include, int Divisor, bool Double)[] targeted =
        [
            (true, 3, 3, 1, 1, 1, 1, false, true, 0, false),
            (true, 5, 5, 1, 1, 0, 0, false, true, 0, true),
            (true, 2, 2, 1, 1, 1, 1, false, true, 0, false),
            (true, 3, 3, 2, 1, 1, 1, false, true, 0, false),
            (true, 7, 7, 1, 1, 3, 3, false, true, 0, false),
            (true, 1, 1, 1, 1, 0, 0, false, true, 0, false),
            (true, 3, 3, 2, 2, 1, 1, true, true, 0, false),
            (true, 4, 4, 2, 2, 2, 2, false, true, 0, false),
            (true, 5, 5, 2, 2, 2, 2, false, true, 0, true),
            (true, 2, 2, 2, 2, 0, 0, true, true, 0, false),
            (false, 3, 3, 1, 1, 1, 1, false, false, 0, false),
            (false, 2, 2, 1, 1, 1, 1, false, true, 0, false),
            (false, 5, 5, 1, 1, 2, 2, true, false, 0, true),
            (false, 3, 3, 1, 1, 0, 0, false, true, 7, false),
            (false, 2, 3, 1, 1, 1, 1, false, false, 0, false),
            (false, 3, 3, 2, 2, 1, 1, false, false, 0, false),
            (false, 2, 2, 2, 2, 0, 0, false, true, 0, false),
            (false, 4, 4, 2, 2, 1, 1, true, true, 0, true),
            // The stride-1 max register path's row maxima (sparse table) and column pairs at other window sizes; 9 doubles
            // wide without padding, its last tap is a whole vector on (a valign count of 8, which the instruction reads as 0).
            (true, 6, 4, 1, 1, 2, 1, false, true, 0, false),
            (true, 4, 6, 1, 1, 1, 3, true, true, 0, false),
            (true, 5, 9, 1, 1, 0, 0, false, true, 0, true),
            // The same whole-vector tap in the other register paths: a stride-1 average, and stride 2 (taps 16 doubles on
            // are 8 on in their phase).
            (false, 5, 9, 1, 1, 0, 0, false, true, 0, true),
            (true, 2, 17, 2, 2, 0, 0, false, true, 0, true),
        ];
        foreach (var t in targeted)
            all.Add(new UserConfiguration(all.Count, t.Max, t.Kh, t.Kw, t.Sh, t.Sw, t.Ph, t.Pw, 1, t.Ceil, t.Include, t.Divisor, t.Double, ChannelsLast: false));
        AddAsymmetric(all);
        return all;
    }

    /// <summary>
    /// Padding that differs at the end (PaddingHeightEnd/PaddingWidthEnd): random draws from a seed of their own (so the
    /// symmetric draws above stay as they were), then ONNX's own cases: ResNet-18's stem (pads [1,1,0,0]) and SAME_UPPER.
    /// </summary>
    private static void AddAsymmetric(List<UserConfiguration> all)
    {
        var random = new Random(Seed + 1);
        for (int i = 0; i < 24; i++)
        {
            bool isMax = random.Next(2) == 0;
            int kh = random.Next(1, 8), kw = random.Next(2, 8);
            int sh = random.Next(1, 4), sw = random.Next(1, 3 + (i % 2));
            int top = random.Next(0, kh / 2 + 1), left = random.Next(0, kw / 2 + 1);
            int bottom = random.Next(0, kh / 2 + 1), right = random.Next(0, kw / 2 + 1);
            if (bottom == top && right == left) right = left == 0 ? 1 : left - 1; // kw >= 2: one of 0 and 1 is allowed and differs
            int dilation = isMax && random.Next(3) == 0 ? 2 : 1;
            bool ceil = random.Next(2) == 0;
            bool include = isMax || random.Next(2) == 0;
            int divisor = !isMax && random.Next(5) == 0 ? new[] { 3, 4, 9 }[random.Next(3)] : 0;
            all.Add(new UserConfiguration(all.Count, isMax, kh, kw, sh, sw, top, left, dilation, ceil, include, divisor,
                IsDouble: random.Next(2) == 0, ChannelsLast: random.Next(2) == 0, PadHeightEnd: bottom, PadWidthEnd: right));
        }
        (bool Max, int K, int S, int Begin, int End, bool Include, bool ChannelsLast)[] onnx =
        [
            (true, 3, 2, 1, 0, true, false),   // ResNet-18's MaxPool
            (true, 3, 2, 0, 1, true, false),   // SAME_UPPER, stride 2
            (true, 2, 1, 0, 1, true, false),   // SAME_UPPER, stride 1
            (false, 2, 1, 0, 1, true, false),  // average SAME_UPPER, padding counted
            (false, 3, 2, 0, 1, false, false), // average SAME_UPPER, padding not counted (ONNX's default)
            (false, 3, 2, 0, 1, true, true),
        ];
        foreach (var t in onnx)
            all.Add(new UserConfiguration(all.Count, t.Max, t.K, t.K, t.S, t.S, t.Begin, t.Begin, 1, false, t.Include, 0,
                IsDouble: false, t.ChannelsLast, PadHeightEnd: t.End, PadWidthEnd: t.End));
    }

    public static string Source(IEnumerable<UserConfiguration> configurations)
    {
        var text = new StringBuilder();
        text.Append("using System;\nusing KernelGen;\n\nnamespace RandomUser;\n\n/// <summary>Random configurations.</summary>\ninternal static partial class Kernels\n{\n");
        foreach (var configuration in configurations)
            text.Append(configuration.Declaration);
        return text.Append("}\n").ToString();
    }
}
