using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace KernelGen.EndToEnd;

/// <summary>
/// What a user meets on the command line: small projects written to a temporary folder, referencing the runtime and
/// attributes this project was built with and the generator as an analyzer, built with <c>dotnet build</c>. The
/// assertions read the build's own output, so a diagnostic the compiler never shows fails here.
/// </summary>
[Trait("Category", "Build")]
public class UserBuildTests(ITestOutputHelper log)
{
    /// <summary>
    /// A fresh console project (no AllowUnsafeBlocks): README's "Ten lines" and "Specializing your own layer" as written,
    /// float and double overloads and an unspecialized configuration. It builds, warns KG0010 and KG0009, and runs.
    /// </summary>
    [Fact]
    public async Task FreshConsoleProjectBuildsWarnsAndRuns()
    {
        string layers = """
            using KernelGen;

            namespace App;

            public static partial class Layers
            {
                [PoolKernel(2, 2, PoolMode.Max)]
                public static partial void Pool(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); // Pool F32

                [PoolKernel(2, 2, PoolMode.Max)]
                public static partial void Pool(ReadOnlySpan<double> input, Span<double> output, PoolShape shape); // Pool F64

                [PoolKernel(3, 3, PoolMode.Max)]
                public static partial void Slow(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); // Slow
            }
            """;
        string program = ReadmeBlock("Ten lines") + """

            var small = new PoolShape(1, 2, 6, 6);
            float[] single = Enumerable.Range(0, 72).Select(i => (float)i).ToArray();
            double[] wide = single.Select(x => (double)x).ToArray();
            float[] singleOut = new float[18], slowOut = new float[8];
            double[] wideOut = new double[18];
            App.Layers.Pool(single, singleOut, small);
            App.Layers.Pool(wide, wideOut, small);
            App.Layers.Slow(single, slowOut, small);
            Console.WriteLine($"float {singleOut[0]} {singleOut[^1]}, double {wideOut[0]} {wideOut[^1]}, slow {slowOut[0]} {slowOut[^1]}");
            """;
        string readmeLayers = ReadmeBlock("Specializing your own layer");
        using var project = new UserProject("fresh", executable: true, ("Program.cs", program), ("Layers.cs", layers), ("ReadmeLayers.cs", readmeLayers));
        var build = await project.BuildAsync(log);

        Assert.True(build.ExitCode == 0, build.Output);
        Assert.DoesNotContain(build.Diagnostics, d => d.Severity == "error");
        Assert.DoesNotContain("CS0227", build.Output, StringComparison.Ordinal);
        var expected = new[]
        {
            project.At("Layers.cs", "// Pool F32", "Pool", "warning", "KG0010"),
            project.At("Layers.cs", "// Pool F64", "Pool", "warning", "KG0010"),
            project.At("Layers.cs", "// Slow", "Slow", "warning", "KG0009"),
            project.At("ReadmeLayers.cs", "StemPool(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "StemPool", "warning", "KG0010"),
            project.At("ReadmeLayers.cs", "InceptionPool(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);", "InceptionPool", "warning", "KG0010"),
        };
        Assert.Equal(expected.Order(), build.Diagnostics.Select(d => d.Key).Order());
        Assert.Contains(build.Diagnostics, d => d.Id == "KG0010" && d.Message.Contains("<AllowUnsafeBlocks>true</AllowUnsafeBlocks>", StringComparison.Ordinal));
        Assert.Contains(build.Diagnostics, d => d.Id == "KG0009" && d.Message.Contains("would specialize it", StringComparison.Ordinal));

        var run = await project.RunAsync(log);
        Assert.True(run.ExitCode == 0, run.Output);
        // 2x2 windows over 0..71 in two 6x6 planes: the first window's maximum is 7, the last 71; 3x3 stride 3: 14 and 71.
        Assert.Contains("float 7 71, double 7 71, slow 14 71", run.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Invalid attributes and declarations: each KG error on its line and column, and no CS8795 beside it. A type that
    /// is not partial gets KG0008 beside the compiler's CS0751 and CS8795, in a build of its own (any compiler error
    /// stops the build before analyzers run, which would hide the others).
    /// </summary>
    [Fact]
    public async Task InvalidMethodsShowTheirKGErrors()
    {
        string invalid = """
            using KernelGen;

            namespace App;

            public partial class Invalid
            {
                [PoolKernel(0, 2, PoolMode.Max)] public static partial void Window(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); // KG0001
                [PoolKernel(3, 1, PoolMode.Max, Padding = 2)] public static partial void Pad(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); // KG0002
                [PoolKernel(3, 1, PoolMode.Max, DivisorOverride = 3)] public static partial void Option(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); // KG0003
                [PoolKernel(2, 2, PoolMode.Max)] public partial void Instance(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); // KG0004
                [PoolKernel(2, 2, PoolMode.Max)] public static void WithBody(ReadOnlySpan<float> input, Span<float> output, PoolShape shape) { } // KG0004 body
                [PoolKernel(2, 2, PoolMode.Max)] public static partial int Returns(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); // KG0005
                [PoolKernel(2, 2, PoolMode.Max)] public static partial void Parameters(ReadOnlySpan<float> input, Span<float> output); // KG0006
                [PoolKernel(2, 2, PoolMode.Max)] public static partial void Element(ReadOnlySpan<int> input, Span<int> output, PoolShape shape); // KG0007
            }
            """;
        string notPartial = """
            using KernelGen;

            namespace App;

            public static class NotPartial
            {
                [PoolKernel(2, 2, PoolMode.Max)] public static partial void Orphan(ReadOnlySpan<float> input, Span<float> output, PoolShape shape); // KG0008
            }
            """;
        using var invalidProject = new UserProject("invalid", executable: false, ("Invalid.cs", invalid));
        using var notPartialProject = new UserProject("notpartial", executable: false, ("NotPartial.cs", notPartial));
        var builds = await Task.WhenAll(invalidProject.BuildAsync(log), notPartialProject.BuildAsync(log));

        Assert.NotEqual(0, builds[0].ExitCode);
        var expected = new[]
        {
            invalidProject.At("Invalid.cs", "// KG0001", "PoolKernel(", "error", "KG0001"),
            invalidProject.At("Invalid.cs", "// KG0002", "PoolKernel(", "error", "KG0002"),
            invalidProject.At("Invalid.cs", "// KG0003", "PoolKernel(", "error", "KG0003"),
            invalidProject.At("Invalid.cs", "// KG0004", "Instance", "error", "KG0004"),
            invalidProject.At("Invalid.cs", "// KG0004 body", "WithBody", "error", "KG0004"),
            invalidProject.At("Invalid.cs", "// KG0005", "Returns", "error", "KG0005"),
            invalidProject.At("Invalid.cs", "// KG0006", "Parameters", "error", "KG0006"),
            invalidProject.At("Invalid.cs", "// KG0007", "Element", "error", "KG0007"),
        };
        Assert.Equal(expected.Order(), builds[0].Diagnostics.Select(d => d.Key).Order());

        Assert.NotEqual(0, builds[1].ExitCode);
        var orphan = new[]
        {
            notPartialProject.At("NotPartial.cs", "// KG0008", "Orphan", "error", "KG0008"),
            notPartialProject.At("NotPartial.cs", "// KG0008", "Orphan", "error", "CS0751"),
            notPartialProject.At("NotPartial.cs", "// KG0008", "Orphan", "error", "CS8795"),
        };
        Assert.Equal(orphan.Order(), builds[1].Diagnostics.Select(d => d.Key).Order());
    }

    /// <summary>The C# block that directly follows README's heading <paramref name="heading"/>.</summary>
    private static string ReadmeBlock(string heading)
    {
        string readme = File.ReadAllText(Path.Combine(UserProject.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
        var match = Regex.Match(readme, $@"^##+ {Regex.Escape(heading)}\n\s*```csharp\n(?<code>.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline);
        Assert.True(match.Success, $"README.md has no C# block right under '{heading}'");
        return match.Groups["code"].Value;
    }
}

/// <summary>One line of a build's output that reports a diagnostic.</summary>
internal sealed record BuildDiagnostic(string File, int Line, int Column, string Severity, string Id, string Message)
{
    /// <summary>What the tests compare: file, position, severity and ID.</summary>
    public string Key => $"{File}({Line},{Column}): {Severity} {Id}";
}

internal sealed record BuildResult(int ExitCode, string Output, IReadOnlyList<BuildDiagnostic> Diagnostics);

/// <summary>
/// A console project in a temporary folder, as a user writes it: the SDK's defaults, KernelGen's assemblies as
/// references and the generator as an analyzer, and nothing from this repository's build settings.
/// </summary>
internal sealed partial class UserProject : IDisposable
{
    private readonly Dictionary<string, string> _sources;

    public UserProject(string name, bool executable, params (string Path, string Text)[] sources)
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kernelgen-{name}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        _sources = sources.ToDictionary(source => source.Path, source => source.Text.ReplaceLineEndings("\n"));
        _executable = executable;
        WriteProject();
        // Stop MSBuild and NuGet from looking above the folder (a temporary folder may sit inside another checkout);
        // the project restores no package, so no feed is needed.
        Write("Directory.Build.props", "<Project />");
        Write("Directory.Build.targets", "<Project />");
        Write("NuGet.config", "<configuration><packageSources><clear /></packageSources></configuration>");
        foreach (var (path, text) in _sources)
            Write(path, text);
    }

    public string Directory { get; }

    private readonly bool _executable;

    /// <summary>
    /// Writes App.csproj; <paramref name="extra"/> goes inside its Project element (items and properties a user adds,
    /// such as a KernelGenProfile item).
    /// </summary>
    public void WriteProject(string extra = "")
    {
        string output = AppContext.BaseDirectory;
        Write("App.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>{(_executable ? "Exe" : "Library")}</OutputType>
                <TargetFramework>net{Environment.Version.Major}.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <RootNamespace>App</RootNamespace>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="{System.IO.Path.Combine(output, "KernelGen.dll")}" />
                <Reference Include="{System.IO.Path.Combine(output, "KernelGen.Attributes.dll")}" />
                <Analyzer Include="{System.IO.Path.Combine(output, "analyzers", "KernelGen.Generator.dll")}" />
              </ItemGroup>
            {extra}
            </Project>
            """);
    }

    /// <summary>The repository root, found from the test's output directory.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "KernelGen.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException("KernelGen.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// The key of the diagnostic expected on the line of <paramref name="file"/> that contains <paramref name="marker"/>,
    /// at the column where <paramref name="at"/> starts on that line.
    /// </summary>
    public string At(string file, string marker, string at, string severity, string id)
    {
        var lines = _sources[file].Split('\n');
        int index = Array.FindIndex(lines, line => line.EndsWith(marker, StringComparison.Ordinal));
        Assert.True(index >= 0, $"no line of {file} ends with '{marker}'");
        int column = lines[index].IndexOf(at, StringComparison.Ordinal);
        Assert.True(column >= 0, $"'{at}' is not on line {index + 1} of {file}");
        return new BuildDiagnostic(System.IO.Path.Combine(Directory, file), index + 1, column + 1, severity, id, "").Key;
    }

    public async Task<BuildResult> BuildAsync(ITestOutputHelper log, string configuration = "Debug")
    {
        var (exitCode, output) = await DotnetAsync(log, "build", System.IO.Path.Combine(Directory, "App.csproj"), "-c", configuration,
            "--disable-build-servers", "-tl:off", "-v:m", "-clp:NoSummary");
        var diagnostics = output.Split('\n')
            .Select(line => DiagnosticLine().Match(line.TrimEnd('\r')))
            .Where(match => match.Success)
            .Select(match => new BuildDiagnostic(match.Groups["file"].Value, Number(match.Groups["line"].Value), Number(match.Groups["column"].Value),
                match.Groups["severity"].Value, match.Groups["id"].Value, match.Groups["message"].Value))
            .Distinct()
            .ToList();
        return new BuildResult(exitCode, output, diagnostics);
    }

    private static int Number(string text) => text.Length == 0 ? 0 : int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    public async Task<BuildResult> RunAsync(ITestOutputHelper log, string configuration = "Debug", params string[] arguments)
    {
        var (exitCode, output) = await DotnetAsync(log, [System.IO.Path.Combine(Directory, "bin", configuration, $"net{Environment.Version.Major}.0", "App.dll"), .. arguments]);
        return new BuildResult(exitCode, output, []);
    }

    /// <summary>Runs the SDK's <c>dotnet</c> with a clean environment (none of the test run's MSBuild settings) and English messages.</summary>
    private async Task<(int ExitCode, string Output)> DotnetAsync(ITestOutputHelper log, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(key => key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var timeout = new System.Threading.CancellationTokenSource(TimeSpan.FromMinutes(5)))
        {
            try { await process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"dotnet {string.Join(' ', arguments)} took over 5 minutes");
            }
        }
        string output = await stdout + await stderr;
        log.WriteLine($"dotnet {string.Join(' ', arguments)}: exit {process.ExitCode} after {watch.Elapsed.TotalSeconds:F1} s");
        log.WriteLine(output);
        return (process.ExitCode, output);
    }

    /// <summary>
    /// Imports KernelGen's build props and targets (runtime/build) where NuGet imports a package's: the props before the
    /// project file (through Directory.Build.props, as nuget.g.props is), the targets after it.
    /// </summary>
    public void ImportKernelGenBuildFiles()
    {
        string build = System.IO.Path.Combine(RepositoryRoot, "runtime", "build");
        Write("Directory.Build.props", $"<Project><Import Project=\"{System.IO.Path.Combine(build, "KernelGen.props")}\" /></Project>");
        Write("Directory.Build.targets", $"<Project><Import Project=\"{System.IO.Path.Combine(build, "KernelGen.targets")}\" /></Project>");
    }

    private void Write(string path, string text) => File.WriteAllText(System.IO.Path.Combine(Directory, path), text);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { } // a leftover temporary folder is harmless
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>"path(line,col): error|warning ID: message [project]", MSBuild's console format; "CSC : error ..." has no position.</summary>
    [GeneratedRegex(@"^\s*(?<file>[^\s(][^(]*?)(?:\((?<line>\d+),(?<column>\d+)\))? ?: (?<severity>error|warning) (?<id>[A-Z]+[0-9]+): (?<message>.*?)(?: \[[^\]]*\])?$")]
    private static partial Regex DiagnosticLine();
}
