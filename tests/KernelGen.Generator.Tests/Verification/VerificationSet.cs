using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using KernelGen.Generator.Emitters;
using KernelGen.Generator.Model;
using ModelLayout = KernelGen.Generator.Model.PoolLayout;
using ModelMode = KernelGen.Generator.Model.PoolMode;

namespace KernelGen.Generator.Tests.Verification;

/// <summary>One configuration to verify, the emitter that generates it and the shapes it runs on.</summary>
internal sealed record VerificationCase(UserConfiguration Configuration, string Family, IReadOnlyList<PoolShape> Shapes);

/// <summary>How many configurations, from which seed, and whether each runs every width or a sample.</summary>
internal sealed record VerificationSettings(int Seed, int Count, bool EveryWidth)
{
    public const string CountVariable = "KERNELGEN_VERIFY_COUNT";
    public const string SeedVariable = "KERNELGEN_VERIFY_SEED";

    /// <summary>The fixed-seed set every CI run verifies (under each instruction-set setting).</summary>
    public static readonly VerificationSettings Ci = new(20261206, 160, EveryWidth: false);

    /// <summary>
    /// The CI set, or the long (hunting) mode when <see cref="CountVariable"/> is set: that many configurations, each on
    /// every width, from <see cref="SeedVariable"/> or the CI seed.
    /// </summary>
    public static VerificationSettings FromEnvironment()
    {
        string? count = Environment.GetEnvironmentVariable(CountVariable);
        if (string.IsNullOrEmpty(count)) return Ci;
        string? seed = Environment.GetEnvironmentVariable(SeedVariable);
        return new VerificationSettings(
            string.IsNullOrEmpty(seed) ? Ci.Seed : int.Parse(seed, CultureInfo.InvariantCulture),
            int.Parse(count, CultureInfo.InvariantCulture), EveryWidth: true);
    }

    public string[] ToArguments() => [Seed.ToString(CultureInfo.InvariantCulture), Count.ToString(CultureInfo.InvariantCulture), EveryWidth ? "every-width" : "sampled"];

    public static VerificationSettings FromArguments(IReadOnlyList<string> arguments) =>
        new(int.Parse(arguments[0], CultureInfo.InvariantCulture), int.Parse(arguments[1], CultureInfo.InvariantCulture), arguments[2] == "every-width");
}

/// <summary>
/// Configurations drawn from everything [PoolKernel] accepts, biased toward border-heavy windows, plus the issue's
/// reproductions; and per configuration a deterministic set of shapes that sweeps widths around every vector width.
/// </summary>
internal static class VerificationSet
{
    /// <summary>Base widths a configuration samples when not sweeping all of them; every family still gets every width.</summary>
    public const int SampledWidths = 16;

    private static readonly int[] Divisors = [-9, -4, -3, -1, 1, 2, 3, 5, 7, 8, 16, 25];

    public static IReadOnlyList<VerificationCase> Create(VerificationSettings settings)
    {
        var configurations = Draw(settings.Seed, settings.Count);
        // Padding that differs at the end, from a seed of its own so the symmetric draws stay as they were.
        configurations.AddRange(Draw(settings.Seed + 1, settings.Count / 4, asymmetric: true, firstIndex: configurations.Count));
        int firstTargeted = configurations.Count;
        var reproductions = Reproductions(configurations.Count).ToList();
        configurations.AddRange(reproductions.Select(r => r.Configuration));
        var cases = new List<VerificationCase>();
        var ordinals = new Dictionary<(string, bool), int>();
        foreach (var configuration in configurations)
        {
            string family = Family(configuration);
            var key = (family, configuration.IsDouble);
            ordinals.TryGetValue(key, out int ordinal);
            ordinals[key] = ordinal + 1;
            bool everyWidth = settings.EveryWidth || configuration.Index >= firstTargeted;
            var shapes = Shapes(configuration, ordinal, everyWidth);
            if (configuration.Index >= firstTargeted)
                shapes = [reproductions[configuration.Index - firstTargeted].Shape, .. shapes];
            cases.Add(new VerificationCase(configuration, family, shapes));
        }
        return cases;
    }

