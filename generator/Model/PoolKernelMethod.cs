using KernelGen.Generator.Helpers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generator.Model;

/// <summary>A type that encloses the annotated method: how it is declared, so the generated partial matches it.</summary>
/// <param name="Keyword">"class", "struct", "record", "record struct" or "interface".</param>
/// <param name="Name">The name with its type parameter list, e.g. <c>Layers</c> or <c>Net&lt;T&gt;</c>.</param>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>
/// One [PoolKernel] method whose body the generator writes: where it lives, how it is declared and the configuration it
/// implements, or no configuration when the attribute or declaration is invalid (the body then throws, so the build
/// shows the KG error rather than CS8795). Holds no symbols or syntax, only strings and values, so equal inputs give
/// equal models and the pipeline stays cached.
/// </summary>
/// <param name="Signature">Return type, name and parameter list, as the implementation repeats them.</param>
/// <param name="Arguments">The parameter names as the call into the kernel passes them.</param>
/// <param name="Overload">Empty, or the parameter types when the name is overloaded, so each overload has its own file.</param>
/// <param name="Errors">For an invalid method, the IDs of what is wrong (the build reports them), for the exception's message.</param>
internal sealed record PoolKernelMethod(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string Modifiers,
    string Name,
    string Signature,
    string Arguments,
    string Overload,
    KernelConfiguration? Configuration,
    string Errors)
{
    /// <summary>A file name unique to this method: namespace, enclosing types, method and, for overloads, parameter types.</summary>
    public string HintName
    {
        get
        {
            var name = new System.Text.StringBuilder();
            if (Namespace is not null) name.Append(Namespace).Append('.');
            foreach (var type in ContainingTypes)
                name.Append(type.Name.Replace('<', '{').Replace('>', '}').Replace(", ", ",")).Append('.');
            return name.Append(Name).Append(Overload).Append(".PoolKernel.g.cs").ToString();
        }
    }
}

/// <summary>Where a diagnostic points, as values (a <see cref="Location"/> would keep its syntax tree in the model).</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location location) =>
        location.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}

/// <summary>A diagnostic the generator reports itself, for a method it cannot write a body for; value-equatable.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None, System.Linq.Enumerable.ToArray<object>(Arguments));
}

/// <summary>What the parser makes of one [PoolKernel] method: a body to write, or the diagnostics that explain why not.</summary>
internal sealed record ParsedMethod(PoolKernelMethod? Method, EquatableArray<DiagnosticInfo> Diagnostics);
