using System.Collections.Immutable;
using System.Linq;
using KernelGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace KernelGen.Generator.Diagnostics;

/// <summary>
/// Explains every problem with a [PoolKernel] method the generator writes a body for (KG0001-KG0007; the generator
/// reports those of methods it cannot write a body for), and, for a valid method, why its configuration runs on the
/// general engine when it does (KG0009, KG0010).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PoolKernelAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.InvalidWindow,
        DiagnosticDescriptors.InvalidPadding,
        DiagnosticDescriptors.OptionNotForMode,
        DiagnosticDescriptors.MustBeStaticPartial,
        DiagnosticDescriptors.MustReturnVoid,
        DiagnosticDescriptors.WrongParameters,
        DiagnosticDescriptors.UnsupportedElementType,
        DiagnosticDescriptors.ContainingTypeNotPartial,
        DiagnosticDescriptors.NotSpecialized,
        DiagnosticDescriptors.UnsafeCodeNotAllowed);

    public override void Initialize(AnalysisContext context)
    {
        // The generated implementation part carries [GeneratedCode], which makes the whole method look generated;
        // analyze it anyway (only the user's declaration part is examined below, and diagnostics point at it).
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var attributeType = start.Compilation.GetTypeByMetadataName(PoolKernelGenerator.AttributeName);
            if (attributeType is null) return;
            start.RegisterSymbolAction(symbolContext => AnalyzeMethod(symbolContext, attributeType), SymbolKind.Method);
        });
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, INamedTypeSymbol attributeType)
    {
        var method = (IMethodSymbol)context.Symbol;
        // The generated implementation part carries no attribute of its own; analyze the declaration once.
        if (method.PartialDefinitionPart is not null) return;
        var attribute = method.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType));
        if (attribute is null) return;

        // A method the generator writes no body for has its problems reported by the generator: the compiler's errors
        // about the missing body would stop a build before this analyzer runs.
        if (!PoolKernelGenerator.CanImplement(method)) return;

        bool valid = true;
        foreach (var problem in PoolKernelGenerator.Check(method, attribute))
        {
            context.ReportDiagnostic(problem.ToDiagnostic());
            valid = false;
        }
        if (!valid) return;

        var element = method.Parameters[0].Type is INamedTypeSymbol span && span.TypeArguments[0].SpecialType == SpecialType.System_Double
            ? ElementKind.Double : ElementKind.Float;
        if (PoolKernelGenerator.ReadConfiguration(attribute, element) is not { } configuration) return;
        var location = method.Locations.FirstOrDefault();
        if (configuration.UnsupportedReason is { } reason)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotSpecialized, location, method.Name, configuration.KernelName, reason, configuration.HowToSpecialize));
        else if (context.Compilation.Options is not Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions { AllowUnsafe: true })
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnsafeCodeNotAllowed, location, method.Name, configuration.KernelName));
    }
}
