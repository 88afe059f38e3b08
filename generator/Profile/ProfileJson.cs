using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generator.Profile;

internal enum JsonKind { Object, Array, String, Number, True, False, Null }

/// <summary>One JSON value and where it starts in the file, so a diagnostic can point at the entry or field that is wrong.</summary>
internal sealed class JsonValue(JsonKind kind, int start, LinePosition position)
{
    public JsonKind Kind { get; } = kind;

    /// <summary>Offset of the value's first character.</summary>
    public int Start { get; } = start;

    /// <summary>Line and character (both from 0) of the value's first character.</summary>
    public LinePosition Position { get; } = position;

    /// <summary>Offset just after the value, and its line and character.</summary>
    public int End { get; set; }

    public LinePosition EndPosition { get; set; }

    /// <summary>An object's members in file order (a repeated name keeps its last value, as System.Text.Json does).</summary>
    public Dictionary<string, JsonValue> Members { get; } = new(StringComparer.Ordinal);

    public List<JsonValue> Items { get; } = [];

    /// <summary>A string's value, or a number's text.</summary>
    public string Text { get; set; } = "";

    public JsonValue? Member(string name) => Members.TryGetValue(name, out var value) ? value : null;
}

/// <summary>Thrown by <see cref="ProfileJson.Parse"/> for text that is not JSON, with where it stopped.</summary>
internal sealed class JsonSyntaxException(string message, int offset, LinePosition position) : Exception(message)
{
    public int Offset { get; } = offset;

    public LinePosition Position { get; } = position;
}

/// <summary>
/// A small JSON reader for the profile (RFC 8259, no extensions) that keeps each value's line. The generator runs in
/// the compiler's process and must not bring System.Text.Json along (an analyzer's dependencies load unreliably).
/// </summary>
internal sealed class ProfileJson
{
    private const int MaxDepth = 64;
    private readonly string _text;
    private int _offset, _line, _lineStart;

    private ProfileJson(string text) => _text = text;

    public static JsonValue Parse(string text)
    {
        var reader = new ProfileJson(text);
        if (text.Length > 0 && text[0] == '\uFEFF') reader._offset = 1;
        var value = reader.ReadValue(0);
        reader.SkipWhitespace();
        if (reader._offset < text.Length) throw reader.Error("unexpected text after the JSON value");
        return value;
    }

    private LinePosition Position => new(_line, _offset - _lineStart);

    private JsonSyntaxException Error(string message) => new(message, _offset, Position);

    private void SkipWhitespace()
    {
        while (_offset < _text.Length)
        {
            char c = _text[_offset];
            if (c == '\n') { _line++; _lineStart = _offset + 1; }
            else if (c is not (' ' or '\t' or '\r')) return;
            _offset++;
        }
    }

    private JsonValue ReadValue(int depth)
    {
        if (depth > MaxDepth) throw Error($"the JSON nests deeper than {MaxDepth} levels");
        SkipWhitespace();
        if (_offset >= _text.Length) throw Error("the JSON ends where a value was expected");
        char c = _text[_offset];
        var value = c switch
        {
            '{' => ReadObject(depth),
            '[' => ReadArray(depth),
            '"' => ReadStringValue(),
            't' => ReadLiteral("true", JsonKind.True),
            'f' => ReadLiteral("false", JsonKind.False),
            'n' => ReadLiteral("null", JsonKind.Null),
            _ when c == '-' || (c >= '0' && c <= '9') => ReadNumber(),
            _ => throw Error($"unexpected character '{c}'"),
        };
        value.End = _offset;
        value.EndPosition = Position;
        return value;
    }

    private JsonValue ReadObject(int depth)
    {
        var value = new JsonValue(JsonKind.Object, _offset, Position);
        _offset++;
        SkipWhitespace();
        if (Peek() == '}') { _offset++; return value; }
        while (true)
        {
            SkipWhitespace();
            if (Peek() != '"') throw Error("expected a property name in double quotes");
            string name = ReadString();
            SkipWhitespace();
            Expect(':');
            value.Members[name] = ReadValue(depth + 1);
            SkipWhitespace();
            if (Peek() == ',') { _offset++; continue; }
            Expect('}');
            return value;
        }
    }

    private JsonValue ReadArray(int depth)
    {
        var value = new JsonValue(JsonKind.Array, _offset, Position);
        _offset++;
        SkipWhitespace();
        if (Peek() == ']') { _offset++; return value; }
        while (true)
        {
            value.Items.Add(ReadValue(depth + 1));
            SkipWhitespace();
            if (Peek() == ',') { _offset++; continue; }
            Expect(']');
            return value;
        }
    }

    private JsonValue ReadStringValue()
    {
        var value = new JsonValue(JsonKind.String, _offset, Position);
        value.Text = ReadString();
        return value;
    }

    private string ReadString()
    {
        _offset++; // the opening quote
        var text = new StringBuilder();
        while (true)
        {
            if (_offset >= _text.Length) throw Error("a string is not closed");
            char c = _text[_offset++];
            if (c == '"') return text.ToString();
            if (c < ' ') { _offset--; throw Error("a string holds a control character (a line break?)"); }
            if (c != '\\') { text.Append(c); continue; }
            if (_offset >= _text.Length) throw Error("a string is not closed");
            char escape = _text[_offset++];
            switch (escape)
            {
                case '"' or '\\' or '/': text.Append(escape); break;
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'n': text.Append('\n'); break;
                case 'r': text.Append('\r'); break;
                case 't': text.Append('\t'); break;
                case 'u' when _offset + 4 <= _text.Length &&
                              int.TryParse(_text.Substring(_offset, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code):
                    text.Append((char)code);
                    _offset += 4;
                    break;
                default:
                    _offset--;
                    throw Error($"'\\{escape}' is not a JSON escape");
            }
        }
    }

    private JsonValue ReadNumber()
    {
        var value = new JsonValue(JsonKind.Number, _offset, Position);
        int start = _offset;
        while (_offset < _text.Length && (char.IsDigit(_text[_offset]) || _text[_offset] is '-' or '+' or '.' or 'e' or 'E'))
            _offset++;
        value.Text = _text.Substring(start, _offset - start);
        if (!double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            throw new JsonSyntaxException($"'{value.Text}' is not a number", start, value.Position);
        return value;
    }

    private JsonValue ReadLiteral(string literal, JsonKind kind)
    {
        var value = new JsonValue(kind, _offset, Position);
        if (string.CompareOrdinal(_text, _offset, literal, 0, literal.Length) != 0)
            throw Error($"unexpected text; expected '{literal}'");
        _offset += literal.Length;
        return value;
    }

    private char Peek() => _offset < _text.Length ? _text[_offset] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c) throw Error(_offset >= _text.Length ? $"the JSON ends where '{c}' was expected" : $"expected '{c}', found '{_text[_offset]}'");
        _offset++;
    }
}
