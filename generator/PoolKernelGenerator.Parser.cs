using System.Collections.Generic;
using System.Linq;
using System.Threading;
using KernelGen.Generator.Diagnostics;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelGen.Generator;

public sealed partial class PoolKernelGenerator
{
    internal const string AttributeName = "KernelGen.PoolKernelAttribute";
    private const string ShapeTypeName = "KernelGen.PoolShape";

    /// <summary>
    /// Turns a [PoolKernel] method into its model, or null when anything about it is wrong: the generator skips
    /// broken code and leaves the explaining to the analyzer, which runs the same checks.
    /// </summary>
    private static PoolKernelMethod? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.TargetNode is not MethodDeclarationSyntax syntax)
            return null;
        cancellationToken.ThrowIfCancellationRequested();
        // Code the compiler rejects anyway (syntax errors, a repeated or malformed attribute) gets no body: the
        // compiler's own errors explain it, and a generated body would only add noise.
        if (syntax.ContainsDiagnostics || context.Attributes.Length != 1 || Check(method, context.Attributes[0]).Any())
            return null;
        if (ReadConfiguration(context.Attributes[0], ElementOf(method)!.Value) is not { } configuration)
            return null;
        // Two defining declarations of one partial method (CS0756): a body would pair with only one of them.
        if (method.ContainingType.GetMembers(method.Name).OfType<IMethodSymbol>().Count(other =>
                other.PartialImplementationPart is null && other.IsPartialDefinition && other.Parameters.Length == method.Parameters.Length) > 1)
            return null;
        var types = new List<ContainingType>();
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            types.Insert(0, new ContainingType(Keyword(type), type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));

        string modifiers = string.Join(" ", syntax.Modifiers.Select(modifier => modifier.Text));
        return new PoolKernelMethod(
            method.ContainingNamespace.IsGlobalNamespace ? null : method.ContainingNamespace.ToDisplayString(),
            types.ToEquatableArray(),
            modifiers,
            method.Name,
            Escape(method.Parameters[0].Name),
            Escape(method.Parameters[1].Name),
            Escape(method.Parameters[2].Name),
            method.Parameters[2].RefKind == RefKind.In,
            configuration);
    }

    /// <summary>
    /// Everything wrong with a [PoolKernel] method, as diagnostics at <paramref name="method"/>'s location. Shared by
    /// the generator (which skips the method when there is any) and the analyzer (which reports them).
    /// </summary>
    internal static IEnumerable<Diagnostic> Check(IMethodSymbol method, AttributeData attribute)
    {
        var location = method.Locations.FirstOrDefault() ?? Location.None;
        var attributeLocation = attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? location;
        var syntax = method.DeclaringSyntaxReferences.Select(reference => reference.GetSyntax()).OfType<MethodDeclarationSyntax>().FirstOrDefault();

        // The declaration: static partial, an access modifier, and no body of its own.
        bool hasAccessModifier = syntax is not null && syntax.Modifiers.Any(m =>
            m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) ||
            m.IsKind(SyntaxKind.PrivateKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword));
        bool isPartial = syntax is not null && syntax.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword));
        bool hasBody = syntax is not null && (syntax.Body is not null || syntax.ExpressionBody is not null);
        if (!method.IsStatic || !isPartial || !hasAccessModifier || hasBody)
            yield return Diagnostic.Create(DiagnosticDescriptors.MustBeStaticPartial, location, method.Name);

        if (!method.ReturnsVoid)
            yield return Diagnostic.Create(DiagnosticDescriptors.MustReturnVoid, location, method.Name, method.ReturnType.ToDisplayString());

        string? parameterProblem = ParameterProblem(method);
        if (parameterProblem is not null)
            yield return Diagnostic.Create(DiagnosticDescriptors.WrongParameters, location, method.Name, parameterProblem);
        else if (ElementOf(method) is null)
            yield return Diagnostic.Create(DiagnosticDescriptors.UnsupportedElementType, location, method.Name,
                ((INamedTypeSymbol)method.Parameters[0].Type).TypeArguments[0].ToDisplayString());

        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            bool typeIsPartial = type.DeclaringSyntaxReferences.Any(reference =>
                reference.GetSyntax() is TypeDeclarationSyntax declaration && declaration.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword)));
            if (!typeIsPartial)
                yield return Diagnostic.Create(DiagnosticDescriptors.ContainingTypeNotPartial, location, method.Name, type.Name);
        }

        var configuration = ReadConfiguration(attribute, ElementKind.Float);
        if (configuration is null) yield break; // the compiler reports malformed attribute arguments itself
        foreach (var (parameter, message) in configuration.Problems())
        {
            var descriptor = parameter switch
            {
                "size" or "stride" => DiagnosticDescriptors.InvalidWindow,
                "Dilation" when configuration.Dilation < 1 => DiagnosticDescriptors.InvalidWindow,
                "Padding" => DiagnosticDescriptors.InvalidPadding,
                _ => DiagnosticDescriptors.OptionNotForMode,
            };
            yield return Diagnostic.Create(descriptor, attributeLocation, method.Name, message);
        }
    }

    /// <summary>Why the parameter list is not (ReadOnlySpan&lt;T&gt; input, Span&lt;T&gt; output, PoolShape shape), or null if it is.</summary>
    private static string? ParameterProblem(IMethodSymbol method)
    {
        if (method.IsGenericMethod)
            return "it has type parameters";
        if (method.Parameters.Length != 3)
            return $"it has {method.Parameters.Length} parameters";
        if (method.Parameters.Any(parameter => parameter.Name.Length == 0))
            return "a parameter has no name";
        var (input, output, shape) = (method.Parameters[0], method.Parameters[1], method.Parameters[2]);
        if (!IsSpan(input.Type, "System.ReadOnlySpan<T>") || input.RefKind != RefKind.None)
            return $"the first parameter is '{input.Type.ToDisplayString()}', not ReadOnlySpan<T>";
        if (!IsSpan(output.Type, "System.Span<T>") || output.RefKind != RefKind.None)
            return $"the second parameter is '{output.Type.ToDisplayString()}', not Span<T>";
        if (!SymbolEqualityComparer.Default.Equals(((INamedTypeSymbol)input.Type).TypeArguments[0], ((INamedTypeSymbol)output.Type).TypeArguments[0]))
            return "the input and output spans hold different element types";
        if (shape.Type.ToDisplayString() != ShapeTypeName || shape.RefKind is not (RefKind.None or RefKind.In))
            return $"the third parameter is '{shape.Type.ToDisplayString()}', not KernelGen.PoolShape";
        return null;
    }

    private static bool IsSpan(ITypeSymbol type, string definition) =>
        type is INamedTypeSymbol { IsGenericType: true } named && named.ConstructedFrom.ToDisplayString() == definition;

    /// <summary>The element type of a method whose parameters are well formed, if KernelGen supports it.</summary>
    private static ElementKind? ElementOf(IMethodSymbol method)
    {
        if (method.Parameters.Length == 0 || method.Parameters[0].Type is not INamedTypeSymbol { TypeArguments.Length: 1 } span)
            return null;
        return span.TypeArguments[0].SpecialType switch
        {
            SpecialType.System_Single => ElementKind.Float,
            SpecialType.System_Double => ElementKind.Double,
            _ => null,
        };
    }

    /// <summary>Reads [PoolKernel(size, stride, mode, Named = ...)] into per-axis values; null if the arguments are malformed.</summary>
    internal static KernelConfiguration? ReadConfiguration(AttributeData attribute, ElementKind element)
    {
        if (attribute.AttributeConstructor is null || attribute.ConstructorArguments.Length != 3 ||
            attribute.ConstructorArguments.Any(argument => argument.Kind == TypedConstantKind.Error || argument.Value is not int) ||
            attribute.NamedArguments.Any(pair => !KnownProperties.Contains(pair.Key) || pair.Value.Kind == TypedConstantKind.Error || pair.Value.Value is null))
            return null;
        int size = (int)attribute.ConstructorArguments[0].Value!;
        int stride = (int)attribute.ConstructorArguments[1].Value!;
        var mode = (PoolMode)(int)attribute.ConstructorArguments[2].Value!;

        var named = attribute.NamedArguments.ToDictionary(pair => pair.Key, pair => pair.Value.Value);
        int Int(string name, int fallback) => named.TryGetValue(name, out var value) && value is int number ? number : fallback;
        bool Bool(string name, bool fallback) => named.TryGetValue(name, out var value) && value is bool flag ? flag : fallback;

        int padding = Int("Padding", 0);
        int kernelHeight = Int("KernelHeight", 0), kernelWidth = Int("KernelWidth", 0);
        int strideHeight = Int("StrideHeight", 0), strideWidth = Int("StrideWidth", 0);
        int padHeight = Int("PaddingHeight", -1), padWidth = Int("PaddingWidth", -1);
        return new KernelConfiguration(
            mode,
            kernelHeight == 0 ? size : kernelHeight, kernelWidth == 0 ? size : kernelWidth,
            strideHeight == 0 ? stride : strideHeight, strideWidth == 0 ? stride : strideWidth,
            padHeight == -1 ? padding : padHeight, padWidth == -1 ? padding : padWidth,
            Int("Dilation", 1),
            Bool("CeilMode", false),
            Bool("CountIncludePad", true),
            Int("DivisorOverride", 0),
            (PoolLayout)Int("Layout", 0),
            element);
    }

    /// <summary>The settable properties of PoolKernelAttribute.</summary>
    private static readonly HashSet<string> KnownProperties =
    [
        "Padding", "Dilation", "CeilMode", "CountIncludePad", "DivisorOverride", "Layout",
        "KernelHeight", "KernelWidth", "StrideHeight", "StrideWidth", "PaddingHeight", "PaddingWidth",
    ];

    private static string Keyword(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    private static string Escape(string identifier) =>
        SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None ? "@" + identifier : identifier;
}
