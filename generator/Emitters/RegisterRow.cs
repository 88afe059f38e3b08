using System;
using System.Collections.Generic;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// The vectors that hold one row of a narrow plane in an AVX-512 register path: <see cref="Blocks"/> of them, the last
/// a 256-bit half (<see cref="VectorIsa.V512Half"/>) when the row's last cells fit in half a vector. Such a row has a
/// method of its own, since the block count and the last block's width are known only at run time.
/// </summary>
internal sealed class RegisterRow
{
    public RegisterRow(int blocks, bool halfLast)
    {
        Blocks = blocks;
        HalfLast = halfLast;
    }

    public int Blocks { get; }

    /// <summary>Whether the last block is a 256-bit half.</summary>
    public bool HalfLast { get; }

    /// <summary>The suffix of the methods for this row: <c>x2</c>, or <c>x2HalfLast</c> when the second vector is a half.</summary>
    public string Name => HalfLast ? $"x{Blocks}HalfLast" : $"x{Blocks}";

    /// <summary>The row's size for doc comments: "2 vectors".</summary>
    public string Vectors => $"{Blocks} vector{(Blocks == 1 ? "" : "s")}";

    /// <summary>What doc comments add for a half: ", the last a 256-bit half" (", a 256-bit half" for one block), or nothing.</summary>
    public string HalfNote => !HalfLast ? "" : Blocks == 1 ? ", a 256-bit half" : ", the last a 256-bit half";

    /// <summary>A block of each width the row has: row loads take the fill vector of each for rows outside the plane.</summary>
    public IEnumerable<int> FillBlocks => HalfLast && Blocks > 1 ? new[] { 0, Blocks - 1 } : new[] { 0 };

    /// <summary>Whether the row has any full 512-bit block.</summary>
    public bool HasFullBlocks => Blocks > 1 || !HalfLast;

    /// <summary>
    /// The width of block <paramref name="block"/>. The blocks before the row (-1) and after it take the width of the
    /// row's first and last block, since they only ever stand beside those.
    /// </summary>
    public VectorIsa Isa(int block) => IsHalf(block) ? VectorIsa.V512Half : VectorIsa.V512;

    public bool IsHalf(int block) => HalfLast && (block >= Blocks - 1 || (block < 0 && Blocks == 1));

    /// <summary>The fill vector (the reduction's identity) of block <paramref name="block"/>'s width: <c>fill</c> or <c>fillHalf</c>.</summary>
    public string Fill(int block) => IsHalf(block) ? "fillHalf" : "fill";

    /// <summary>The lane mask type of the last block, as loads and stores take it.</summary>
    public string LastMaskType(ElementKind element) =>
        $"{Isa(Blocks - 1).Vector}<{(element == ElementKind.Float ? "int" : "long")}>";

    /// <summary>
    /// Block <paramref name="block"/> of a row of vectors moved <paramref name="shift"/> (not 0) lanes on: one valign of
    /// the block with its neighbour. <paramref name="vector"/> names block i of the row, and the vector beside the row
    /// for i = -1 or <see cref="Blocks"/>. The result has the block's width: a 256-bit last block takes the lanes before
    /// it from the upper half of the block before, and the block before takes the lanes after it from the half widened,
    /// whose undefined upper lanes it never reads while every shift is at most half a vector (the emitters check that).
    /// </summary>
    public string Shifted(ElementKind element, Func<int, string> vector, int block, int shift)
    {
        var isa = Isa(block);
        if (shift > 0)
        {
            string next = vector(block + 1);
            if (!IsHalf(block) && IsHalf(block + 1) && block + 1 < Blocks) next += ".ToVector512Unsafe()";
            return isa.AlignRight(element, next, vector(block), shift);
        }
        string before = vector(block - 1);
        if (IsHalf(block) && !IsHalf(block - 1)) before += ".GetUpper()";
        return isa.AlignRight(element, vector(block), before, isa.LaneCount(element) + shift);
    }
}
