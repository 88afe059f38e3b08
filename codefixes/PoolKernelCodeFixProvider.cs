using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Simplification;

namespace KernelGen.CodeFixes;

/// <summary>
/// Fixes KG0012 the way the Regex generator's SYSLIB1045 fix does: declares a <c>static partial</c> method with the
/// <c>[PoolKernel]</c> attribute for the call's configuration in the calling type (made <c>partial</c>, with its
/// enclosing types, where it is not), or in a new <c>PoolKernels</c> class for top-level statements, and rewrites
/// <c>Pooling.Run(descriptor, input, output, shape)</c> into a call of that method.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(PoolKernelCodeFixProvider)), Shared]
public sealed class PoolKernelCodeFixProvider : CodeFixProvider
{
    // KG0012 and its property keys, as the generator's ConstantDescriptorAnalyzer writes them (the two assemblies do not
    // reference each other: each loads on its own in the compiler or the IDE).
    private const string DiagnosticId = "KG0012";
    private const string AttributeProperty = "Attribute", MethodNameProperty = "MethodName", ElementProperty = "Element";

    /// <summary>The class the fix creates when the call is in top-level statements.</summary>
    internal const string TopLevelClassName = "PoolKernels";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticId);

    // Each fix adds a member and may add 'partial' to shared types; fixes of several calls would edit the same nodes.
    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true)?.FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { } call ||
                !diagnostic.Properties.TryGetValue(AttributeProperty, out var attribute) || attribute is null ||
                !diagnostic.Properties.TryGetValue(MethodNameProperty, out var name) || name is null ||
                !diagnostic.Properties.TryGetValue(ElementProperty, out var element) || element is not ("float" or "double"))
                continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Use a [PoolKernel] method ({name})",
                    cancellationToken => UsePoolKernelMethodAsync(context.Document, call, attribute, name, element, cancellationToken),
                    equivalenceKey: nameof(PoolKernelCodeFixProvider)),
                diagnostic);
        }
    }

    private static async Task<Document> UsePoolKernelMethodAsync(Document document, InvocationExpressionSyntax call, string attribute,
        string name, string element, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (model?.GetOperation(call, cancellationToken) is not IInvocationOperation operation) return document;
        ExpressionSyntax? Argument(string parameter) =>
            operation.Arguments.FirstOrDefault(a => a.Parameter?.Name == parameter)?.Syntax is ArgumentSyntax argument ? argument.Expression : null;
        if (Argument("input") is not { } input || Argument("output") is not { } output || Argument("shape") is not { } shape) return document;

        var editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        // The file's own line ending, for the blank line before what the fix adds.
        var newLine = editor.OriginalRoot.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { } found && found.Span.Length > 0
            ? found : SyntaxFactory.EndOfLine("\n");
        var type = call.Ancestors().OfType<TypeDeclarationSyntax>().FirstOrDefault(t => t is ClassDeclarationSyntax or StructDeclarationSyntax or RecordDeclarationSyntax);
        var arguments = SyntaxFactory.ArgumentList(SyntaxFactory.SeparatedList(new[] { input, output, shape }.Select(e => SyntaxFactory.Argument(e.WithoutTrivia()))));

        if (type is not null)
        {
            var symbol = model.GetDeclaredSymbol(type, cancellationToken);
            string method = FreeName(symbol, name, attribute, out bool exists);
            editor.ReplaceNode(call, SyntaxFactory.InvocationExpression(SyntaxFactory.IdentifierName(method), arguments).WithTriviaFrom(call));
            if (!exists)
                editor.AddMember(type, Declaration(attribute, method, element).WithLeadingTrivia(newLine));
            foreach (var enclosing in call.Ancestors().OfType<TypeDeclarationSyntax>())
            {
                if (!enclosing.Modifiers.Any(SyntaxKind.PartialKeyword))
                    editor.SetModifiers(enclosing, editor.Generator.GetModifiers(enclosing).WithPartial(true));
            }
        }
        else
        {
            // Top-level statements: a class after them in this file (types must follow the statements).
            var target = SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression,
                SyntaxFactory.IdentifierName(TopLevelClassName), SyntaxFactory.IdentifierName(name));
            editor.ReplaceNode(call, SyntaxFactory.InvocationExpression(target, arguments).WithTriviaFrom(call));
            var unit = (CompilationUnitSyntax)editor.OriginalRoot;
            var existing = unit.Members.OfType<ClassDeclarationSyntax>().FirstOrDefault(c => c.Identifier.ValueText == TopLevelClassName);
            var symbol = existing is null ? null : model.GetDeclaredSymbol(existing, cancellationToken);
            FreeName(symbol, name, attribute, out bool exists);
            if (existing is null)
            {
                var holder = (ClassDeclarationSyntax)SyntaxFactory.ParseMemberDeclaration(
                    $"internal static partial class {TopLevelClassName}\n{{\n}}")!;
                var last = unit.Members.Last();
                var blankLine = last.GetTrailingTrivia().Any(SyntaxKind.EndOfLineTrivia) ? new[] { newLine } : new[] { newLine, newLine };
                editor.InsertAfter(last, holder.AddMembers(Declaration(attribute, name, element, "internal"))
                    .WithLeadingTrivia(blankLine).WithAdditionalAnnotations(Formatter.Annotation));
            }
            else if (!exists)
            {
                editor.AddMember(existing, Declaration(attribute, name, element, "internal").WithLeadingTrivia(newLine));
            }
        }
        return editor.GetChangedDocument();
    }

    /// <summary>
    /// <paramref name="name"/>, or the existing [PoolKernel] method of that name with the same attribute (a second call
    /// of the configuration reuses it), or the name with a number when another member has it.
    /// </summary>
    private static string FreeName(INamedTypeSymbol? type, string name, string attribute, out bool exists)
    {
        exists = false;
        if (type is null) return name;
        for (int suffix = 1; ; suffix++)
        {
            string candidate = suffix == 1 ? name : name + suffix;
            var members = type.GetMembers(candidate);
            if (members.IsEmpty) return candidate;
            if (members.OfType<IMethodSymbol>().Any(m => m.GetAttributes().Any(a =>
                    a.AttributeClass?.ToDisplayString() == "KernelGen.PoolKernelAttribute" &&
                    a.ApplicationSyntaxReference?.GetSyntax().ToString() == attribute.Substring(1, attribute.Length - 2))))
            {
                exists = true;
                return candidate;
            }
        }
    }

    /// <summary>The [PoolKernel] declaration (private in the calling type, internal in PoolKernels), fully qualified and marked for the simplifier, so it reads as the file's usings allow.</summary>
    private static MemberDeclarationSyntax Declaration(string attribute, string name, string element, string access = "private")
    {
        string qualified = attribute
            .Replace("[PoolKernel(", "[global::KernelGen.PoolKernel(")
            .Replace("PoolMode.", "global::KernelGen.PoolMode.")
            .Replace("PoolLayout.", "global::KernelGen.PoolLayout.");
        var declaration = SyntaxFactory.ParseMemberDeclaration(
            $"{qualified}\n{access} static partial void {name}(global::System.ReadOnlySpan<{element}> input, global::System.Span<{element}> output, global::KernelGen.PoolShape shape);\n")!;
        return declaration.WithAdditionalAnnotations(Simplifier.Annotation, Formatter.Annotation);
    }
}
