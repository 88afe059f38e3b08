using System;
using System.Numerics;
using KernelGen.Shared;

namespace KernelGen.Engine;

/// <summary>A pooling call whose arguments have all been checked: the descriptor, both shapes and the per-axis plans.</summary>
internal readonly struct PoolPlan
{
    public PoolPlan(in PoolDescriptor descriptor, PoolShape input, PoolShape output)
    {
        Descriptor = descriptor;
        Input = input;
        Output = output;
        Depth = new AxisPlan(input.Depth, output.Depth, descriptor.GetAxis3(0));
        Height = new AxisPlan(input.Height, output.Height, descriptor.GetAxis3(1));
        Width = new AxisPlan(input.Width, output.Width, descriptor.GetAxis3(2));
    }

    public PoolDescriptor Descriptor { get; }
    public PoolShape Input { get; }
    public PoolShape Output { get; }
    public AxisPlan Depth { get; }
    public AxisPlan Height { get; }
    public AxisPlan Width { get; }

    public PoolMode Mode => Descriptor.Mode;
    public bool IsMax => Descriptor.Mode == PoolMode.Max;

    /// <summary>No depth to pool over: a 1-d or 2-d pooling, each (n, c) plane a single depth slice.</summary>
    public bool IsPlanar => Depth.Length == 1 && Depth.Kernel == 1 && Depth.Output == 1;

    /// <summary>The input cells of one (n, c) plane.</summary>
    public int InputPlane => Input.Depth * Input.Height * Input.Width;

    /// <summary>The output cells of one (n, c) plane.</summary>
    public int OutputPlane => Output.Depth * Output.Height * Output.Width;

    /// <summary>The depth and height part of an output cell's average divisor, shared by a whole output row.</summary>
    public long RowDivisorFactor(int od, int oh)
    {
        bool include = Descriptor.CountIncludePad;
        return (long)Depth.DivisorFactor(od, include) * Height.DivisorFactor(oh, include);
    }

    /// <summary>
    /// The average divisor of output column <paramref name="ow"/> in a row whose depth and height factor is
    /// <paramref name="rowFactor"/>: the override, else the product of the per-axis factors. A window with no input
    /// cell (possible only under ONNX's padding limits) gets divisor 1, so its output is 0 as in ONNX Runtime, not 0 / 0.
    /// </summary>
    public long Divisor(long rowFactor, int ow) => FactorsDivisor(rowFactor, Width.DivisorFactor(ow, Descriptor.CountIncludePad));

    /// <summary>
    /// Writes the divisor of every output cell of a 2-d plane to <paramref name="table"/>, row oh from
    /// <c>oh * rowStride</c>, with 1 in the cells past each row's end (up to <paramref name="rowStride"/>). Each
    /// column's factor is worked out once, not once per cell.
    /// </summary>
    public unsafe void WritePlaneDivisors<T>(T* table, int rowStride) where T : unmanaged, INumberBase<T>
    {
        int width = Width.Output;
        long[] columnFactors = ScratchArrays<long>.Rent(width);
        try
        {
            for (int ow = 0; ow < width; ow++) columnFactors[ow] = Width.DivisorFactor(ow, Descriptor.CountIncludePad);
            for (int oh = 0; oh < Height.Output; oh++)
            {
                long rowFactor = RowDivisorFactor(0, oh);
                T* row = table + (long)oh * rowStride;
                for (int ow = 0; ow < rowStride; ow++)
                    row[ow] = ow < width ? T.CreateTruncating(FactorsDivisor(rowFactor, columnFactors[ow])) : T.One;
            }
        }
        finally
        {
            ScratchArrays<long>.Return(columnFactors);
        }
    }

    private long FactorsDivisor(long rowFactor, long columnFactor) => PoolDivisorRule.Divisor(rowFactor * columnFactor, Descriptor.DivisorOverride);
}
