using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace KernelGen.Tool;

/// <summary>
/// <c>kernelgen specialize</c>: C# source with one method per pooling layer of the model, each computing exactly what
/// the ONNX node computes. A layer [PoolKernel] expresses (padding that differs at the end included) is that attribute on
/// the method; a layer it cannot express
/// calls Pooling.Run with the node's own descriptor, after a comment saying why, and takes a specialized kernel only
/// where one provably computes the same (Pooling.Run checks that on every call).
/// </summary>
internal static class Specializer
{
    public static string Write(ModelLayers model, string namespaceName, string className)
    {
        var text = new StringBuilder();
        text.AppendLine($"// The pooling layers of {Path.GetFileName(model.Model.Path)}, written by `kernelgen specialize`.");
        text.AppendLine("// One method per ONNX pooling node, computing exactly what the node computes (float/double, channels first).");
        text.AppendLine("// [PoolKernel] methods are implemented by the KernelGen source generator (reference the KernelGen package).");
        text.AppendLine("using System;");
        text.AppendLine("using KernelGen;");
        text.AppendLine();
        text.AppendLine($"namespace {namespaceName};");
        text.AppendLine();
        text.AppendLine($"/// <summary>The pooling layers of {Escape(Path.GetFileName(model.Model.Path))}.</summary>");
        text.AppendLine($"public static partial class {className}");
        text.AppendLine("{");
        var names = new HashSet<string>(StringComparer.Ordinal) { className };
        bool first = true;
        foreach (var layer in model.Layers)
        {
            if (!first) text.AppendLine();
            first = false;
            WriteLayer(text, layer, UniqueName(layer.Node.Name, names));
        }
        text.AppendLine("}");
        return text.ToString();
    }

    private static void WriteLayer(StringBuilder text, LayerPlan layer, string name)
    {
        var node = layer.Node;
        string element = layer.IsDouble ? "double" : "float";
        string parameters = $"(ReadOnlySpan<{element}> input, Span<{element}> output, PoolShape shape)";
        string arguments = "(input, output, shape)";
        text.AppendLine($"    // Node '{Comment(node.Name)}': {node.OpType} {Comment(node.AttributeText)}{(layer.Input is { } input ? $"; input {input}" : "")}.");
        if (layer.Path == LayerPath.CannotRun)
        {
            text.AppendLine($"    // Not written: KernelGen cannot run it ({Comment(layer.Reason!)}).");
            return;
        }
        string summary = $"    /// <summary>ONNX node '{Escape(node.Name)}' ({node.OpType}).</summary>";
        if (layer.Path == LayerPath.Global)
        {
            text.AppendLine($"    // Runs {layer.Kernel} ({Comment(layer.Reason!)}).");
            text.AppendLine(summary);
            text.AppendLine($"    public static void {name}{parameters} => {layer.Kernel}{arguments};");
            return;
        }
        if (node.IndicesOutput != null)
            text.AppendLine("    // Its Indices output: Pooling.Run(descriptor, input, output, indices, shape) gives positions inside each (n, c) plane; ONNX's add the plane's offset.");

        bool same = LayerPlan.IsSame(layer.AutoPad);
        string layerField = name + "Layer";
        // SAME padding depends on the input size: the descriptor is made for each call's shape.
        string layerExpression = same ? OnnxCall(layer) : layerField;

        if (layer.Attribute is { } attribute && !same && node.IndicesOutput == null)
        {
            text.AppendLine("    // [PoolKernel] expresses it exactly: the generator writes the kernel, and Pooling.Run finds it for this configuration too.");
            if (layer.Path == LayerPath.Specialized)
                text.AppendLine($"    // (Without it Pooling.Run borrows {layer.Kernel}, its symmetric form's kernel, on the inputs where the two compute the same.)");
            text.AppendLine(summary);
            text.AppendLine($"    {attribute}");
            text.AppendLine($"    public static partial void {name}{parameters};");
            return;
        }

        if (!same)
            text.AppendLine($"    private static readonly PoolDescriptor {layerField} = {layer.DescriptorCode};");
        string body;
        if (layer.Path == LayerPath.Specialized)
        {
            text.AppendLine($"    // Pooling.Run runs KernelGen's built-in specialized kernel {layer.Kernel} for it.");
            if (layer.SymmetricNote() is { } note) text.AppendLine($"    // {Comment(Sentence(note))}");
            body = $"Pooling.Run({layerExpression}, input, output, shape)";
        }
        else if (layer.Symmetric is { } form)
        {
            // Pooling.Run itself takes the symmetric form's kernel where it computes the same: the layer calls it with its own descriptor.
            text.AppendLine($"    // [PoolKernel] cannot express it: {Comment(layer.Reason!)}.");
            text.AppendLine($"    // {Comment(Sentence(layer.SymmetricNote()!))}");
            if (form.Kernel is null)
            {
                text.AppendLine($"    // The closest correct option: this method makes the symmetric form's kernel, which registers itself for Pooling.Run.");
                text.AppendLine($"    {form.Attribute}");
                text.AppendLine($"    private static partial void {name}Kernel{parameters};");
            }
            body = $"Pooling.Run({layerExpression}, input, output, shape)";
        }
        else if (same && layer.Attribute is { } resolvedAttribute && node.IndicesOutput == null)
        {
            string resolvedField = name + "Resolved";
            text.AppendLine($"    // auto_pad {node.Text("auto_pad")} resolves to the pads of {layer.DescriptorCode} on {layer.Input}, which [PoolKernel] expresses; other sizes resolve their own.");
            text.AppendLine($"    private static readonly PoolDescriptor {resolvedField} = {layer.DescriptorCode};");
            text.AppendLine($"    {resolvedAttribute}");
            text.AppendLine($"    private static partial void {name}Kernel{parameters};");
            body = $"var layer = {layerExpression};\n        if (layer == {resolvedField}) {name}Kernel{arguments};\n        else Pooling.Run(layer, input, output, shape)";
        }
        else
        {
            text.AppendLine($"    // Runs on the general engine: {Comment(layer.Reason ?? (node.IndicesOutput != null ? "specialized kernels do not return indices" : $"auto_pad {node.Text("auto_pad")} pads depend on the input size"))}.");
            body = $"Pooling.Run({layerExpression}, input, output, shape)";
        }
        text.AppendLine(summary);
        text.AppendLine($"    public static void {name}{parameters}");
        text.AppendLine("    {");
        text.AppendLine($"        {body};");
        text.AppendLine("    }");
    }

