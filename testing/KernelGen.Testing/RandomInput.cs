using System;
using System.Numerics;

namespace KernelGen.Testing;

/// <summary>Seeded inputs in several styles: normal values, ties, NaN/±inf/-0 mixed in, all -inf, wide magnitudes.</summary>
public static class RandomInput
{
    public const int Styles = 5;

    public static string StyleName(int style) => style switch
    {
        0 => "normal",
        1 => "ties",
        2 => "specials",
        3 => "allneginf",
        _ => "magnitudes",
    };

    public static T[] Create<T>(int count, int style, int seed) where T : IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var data = new T[count];
        for (int i = 0; i < count; i++)
        {
            double v = style switch
            {
                0 => random.NextDouble() * 20 - 10,
                1 => random.Next(8) == 0 ? -0.0 : random.Next(-3, 4),
                2 => random.Next(20) switch
                {
                    0 => double.NaN,
                    1 => double.PositiveInfinity,
                    2 => double.NegativeInfinity,
                    3 => -0.0,
                    4 => 0.0,
                    _ => random.Next(-4, 5) * 0.5,
                },
                3 => random.Next(40) == 0 ? double.NaN : double.NegativeInfinity,
                _ => (random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-30, 31)),
            };
            data[i] = T.CreateChecked(v);
        }
        return data;
    }

    /// <summary>
    /// NaN, +inf, -inf, -0 and +0 one in 20 each, small integers (-3 to 3) a quarter of the time (ties), the rest
    /// uniform in [-100, 100).
    /// </summary>
    public static T[] Mixed<T>(Random random, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = new T[length];
        for (int i = 0; i < length; i++)
        {
            input[i] = random.Next(20) switch
            {
                0 => T.NaN,
                1 => T.PositiveInfinity,
                2 => T.NegativeInfinity,
                3 => T.NegativeZero,
                4 => T.Zero,
                < 10 => T.CreateTruncating(random.Next(-3, 4)),
                _ => T.CreateTruncating(random.NextDouble() * 200 - 100),
            };
        }
        return input;
    }

    /// <summary>Uniform in [-8, 8); <paramref name="withSpecials"/>, also NaN, infinities and signed zeros now and then.</summary>
    public static T[] Uniform<T>(Random random, int count, bool withSpecials) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[count];
        for (int i = 0; i < count; i++)
        {
            double v = random.NextDouble() * 16 - 8;
            if (withSpecials)
            {
                int roll = random.Next(100);
                v = roll switch
                {
                    0 or 1 => double.NaN,
                    2 or 3 => double.PositiveInfinity,
                    4 or 5 => double.NegativeInfinity,
                    6 => 0.0,
                    7 => -0.0,
                    _ => v,
                };
            }
            values[i] = T.CreateTruncating(v);
        }
        return values;
    }

    /// <summary>
    /// Uniform in [-8, 8) rounded to three decimals; <paramref name="specials"/>, NaN, -0 and -inf one in 20 each
    /// instead.
    /// </summary>
    public static T[] Rounded<T>(Random random, int length, bool specials) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[length];
        for (int i = 0; i < length; i++)
        {
            int pick = random.Next(20);
            values[i] = specials && pick == 0 ? T.NaN : specials && pick == 1 ? T.NegativeZero : specials && pick == 2 ? T.NegativeInfinity
                : T.CreateTruncating(Math.Round(random.NextDouble() * 16 - 8, 3));
        }
        return values;
    }
}
