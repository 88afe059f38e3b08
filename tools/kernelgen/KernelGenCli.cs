using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace KernelGen.Tool;

/// <summary>The command line: <c>kernelgen scan|verify|specialize [model.onnx]</c>.</summary>
public static class KernelGenCli
{
    /// <summary>Runs the tool with <paramref name="args"/>, writing results to <paramref name="output"/> and messages to <paramref name="error"/>.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var modelArgument = new Argument<string?>("model")
        {
            Description = "The .onnx model (default: ResNet-18 from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var jsonOption = new Option<bool>("--json") { Description = "Print JSON on standard output instead of a table" };
        var dimOption = new Option<string[]>("--dim") { Description = "The size of a symbolic input dimension, name=size (repeatable); a leading one defaults to 1", AllowMultipleArgumentsPerToken = true };
        var seedOption = new Option<int>("--seed") { Description = "Seed of the deterministic model input (uniform in [-1, 1))", DefaultValueFactory = _ => 1 };
        var newerOption = new Option<bool>("--allow-newer-opset") { Description = $"Read a model whose ai.onnx opset is newer than {OnnxModelFile.NewestKnownOpset}" };
        var runOption = new Option<bool>("--run") { Description = "Take the input shapes from a run in ONNX Runtime even where the model declares them" };
        var secondsOption = new Option<double>("--seconds") { Description = "Time spent timing each side of each layer", DefaultValueFactory = _ => 0.2 };
        var outputOption = new Option<string?>("--output", "-o") { Description = "The C# file to write (default: standard output)" };
        var namespaceOption = new Option<string>("--namespace") { Description = "The namespace of the generated class", DefaultValueFactory = _ => "KernelGenLayers" };
        var classOption = new Option<string?>("--class") { Description = "The generated class's name (default: the model's file name + Layers)" };
        var profileOption = new Option<string?>("--profile")
        {
            Description = "Also write a KernelGen pooling profile of the layers (docs/profile-format.md), measured on their input shapes: "
                + "list it as <KernelGenProfile Include=\"...\" /> and the build specializes the layers the general engine ran",
        };

        var scan = new Command("scan", "List the model's pooling layers, their PoolDescriptor and whether KernelGen runs them specialized, on the general engine, or not at all")
            { modelArgument, jsonOption, runOption, dimOption, seedOption, newerOption };
        var verify = new Command("verify", "Run the model in ONNX Runtime, run every pooling layer through KernelGen on its real input, compare and time both (one thread)")
            { modelArgument, jsonOption, secondsOption, dimOption, seedOption, newerOption };
        var specialize = new Command("specialize", "Write the [PoolKernel] declarations (or the closest correct calls) for the model's pooling layers")
            { modelArgument, outputOption, namespaceOption, classOption, profileOption, runOption, dimOption, seedOption, newerOption };
        var root = new RootCommand("kernelgen: KernelGen for an ONNX model's pooling layers") { scan, verify, specialize };

        Options Read(ParseResult parsed, bool json) => new(
            parsed.GetValue(modelArgument), json, ParseDims(parsed.GetValue(dimOption) ?? []), parsed.GetValue(seedOption), parsed.GetValue(newerOption), output, error);
        scan.SetAction(parsed => Guarded(error, () => Scan(Read(parsed, parsed.GetValue(jsonOption)), parsed.GetValue(runOption))));
        verify.SetAction(parsed => Guarded(error, () => Verify(Read(parsed, parsed.GetValue(jsonOption)), parsed.GetValue(secondsOption))));
        specialize.SetAction(parsed => Guarded(error, () => Specialize(Read(parsed, false), parsed.GetValue(runOption),
            parsed.GetValue(outputOption), parsed.GetValue(namespaceOption)!, parsed.GetValue(classOption), parsed.GetValue(profileOption))));

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var parseError in result.Errors) error.WriteLine($"kernelgen: {parseError.Message}");
            error.WriteLine("Usage: kernelgen scan|verify|specialize [model.onnx] [options]; kernelgen --help");
            return (int)ExitCode.Usage;
        }
        return result.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    private sealed record Options(string? Model, bool Json, IReadOnlyDictionary<string, long> Dims, int Seed, bool AllowNewerOpset, TextWriter Output, TextWriter Error)
    {
        public Progress Progress { get; } = new(Error);

        public OnnxModelFile Load()
        {
            string path = Model ?? DefaultModel.Path();
            Progress.Step($"reading {path}");
            return OnnxModelFile.Load(path, AllowNewerOpset);
        }

        public IAnsiConsole Console()
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Output), Ansi = AnsiSupport.Detect, ColorSystem = ColorSystemSupport.Detect });
            if (!console.Profile.Capabilities.Interactive) console.Profile.Width = Math.Max(console.Profile.Width, 200); // a log or CI: no terminal to wrap to
            return console;
        }
    }

    private static int Guarded(TextWriter error, Func<ExitCode> action)
    {
        try
        {
            return (int)action();
        }
        catch (ToolException e)
        {
            error.WriteLine($"kernelgen: error: {e.Message}");
            return (int)e.Code;
        }
    }

    private static Dictionary<string, long> ParseDims(string[] values)
    {
        var dims = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals < 1 || !long.TryParse(value.AsSpan(equals + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long size) || size < 1)
                throw new ToolException(ExitCode.Usage, $"--dim '{value}' is not name=size with a size of at least 1.");
            dims[value[..equals]] = size;
        }
        return dims;
    }

    // -----------------------------------------------------------------------------------------------------------------

    private static ExitCode Scan(Options options, bool run)
    {
        var model = options.Load();
        var layers = ModelLayers.Read(model, run, options.Dims, options.Seed, options.Progress);
        if (options.Json)
        {
            WriteJson(options.Output, new
            {
                model = model.Path, opset = model.Opset,
                layers = layers.Layers.Select(l => new
                {
                    node = l.Node.Name, op = l.Node.OpType, attributes = l.Node.AttributeText, input = l.Input?.ToString(), element = l.Input is null ? null : OnnxModelFile.ElementTypeName(l.Input.ElementType),
                    shapeSource = l.ShapeSource, descriptor = l.Descriptor?.ToString(), path = PathName(l.Path), kernel = l.Kernel, reason = l.Reason,
                    attribute = l.Attribute, symmetricForm = l.Symmetric?.Code, symmetricKernel = l.Symmetric?.Kernel ?? l.Symmetric?.Attribute,
                    symmetricFormAppliesToInput = l.Symmetric?.AppliesToInput,
                }),
            });
            return ExitCode.Success;
        }
        var console = options.Console();
        console.MarkupLine($"[bold]{Markup.Escape(Path.GetFileName(model.Path))}[/]: ai.onnx opset {model.Opset}, {model.Model.Graph.Node.Count} nodes, {layers.Layers.Count} pooling layers");
        var table = new Table().AddColumns("node", "op", "attributes", "input", "descriptor (PoolDescriptor.FromOnnx)", "KernelGen", "why / what would specialize it");
        foreach (var layer in layers.Layers)
            table.AddRow(Cells(layer.Node.Name, layer.Node.OpType, layer.Node.AttributeText,
                layer.Input is null ? "unknown" : $"{layer.Input} ({layer.ShapeSource})",
                layer.Descriptor?.ToString() ?? "-", layer.Path is LayerPath.Specialized or LayerPath.Global ? $"{PathName(layer.Path)}: {layer.Kernel}" : PathName(layer.Path), Advice(layer)));
        console.Write(table);
        return ExitCode.Success;
    }

    private static string Advice(LayerPlan layer)
    {
        var parts = new List<string>();
        if (layer.Reason != null) parts.Add(layer.Reason);
        if (layer.Attribute != null) parts.Add($"{layer.Attribute} specializes it (kernelgen specialize writes the method)");
        if (layer.SymmetricNote() is { } note) parts.Add(note);
        return string.Join("; ", parts);
    }

    private static ExitCode Verify(Options options, double seconds)
    {
        if (seconds is not (> 0 and < 3600))
            throw new ToolException(ExitCode.Usage, $"--seconds {seconds.ToString(CultureInfo.InvariantCulture)} must be above 0 and below 3600.");
        var model = options.Load();
        var layers = ModelLayers.Read(model, run: true, options.Dims, options.Seed, options.Progress);
        var rows = Verifier.Verify(layers, seconds, options.Progress);
        bool mismatch = rows.Any(r => r.Comparison.Agreement == Agreement.Mismatch);
        if (options.Json)
        {
            WriteJson(options.Output, new
            {
                model = model.Path, opset = model.Opset, seed = options.Seed, threads = 1, agree = !mismatch,
                layers = rows.Select(r => new
                {
                    node = r.Plan.Node.Name, op = r.Plan.Node.OpType, attributes = r.Plan.Node.AttributeText, input = r.Input, output = r.Output,
                    route = r.Route, kernel = r.Kernel, agreement = r.Comparison.Agreement.ToString(), cells = r.Comparison.Cells, mismatches = r.Comparison.Mismatches,
                    maxAbsoluteError = Finite(r.Comparison.MaxAbsoluteError), maxRelativeError = Finite(r.Comparison.MaxRelativeError), detail = r.Comparison.Detail,
                    ortMicroseconds = r.OrtMicroseconds, kernelGenMicroseconds = r.KernelGenMicroseconds, speedup = r.Speedup, note = r.Note,
                }),
            });
        }
        else
        {
            var console = options.Console();
            console.MarkupLine($"[bold]{Markup.Escape(Path.GetFileName(model.Path))}[/]: {layers.Layers.Count} pooling layers, each on its real input (seed {options.Seed}), one thread, median of one call");
            var table = new Table().AddColumns("node", "op", "input -> output", "KernelGen", "agreement with ONNX Runtime", "ORT µs", "KernelGen µs", "ORT / KernelGen");
            foreach (var row in rows)
                table.AddRow(Cells(row.Plan.Node.Name, row.Plan.Node.OpType, $"{row.Input} -> {row.Output}",
                    row.Route is "general engine" or "cannot run" ? row.Route : $"{row.Route}: {row.Kernel}",
                    $"{AgreementName(row.Comparison.Agreement)}: {row.Comparison.Detail}", Micro(row.OrtMicroseconds), Micro(row.KernelGenMicroseconds),
                    row.Speedup is { } s ? s.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-"));
            console.Write(table);
            foreach (var row in rows.Where(r => r.Note != null))
                console.WriteLine($"{row.Plan.Node.Name}, {row.Route}: {row.Note}");
            console.MarkupLine(mismatch ? "[red]MISMATCH[/]: KernelGen and ONNX Runtime disagree (exit code 1)" : "[green]agree[/]: every layer KernelGen runs gives ONNX Runtime's results");
        }
        return mismatch ? ExitCode.Mismatch : ExitCode.Success;
    }

    private static ExitCode Specialize(Options options, bool run, string? outputPath, string namespaceName, string? className, string? profilePath)
    {
        if (profilePath is { Length: 0 })
            throw new ToolException(ExitCode.Usage, "--profile needs a file path.");
        var model = options.Load();
        className ??= DefaultClassName(model.Path);
        if (!System.Text.RegularExpressions.Regex.IsMatch(className, "^[A-Za-z_][A-Za-z0-9_]*$"))
            throw new ToolException(ExitCode.Usage, $"--class '{className}' is not a C# identifier.");
        if (!System.Text.RegularExpressions.Regex.IsMatch(namespaceName, @"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"))
            throw new ToolException(ExitCode.Usage, $"--namespace '{namespaceName}' is not a C# namespace.");
        var layers = ModelLayers.Read(model, run, options.Dims, options.Seed, options.Progress);
        string source = Specializer.Write(layers, namespaceName, className);
        if (profilePath is not null)
        {
            options.Progress.Step("running each layer through Pooling.Run under the monitor for the profile");
            int measured = WriteOutput(profilePath, path => ProfileWriter.Write(layers, path, options.Seed));
            options.Error.WriteLine($"wrote {profilePath}: {measured} of {layers.Layers.Count} layers measured (global, with-indices and unsized layers are left out)");
        }
        if (outputPath is null)
        {
            options.Output.Write(source);
            return ExitCode.Success;
        }
        WriteOutput(outputPath, path => { File.WriteAllText(path, source); return 0; });
        options.Error.WriteLine($"wrote {outputPath}: {layers.Layers.Count} layers of {Path.GetFileName(model.Path)} in {namespaceName}.{className}");
        return ExitCode.Success;
    }

    /// <summary>Runs <paramref name="write"/> on <paramref name="path"/>, an I/O failure becoming the tool's OutputFailed error.</summary>
    private static int WriteOutput(string path, Func<string, int> write)
    {
        try
        {
            return write(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ToolException(ExitCode.OutputFailed, $"Cannot write '{path}': {e.Message}", e);
        }
    }

    private static string DefaultClassName(string path)
    {
        var parts = System.Text.RegularExpressions.Regex.Split(Path.GetFileNameWithoutExtension(path), "[^A-Za-z0-9]+").Where(p => p.Length > 0);
        string name = string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p[1..])) + "Layers";
        return char.IsAsciiLetter(name[0]) ? name : "Model" + name;
    }

    // -----------------------------------------------------------------------------------------------------------------

    private static string PathName(LayerPath path) => path switch
    {
        LayerPath.Specialized => "specialized",
        LayerPath.General => "general engine",
        LayerPath.Global => "global",
        _ => "cannot run",
    };

    private static string AgreementName(Agreement agreement) => agreement switch
    {
        Agreement.Exact => "exact",
        Agreement.WithinTolerance => "within 1e-5",
        Agreement.OrtDeparture => "agrees except documented ORT departures",
        Agreement.Mismatch => "MISMATCH",
        _ => "not compared",
    };

    private static string Micro(double? value) => value is { } v ? v.ToString(v < 100 ? "0.0" : "0", CultureInfo.InvariantCulture) : "-";

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static Spectre.Console.Rendering.IRenderable[] Cells(params string[] cells) => cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c)).ToArray();

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static void WriteJson(TextWriter output, object value) => output.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
}

/// <summary>Where the default model, ResNet-18 from the NuGet package, lies.</summary>
internal static class DefaultModel
{
    private const string PackageRelativePath = "microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>The path restore put it at when the tool was built, else the NuGet packages folder of this machine.</summary>
    public static string Path()
    {
        var candidates = new List<string>();
        if (typeof(DefaultModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "KernelGen.DefaultModel")?.Value is { Length: > 0 } built)
            candidates.Add(built);
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        candidates.Add(System.IO.Path.Combine(packages, PackageRelativePath));
        return candidates.FirstOrDefault(File.Exists) ?? throw new ToolException(ExitCode.FileNotFound,
            $"No model was given and the default one (ResNet-18, NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0) is not at {string.Join(" or ", candidates)}. "
            + "Pass a model path, or restore the package (building tools/kernelgen does).");
    }
}
