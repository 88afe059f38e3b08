using System;
using System.Globalization;
using System.Linq;

namespace KernelGen.Generator.Tests.Verification;

/// <summary>
/// The test assembly's entry point (the test SDK's generated one is turned off): <c>--verify</c> runs the kernel
/// verification in this process, so that a kernel that faults on a guard page kills this child and not the test host.
/// Arguments: the compiled kernels' file, the first case, the indices that did not compile (comma-separated) and the
/// settings (<see cref="VerificationSettings.ToArguments"/>).
/// </summary>
internal static class VerifierProgram
{
    public const string VerifyArgument = "--verify";

    public static int Main(string[] args)
    {
        if (args.Length != 7 || args[0] != VerifyArgument)
        {
            Console.Error.WriteLine($"usage: {VerifyArgument} <kernels.dll> <first case> <broken indices> <seed> <count> <every-width|sampled>");
            return 2;
        }
        var settings = VerificationSettings.FromArguments(args[4..]);
        var cases = VerificationSet.Create(settings);
        var broken = args[3].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture));
        var kernels = CompiledKernels.FromFile(args[1], cases.Select(c => c.Configuration), broken);
        new KernelVerifier(Console.Out).Verify(cases, kernels, int.Parse(args[2], CultureInfo.InvariantCulture));
        return 0;
    }
}