    /// <summary>The name of the emitter class that generates the configuration's kernel (the generator's own choice).</summary>
    public static string Family(UserConfiguration c) => KernelEmitter.For(Model(c)).GetType().Name;

    public static KernelConfiguration Model(UserConfiguration c) => new(
        c.IsMax ? ModelMode.Max : ModelMode.Average, c.KernelHeight, c.KernelWidth, c.StrideHeight, c.StrideWidth,
        c.PadHeight, c.PadWidth, c.PadBottom, c.PadRight, c.Dilation, c.CeilMode, c.CountIncludePad, c.DivisorOverride,
        c.ChannelsLast ? ModelLayout.ChannelsLast : ModelLayout.ChannelsFirst,
        c.IsDouble ? ElementKind.Double : ElementKind.Float);

    /// <summary>Float lanes of a 512-bit vector, or double lanes.</summary>
    public static int Lanes512(UserConfiguration c) => c.IsDouble ? 8 : 16;

    private static List<UserConfiguration> Draw(int seed, int count, bool asymmetric = false, int firstIndex = 0)
    {
        var random = new Random(seed);
        var all = new List<UserConfiguration>();
        while (all.Count < count)
        {
            bool isMax = random.Next(2) == 0;
            // Wide in one axis (k1xN, Nx1) often, anything up to 25x25 (past the tap limit: the general engine) sometimes.
            (int kh, int kw) = random.Next(10) switch
            {
                0 or 1 or 2 => (1, random.Next(2, 26)),
                3 => (random.Next(2, 26), 1),
                4 => (random.Next(1, 26), random.Next(1, 26)),
                _ => (random.Next(1, 8), random.Next(1, 8)),
            };
            int dilation = isMax && random.Next(4) == 0 ? random.Next(2, 4) : 1;
            bool average = !isMax;
            var configuration = new UserConfiguration(firstIndex + all.Count, isMax, kh, kw,
                Stride(random, kh), Stride(random, kw), Padding(random, kh), Padding(random, kw), dilation,
                CeilMode: random.Next(2) == 0,
                CountIncludePad: !average || random.Next(2) == 0,
                DivisorOverride: average && random.Next(4) == 0 ? Divisors[random.Next(Divisors.Length)] : 0,
                IsDouble: random.Next(2) == 0, ChannelsLast: random.Next(2) == 0);
            if (asymmetric)
                configuration = configuration with { PadHeightEnd = Padding(random, kh), PadWidthEnd = Padding(random, kw) };
            if (!Model(configuration).Problems().Any() && (!asymmetric || configuration.AsymmetricPadding)) all.Add(configuration);
        }
        return all;
    }

    /// <summary>Mostly 1 or 2 (the specialized channels-first strides, and border-heavy), up to kernel + 2.</summary>
    private static int Stride(Random random, int kernel) => random.Next(3) == 0 ? random.Next(1, kernel + 3) : random.Next(1, 3);

    /// <summary>Half the time PyTorch's limit k/2 (the most border blocks), otherwise anything from 0 to it.</summary>
    private static int Padding(Random random, int kernel) => random.Next(2) == 0 ? kernel / 2 : random.Next(0, kernel / 2 + 1);

