using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit.Sdk;

namespace KernelGen.Generator.Tests;

/// <summary>
/// User configurations compiled into one in-memory assembly. Kernels that fail to compile are recorded and left out
/// (one bad kernel must not hide the results of the others), and the rest compiled again. The image can be loaded
/// here (<see cref="Load"/>) or written to a file for a child process to load.
/// </summary>
internal sealed class CompiledKernels
{
    private readonly Dictionary<int, Delegate> _kernels = new();
    private readonly HashSet<int> _brokenIndices = new();

    private CompiledKernels(byte[] image) => Image = image;

    /// <summary>The compiled assembly, holding <c>RandomUser.Kernels</c>.</summary>
    public byte[] Image { get; }

    /// <summary>Configurations whose generated code does not compile: configuration to first errors.</summary>
    public Dictionary<string, string> Broken { get; } = new();

    public bool Compiles(UserConfiguration configuration) => !_brokenIndices.Contains(configuration.Index);

    public Delegate Kernel(UserConfiguration configuration)
    {
        if (!Compiles(configuration))
            throw new XunitException($"{configuration} ({configuration.KernelName}) does not compile: {Broken[configuration.ToString()]}");
        return _kernels[configuration.Index];
    }

    private List<UserConfiguration> _included = new();

    /// <summary>Loads the image into this process and binds a delegate to every configuration that compiled.</summary>
    public CompiledKernels Load() => Bind(Assembly.Load(Image), _included);

    /// <summary>Binds the kernel methods of <paramref name="assembly"/> (an image of this class) for <paramref name="configurations"/>.</summary>
    public CompiledKernels Bind(Assembly assembly, IEnumerable<UserConfiguration> configurations)
    {
        var type = assembly.GetType("RandomUser.Kernels", throwOnError: true)!;
        foreach (var configuration in configurations.Where(Compiles))
        {
            var method = type.GetMethod(configuration.MethodName, BindingFlags.Static | BindingFlags.NonPublic)!;
            _kernels[configuration.Index] = configuration.IsDouble
                ? method.CreateDelegate<SpecializedPoolKernel<double>>()
                : method.CreateDelegate<SpecializedPoolKernel<float>>();
        }
        return this;
    }

    /// <summary>An image of this class loaded from a file and bound without compiling (the verification child's side).</summary>
    public static CompiledKernels FromFile(string path, IEnumerable<UserConfiguration> configurations, IEnumerable<int> broken)
    {
        var compiled = new CompiledKernels([]);
        compiled._brokenIndices.UnionWith(broken);
        return compiled.Bind(Assembly.LoadFrom(path), configurations);
    }

    public IEnumerable<int> BrokenIndices => _brokenIndices;

    public static CompiledKernels Build(IReadOnlyList<UserConfiguration> all, string assemblyName)
    {
        var included = all.ToList();
        var broken = new Dictionary<string, string>();
        var brokenIndices = new HashSet<int>();
        for (int attempt = 0; ; attempt++)
        {
            var input = GeneratorHarness.CompileAs(assemblyName, RandomConfigurations.Source(included));
            var (result, output) = GeneratorHarness.Run(input);
            if (result.Results.Single().Exception is { } exception)
                throw new InvalidOperationException("The generator threw.", exception);
            var errors = GeneratorHarness.Problems(output);
            if (errors.Count == 0)
            {
                using var stream = new MemoryStream();
                var emit = output.Emit(stream);
                if (!emit.Success)
                    throw new InvalidOperationException("Emit failed:\n" + GeneratorHarness.Describe(emit.Diagnostics));
                var compiled = new CompiledKernels(stream.ToArray()) { _included = included };
                foreach (var pair in broken) compiled.Broken[pair.Key] = pair.Value;
                compiled._brokenIndices.UnionWith(brokenIndices);
                return compiled;
            }
            if (attempt == 3)
                throw new InvalidOperationException("Still failing after leaving out the broken kernels:\n" + GeneratorHarness.Describe(errors));

            // Attribute each error to the kernel file it is in; errors elsewhere (the user file) follow from those.
            var byKernel = errors
                .Where(e => e.Location.SourceTree is { } tree && tree.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) && !tree.FilePath.EndsWith(".PoolKernel.g.cs", StringComparison.Ordinal))
                .GroupBy(e => Path.GetFileName(e.Location.SourceTree!.FilePath)[..^".g.cs".Length])
                .ToDictionary(g => g.Key, g => string.Join("; ", g.Take(2).Select(e => e.ToString())));
            if (byKernel.Count == 0)
                throw new InvalidOperationException("The kernels do not compile:\n" + GeneratorHarness.Describe(errors));
            foreach (var configuration in included.Where(c => byKernel.ContainsKey(c.KernelName)).ToList())
            {
                broken[configuration.ToString()] = byKernel[configuration.KernelName];
                brokenIndices.Add(configuration.Index);
                included.Remove(configuration);
            }
        }
    }
}
