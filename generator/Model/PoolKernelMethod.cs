using KernelGen.Generator.Helpers;

namespace KernelGen.Generator.Model;

/// <summary>A type that encloses the annotated method: how it is declared, so the generated partial matches it.</summary>
/// <param name="Keyword">"class", "struct", "record", "record struct" or "interface".</param>
/// <param name="Name">The name with its type parameter list, e.g. <c>Layers</c> or <c>Net&lt;T&gt;</c>.</param>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>
/// One valid [PoolKernel] method: where it lives, how it is declared and the configuration it implements. Holds no
/// symbols or syntax, only strings and values, so equal inputs give equal models and the pipeline stays cached.
/// </summary>
internal sealed record PoolKernelMethod(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string Modifiers,
    string Name,
    string InputName,
    string OutputName,
    string ShapeName,
    bool ShapeIsIn,
    KernelConfiguration Configuration)
{
    /// <summary>A file name unique to this method: namespace, enclosing types and method.</summary>
    public string HintName
    {
        get
        {
            var name = new System.Text.StringBuilder();
            if (Namespace is not null) name.Append(Namespace).Append('.');
            foreach (var type in ContainingTypes)
                name.Append(type.Name.Replace('<', '{').Replace('>', '}').Replace(", ", ",")).Append('.');
            return name.Append(Name).Append(".PoolKernel.g.cs").ToString();
        }
    }
}
