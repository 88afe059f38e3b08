using Microsoft.CodeAnalysis;

namespace KernelGen.Generator.Diagnostics;

/// <summary>Every diagnostic KernelGen reports. IDs are tracked in AnalyzerReleases.*.md; each message says what to change.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "KernelGen";

    public static readonly DiagnosticDescriptor InvalidWindow = new(
        "KG0001", "Invalid pooling window",
        "[PoolKernel] on '{0}': {1}; use a size, stride and dilation of at least 1",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidPadding = new(
        "KG0002", "Invalid padding",
        "[PoolKernel] on '{0}': {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor OptionNotForMode = new(
        "KG0003", "Invalid option, or an option that does not apply to this pooling mode",
        "[PoolKernel] on '{0}': {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MustBeStaticPartial = new(
        "KG0004", "[PoolKernel] method must be static partial with an access modifier",
        "'{0}' must be declared 'static partial' with an access modifier (for example 'public static partial void {0}(...)') and no body, so the generator can supply the body",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MustReturnVoid = new(
        "KG0005", "[PoolKernel] method must return void",
        "'{0}' returns '{1}'; a [PoolKernel] method writes into its output span and must return void",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor WrongParameters = new(
        "KG0006", "[PoolKernel] method has the wrong parameters",
        "'{0}' must take (ReadOnlySpan<T> input, Span<T> output, KernelGen.PoolShape shape) with the same T in both spans and no type parameters; {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedElementType = new(
        "KG0007", "Unsupported element type",
        "'{0}' pools '{1}'; [PoolKernel] supports float and double spans",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = new(
        "KG0008", "Containing type must be partial",
        "'{0}' is declared in '{1}', which is not partial; add 'partial' to '{1}' so the generated body can join it",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotSpecialized = new(
        "KG0009", "Configuration runs on the general engine",
        "'{0}' ({1}) is not specialized because {2}, so it calls the general engine, which gives the same results; {3}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsafeCodeNotAllowed = new(
        "KG0010", "Specialized kernels need unsafe code",
        "'{0}' ({1}) calls the general engine, which is correct but slower, because the project does not allow unsafe code; set <AllowUnsafeBlocks>true</AllowUnsafeBlocks> in the project to get the specialized kernel",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ProfileUnusable = new(
        "KG0011", "KernelGen profile is malformed or stale",
        "{0}: {1}; the build goes on without the kernels it would have given",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor CanSpecializeAtCompileTime = new(
        "KG0012", "Configuration can be specialized at compile time",
        "This configuration ({0}) can be specialized at compile time: a [PoolKernel] method gets a kernel written for it by the build",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true);
}
