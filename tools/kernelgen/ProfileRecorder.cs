using System;
using System.Collections.Generic;
using System.Diagnostics;
using KernelGen.Monitoring;

namespace KernelGen.Tool;

/// <summary>
/// <c>kernelgen specialize --profile</c>: runs every layer KernelGen can run through Pooling.Run under a
/// <see cref="PoolingMonitor"/> and saves what it saw as a pooling profile (docs/profile-format.md). A project that lists
/// the file as <c>&lt;KernelGenProfile Include="..." /&gt;</c> gets kernels for the layers that ran on the general
/// engine at its next build, the hottest first, with no C# to write.
/// </summary>
internal static class ProfileRecorder
{
    /// <summary>
    /// The layers that ran, each with the number of calls. Skipped: layers KernelGen cannot run, with no known shape, or
    /// too small for their window, and max pooling with indices (a profile gives it no kernel).
    /// </summary>
    public static List<(LayerPlan Layer, int Calls)> Record(ModelLayers model, string path, double secondsPerLayer, int seed, Progress progress)
    {
        var ran = new List<(LayerPlan, int)>();
        using var monitor = PoolingMonitor.Start();
        int index = 0;
        foreach (var layer in model.Layers)
        {
            index++;
            if (layer.Path == LayerPath.CannotRun || layer.Node.IndicesOutput != null || layer.Shape is not { } shape || !Runs(layer, shape)) continue;
            progress.Step($"layer {index}/{model.Layers.Count}: {layer.Node.Name} under the monitor");
            var captured = model.Captured != null && model.Captured.TryGetValue(layer.Node.Input, out var tensor) ? tensor : null;
            int calls = layer.IsDouble
                ? RunFor(layer, captured?.Doubles ?? Uniform<double>(shape.ElementCount, seed), shape, secondsPerLayer)
                : RunFor(layer, captured?.Floats ?? Uniform<float>(shape.ElementCount, seed), shape, secondsPerLayer);
            ran.Add((layer, calls));
        }
        monitor.Stop();
        monitor.SaveProfile(path);
        return ran;
    }

    /// <summary>Whether the layer has output cells on <paramref name="shape"/>: not when the input is smaller than the window.</summary>
    private static bool Runs(LayerPlan layer, PoolShape shape) =>
        layer.Descriptor is not { } descriptor || LayerPlan.OutputShapeOf(descriptor, shape) is { ElementCount: > 0 };

    /// <summary>Calls the layer on one thread for about <paramref name="seconds"/> (at least 3 calls), as an application would.</summary>
    private static int RunFor<T>(LayerPlan layer, T[] input, PoolShape shape, double seconds) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        bool global = layer.Descriptor is null;
        var outputShape = global ? Pooling.GetGlobalOutputShape(shape) : layer.Descriptor!.Value.GetOutputShape(shape);
        var output = new T[outputShape.ElementCount];
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (calls < 3 || clock.Elapsed.TotalSeconds < seconds)
        {
            if (global) Verifier.RunGlobal(layer.GlobalMode!.Value, input, output, shape);
            else Verifier.RunPooling(layer.Descriptor!.Value, input, output, shape);
            calls++;
        }
        return calls;
    }

    /// <summary>Deterministic input in [-1, 1) for a layer whose activations were not captured.</summary>
    private static T[] Uniform<T>(long count, int seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var values = new T[count];
        for (long i = 0; i < count; i++) values[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
        return values;
    }
}
