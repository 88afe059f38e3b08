using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using KernelGen.Monitoring;
using ScottPlot;

namespace KernelGen.Demo;

/// <summary>A bar chart of the mean time per layer: what Pooling.Run served, next to the general engine.</summary>
internal static class Chart
{
    /// <summary>Writes kernelgen-demo.png in the current directory; returns its full path.</summary>
    public static string Write(List<LayerRun> runs, PoolingSnapshot snapshot)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<(double Position, string Label)>();
        double x = 0;
        foreach (var run in runs)
        {
            var (main, general) = DemoRun.Entries(run, snapshot);
            if (main is null) continue;
            double start = x;
            if (main.Specialized)
            {
                bars.Add(Bar(x++, main.MeanSeconds, Colors.DarkOrange));
                if (general is not null) bars.Add(Bar(x++, general.MeanSeconds, Colors.SteelBlue));
            }
            else
            {
                bars.Add(Bar(x++, main.MeanSeconds, Colors.SteelBlue));
            }
            ticks.Add(((start + x - 1) / 2, run.Layer.Name));
            x += 0.8;
        }
        plot.Add.Bars(bars);
        // Layers differ by three orders of magnitude, so the axis is log10 of microseconds with readable labels.
        double[] decades = [0, 1, 2, 3, 4, 5];
        plot.Axes.Left.SetTicks(decades, decades.Select(d => Math.Pow(10, d) + " us").ToArray());
        var layers = plot.Axes.Bottom; // layer names, slanted so that long ones fit
        layers.SetTicks(ticks.Select(t => t.Position).ToArray(), ticks.Select(t => t.Label).ToArray());
        layers.TickLabelStyle.Rotation = 45;
        layers.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        layers.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0, left: 0.01, right: 0.01);
        plot.YLabel("mean time per call (log scale; lower is faster)");
        plot.Title("KernelGen pooling: Pooling.Run per layer, specialized against the general engine");
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "specialized kernel (Pooling.Run)", FillColor = Colors.DarkOrange });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "general engine", FillColor = Colors.SteelBlue });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Layout.Fixed(new PixelPadding(90, 20, 150, 40));
        string path = Path.GetFullPath("kernelgen-demo.png");
        plot.SavePng(path, 1400, 700);
        return path;
    }

    private static Bar Bar(double position, double seconds, Color color) =>
        new() { Position = position, Value = Math.Log10(Math.Max(seconds * 1e6, 1)), ValueBase = 0, FillColor = color, LineWidth = 0, Size = 0.9 };
}
