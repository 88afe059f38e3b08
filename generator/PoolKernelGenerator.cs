using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace KernelGen.Generator;

/// <summary>
/// Implements every <c>[PoolKernel]</c> method with a kernel specialized for its configuration, and registers each
/// kernel with the runtime so <c>Pooling.Run</c> uses it too.
/// </summary>
/// <remarks>
/// Two outputs: one file per annotated method (its body, a call into the kernel, or a throw when the method is invalid)
/// and one file per distinct configuration (the kernel class), so methods that share a configuration share a kernel.
/// A profile the project lists as KernelGenProfile adds kernel classes for the hot configurations the general engine
/// served when it was recorded (PoolKernelGenerator.Profile.cs).
/// Methods it cannot write a body for get their KG errors from here; the analyzer reports the rest.
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
            .Where(static parsed => parsed is not null)
            .Select(static (parsed, _) => parsed!)
            .WithTrackingName(TrackingNames.Methods);

        context.RegisterSourceOutput(methods, static (context, parsed) =>
        {
            foreach (var diagnostic in parsed.Diagnostics)
                context.ReportDiagnostic(diagnostic.ToDiagnostic());
            if (parsed.Method is { } method)
                context.AddSource(method.HintName, EmitMethod(method));
        });

        // Specialized kernels use pointers; without AllowUnsafeBlocks they fall back to the general engine (KG0010).
        var allowUnsafe = context.CompilationProvider.Select(static (compilation, _) => compilation.Options is Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions { AllowUnsafe: true });

        // One kernel class per distinct configuration, whether an attribute or a profile (KernelGenProfile) asked for it.
        var configurations = methods
            .Select(static (parsed, _) => parsed.Method?.Configuration)
            .Where(static configuration => configuration is not null)
            .Collect()
            .Combine(ProfileKernels(context, allowUnsafe).Collect())
            .SelectMany(static (all, _) => all.Left.Select(configuration => configuration!).Concat(all.Right).Distinct()
                .OrderBy(configuration => configuration.KernelName, System.StringComparer.Ordinal).ToImmutableArray())
            .WithTrackingName(TrackingNames.Configurations);

        context.RegisterSourceOutput(configurations.Combine(allowUnsafe), static (context, pair) =>
            context.AddSource(pair.Left.KernelName + ".g.cs", EmitKernel(pair.Left, pair.Right)));
    }
}
