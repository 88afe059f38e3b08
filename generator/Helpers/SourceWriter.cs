using System;
using System.Text;

namespace KernelGen.Generator.Helpers;

/// <summary>
/// Writes indented C# text. <see cref="Block"/> opens a brace and returns a scope whose disposal closes it, so the
/// shape of the emitter code follows the shape of the generated code.
/// </summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            for (int i = 0; i < _indent; i++) _text.Append(IndentUnit);
            _text.Append(line);
        }
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes each line of a multi-line string at the current indentation.</summary>
    public SourceWriter Lines(string lines)
    {
        foreach (var line in lines.Replace("\r\n", "\n").TrimEnd('\n').Split('\n'))
            Line(line);
        return this;
    }

    /// <summary>Writes <paramref name="header"/> (if any) and an opening brace; disposing the scope closes it.</summary>
    public Scope Block(string header)
    {
        if (header.Length > 0) Line(header);
        Line("{");
        _indent++;
        return new Scope(this, "}");
    }

    /// <summary>Indents the following lines without braces (for an embedded statement).</summary>
    public Scope Indent()
    {
        _indent++;
        return new Scope(this, null);
    }

    public override string ToString() => _text.ToString();

    internal readonly struct Scope : IDisposable
    {
        private readonly SourceWriter _writer;
        private readonly string? _closing;

        public Scope(SourceWriter writer, string? closing)
        {
            _writer = writer;
            _closing = closing;
        }

        public void Dispose()
        {
            _writer._indent--;
            if (_closing is not null) _writer.Line(_closing);
        }
    }
}
