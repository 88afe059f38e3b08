using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using KernelGen.Generator.Model;
using KernelGen.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace KernelGen.Generator.Diagnostics;

/// <summary>
/// Suggests a [PoolKernel] method for a <c>Pooling.Run(descriptor, input, output, shape)</c> call whose descriptor is
/// known at compile time (KG0012): built inline by <c>PoolDescriptor.MaxPool2d</c>, <c>AvgPool2d</c> or <c>Create</c>
/// from constants, or read from a <c>static readonly</c> field initialized that way. Only configurations the
/// generator specializes qualify. A [PoolKernel] method runs on the calling thread, so a call that asks for threads
/// (maxDegreeOfParallelism other than 1) does not; one that leaves the default does, and the fix makes it single-threaded. The code fix (KernelGen.CodeFixes) reads the attribute,
/// method name and element type from the diagnostic's properties.
/// </summary>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class ConstantDescriptorAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Property keys of KG0012, shared with the code fix.</summary>
    public const string AttributeProperty = "Attribute", MethodNameProperty = "MethodName", ElementProperty = "Element";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.CanSpecializeAtCompileTime);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var pooling = start.Compilation.GetTypeByMetadataName("KernelGen.Pooling");
            var descriptorType = start.Compilation.GetTypeByMetadataName("KernelGen.PoolDescriptor");
            if (pooling is null || descriptorType is null) return;
            start.RegisterOperationAction(operation => Analyze(operation, pooling, descriptorType), OperationKind.Invocation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol pooling, INamedTypeSymbol descriptorType)
    {
        var call = (IInvocationOperation)context.Operation;
        var method = call.TargetMethod;
        if (method.Name != "Run" || !SymbolEqualityComparer.Default.Equals(method.ContainingType, pooling)) return;
        // Run(in PoolDescriptor descriptor, ReadOnlySpan<T> input, Span<T> output, PoolShape shape, int maxDegreeOfParallelism)
        if (method.Parameters.Length != 5 || method.Parameters[3].Name != "shape" ||
            method.Parameters[1].Type is not INamedTypeSymbol { TypeArguments.Length: 1 } span) return;
        var element = span.TypeArguments[0].SpecialType switch
        {
            SpecialType.System_Single => ElementKind.Float,
            SpecialType.System_Double => ElementKind.Double,
            _ => (ElementKind?)null,
        };
        if (element is null) return;

        IOperation? Argument(string name) => call.Arguments.FirstOrDefault(a => a.Parameter?.Name == name)?.Value;
        var threads = call.Arguments.FirstOrDefault(a => a.Parameter?.Name == "maxDegreeOfParallelism");
        if (threads is not null && threads.ArgumentKind != ArgumentKind.DefaultValue &&
            !(threads.Value.ConstantValue is { HasValue: true, Value: 1 }))
            return;
        if (Argument("descriptor") is not { } descriptor ||
            new ConstantDescriptorReader(descriptorType).Read(descriptor, element.Value) is not { } configuration)
            return;
        if (configuration.Problems().Any() || configuration.UnsupportedReason is not null) return;

        var spec = configuration.Spec;
        var properties = ImmutableDictionary<string, string?>.Empty
            .Add(AttributeProperty, SpecializationRule.AttributeText(spec))
            .Add(MethodNameProperty, SpecializationRule.KernelName(spec).Replace("_", ""))
            .Add(ElementProperty, configuration.ElementType);
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.CanSpecializeAtCompileTime, call.Syntax.GetLocation(), properties,
            configuration.KernelName));
    }
}

