using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The generator's output, file by file, against committed snapshots: the runtime's 20 built-in kernels and a
/// representative set of user configurations. A change to the emitters shows up here as a reviewable diff.
/// </summary>
public class SnapshotTests
{
    private static readonly IReadOnlyList<(string HintName, string Text)> BuiltInFiles =
        GeneratorHarness.GeneratedFiles(GeneratorHarness.Run(GeneratorHarness.Compile(GeneratorHarness.BuiltInKernelsSource)).Result);

    private static readonly IReadOnlyList<(string HintName, string Text)> UserFiles =
        GeneratorHarness.GeneratedFiles(GeneratorHarness.Run(GeneratorHarness.Compile(UserSources.Representative)).Result);

    private static readonly IReadOnlyList<(string HintName, string Text)> AsymmetricFiles =
        GeneratorHarness.GeneratedFiles(GeneratorHarness.Run(GeneratorHarness.Compile(UserSources.Asymmetric)).Result);

    public static IEnumerable<object[]> AsymmetricFileNames() => AsymmetricFiles.Select(file => new object[] { file.HintName });

    public static IEnumerable<object[]> BuiltInFileNames() => BuiltInFiles.Select(file => new object[] { file.HintName });

    public static IEnumerable<object[]> UserFileNames() => UserFiles.Select(file => new object[] { file.HintName });

    [Fact]
    public void BuiltInsGiveOneKernelAndOneMethodFilePerConfiguration()
    {
        // 20 configurations, each in float and double.
        Assert.Equal(40, BuiltInFiles.Count(file => file.HintName.StartsWith("KernelGen.Kernels.BuiltInKernels.", System.StringComparison.Ordinal)));
        Assert.Equal(80, BuiltInFiles.Count);
    }

    [Fact]
    public void MethodsWithTheSameConfigurationShareOneKernel()
    {
        // 10 methods, 9 distinct configurations.
        Assert.Equal(10, UserFiles.Count(file => file.HintName.EndsWith(".PoolKernel.g.cs", System.StringComparison.Ordinal)));
        Assert.Equal(9, UserFiles.Count(file => !file.HintName.EndsWith(".PoolKernel.g.cs", System.StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(BuiltInFileNames))]
    public void BuiltInOutputMatchesSnapshot(string hintName) =>
        Snapshot.Verify("BuiltIn/" + SnapshotName(hintName), BuiltInFiles.Single(file => file.HintName == hintName).Text);

    [Theory]
    [MemberData(nameof(UserFileNames))]
    public void UserOutputMatchesSnapshot(string hintName) =>
        Snapshot.Verify("User/" + SnapshotName(hintName), UserFiles.Single(file => file.HintName == hintName).Text);

    [Theory]
    [MemberData(nameof(AsymmetricFileNames))]
    public void AsymmetricPaddingOutputMatchesSnapshot(string hintName) =>
        Snapshot.Verify("Asymmetric/" + SnapshotName(hintName), AsymmetricFiles.Single(file => file.HintName == hintName).Text);

    [Fact]
    public void NoSnapshotIsLeftOver()
    {
        // A kernel that is no longer generated must not keep a stale snapshot around for reviewers to read.
        var expected = BuiltInFiles.Select(file => "BuiltIn/" + SnapshotName(file.HintName))
            .Concat(UserFiles.Select(file => "User/" + SnapshotName(file.HintName)))
            .Concat(AsymmetricFiles.Select(file => "Asymmetric/" + SnapshotName(file.HintName)))
            .ToHashSet();
        var stale = System.IO.Directory.EnumerateFiles(Snapshot.Directory, "*.verified.cs", System.IO.SearchOption.AllDirectories)
            .Select(path => System.IO.Path.GetRelativePath(Snapshot.Directory, path).Replace('\\', '/'))
            .Select(path => path[..^".verified.cs".Length])
            .Where(name => !expected.Contains(name))
            .ToList();
        Assert.True(stale.Count == 0, "Snapshots no test produces (delete them): " + string.Join(", ", stale));
    }

    private static string SnapshotName(string hintName) => hintName[..^".g.cs".Length];
}
