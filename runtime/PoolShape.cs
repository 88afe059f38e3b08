using System;
using System.Runtime.CompilerServices;

namespace KernelGen;

/// <summary>
/// The logical shape of a pooling input or output: batch, channels and one to three spatial sizes. The shape does
/// not say how the elements are ordered in memory; <see cref="PoolDescriptor.Layout"/> does.
/// </summary>
/// <remarks>
/// Spatial axes a lower rank does not have are 1, so a 1-d shape has <see cref="Depth"/> = <see cref="Height"/> = 1.
/// Batch and channels may be 0 (pooling then does nothing); spatial sizes must be at least 1, as in PyTorch.
/// </remarks>
public readonly struct PoolShape : IEquatable<PoolShape>
{
    /// <summary>A 1-d shape: N, C, W (PyTorch's NCL).</summary>
    public PoolShape(int batch, int channels, int width)
        : this(1, batch, channels, 1, 1, width) { }

    /// <summary>A 2-d shape: N, C, H, W.</summary>
    public PoolShape(int batch, int channels, int height, int width)
        : this(2, batch, channels, 1, height, width) { }

    /// <summary>A 3-d shape: N, C, D, H, W.</summary>
    public PoolShape(int batch, int channels, int depth, int height, int width)
        : this(3, batch, channels, depth, height, width) { }

    private PoolShape(int spatialRank, int batch, int channels, int depth, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        SpatialRank = spatialRank;
        Batch = batch;
        Channels = channels;
        Depth = depth;
        Height = height;
        Width = width;
    }

    /// <summary>The number of spatial axes: 1, 2 or 3. 0 only for <c>default(PoolShape)</c>, which no operation accepts.</summary>
    public int SpatialRank { get; }

    /// <summary>N.</summary>
    public int Batch { get; }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>D (1 below rank 3).</summary>
    public int Depth { get; }

    /// <summary>H (1 below rank 2).</summary>
    public int Height { get; }

    /// <summary>W.</summary>
    public int Width { get; }

    /// <summary>
    /// The number of spatial cells in one (n, c) plane: D * H * W, in 64 bits. D * H * W can pass 2^63; it then
    /// saturates at <see cref="long.MaxValue"/> rather than wrapping, so length checks fail cleanly.
    /// </summary>
    public long PlaneSize
    {
        get
        {
            long rows = (long)Depth * Height; // below 2^62; 0 only for default(PoolShape)
            return rows != 0 && Width > long.MaxValue / rows ? long.MaxValue : rows * Width;
        }
    }

    /// <summary>The number of (n, c) planes: N * C.</summary>
    public long PlaneCount => (long)Batch * Channels;

    /// <summary>
    /// N * C * D * H * W in 64 bits, saturating at <see cref="long.MaxValue"/> instead of wrapping. It can exceed
    /// what a .NET array holds; operations reject such shapes.
    /// </summary>
    public long ElementCount
    {
        get
        {
            // Both factors are below 2^63 but their product need not be: saturate instead of wrapping.
            long planes = PlaneCount, plane = PlaneSize;
            if (planes == 0) return 0;
            return plane > long.MaxValue / planes ? long.MaxValue : planes * plane;
        }
    }

    /// <summary>The size of spatial axis <paramref name="axis"/> counted from the first spatial axis of this rank (0 = D in 3-d, H in 2-d, W in 1-d).</summary>
    public int GetSpatialSize(int axis)
    {
        if ((uint)axis >= (uint)SpatialRank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"The shape has {SpatialRank} spatial axes.");
        return SpatialRank switch
        {
            1 => Width,
            2 => axis == 0 ? Height : Width,
            _ => axis == 0 ? Depth : axis == 1 ? Height : Width,
        };
    }

    internal PoolShape WithSpatial(int depth, int height, int width) => new(SpatialRank, Batch, Channels, depth, height, width);

    internal PoolShape WithPlanes(int batch, int channels) => new(SpatialRank, batch, channels, Depth, Height, Width);

    /// <inheritdoc/>
    public bool Equals(PoolShape other) =>
        SpatialRank == other.SpatialRank && Batch == other.Batch && Channels == other.Channels &&
        Depth == other.Depth && Height == other.Height && Width == other.Width;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PoolShape other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(SpatialRank, Batch, Channels, Depth, Height, Width);

    /// <summary>Compares two shapes.</summary>
    public static bool operator ==(PoolShape left, PoolShape right) => left.Equals(right);

    /// <summary>Compares two shapes.</summary>
    public static bool operator !=(PoolShape left, PoolShape right) => !left.Equals(right);

    /// <summary>The logical shape, channels first: <c>1x64x112x112</c>.</summary>
    public override string ToString() => SpatialRank switch
    {
        1 => $"{Batch}x{Channels}x{Width}",
        2 => $"{Batch}x{Channels}x{Height}x{Width}",
        3 => $"{Batch}x{Channels}x{Depth}x{Height}x{Width}",
        _ => "(empty shape)",
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int GetAxis3(int axis3) => axis3 == 0 ? Depth : axis3 == 1 ? Height : Width;
}
