namespace KernelGen.Engine;

/// <summary>
/// A small count as a type (0 to 9): code generic over it sees the count as a constant, so the JIT drops the branches
/// past it and keeps the vectors it sizes in registers (a row's vectors, a window's columns).
/// </summary>
internal interface IConstantCount
{
    static abstract int Value { get; }
}

internal readonly struct Count0 : IConstantCount { public static int Value => 0; }
internal readonly struct Count1 : IConstantCount { public static int Value => 1; }
internal readonly struct Count2 : IConstantCount { public static int Value => 2; }
internal readonly struct Count3 : IConstantCount { public static int Value => 3; }
internal readonly struct Count4 : IConstantCount { public static int Value => 4; }
internal readonly struct Count5 : IConstantCount { public static int Value => 5; }
internal readonly struct Count6 : IConstantCount { public static int Value => 6; }
internal readonly struct Count7 : IConstantCount { public static int Value => 7; }
internal readonly struct Count8 : IConstantCount { public static int Value => 8; }
internal readonly struct Count9 : IConstantCount { public static int Value => 9; }
