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
    public long Divisor(long rowFactor, int ow)
    {
        if (Descriptor.DivisorOverride != 0) return Descriptor.DivisorOverride;
        long divisor = rowFactor * Width.DivisorFactor(ow, Descriptor.CountIncludePad);
        return divisor == 0 ? 1 : divisor;
    }
}
