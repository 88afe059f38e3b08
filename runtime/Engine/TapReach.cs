using System.Numerics;
using System.Runtime.Intrinsics;

namespace KernelGen.Engine;

/// <summary>
/// How far a centred window reaches to each side of its centre (3x3 p1: 1, 5x5 p2: 2, 7x7 p3: 3), as a type: the flat
/// pass of <see cref="FlatPlaneMax{T}"/> is generic over it, so that the JIT unrolls its taps for the common windows,
/// and loops over them for the rest (<see cref="AnyReach"/>).
/// </summary>
internal interface ITapReach
{
    static abstract bool IsKnown { get; }
    static abstract int Reach { get; }
}

internal readonly struct Reach1 : ITapReach { public static bool IsKnown => true; public static int Reach => 1; }
internal readonly struct Reach2 : ITapReach { public static bool IsKnown => true; public static int Reach => 2; }
internal readonly struct Reach3 : ITapReach { public static bool IsKnown => true; public static int Reach => 3; }
internal readonly struct AnyReach : ITapReach { public static bool IsKnown => false; public static int Reach => 0; }
