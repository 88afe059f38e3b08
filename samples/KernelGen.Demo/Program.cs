using System;
using System.CommandLine;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using KernelGen;
using KernelGen.Demo;
using KernelGen.Monitoring;
using Spectre.Console;

// The README's main command: the pooling layers of the bench's networks (and three the built-in kernels do not cover)
// through Pooling.Run for a few seconds, with PoolingMonitor watching; then the monitor's table, its advice and a chart.
var secondsOption = new Option<double>("--seconds") { Description = "How long to run the layers", DefaultValueFactory = _ => 3 };
secondsOption.Validators.Add(result =>
{
    if (result.GetValueOrDefault<double>() is not (> 0 and < 86400)) result.AddError("--seconds must be above 0.");
});
var threadsOption = new Option<int>("--threads") { Description = "How many threads call Pooling.Run at once (each call on its thread)", DefaultValueFactory = _ => 1 };
threadsOption.Validators.Add(result =>
{
    if (result.GetValueOrDefault<int>() is < 1 or > 256) result.AddError("--threads must be between 1 and 256.");
});
var jsonOption = new Option<bool>("--json") { Description = "Print the monitor's snapshot as JSON on standard output (the rest goes to standard error)" };
var watchOption = new Option<bool>("--watch") { Description = "Keep running until Ctrl+C, for dotnet-counters to attach; prints the process id and the command" };
var profileOption = new Option<string?>("--profile") { Description = "Save what the monitor saw as a profile (JSON) for <KernelGenProfile Include=\"...\" />: the next build specializes the hot configurations the general engine served" };
var root = new RootCommand("KernelGen demo: runs pooling layers through Pooling.Run, checks them against the general engine, and shows what PoolingMonitor saw.")
{
    secondsOption, threadsOption, jsonOption, watchOption, profileOption,
};
root.SetAction(parsed => DemoRun.Run(parsed.GetValue(secondsOption), parsed.GetValue(threadsOption), parsed.GetValue(jsonOption), parsed.GetValue(watchOption), parsed.GetValue(profileOption)));

var parseResult = root.Parse(args);
if (parseResult.Errors.Count > 0)
{
    foreach (var error in parseResult.Errors)
        Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine("Usage: dotnet run -c Release --project samples/KernelGen.Demo -- [--seconds N] [--threads N] [--json] [--watch] [--profile out.json] [--help]");
    return 2;
}
return parseResult.Invoke();

static partial class Layers
{
    /// <summary>ResNet's stem pooling as an application declares it; the generator writes the body and registers the kernel.</summary>
    [PoolKernel(3, 2, PoolMode.Max, Padding = 1)]
    public static partial void StemPool(ReadOnlySpan<float> input, Span<float> output, PoolShape shape);
}
