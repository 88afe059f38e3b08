using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The engine's vector loops, and the built-in generated kernels', run optimized from a process's first call. Without a mark, the runtime's tiering runs a
/// method unoptimized and then instrumented for its first 150-300 ms, 15-45x slower per call (bench/notes.md, ninth
/// session): every method of the engine with a loop that does vector work, itself or through helpers inlined into it,
/// is either <see cref="MethodImplOptions.AggressiveOptimization"/> or <see cref="MethodImplOptions.AggressiveInlining"/>
/// (inlined into a caller that is), unless it is a set-up loop listed below. Read from each method's IL: a backward
/// branch is a loop, a call into System.Runtime.Intrinsics (other than asking what the machine has) is vector work.
/// </summary>
public class OptimizedFromFirstCallTests
{
    /// <summary>Loops that run once per call or per plane over a table, not per cell: tier 0 costs them little.</summary>
    private static readonly Dictionary<string, string> SetUpLoops = new()
    {
        ["ChannelsFirstRowBlocks`1.EdgeTapMasks"] = "a mask per window tap, once per call",
        ["FlatColumns.WriteBounds"] = "a vector of bounds per period of columns, once per call",
        ["TapPermutes..ctor"] = "a permute index per tap, once per call",
        ["Taps..ctor"] = "a table entry per tap and per row vector, once per call",
        ["SeparableRowsMax`1.InsideMasks"] = "a mask per row vector, once per call",
        ["RegisterTaps.InFirstPair"] = "a blend mask per tap and output block, once per call",
        ["RegisterTaps.PermuteIndex"] = "a permute index per tap and output block, once per call",
        ["NarrowRowsMax`1.Run"] = "one call per plane into the marked plane methods",
    };

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(op => op.Value);

    private static readonly Assembly Runtime = typeof(Pooling).Assembly;

    [Fact]
    public void EveryVectorLoopIsOptimizedFromTheFirstCall()
    {
        var unmarked = EngineMethods()
            .Where(method => !IsMarked(method) && HasLoop(method) && DoesVectorWork(method, new HashSet<MethodBase>()))
            .Select(Name)
            .Where(name => !SetUpLoops.ContainsKey(name))
            .Distinct()
            .Order()
            .ToList();
        Assert.True(unmarked.Count == 0,
            $"vector loops without [MethodImpl(MethodImplOptions.AggressiveOptimization)]: {string.Join(", ", unmarked)} " +
            "(mark them, or list a set-up loop in SetUpLoops with the reason)");
    }

    /// <summary>The check finds what it looks for: the engine's known hot loops read as vector loops, and the set-up list names real ones.</summary>
    [Fact]
    public void TheCheckSeesTheEnginesLoops()
    {
        var vectorLoops = EngineMethods().Where(method => HasLoop(method) && DoesVectorWork(method, new HashSet<MethodBase>())).Select(Name).ToHashSet();
        Assert.Contains("VectorOps`1.Reduce", vectorLoops);
        Assert.Contains("SeparableRowsMax`1.Plane", vectorLoops);
        Assert.Contains("MaxPool_K7x7_S1_P3_F32_Nchw.HorizontalPass", vectorLoops);
        foreach (string name in SetUpLoops.Keys) Assert.Contains(name, vectorLoops);
    }

    private static IEnumerable<MethodBase> EngineMethods()
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        return Runtime.GetTypes()
            .Where(type => type.Namespace is "KernelGen.Engine" or "KernelGen.Specialization" or "KernelGen.Generated")
            .SelectMany(type => type.GetMethods(declared).Cast<MethodBase>().Concat(type.GetConstructors(declared)));
    }

    private static string Name(MethodBase method) => $"{method.DeclaringType!.Name}.{method.Name}";

    private static bool IsMarked(MethodBase method) =>
        (method.MethodImplementationFlags & (MethodImplAttributes.AggressiveOptimization | MethodImplAttributes.AggressiveInlining)) != 0;

    private static bool IsInlined(MethodBase method) => (method.MethodImplementationFlags & MethodImplAttributes.AggressiveInlining) != 0;

    private static bool HasLoop(MethodBase method) => Instructions(method).Any(i => i.BranchOffset < 0);

    /// <summary>Whether the method calls into System.Runtime.Intrinsics, itself or through runtime methods inlined into it.</summary>
    private static bool DoesVectorWork(MethodBase method, HashSet<MethodBase> seen)
    {
        if (!seen.Add(method)) return false;
        foreach (var callee in Instructions(method).Select(i => i.Callee).OfType<MethodBase>())
        {
            if (callee.DeclaringType?.Namespace?.StartsWith("System.Runtime.Intrinsics", StringComparison.Ordinal) == true && !IsQuery(callee)) return true;
            if (callee.Module.Assembly == Runtime && IsInlined(callee) && DoesVectorWork(Definition(callee), seen)) return true;
        }
        return false;
    }

    /// <summary>The method as declared, on its generic type's definition: its IL's tokens resolve with its own type parameters.</summary>
    /// <summary>Which instructions the machine has, or a vector's lane count: constants to the JIT, no work.</summary>
    private static bool IsQuery(MethodBase method) => method.Name is "get_IsHardwareAccelerated" or "get_IsSupported" or "get_Count";

    private static MethodBase Definition(MethodBase method) => method.Module.ResolveMethod(method.MetadataToken)!;

    /// <summary>Each instruction's branch offset (negative: a backward branch) and called method, decoded from the IL.</summary>
    private static IEnumerable<(int BranchOffset, MethodBase? Callee)> Instructions(MethodBase method)
    {
        byte[] il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        var type = method.DeclaringType!;
        for (int at = 0; at < il.Length;)
        {
            var op = OpCodesByValue[il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at]];
            at += op.Size;
            int branch = op.OperandType switch
            {
                OperandType.ShortInlineBrTarget => (sbyte)il[at],
                OperandType.InlineBrTarget => BitConverter.ToInt32(il, at),
                _ => 0,
            };
            MethodBase? callee = op.OperandType == OperandType.InlineMethod
                ? method.Module.ResolveMethod(BitConverter.ToInt32(il, at), type.IsGenericType ? type.GetGenericArguments() : null,
                    method.IsGenericMethod ? method.GetGenericArguments() : null)
                : null;
            yield return (branch, callee);
            at += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
                _ => 4,
            };
        }
    }
}