    /// <summary>The configurations issue 17 reported, channels first, which the earlier random test never drew.</summary>
    private static IEnumerable<(UserConfiguration Configuration, PoolShape Shape)> Reproductions(int first)
    {
        (bool Max, int Kh, int Kw, int Sh, int Sw, int Ph, int Pw, bool Include, bool Double, int Height, int Width)[] cases =
        [
            (false, 1, 11, 1, 2, 0, 5, true, true, 1, 33),   // gives 4.0909 for 4.1818 on AVX-512
            (false, 1, 21, 1, 2, 0, 10, true, false, 1, 65),
            (false, 1, 19, 1, 1, 0, 9, true, false, 2, 25),  // more border blocks than a 256-bit vector's lanes
            (true, 1, 19, 1, 1, 0, 9, true, false, 2, 25),
            (false, 1, 19, 1, 1, 0, 9, true, true, 2, 25),   // on AVX-512
            (true, 1, 19, 1, 1, 0, 9, true, true, 2, 25),
            (false, 1, 35, 1, 1, 0, 17, true, false, 1, 33), // reads before the input under EnableAVX512=0
            (true, 1, 35, 1, 1, 0, 17, true, false, 1, 33),
            (false, 7, 7, 1, 1, 3, 3, false, true, 2, 7),    // count_include_pad=false, under EnableAVX2=0
            (true, 1, 13, 1, 2, 0, 6, true, true, 2, 14),    // under EnableAVX2=0
        ];
        foreach (var t in cases)
            yield return (new UserConfiguration(first++, t.Max, t.Kh, t.Kw, t.Sh, t.Sw, t.Ph, t.Pw, 1, CeilMode: false,
                CountIncludePad: t.Include, DivisorOverride: 0, IsDouble: t.Double, ChannelsLast: false), new PoolShape(1, 1, t.Height, t.Width));
    }

    /// <summary>
    /// Widths 1..3V+1 for the 512-bit V of the element (every one, or <see cref="SampledWidths"/> rotating with the
    /// configuration's ordinal in its family so the family as a whole sweeps them all), widths whose output holds 1 to 4
    /// vectors (512, 256 and 128-bit) give or take one, and wide rows. Heights around the window, batches and channels varied.
    /// </summary>
    public static List<PoolShape> Shapes(UserConfiguration c, int ordinal, bool everyWidth)
    {
        int v = Lanes512(c);
        var baseWidths = Enumerable.Range(1, 3 * v + 1).ToArray();
        var widths = everyWidth
            ? baseWidths.ToList()
            : Enumerable.Range(0, SampledWidths).Select(i => baseWidths[(ordinal * SampledWidths + i) % baseWidths.Length]).ToList();
        int effectiveWidth = (c.KernelWidth - 1) * c.Dilation + 1;
        foreach (int lanes in new[] { v, v / 2, v / 4 })
            for (int blocks = 1; blocks <= 4; blocks++)
                for (int delta = -1; delta <= 1; delta++)
                {
                    // The input width whose (floor-mode) output width is blocks * lanes + delta.
                    int outWidth = blocks * lanes + delta;
                    widths.Add((outWidth - 1) * c.StrideWidth + effectiveWidth - c.PadWidth - c.PadRight);
                }
        widths.AddRange([4 * v + 3, 97, 130]);
        widths = widths.Where(w => w >= 1 && w <= 400).Distinct().ToList();

        int effectiveHeight = (c.KernelHeight - 1) * c.Dilation + 1;
        int[] heights = [.. new[] { 1, 2, 3, effectiveHeight - 1, effectiveHeight, effectiveHeight + 1, effectiveHeight + c.StrideHeight,
            effectiveHeight + 2 * c.StrideHeight + 1, c.PadHeight + c.PadBottom + 1, 9 }.Where(h => h >= 1).Distinct()];
        int[] channelsLast = [.. Enumerable.Range(1, v + 1), 2 * v + 3, 3 * v + 1];

        var shapes = new List<PoolShape>();
        for (int i = 0; i < widths.Count; i++)
        {
            int width = widths[i];
            int pick = i + ordinal;
            int height = heights[(width + pick) % heights.Length];
            int batch = 1 + pick % 2;
            int channels = c.ChannelsLast ? channelsLast[(width * 5 + pick) % channelsLast.Length] : 1 + (width + pick) % 3;
            var shape = new PoolShape(batch, channels, height, width);
            if (Valid(c, shape)) shapes.Add(shape);
        }
        return shapes;
    }

    private static bool Valid(UserConfiguration c, PoolShape shape)
    {
        try { c.Descriptor.GetOutputShape(shape); return true; }
        catch (ArgumentException) { return false; }
    }
}