/// <summary>
/// Reads a PoolDescriptor expression made only of compile-time constants into the configuration it builds, or null
/// when any part is not constant or the factory is not one [PoolKernel] can express (1-d, 3-d, FromOnnx).
/// </summary>
internal sealed class ConstantDescriptorReader(INamedTypeSymbol descriptorType)
{
    public KernelConfiguration? Read(IOperation operation, ElementKind element)
    {
        operation = Unwrap(operation);
        if (operation is IFieldReferenceOperation { Field: { IsStatic: true, IsReadOnly: true } field } &&
            SymbolEqualityComparer.Default.Equals(field.Type, descriptorType))
            return FieldInitializer(field, operation.SemanticModel) is { } initializer ? Read(initializer, element) : null;
        if (operation is not IInvocationOperation { TargetMethod: { IsStatic: true } factory } invocation ||
            !SymbolEqualityComparer.Default.Equals(factory.ContainingType, descriptorType))
            return null;
        var values = new Dictionary<string, object?>();
        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter is null || !TryConstant(argument, out var value)) return null;
            values[argument.Parameter.Name] = value;
        }
        return factory.Name switch
        {
            "MaxPool2d" => Torch(values, isMax: true, element),
            "AvgPool2d" => Torch(values, isMax: false, element),
            "Create" => Create(values, element),
            _ => null,
        };
    }

    private static IOperation Unwrap(IOperation operation)
    {
        while (operation is IConversionOperation { IsImplicit: true } or IParenthesizedOperation)
            operation = operation is IConversionOperation conversion ? conversion.Operand : ((IParenthesizedOperation)operation).Operand;
        return operation;
    }

    /// <summary>The initializer of a static readonly field declared in source, as an operation.</summary>
    private static IOperation? FieldInitializer(IFieldSymbol field, SemanticModel? model)
    {
        if (model is null || field.DeclaringSyntaxReferences.Length != 1 ||
            field.DeclaringSyntaxReferences[0].GetSyntax() is not VariableDeclaratorSyntax { Initializer.Value: { } value })
            return null;
        if (value.SyntaxTree != model.SyntaxTree)
        {
#pragma warning disable RS1030 // One look-up for a field in another file; the operation's own model covers only its tree.
            model = model.Compilation.GetSemanticModel(value.SyntaxTree);
#pragma warning restore RS1030
        }
        return model.GetOperation(value);
    }

    /// <summary>
    /// An argument's value when it is a compile-time constant: a number, bool, enum or null, a tuple of numbers, an
    /// omitted optional argument, or for <c>axes</c> an array or collection of constant <c>PoolAxis</c> constructions.
    /// </summary>
    private bool TryConstant(IArgumentOperation argument, out object? value)
    {
        value = null;
        if (argument.ArgumentKind == ArgumentKind.DefaultValue)
        {
            value = argument.Parameter!.HasExplicitDefaultValue ? argument.Parameter.ExplicitDefaultValue : null;
            return true;
        }
        return TryValue(argument.Value, out value);
    }

    private bool TryValue(IOperation operation, out object? value)
    {
        value = null;
        operation = Unwrap(operation);
        if (operation.ConstantValue.HasValue)
        {
            value = operation.ConstantValue.Value;
            return true;
        }
        switch (operation)
        {
            case IConversionOperation conversion: // (3, 3) as a (int, int)? parameter
                return TryValue(conversion.Operand, out value);
            case IDefaultValueOperation:
                return true;
            case ITupleOperation tuple:
                var items = new int[tuple.Elements.Length];
                for (int i = 0; i < items.Length; i++)
                {
                    if (!TryValue(tuple.Elements[i], out var item) || item is not int number) return false;
                    items[i] = number;
                }
                value = items;
                return true;
            case IObjectCreationOperation { Constructor.ContainingType.Name: "PoolAxis" } creation:
                return TryAxis(creation, out value);
            case IArrayCreationOperation { Initializer: { } initializer }:
                return TryAxes(initializer.ElementValues, out value);
        }
        // A collection expression ([a, b]); its operation kind is newer than the Roslyn this analyzer targets.
        if (operation.Syntax is ExpressionSyntax syntax && syntax.IsKind(Microsoft.CodeAnalysis.CSharp.SyntaxKind.CollectionExpression) &&
            operation.SemanticModel is { } model)
        {
            var elements = ((CollectionExpressionSyntax)syntax).Elements;
            var values = new List<IOperation>();
            foreach (var element in elements)
            {
                if (element is not ExpressionElementSyntax { Expression: { } expression } || model.GetOperation(expression) is not { } item) return false;
                values.Add(item);
            }
            return TryAxes(values, out value);
        }
        return false;
    }

    private bool TryAxes(IEnumerable<IOperation> elements, out object? value)
    {
        var axes = new List<(int Kernel, int Stride, int PadBegin, int PadEnd, int Dilation)>();
        value = null;
        foreach (var element in elements)
        {
            if (!TryValue(element, out var axis) || axis is not ValueTuple<int, int, int, int, int> tuple) return false;
            axes.Add(tuple);
        }
        value = axes;
        return true;
    }

    /// <summary><c>new PoolAxis(kernel, stride, padding)</c> or <c>new PoolAxis(Kernel, Stride, PadBegin, PadEnd, Dilation)</c>.</summary>
    private bool TryAxis(IObjectCreationOperation creation, out object? value)
    {
        value = null;
        var values = new Dictionary<string, int>(System.StringComparer.OrdinalIgnoreCase);
        foreach (var argument in creation.Arguments)
        {
            if (argument.Parameter is null || !TryConstant(argument, out var item) || item is not int number) return false;
            values[argument.Parameter.Name] = number;
        }
        if (values.TryGetValue("padding", out int padding))
            value = (values["kernel"], values["stride"], padding, padding, 1);
        else if (values.Count == 5)
            value = (values["Kernel"], values["Stride"], values["PadBegin"], values["PadEnd"], values["Dilation"]);
        return value is not null;
    }

    /// <summary>MaxPool2d / AvgPool2d, square (int) or per-axis ((int, int)) overloads.</summary>
    private static KernelConfiguration? Torch(Dictionary<string, object?> values, bool isMax, ElementKind element)
    {
        static (int Height, int Width)? Pair(object? value) => value switch
        {
            int number => (number, number),
            int[] { Length: 2 } pair => (pair[0], pair[1]),
            _ => null,
        };
        if (Pair(values.TryGetValue("kernel", out var k) ? k : null) is not { } kernel) return null;
        var stride = values.TryGetValue("stride", out var s) && s is not null ? Pair(s) : kernel;
        var padding = values.TryGetValue("padding", out var p) && p is not null ? Pair(p) : (0, 0);
        var dilation = values.TryGetValue("dilation", out var d) && d is not null ? Pair(d) : (1, 1);
        if (stride is null || padding is null || dilation is null) return null;
        var axes = new[]
        {
            (kernel.Height, stride.Value.Height, padding.Value.Height, padding.Value.Height, dilation.Value.Height),
            (kernel.Width, stride.Value.Width, padding.Value.Width, padding.Value.Width, dilation.Value.Width),
        };
        return Build(isMax, axes, values, element);
    }

    private static KernelConfiguration? Create(Dictionary<string, object?> values, ElementKind element) =>
        values.TryGetValue("mode", out var mode) && mode is int number &&
        values.TryGetValue("axes", out var axes) && axes is List<(int, int, int, int, int)> list
            ? Build(number == (int)PoolMode.Max, list, values, element)
            : null;

    private static KernelConfiguration? Build(bool isMax, IReadOnlyList<(int Kernel, int Stride, int PadBegin, int PadEnd, int Dilation)> axes,
        Dictionary<string, object?> values, ElementKind element)
    {
        if (SpecializationRule.InexpressibleReason(isMax, axes.Select(a => (a.Kernel, a.PadBegin, a.PadEnd, a.Dilation)).ToList()) is not null)
            return null;
        bool Flag(string name, bool fallback) => values.TryGetValue(name, out var value) && value is bool flag ? flag : fallback;
        int divisor = values.TryGetValue("divisorOverride", out var divisorValue) && divisorValue is int number ? number : 0;
        int layout = values.TryGetValue("layout", out var layoutValue) && layoutValue is int layoutNumber ? layoutNumber : 0;
        var (height, width) = (axes[0], axes[1]);
        return new KernelConfiguration(isMax ? PoolMode.Max : PoolMode.Average, height.Kernel, width.Kernel, height.Stride, width.Stride,
            height.PadBegin, width.PadBegin, height.PadEnd, width.PadEnd, height.Dilation, Flag("ceilMode", false), isMax || Flag("countIncludePad", true), divisor,
            (PoolLayout)layout, element);
    }
}
