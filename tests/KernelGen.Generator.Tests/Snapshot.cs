using System;
using System.IO;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Xunit.Sdk;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Compares generated text with a committed <c>Snapshots/&lt;name&gt;.verified.cs</c>. On a mismatch it writes
/// <c>&lt;name&gt;.received.cs</c> next to it and fails with a line diff; <c>KERNELGEN_ACCEPT=1 dotnet test</c> turns every
/// received text into the verified one.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "KERNELGEN_ACCEPT";

    private const int ContextLines = 3;
    private const int MaxDiffLines = 120;

    public static string Directory => Path.Combine(GeneratorHarness.ProjectDirectory, "Snapshots");

    private static bool Accepting => Environment.GetEnvironmentVariable(AcceptVariable) == "1";

    /// <param name="name">The snapshot's path under Snapshots/ without extension, e.g. <c>BuiltIn/MaxPool_K2x2_S2_F32_Nchw</c>.</param>
    /// <param name="actual">The generated text.</param>
    public static void Verify(string name, string actual)
    {
        actual = Normalize(actual);
        string verifiedPath = Path.Combine(Directory, name + ".verified.cs");
        string receivedPath = Path.Combine(Directory, name + ".received.cs");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(verifiedPath)!);

        if (Accepting)
        {
            if (!File.Exists(verifiedPath) || Normalize(File.ReadAllText(verifiedPath)) != actual)
                File.WriteAllText(verifiedPath, actual);
            File.Delete(receivedPath);
            return;
        }

        string? verified = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;
        if (verified == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        var message = new StringBuilder();
        if (verified is null)
            message.AppendLine($"No snapshot {Relative(verifiedPath)} yet. The generated text is in {Relative(receivedPath)}.");
        else
            message.AppendLine($"{Relative(verifiedPath)} differs from the generated text ({Relative(receivedPath)}):").Append(Diff(verified, actual));
        message.AppendLine()
               .AppendLine("If the change is intended, review the received file and accept every snapshot with:")
               .AppendLine($"  {AcceptVariable}=1 dotnet test tests/KernelGen.Generator.Tests -c Release");
        throw new XunitException(message.ToString());
    }

    /// <summary>A unified-style diff of the changed lines with a few lines of context, numbered as in the new text.</summary>
    internal static string Diff(string verified, string received)
    {
        var lines = InlineDiffBuilder.Diff(verified, received, ignoreWhiteSpace: false).Lines;
        var keep = new bool[lines.Count];
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines[i].Type is ChangeType.Unchanged) continue;
            for (int j = Math.Max(0, i - ContextLines); j <= Math.Min(lines.Count - 1, i + ContextLines); j++)
                keep[j] = true;
        }

        var text = new StringBuilder();
        int written = 0;
        bool skipped = false;
        for (int i = 0; i < lines.Count && written < MaxDiffLines; i++)
        {
            if (!keep[i])
            {
                skipped = true;
                continue;
            }
            if (skipped) text.AppendLine("  ...");
            skipped = false;
            var line = lines[i];
            string marker = line.Type switch { ChangeType.Inserted => "+", ChangeType.Deleted => "-", _ => " " };
            string number = line.Position is int position ? position.ToString().PadLeft(5) : "     ";
            text.AppendLine($"{marker}{number} | {line.Text}");
            written++;
        }
        if (written == MaxDiffLines) text.AppendLine("  ... (diff truncated; compare the files for the rest)");
        return text.ToString();
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    private static string Relative(string path) => Path.GetRelativePath(GeneratorHarness.RepositoryRoot, path);
}
