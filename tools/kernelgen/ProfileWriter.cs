using System;
using System.IO;
using System.Linq;
using KernelGen.Monitoring;

namespace KernelGen.Tool;

/// <summary>
/// <c>kernelgen specialize --profile</c>: a KernelGen pooling profile (docs/profile-format.md) of the model's windowed
/// layers, measured by <see cref="PoolingMonitor"/> while each runs through Pooling.Run on its input shape, so that a
/// project listing it (<c>&lt;KernelGenProfile Include="..." /&gt;</c>) gets a kernel for each layer the general engine
/// ran, hottest first, with no code change.
/// </summary>
internal static class ProfileWriter
{
    /// <summary>Runs per layer, on one thread as a layer's kernel runs: enough to rank layers by time, cheap on a whole model.</summary>
    private const int Calls = 3;

    /// <summary>
    /// Writes the profile to <paramref name="path"/>; returns how many layers it measured. Global pooling and max pooling
    /// with indices are left out (the profile gives them no kernel), as are layers whose input size is not known.
    /// </summary>
    public static int Write(ModelLayers layers, string path, int seed)
    {
        var candidates = layers.Layers.Where(l => l.Path is LayerPath.Specialized or LayerPath.General && l.Node.IndicesOutput == null
            && l.Descriptor is not null && l.Shape is not null);
        var random = new Random(seed);
        int measured = 0;
        string json;
        using (var monitor = PoolingMonitor.Start())
        {
            foreach (var layer in candidates)
            {
                var descriptor = layer.Descriptor!.Value;
                var shape = layer.Shape!.Value;
                long outputs;
                try { outputs = descriptor.GetOutputShape(shape).ElementCount; }
                catch (ArgumentException) { continue; } // an input too small for the window: Pooling.Run rejects it
                measured++;
                if (layer.IsDouble)
                {
                    var input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => random.NextDouble() * 2 - 1).ToArray();
                    var output = new double[outputs];
                    for (int call = 0; call < Calls; call++) Pooling.Run(descriptor, input, output, shape, maxDegreeOfParallelism: 1);
                }
                else
                {
                    var input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => random.NextSingle() * 2 - 1).ToArray();
                    var output = new float[outputs];
                    for (int call = 0; call < Calls; call++) Pooling.Run(descriptor, input, output, shape, maxDegreeOfParallelism: 1);
                }
            }
            monitor.Stop();
            json = monitor.GetProfileJson();
        }
        File.WriteAllText(path, json, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return measured;
    }
}
