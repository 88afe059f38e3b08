using System;
using System.Collections.Generic;
using System.Linq;

namespace KernelGen.Tool;

/// <summary>A model's pooling layers mapped to KernelGen, with shapes from the model or from a run.</summary>
internal sealed class ModelLayers
{
    private ModelLayers(OnnxModelFile model, IReadOnlyList<LayerPlan> layers, Dictionary<string, CapturedTensor>? captured)
    {
        Model = model;
        Layers = layers;
        Captured = captured;
    }

    public OnnxModelFile Model { get; }

    public IReadOnlyList<LayerPlan> Layers { get; }

    /// <summary>Every pooling node's input and outputs from the run, when the model ran.</summary>
    public Dictionary<string, CapturedTensor>? Captured { get; }

    /// <summary>
    /// Maps every pooling node. Shapes come from the model's declarations; when one is missing (or <paramref name="run"/>
    /// asks for the run's anyway) the model runs once in ONNX Runtime and the shapes are the real ones.
    /// </summary>
    public static ModelLayers Read(OnnxModelFile model, bool run, IReadOnlyDictionary<string, long> dims, int seed, Progress progress)
    {
        var nodes = model.PoolingNodes();
        bool missing = nodes.Any(n => n.IsStandard && model.Declared(n.Input) is not { IsConcrete: true, ElementType: > 0 });
        Dictionary<string, CapturedTensor>? captured = null;
        if ((run || missing) && nodes.Count > 0)
        {
            progress.Step(run ? "running the model in ONNX Runtime to capture the pooling layers' inputs and outputs"
                : "the model does not declare every pooling input's shape: running it in ONNX Runtime for the shapes");
            captured = ActivationCapture.Run(model, nodes.SelectMany(n => new[] { n.Input, n.Output, n.IndicesOutput ?? "" }), dims, seed);
        }
        var layers = nodes.Select(node =>
        {
            if (captured != null && captured.TryGetValue(node.Input, out var tensor))
                return LayerPlan.Create(node, tensor.Info, "run");
            var declared = model.Declared(node.Input);
            return LayerPlan.Create(node, declared, declared is null ? null : "model");
        }).ToList();
        return new ModelLayers(model, layers, captured);
    }
}

/// <summary>Progress lines for the long steps, on standard error so standard output keeps the table or the JSON.</summary>
internal sealed class Progress(System.IO.TextWriter error)
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public void Step(string text)
    {
        error.WriteLine(FormattableString.Invariant($"[{_clock.Elapsed.TotalSeconds,5:F1}s] {text}"));
    }
}