    /// <summary>The node as a FromOnnx call with its own attributes, for SAME padding resolved from each call's <c>shape</c>.</summary>
    private static string OnnxCall(LayerPlan layer)
    {
        var node = layer.Node;
        string Ints(int[]? values) => "[" + string.Join(", ", (values ?? []).Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";
        var text = $"PoolDescriptor.FromOnnx(PoolMode.{(node.OpType == "MaxPool" ? "Max" : "Average")}, {Ints(node.Ints("kernel_shape"))}, strides: {Ints(node.Ints("strides"))}";
        if (node.Ints("dilations") is { } dilations) text += $", dilations: {Ints(dilations)}";
        text += $", autoPad: OnnxAutoPad.{layer.AutoPad}";
        if (node.Int("ceil_mode") is 1) text += ", ceilMode: true";
        if (node.Int("count_include_pad") is 1) text += ", countIncludePad: true";
        return text + ", inputShape: shape)";
    }

    private static readonly string[] Suffixes = ["", "Layer", "Kernel", "Resolved"];

    private static readonly HashSet<string> ReservedNames =
        ["Pooling", "PoolDescriptor", "PoolShape", "PoolMode", "PoolLayout", "PoolKernel", "PoolKernelAttribute", "OnnxAutoPad", "Span", "ReadOnlySpan", "KernelGen", "System"];

    /// <summary>A C# method name from the node's name: PascalCase letters and digits, unique in the class.</summary>
    private static string UniqueName(string nodeName, HashSet<string> taken)
    {
        var parts = Regex.Split(nodeName, "[^A-Za-z0-9]+").Where(p => p.Length > 0);
        string name = string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
        // Not a digit first, and not the name of a type the file uses.
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]) || ReservedNames.Contains(name)) name = "Layer" + name;
        string unique = name;
        for (int i = 2; Suffixes.Any(suffix => taken.Contains(unique + suffix)); i++) unique = name + i.ToString(CultureInfo.InvariantCulture);
        foreach (var suffix in Suffixes) taken.Add(unique + suffix);
        return unique;
    }

    private static string Sentence(string text) => char.ToUpperInvariant(text[0]) + text[1..] + ".";

    private static string Comment(string text) => text.Replace('\n', ' ').Replace('\r', ' ');

    private static string Escape(string text) => System.Security.SecurityElement.Escape(text) ?? text;
}
