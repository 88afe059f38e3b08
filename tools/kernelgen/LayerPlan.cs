using System;
using System.Globalization;
using System.Linq;
using KernelGen.Monitoring;

namespace KernelGen.Tool;

/// <summary>How KernelGen runs a layer.</summary>
internal enum LayerPath
{
    /// <summary>Pooling.Run takes a specialized kernel on the layer's input: its descriptor's, or its symmetric form's.</summary>
    Specialized,

    /// <summary>Pooling.Run takes the general engine.</summary>
    General,

    /// <summary>Pooling.GlobalMax / GlobalAverage.</summary>
    Global,

    /// <summary>KernelGen has no operation for the layer.</summary>
    CannotRun,
}

/// <summary>
/// The symmetric form of a layer padded more at the beginning than at the end: every end padding raised to the begin
/// padding, which [PoolKernel] can express. Pooling.Run runs the form's kernel for the layer on the inputs where the
/// two compute the same (runtime/Specialization/SymmetricPadding.cs); <see cref="AppliesToInput"/> says whether the
/// layer's input is one. <see cref="Kernel"/> is the form's registered kernel, <see cref="Attribute"/> the one that
/// would make it.
/// </summary>
internal sealed record SymmetricForm(PoolDescriptor Descriptor, string Code, string? Kernel, string? Attribute, string? Signature, bool AppliesToInput);

/// <summary>One pooling node mapped to KernelGen: its descriptor, the path Pooling.Run takes, and why.</summary>
internal sealed class LayerPlan
{
    public required PoolNode Node { get; init; }

    /// <summary>The input as declared or as run; null when neither is known.</summary>
    public TensorInfo? Input { get; init; }

    /// <summary>Where <see cref="Input"/> came from: "model" (declared) or "run".</summary>
    public string? ShapeSource { get; init; }

    public PoolDescriptor? Descriptor { get; private init; }

    /// <summary>Global pooling's mode.</summary>
    public PoolMode? GlobalMode { get; private init; }

    public LayerPath Path { get; private init; }

    /// <summary>The specialized kernel's name, "general engine", or the global entry point.</summary>
    public string Kernel { get; private init; } = "";

    /// <summary>Why the layer is not specialized, or cannot run; null when it is, or when only the <see cref="Attribute"/> is missing.</summary>
    public string? Reason { get; private init; }

    /// <summary>
    /// The [PoolKernel] attribute and method that would specialize exactly the layer's descriptor, when the generator can
    /// and no kernel is registered for it (a kernel of its symmetric form may run it on some inputs).
    /// </summary>
    public string? Attribute { get; private init; }

    public string? Signature { get; private init; }

    /// <summary>The C# expression that makes <see cref="Descriptor"/> (or runs the global operation).</summary>
    public string? DescriptorCode { get; private init; }

    /// <summary>The symmetric form, for a layer padded more at the beginning than at the end whose form a kernel serves or could serve.</summary>
    public SymmetricForm? Symmetric { get; private init; }

    public bool IsDouble => Input?.ElementType == 11;

    /// <summary>The node's auto_pad; with SAME the descriptor holds the pads resolved for <see cref="Input"/>.</summary>
    public OnnxAutoPad AutoPad { get; private init; }

    public static bool IsSame(OnnxAutoPad autoPad) => autoPad is OnnxAutoPad.SameUpper or OnnxAutoPad.SameLower;

    /// <summary>The input as a KernelGen shape, when it is known and has 1 to 3 spatial axes.</summary>
    public PoolShape? Shape => Input is { IsConcrete: true } input ? ToPoolShape(input.Dims) : null;

    public static PoolShape? ToPoolShape(long[] dims)
    {
        if (dims.Length is < 3 or > 5 || dims.Any(d => d > int.MaxValue)) return null;
        int[] d = dims.Select(v => (int)v).ToArray();
        if (d.Skip(2).Any(v => v < 1)) return null;
        return d.Length switch
        {
            3 => new PoolShape(d[0], d[1], d[2]),
            4 => new PoolShape(d[0], d[1], d[2], d[3]),
            _ => new PoolShape(d[0], d[1], d[2], d[3], d[4]),
        };
    }

