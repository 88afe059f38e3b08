using System;
using System.ComponentModel;
using System.Numerics;

namespace KernelGen;

/// <summary>
/// Argument checks for generated kernels: the same checks, in the same words, as
/// <see cref="Pooling.Run(in PoolDescriptor, ReadOnlySpan{float}, Span{float}, PoolShape, int)"/>. Generated code calls
/// this once at its entry point and then reads and writes without bounds checks.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class KernelArguments
{
    /// <summary>Throws unless the spans and shape fit <paramref name="descriptor"/>; returns the output shape.</summary>
    public static PoolShape Validate<T>(in PoolDescriptor descriptor, ReadOnlySpan<T> input, Span<T> output, PoolShape shape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (descriptor.SpatialRank == 0)
            throw new ArgumentException("The descriptor is default(PoolDescriptor); create one with a factory such as PoolDescriptor.MaxPool2d.", nameof(descriptor));
        Pooling.RequireShape(shape);
        var outputShape = descriptor.GetOutputShape(shape, nameof(shape));
        Pooling.CheckSpans(input, output, shape, outputShape);
        return outputShape;
    }

    /// <summary>
    /// Whether the general engine has one of its plane-at-a-time paths for this shape (whole planes, narrow rows, flat
    /// passes: small planes on AVX-512). Generated kernels for large stride-1 windows do not beat those, and hand such
    /// shapes to the engine.
    /// </summary>
    public static bool EngineHasPlanePath<T>(in PoolDescriptor descriptor, PoolShape shape, PoolShape outputShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        return Engine.EngineRoutes<T>.PoolsPlaneAtATime(new Engine.PoolPlan(descriptor, shape, outputShape));
    }

    /// <summary>
    /// Runs the general engine on the calling thread on arguments <see cref="Validate{T}"/> has accepted (for a
    /// generated kernel that hands the engine the shapes the engine pools faster); <paramref name="outputShape"/> is
    /// what <see cref="Validate{T}"/> returned.
    /// </summary>
    public static void RunEngine<T>(in PoolDescriptor descriptor, ReadOnlySpan<T> input, Span<T> output, PoolShape shape, PoolShape outputShape)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Pooling.RunEngineValidated(descriptor, input, output, shape, outputShape);
}
