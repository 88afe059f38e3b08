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
    /// Turns a [PoolKernel] method into its model. A method the generator can write a body for gets one, even when the
    /// attribute or the signature is wrong (the body then throws, and the analyzer's KG error is what the build shows
    /// rather than CS8795). A method it cannot write a body for gets its KG errors reported by the generator, because
    /// the compiler's own errors (CS8795, CS0751) stop a build before analyzers run.
    /// </summary>
    private static ParsedMethod? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.TargetNode is not MethodDeclarationSyntax syntax)
            return null;
        cancellationToken.ThrowIfCancellationRequested();
        var problems = Check(method, context.Attributes[0]).ToList();
        if (!CanImplement(method))
        {
            // Syntax errors and unknown types are the compiler's to explain; a KG error about them would only add noise.
            bool compilerExplains = syntax.ContainsDiagnostics || SignatureTypes(method).Any(type => Involves(type, TypeKind.Error));
            return problems.Count == 0 || compilerExplains ? null : new ParsedMethod(null, problems.Select(problem => problem.ToInfo()).ToEquatableArray());
        }

        // A repeated or malformed attribute is the compiler's to report (CS0579, CS1503); the body throws.
        var configuration = problems.Count == 0 && context.Attributes.Length == 1
            ? ReadConfiguration(context.Attributes[0], ElementOf(method)!.Value)
            : null;
        var types = new List<ContainingType>();
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            types.Insert(0, new ContainingType(Keyword(type), type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));

        return new ParsedMethod(
            new PoolKernelMethod(
                method.ContainingNamespace.IsGlobalNamespace ? null : method.ContainingNamespace.ToDisplayString(),
                types.ToEquatableArray(),
                string.Join(" ", syntax.Modifiers.Select(modifier => modifier.Text)),
                method.Name,
                SignatureOf(method),
                string.Join(", ", method.Parameters.Select(parameter => Escape(parameter.Name))),
                OverloadSuffix(method),
                configuration,
                string.Join(", ", problems.Select(problem => problem.Descriptor.Id).Distinct())),
            default);
    }

    /// <summary>One thing wrong with a [PoolKernel] method: a diagnostic not yet created, so either side can report it.</summary>
    internal readonly record struct Problem(DiagnosticDescriptor Descriptor, Location Location, string[] Arguments)
    {
        public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Arguments);

        public DiagnosticInfo ToInfo() => new(Descriptor, LocationInfo.From(Location), Arguments.ToEquatableArray());
    }

    /// <summary>
    /// Whether the generator can write the implementation part of this declaration: a partial definition with no body,
    /// in partial types, with a signature it can spell, and not a second definition of one signature
    /// (CS0756). The generator and the analyzer both ask, so each problem is reported by exactly one of them.
    /// </summary>
    internal static bool CanImplement(IMethodSymbol method)
    {
        if (Declaration(method) is not { } syntax || syntax.ContainsDiagnostics || !syntax.Modifiers.Any(SyntaxKind.PartialKeyword) ||
            syntax.Body is not null || syntax.ExpressionBody is not null)
            return false;
        // Pointers would need an unsafe context the generated partial type may lack.
        if (NonPartialContainingTypes(method).Any() || method.Parameters.Any(parameter => parameter.Name.Length == 0) ||
            SignatureTypes(method).Any(type => Involves(type, TypeKind.Error, TypeKind.Pointer, TypeKind.FunctionPointer)))
            return false;
        return !method.ContainingType.GetMembers(method.Name).OfType<IMethodSymbol>().Any(other =>
            !SymbolEqualityComparer.Default.Equals(other, method) && other.IsPartialDefinition && SameParameters(other, method));
    }

    private static MethodDeclarationSyntax? Declaration(IMethodSymbol method) =>
        method.DeclaringSyntaxReferences.Select(reference => reference.GetSyntax()).OfType<MethodDeclarationSyntax>().FirstOrDefault();

    private static IEnumerable<INamedTypeSymbol> NonPartialContainingTypes(IMethodSymbol method)
    {
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            if (!type.DeclaringSyntaxReferences.Any(reference =>
                    reference.GetSyntax() is TypeDeclarationSyntax declaration && declaration.Modifiers.Any(SyntaxKind.PartialKeyword)))
                yield return type;
        }
    }

    private static IEnumerable<ITypeSymbol> SignatureTypes(IMethodSymbol method) =>
        method.Parameters.Select(parameter => parameter.Type).Prepend(method.ReturnType)
            .Concat(method.TypeParameters.SelectMany(type => type.ConstraintTypes));

    /// <summary>Whether <paramref name="type"/> is, or is built from, a type of one of <paramref name="kinds"/>.</summary>
    private static bool Involves(ITypeSymbol type, params TypeKind[] kinds) => kinds.Contains(type.TypeKind) || type switch
    {
        IArrayTypeSymbol array => Involves(array.ElementType, kinds),
        IPointerTypeSymbol pointer => Involves(pointer.PointedAtType, kinds),
        INamedTypeSymbol named => named.TypeArguments.Any(argument => Involves(argument, kinds)),
        _ => false,
    };

    /// <summary>Whether two signatures are the same for overloading: the same parameter types, each by value or by reference.</summary>
    private static bool SameParameters(IMethodSymbol a, IMethodSymbol b) =>
        a.Arity == b.Arity && a.Parameters.Length == b.Parameters.Length &&
        a.Parameters.Zip(b.Parameters, (x, y) => SymbolEqualityComparer.Default.Equals(x.Type, y.Type) && (x.RefKind == RefKind.None) == (y.RefKind == RefKind.None))
            .All(same => same);

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Return type, name and parameters as the implementation part must repeat them (types fully qualified, no default values).</summary>
    private static string SignatureOf(IMethodSymbol method)
    {
        string returns = (method.ReturnsByRefReadonly ? "ref readonly " : method.ReturnsByRef ? "ref " : "") + method.ReturnType.ToDisplayString(TypeFormat);
        var parameters = method.Parameters.Select(parameter =>
            (parameter.Ordinal == 0 && method.IsExtensionMethod ? "this " : "") +
            (parameter.IsParams ? "params " : "") +
            (parameter.ScopedKind != ScopedKind.None && parameter.RefKind != RefKind.Out ? "scoped " : "") +
            RefKeyword(parameter.RefKind) +
            parameter.Type.ToDisplayString(TypeFormat) + " " + Escape(parameter.Name));
        string typeParameters = method.IsGenericMethod ? "<" + string.Join(", ", method.TypeParameters.Select(type => Escape(type.Name))) + ">" : "";
        return $"{returns} {Escape(method.Name)}{typeParameters}({string.Join(", ", parameters)})" +
               string.Concat(method.TypeParameters.Select(Constraints));
    }

    /// <summary>A type parameter's where clause, which the implementation part must repeat; empty when it has none.</summary>
    private static string Constraints(ITypeParameterSymbol type)
    {
        var constraints = new List<string>();
        if (type.HasReferenceTypeConstraint)
            constraints.Add(type.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
        else if (type.HasUnmanagedTypeConstraint)
            constraints.Add("unmanaged");
        else if (type.HasValueTypeConstraint)
            constraints.Add("struct");
        else if (type.HasNotNullConstraint)
            constraints.Add("notnull");
        constraints.AddRange(type.ConstraintTypes.Select(constraint => constraint.ToDisplayString(TypeFormat)));
        if (type.HasConstructorConstraint)
            constraints.Add("new()");
        return constraints.Count == 0 ? "" : $" where {Escape(type.Name)} : {string.Join(", ", constraints)}";
    }

    private static string RefKeyword(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In => "in ",
        RefKind.RefReadOnlyParameter => "ref readonly ",
        _ => "",
    };

    /// <summary>For an overloaded name, the parameter types as a file-name part (so a float and a double overload get two files); otherwise empty.</summary>
    private static string OverloadSuffix(IMethodSymbol method)
    {
        if (method.ContainingType.GetMembers(method.Name).OfType<IMethodSymbol>().Count() < 2)
            return "";
        var text = new System.Text.StringBuilder(method.IsGenericMethod ? "`" + method.Arity + "(" : "(");
        foreach (var parameter in method.Parameters)
        {
            if (parameter.Ordinal > 0) text.Append(',');
            text.Append(RefKeyword(parameter.RefKind).Replace(' ', '_'));
            foreach (char c in parameter.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat))
            {
                if (char.IsLetterOrDigit(c) || c is '_' or '.' or ',' or '[' or ']') text.Append(c);
                else if (c == '<') text.Append('{');
                else if (c == '>') text.Append('}');
            }
        }
        return text.Append(')').ToString();
    }

    /// <summary>
    /// Everything wrong with a [PoolKernel] method, at <paramref name="method"/>'s location or the attribute's. Shared by
    /// the generator and the analyzer (see <see cref="CanImplement"/> for which one reports them).
    /// </summary>
    internal static IEnumerable<Problem> Check(IMethodSymbol method, AttributeData attribute)
    {
        var location = method.Locations.FirstOrDefault() ?? Location.None;
        var attributeLocation = attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? location;
        var syntax = Declaration(method);

        // The declaration: static partial, an access modifier, and no body of its own.
        bool hasAccessModifier = syntax is not null && syntax.Modifiers.Any(m =>
            m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) ||
            m.IsKind(SyntaxKind.PrivateKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword));
        bool isPartial = syntax is not null && syntax.Modifiers.Any(SyntaxKind.PartialKeyword);
        bool hasBody = syntax is not null && (syntax.Body is not null || syntax.ExpressionBody is not null);
        if (!method.IsStatic || !isPartial || !hasAccessModifier || hasBody)
            yield return new Problem(DiagnosticDescriptors.MustBeStaticPartial, location, [method.Name]);

        if (!method.ReturnsVoid)
            yield return new Problem(DiagnosticDescriptors.MustReturnVoid, location, [method.Name, method.ReturnType.ToDisplayString()]);

        string? parameterProblem = ParameterProblem(method);
        if (parameterProblem is not null)
            yield return new Problem(DiagnosticDescriptors.WrongParameters, location, [method.Name, parameterProblem]);
        else if (ElementOf(method) is null)
            yield return new Problem(DiagnosticDescriptors.UnsupportedElementType, location,
                [method.Name, ((INamedTypeSymbol)method.Parameters[0].Type).TypeArguments[0].ToDisplayString()]);

        foreach (var type in NonPartialContainingTypes(method))
            yield return new Problem(DiagnosticDescriptors.ContainingTypeNotPartial, location, [method.Name, type.Name]);

        var configuration = ReadConfiguration(attribute, ElementKind.Float);
        if (configuration is null) yield break; // the compiler reports malformed attribute arguments itself
        foreach (var (parameter, message) in configuration.Problems())
        {
            var descriptor = parameter switch
            {
                "size" or "stride" => DiagnosticDescriptors.InvalidWindow,
                "Dilation" when configuration.Dilation < 1 => DiagnosticDescriptors.InvalidWindow,
                "Padding" or "PaddingEnd" => DiagnosticDescriptors.InvalidPadding,
                _ => DiagnosticDescriptors.OptionNotForMode,
            };
            yield return new Problem(descriptor, attributeLocation, [method.Name, message]);
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
        int top = padHeight == -1 ? padding : padHeight, left = padWidth == -1 ? padding : padWidth;
        // The end padding: per axis, else for both axes, else as the axis begins (-1 means unset at each level).
        int paddingEnd = Int("PaddingEnd", -1);
        int bottom = Int("PaddingHeightEnd", -1), right = Int("PaddingWidthEnd", -1);
        return new KernelConfiguration(
            mode,
            kernelHeight == 0 ? size : kernelHeight, kernelWidth == 0 ? size : kernelWidth,
            strideHeight == 0 ? stride : strideHeight, strideWidth == 0 ? stride : strideWidth,
            top, left,
            bottom != -1 ? bottom : paddingEnd != -1 ? paddingEnd : top,
            right != -1 ? right : paddingEnd != -1 ? paddingEnd : left,
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
        "PaddingEnd", "PaddingHeightEnd", "PaddingWidthEnd",
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
