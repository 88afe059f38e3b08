using System.Collections.Immutable;
using System.Linq;
using KernelGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace KernelGen.Generator.Diagnostics;

/// <summary>
/// Explains what the generator silently skips: every problem with a [PoolKernel] method (KG0001-KG0008), and, for a
/// valid method, why its configuration runs on the general engine when it does (KG0009).
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
        DiagnosticDescriptors.NotSpecialized);

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

        bool valid = true;
        foreach (var diagnostic in PoolKernelGenerator.Check(method, attribute))
        {
            context.ReportDiagnostic(diagnostic);
            valid = false;
        }
        if (!valid) return;

        var element = method.Parameters[0].Type is INamedTypeSymbol span && span.TypeArguments[0].SpecialType == SpecialType.System_Double
            ? ElementKind.Double : ElementKind.Float;
        var configuration = PoolKernelGenerator.ReadConfiguration(attribute, element);
        if (configuration?.UnsupportedReason is { } reason)
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotSpecialized, method.Locations.FirstOrDefault(), method.Name, configuration.KernelName, reason));
    }
}
