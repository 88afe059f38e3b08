using System;

namespace KernelGen;

/// <summary>
/// Lets a kernel registered for symmetric padding serve a descriptor padded more at the beginning than at the end
/// (ONNX's <c>pads [1,1,0,0]</c>, as in ResNet-18's stem), on inputs where the two compute the same.
/// </summary>
/// <remarks>
/// Window j starts at <c>j * stride - begin</c> under padding (begin, end) and (begin, begin) alike, so where both give
/// the same output size on every axis they read the same input cells: max pooling (NaN rules included) and average
/// pooling that divides by the input cells or by a constant agree exactly. Average pooling that counts padding cells
/// divides by the taps up to the end of the end padding, so it agrees only when no window's last tap passes the
/// shorter end padding. An end padding larger than the begin padding moves the windows and is never equivalent.
/// </remarks>
internal static class SymmetricPadding
{
    /// <summary>
    /// The descriptor with every axis's end padding raised to its begin padding, when begin &gt;= end on every axis
    /// and begin &gt; end on at least one; false otherwise (already symmetric, or an end padding is larger).
    /// </summary>
    public static bool TryGetSymmetric(in PoolDescriptor descriptor, out PoolDescriptor symmetric)
    {
        symmetric = default;
        int rank = descriptor.SpatialRank;
        bool asymmetric = false;
        for (int i = 0; i < rank; i++)
        {
            var axis = descriptor.GetAxis(i);
            if (axis.PadBegin < axis.PadEnd) return false;
            asymmetric |= axis.PadBegin > axis.PadEnd;
        }
        if (!asymmetric) return false;

        Span<PoolAxis> axes = stackalloc PoolAxis[rank];
        for (int i = 0; i < rank; i++)
            axes[i] = descriptor.GetAxis(i) with { PadEnd = descriptor.GetAxis(i).PadBegin };
        // The ONNX convention's limits (pad below the effective kernel) hold already: the begin padding passed them.
        symmetric = PoolDescriptor.Create(descriptor.Mode, axes, descriptor.CeilMode, descriptor.CountIncludePad,
            descriptor.DivisorOverride == 0 ? null : descriptor.DivisorOverride, descriptor.Layout, PoolConvention.Onnx);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="symmetric"/> (from <see cref="TryGetSymmetric"/>) computes exactly what
    /// <paramref name="descriptor"/> computes on <paramref name="shape"/>, whose output under
    /// <paramref name="descriptor"/> is <paramref name="outputShape"/>.
    /// </summary>
    public static bool ComputesSame(in PoolDescriptor descriptor, in PoolDescriptor symmetric, PoolShape shape, PoolShape outputShape)
    {
        bool divisorCountsPadding = descriptor.Mode == PoolMode.Average && descriptor.CountIncludePad && descriptor.DivisorOverride == 0;
        for (int i = 0; i < descriptor.SpatialRank; i++)
        {
            var axis = descriptor.GetAxis(i);
            int length = shape.GetSpatialSize(i), outputs = outputShape.GetSpatialSize(i);
            if (PoolDescriptor.OutputSize(length, symmetric.GetAxis(i), symmetric.CeilMode) != outputs) return false;
            // The last window's last tap; every earlier window ends before it.
            long lastTap = (long)(outputs - 1) * axis.Stride - axis.PadBegin + (long)(axis.Kernel - 1) * axis.Dilation;
            if (divisorCountsPadding && lastTap > (long)length + axis.PadEnd - 1) return false;
        }
        return true;
    }
}