    /// <summary>Maps <paramref name="node"/> (with its input, when known) through <see cref="PoolDescriptor.FromOnnx"/>.</summary>
    public static LayerPlan Create(PoolNode node, TensorInfo? input, string? shapeSource)
    {
        LayerPlan CannotRun(string reason) => new() { Node = node, Input = input, ShapeSource = shapeSource, Path = LayerPath.CannotRun, Kernel = "-", Reason = reason };

        if (!node.IsStandard)
            return CannotRun($"{(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType} is not an ONNX standard pooling operator (MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool, LpPool)");
        if (node.OpType is "LpPool" or "GlobalLpPool")
            return CannotRun($"KernelGen has max and average pooling; {node.OpType} computes (sum |x|^p)^(1/p) (p = {node.Int("p") ?? 2})");
        if (input is { ElementType: not (1 or 11 or 0) })
            return CannotRun($"KernelGen pools float and double; this input is {OnnxModelFile.ElementTypeName(input.ElementType)}");
        if (input is { IsConcrete: true } && (input.Dims.Length is < 3 or > 5))
            return CannotRun($"the input has rank {input.Dims.Length}; KernelGen pools N x C x 1 to 3 spatial axes");
        var shape = input is { IsConcrete: true } ? ToPoolShape(input.Dims) : null;
        string element = input?.ElementType == 11 ? "double" : "float";

        if (node.OpType is "GlobalMaxPool" or "GlobalAveragePool")
        {
            bool max = node.OpType == "GlobalMaxPool";
            return new LayerPlan
            {
                Node = node, Input = input, ShapeSource = shapeSource, Path = LayerPath.Global, GlobalMode = max ? PoolMode.Max : PoolMode.Average,
                Kernel = max ? "Pooling.GlobalMax" : "Pooling.GlobalAverage",
                Reason = "global pooling runs Pooling.GlobalMax/GlobalAverage's own engine; [PoolKernel] specializes windowed pooling",
                DescriptorCode = max ? "Pooling.GlobalMax" : "Pooling.GlobalAverage",
            };
        }

        var known = node.OpType == "MaxPool"
            ? new[] { "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides" }
            : ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"];
        if (node.Attributes.Keys.FirstOrDefault(name => !known.Contains(name)) is { } unknown)
            return CannotRun($"{node.OpType} has no attribute '{unknown}' in the ONNX specification");
        if (node.Ints("kernel_shape") is not { } kernel)
            return CannotRun($"{node.OpType} needs kernel_shape");
        var autoPad = (node.Text("auto_pad") ?? "NOTSET") switch
        {
            "NOTSET" or "" => OnnxAutoPad.NotSet,
            "SAME_UPPER" => OnnxAutoPad.SameUpper,
            "SAME_LOWER" => OnnxAutoPad.SameLower,
            "VALID" => OnnxAutoPad.Valid,
            var other => throw new ToolException(ExitCode.Unsupported, $"Node '{node.Name}' has auto_pad '{other}'; ONNX knows NOTSET, SAME_UPPER, SAME_LOWER and VALID."),
        };
        if (IsSame(autoPad) && shape is null)
            return CannotRun($"auto_pad {node.Text("auto_pad")} resolves its padding from the input size, which is not known{(input is null ? "" : $" ({input})")}; `kernelgen verify` takes shapes from a run");
        if (node.IndicesOutput != null && node.Int("storage_order") is 1 && kernel.Length != 2)
            return CannotRun("MaxPool indices in column-major order (storage_order 1) are mapped for 2-d pooling only");

        var mode = node.OpType == "MaxPool" ? PoolMode.Max : PoolMode.Average;
        PoolDescriptor descriptor;
        try
        {
            descriptor = PoolDescriptor.FromOnnx(mode, kernel, node.Ints("strides") ?? [], node.Ints("pads") ?? [], node.Ints("dilations") ?? [],
                autoPad, node.Int("ceil_mode") is 1, node.Int("count_include_pad") is 1, IsSame(autoPad) ? shape : null);
        }
        catch (ArgumentException e)
        {
            return CannotRun($"PoolDescriptor.FromOnnx rejects it: {e.Message}");
        }
        if (shape is { } s && s.SpatialRank != descriptor.SpatialRank)
            return CannotRun($"kernel_shape has {descriptor.SpatialRank} axes; the input {input} has {s.SpatialRank} spatial axes");

        bool isDouble = element == "double";
        bool withIndices = node.IndicesOutput != null;
        var key = new PoolingCallKey(descriptor, false, mode, descriptor.Layout, isDouble, shape ?? default, null, withIndices, false);
        var (attribute, signature, reason) = PoolingAdvisor.Advise(key);
        var outputShape = shape is { } inputShape ? OutputShapeOf(descriptor, inputShape) : null;
        string? registered = withIndices ? null : RegisteredKernel(descriptor, shape, isDouble);
        bool specialized = registered != null;
        // A kernel registered for exactly this descriptor needs no attribute; one borrowed from the symmetric form (on some
        // inputs only) leaves the layer's own [PoolKernel], which padding that differs at the end can now be, worth writing.
        bool exact = specialized && (isDouble ? PoolKernelRegistry.IsSpecialized<double>(descriptor) : PoolKernelRegistry.IsSpecialized<float>(descriptor));
        return new LayerPlan
        {
            Node = node, Input = input, ShapeSource = shapeSource, Descriptor = descriptor,
            Path = specialized ? LayerPath.Specialized : LayerPath.General,
            Kernel = specialized ? registered! : "general engine",
            Reason = specialized ? null : reason, // null: [PoolKernel] specializes it, no kernel is registered yet
            Attribute = exact ? null : attribute,
            Signature = exact ? null : signature,
            DescriptorCode = MakeDescriptorCode(mode, kernel, descriptor),
            Symmetric = withIndices || IsSame(autoPad) ? null : SymmetricFormOf(mode, kernel, descriptor, shape, outputShape, isDouble),
            AutoPad = autoPad,
        };
    }

