using System;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace KernelGen.Tensors;

/// <summary>
/// <see cref="Pooling"/> for tensors held as <see cref="ReadOnlyTensorSpan{T}"/> and <see cref="TensorSpan{T}"/>: the
/// input's lengths are the shape, in the descriptor's layout order (N, C, [D, H,] W for channels first; N, [D, H,] W, C
/// for channels last). Both tensors must be dense and row-major; the results are those of the span overloads.
/// </summary>
public static class TensorPooling
{
    /// <summary>Pools <paramref name="input"/> into <paramref name="output"/>, whose lengths must be the output shape's.</summary>
    /// <param name="descriptor">The operation; its spatial rank plus 2 is the tensors' rank.</param>
    /// <param name="input">A dense row-major tensor in <see cref="PoolDescriptor.Layout"/> order.</param>
    /// <param name="output">A dense row-major tensor with the output shape's lengths (see <see cref="GetOutputLengths"/>).</param>
    /// <param name="maxDegreeOfParallelism">The most threads to use: -1 for all cores, 1 for the calling thread.</param>
    public static void Run(in PoolDescriptor descriptor, in ReadOnlyTensorSpan<float> input, in TensorSpan<float> output, int maxDegreeOfParallelism = -1)
    {
        var shape = ShapeOf(descriptor, input);
        Pooling.Run(descriptor, Flat(input, nameof(input)), Flat(output, descriptor, shape), shape, maxDegreeOfParallelism);
    }

    /// <inheritdoc cref="Run(in PoolDescriptor, in ReadOnlyTensorSpan{float}, in TensorSpan{float}, int)"/>
    public static void Run(in PoolDescriptor descriptor, in ReadOnlyTensorSpan<double> input, in TensorSpan<double> output, int maxDegreeOfParallelism = -1)
    {
        var shape = ShapeOf(descriptor, input);
        Pooling.Run(descriptor, Flat(input, nameof(input)), Flat(output, descriptor, shape), shape, maxDegreeOfParallelism);
    }

    /// <summary>The lengths of the output tensor <see cref="Run(in PoolDescriptor, in ReadOnlyTensorSpan{float}, in TensorSpan{float}, int)"/> writes for an input with <paramref name="inputLengths"/>.</summary>
    public static nint[] GetOutputLengths(in PoolDescriptor descriptor, ReadOnlySpan<nint> inputLengths)
    {
        var shape = ShapeOf(descriptor, inputLengths, nameof(inputLengths));
        return LengthsOf(descriptor.GetOutputShape(shape), descriptor.Layout);
    }

    private static PoolShape ShapeOf<T>(in PoolDescriptor descriptor, in ReadOnlyTensorSpan<T> input) =>
        ShapeOf(descriptor, input.Lengths, nameof(input));

    /// <summary>The pooling shape of tensor lengths in the descriptor's layout; an error names <paramref name="parameter"/>.</summary>
    private static PoolShape ShapeOf(in PoolDescriptor descriptor, ReadOnlySpan<nint> lengths, string parameter)
    {
        int rank = descriptor.SpatialRank;
        if (lengths.Length != rank + 2)
            throw new ArgumentException($"A {rank}-d pooling takes a tensor of rank {rank + 2}, not {lengths.Length}.", parameter);
        var sizes = new int[lengths.Length];
        for (int i = 0; i < lengths.Length; i++)
        {
            if (lengths[i] > int.MaxValue)
                throw new ArgumentException($"Length {lengths[i]} of axis {i} is more than a pooling shape can hold ({int.MaxValue}).", parameter);
            sizes[i] = (int)lengths[i];
        }
        // Channels last keeps C at the end; PoolShape takes N, C, then the spatial sizes.
        int channelsAt = descriptor.Layout == PoolLayout.ChannelsFirst ? 1 : lengths.Length - 1;
        int firstSpatial = descriptor.Layout == PoolLayout.ChannelsFirst ? 2 : 1;
        int n = sizes[0], c = sizes[channelsAt];
        try
        {
            return rank switch
            {
                1 => new PoolShape(n, c, sizes[firstSpatial]),
                2 => new PoolShape(n, c, sizes[firstSpatial], sizes[firstSpatial + 1]),
                _ => new PoolShape(n, c, sizes[firstSpatial], sizes[firstSpatial + 1], sizes[firstSpatial + 2]),
            };
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The tensor's lengths [{string.Join(", ", sizes)}] are not a pooling shape: {e.Message}", parameter, e);
        }
    }

    private static nint[] LengthsOf(PoolShape shape, PoolLayout layout)
    {
        var spatial = new nint[shape.SpatialRank];
        for (int axis = 0; axis < spatial.Length; axis++) spatial[axis] = shape.GetSpatialSize(axis);
        nint[] lengths = new nint[spatial.Length + 2];
        lengths[0] = shape.Batch;
        if (layout == PoolLayout.ChannelsFirst)
        {
            lengths[1] = shape.Channels;
            spatial.CopyTo(lengths, 2);
        }
        else
        {
            spatial.CopyTo(lengths, 1);
            lengths[^1] = shape.Channels;
        }
        return lengths;
    }

    private static ReadOnlySpan<T> Flat<T>(in ReadOnlyTensorSpan<T> tensor, string parameter)
    {
        RequireRowMajor(tensor.Lengths, tensor.Strides, parameter);
        return MemoryMarshal.CreateReadOnlySpan(in tensor.GetPinnableReference(), checked((int)tensor.FlattenedLength));
    }

    private static Span<T> Flat<T>(in TensorSpan<T> output, in PoolDescriptor descriptor, PoolShape inputShape)
    {
        var expected = LengthsOf(descriptor.GetOutputShape(inputShape), descriptor.Layout);
        if (!output.Lengths.SequenceEqual(expected))
            throw new ArgumentException($"The output tensor's lengths are [{string.Join(", ", output.Lengths.ToArray())}]; this operation writes [{string.Join(", ", expected)}].", nameof(output));
        RequireRowMajor(output.Lengths, output.Strides, nameof(output));
        return MemoryMarshal.CreateSpan(ref output.GetPinnableReference(), checked((int)output.FlattenedLength));
    }

    /// <summary>Each stride is the product of the lengths after it (any stride for an axis of length 1): no gaps, no broadcast, no transposition.</summary>
    private static void RequireRowMajor(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides, string parameter)
    {
        long expected = 1;
        for (int axis = lengths.Length - 1; axis >= 0; axis--)
        {
            if (lengths[axis] > 1 && strides[axis] != expected)
                throw new ArgumentException(
                    $"The tensor must be dense and row-major: axis {axis} (length {lengths[axis]}) has stride {strides[axis]}, not {expected}. Copy it into a dense tensor first.",
                    parameter);
            expected *= lengths[axis];
        }
    }
}
