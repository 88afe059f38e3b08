using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace KernelGen.Generator;

/// <summary>
/// Implements every <c>[PoolKernel]</c> method with a kernel specialized for its configuration, and registers each
/// kernel with the runtime so <c>Pooling.Run</c> uses it too.
/// </summary>
/// <remarks>
/// Two outputs: one file per annotated method (its body, a call into the kernel) and one file per distinct
/// configuration (the kernel class), so methods that share a configuration share a kernel.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed partial class PoolKernelGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var methods = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeName,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                transform: static (context, cancellationToken) => Parse(context, cancellationToken))
            .Where(static method => method is not null)
            .Select(static (method, _) => method!)
            .WithTrackingName(TrackingNames.Methods);

        context.RegisterSourceOutput(methods, static (context, method) =>
            context.AddSource(method.HintName, EmitMethod(method)));

        var configurations = methods
            .Select(static (method, _) => method.Configuration)
            .Collect()
            .SelectMany(static (all, _) => all.Distinct().OrderBy(configuration => configuration.KernelName, System.StringComparer.Ordinal).ToImmutableArray())
            .WithTrackingName(TrackingNames.Configurations);

        context.RegisterSourceOutput(configurations, static (context, configuration) =>
            context.AddSource(configuration.KernelName + ".g.cs", EmitKernel(configuration)));
    }
}