    /// <summary>
    /// The name of the kernel Pooling.Run takes for <paramref name="descriptor"/> on <paramref name="shape"/> (with the
    /// input unknown, the one registered for exactly the descriptor), or null for the general engine.
    /// </summary>
    public static string? RegisteredKernel(PoolDescriptor descriptor, PoolShape? shape, bool isDouble)
    {
        string? name;
        if (shape is { } input && OutputShapeOf(descriptor, input) is { } output)
            _ = isDouble ? PoolKernelRegistry.TryGetForShape<double>(descriptor, input, output, out _, out name) : PoolKernelRegistry.TryGetForShape<float>(descriptor, input, output, out _, out name);
        else
            _ = isDouble ? PoolKernelRegistry.TryGet<double>(descriptor, out _, out name) : PoolKernelRegistry.TryGet<float>(descriptor, out _, out name);
        return name;
    }

    /// <summary>The output shape, or null when the input is too small for the window.</summary>
    public static PoolShape? OutputShapeOf(PoolDescriptor descriptor, PoolShape shape)
    {
        try { return descriptor.GetOutputShape(shape); }
        catch (ArgumentException) { return null; } // too small for the window: Pooling.Run rejects it
    }

    /// <summary>The symmetric form of a descriptor padded more at the beginning, when a kernel serves it or [PoolKernel] can make one.</summary>
    private static SymmetricForm? SymmetricFormOf(PoolMode mode, int[] kernel, PoolDescriptor descriptor, PoolShape? shape, PoolShape? outputShape, bool isDouble)
    {
        if (!SymmetricPadding.TryGetSymmetric(descriptor, out var symmetric)) return null;
        string? registered = null;
        bool hasKernel = isDouble ? PoolKernelRegistry.TryGet<double>(symmetric, out _, out registered) : PoolKernelRegistry.TryGet<float>(symmetric, out _, out registered);
        var (attribute, signature, _) = PoolingAdvisor.Advise(new PoolingCallKey(symmetric, false, mode, symmetric.Layout, isDouble, shape ?? default, null, false, false));
        if (!hasKernel && attribute is null) return null; // no kernel could serve it: nothing to offer
        bool applies = shape is { } input && outputShape is { } output && SymmetricPadding.ComputesSame(descriptor, symmetric, input, output);
        return new SymmetricForm(symmetric, MakeDescriptorCode(mode, kernel, symmetric), registered, hasKernel ? null : attribute, hasKernel ? null : signature, applies);
    }

    /// <summary>What the symmetric form does for this layer, in a sentence for scan and specialize.</summary>
    public string? SymmetricNote()
    {
        if (Symmetric is not { } form || (Path == LayerPath.Specialized && Kernel != form.Kernel)) return null; // none, or the layer's own kernel runs
        bool countsPadding = Descriptor is { Mode: PoolMode.Average, CountIncludePad: true };
        var axes = Enumerable.Range(0, form.Descriptor.SpatialRank).Select(form.Descriptor.GetAxis).ToArray();
        string pads = "pads [" + string.Join(",", axes.Select(a => Number(a.PadBegin)).Concat(axes.Select(a => Number(a.PadEnd)))) + "]";
        string agree = "where both give the same output size" + (countsPadding ? " and no window reaches past the end padding (the divisor counts padding)" : "");
        if (Path == LayerPath.Specialized && form.AppliesToInput)
            return $"padded only at the beginning: Pooling.Run runs the kernel of its symmetric form ({pads}), which computes the same on {Input}; "
                + $"where the output sizes differ{(countsPadding ? " or a window reaches past the end padding" : "")} it takes the general engine";
        string serves = form.Kernel is { } kernel ? $"KernelGen's {kernel}" : $"the kernel {form.Attribute} makes";
        if (form.AppliesToInput)
            return $"its symmetric form ({pads}) computes the same on {Input}: once {serves} is compiled in, Pooling.Run runs it for this layer {agree}";
        return $"Pooling.Run runs {serves} (its symmetric form, {pads}) for this layer only {agree}; " + (Input is null ? "the input size is not known" : $"on {Input} they do not");
    }

    private static string MakeDescriptorCode(PoolMode mode, int[] kernel, PoolDescriptor descriptor)
    {
        // SAME padding is resolved for the input; the code spells out the pads it resolved to, which is what ran.
        var axes = Enumerable.Range(0, descriptor.SpatialRank).Select(descriptor.GetAxis).ToArray();
        string Ints(System.Collections.Generic.IEnumerable<int> values) => "[" + string.Join(", ", values.Select(Number)) + "]";
        var text = $"PoolDescriptor.FromOnnx(PoolMode.{mode}, {Ints(kernel)}, strides: {Ints(axes.Select(a => a.Stride))}, pads: {Ints(axes.Select(a => a.PadBegin).Concat(axes.Select(a => a.PadEnd)))}";
        if (axes.Any(a => a.Dilation != 1)) text += $", dilations: {Ints(axes.Select(a => a.Dilation))}";
        if (descriptor.CeilMode) text += ", ceilMode: true";
        if (mode == PoolMode.Average && descriptor.CountIncludePad) text += ", countIncludePad: true";
        return text + ")";
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
