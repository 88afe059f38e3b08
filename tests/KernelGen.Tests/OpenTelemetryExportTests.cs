using System.Collections.Generic;
using System.Linq;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Xunit;

namespace KernelGen.Tests;

/// <summary>An OpenTelemetry MeterProvider that adds the KernelGen meter exports its instruments, as the README shows.</summary>
public class OpenTelemetryExportTests
{
    [Fact]
    public void MeterProviderExportsEveryInstrument()
    {
        // A configuration no other test runs, so the counts are exact while tests run in parallel.
        var descriptor = PoolDescriptor.MaxPool2d((4, 2), (3, 1), (1, 1), layout: PoolLayout.ChannelsLast);
        const string key = "MaxPool_K4x2_S3x1_P1_F64_Nhwc";
        var shape = new PoolShape(1, 3, 10, 9);
        var input = new double[shape.ElementCount];
        var output = new double[descriptor.GetOutputShape(shape).ElementCount];
        long bytes = (input.Length + output.Length) * sizeof(double);

        var exported = new List<Metric>();
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter("KernelGen").AddInMemoryExporter(exported).Build();
        for (int i = 0; i < 3; i++) Pooling.Run(descriptor, input, output, shape, 1);
        provider.ForceFlush();

        var units = exported.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First().Unit);
        Assert.Equal("{call}", units["kernelgen.pooling.calls"]);
        Assert.Equal("s", units["kernelgen.pooling.duration"]);
        Assert.Equal("By", units["kernelgen.pooling.io"]);
        Assert.Equal(3, Sum(exported, "kernelgen.pooling.calls", key, p => p.GetSumLong()));
        Assert.Equal(3 * bytes, Sum(exported, "kernelgen.pooling.io", key, p => p.GetSumLong()));
        Assert.Equal(3, Sum(exported, "kernelgen.pooling.duration", key, p => p.GetHistogramCount()));
    }

    private delegate long Value(MetricPoint point);

    private static long Sum(List<Metric> metrics, string name, string key, Value value)
    {
        long total = 0;
        foreach (var metric in metrics.Where(m => m.Name == name))
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                string? config = null;
                foreach (var tag in point.Tags)
                    if (tag.Key == "kernelgen.config") config = tag.Value as string;
                if (config == key) total += value(point);
            }
        return total;
    }
}
