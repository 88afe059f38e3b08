using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using System.Numerics;

namespace KernelGen;

/// <summary>
/// A kernel specialized for one <see cref="PoolDescriptor"/> and element type. It pools a whole batch of the shape it
/// is given and validates its arguments itself.
/// </summary>
public delegate void SpecializedPoolKernel<T>(ReadOnlySpan<T> input, Span<T> output, PoolShape shape);

/// <summary>
/// The specialized kernels <see cref="Pooling.Run(in PoolDescriptor, ReadOnlySpan{float}, Span{float}, PoolShape, int)"/>
/// prefers to the general engine, keyed by (configuration, element type). Kernels made by <c>[PoolKernel]</c> register
/// themselves from a module initializer, the runtime's built-in ones included, so a user rarely calls
/// <see cref="Register{T}(PoolDescriptor, SpecializedPoolKernel{T}, string)"/> directly.
/// </summary>
public static class PoolKernelRegistry
{
    private static readonly ConcurrentDictionary<(PoolDescriptor Descriptor, Type Element), Entry> Kernels = new();

    /// <param name="Name">The kernel's name, for diagnostics.</param>
    /// <param name="Kernel">The kernel as registered: it validates its arguments (what <see cref="TryGet{T}"/> hands out).</param>
    /// <param name="Validated">The same kernel without its argument checks, for <c>Pooling.Run</c>, which checks them once itself.</param>
    private sealed record Entry(string Name, Delegate Kernel, Delegate Validated);

    /// <summary>
    /// Registers <paramref name="kernel"/> for <paramref name="descriptor"/> and <typeparamref name="T"/>. A later
    /// registration for the same key replaces the earlier one (the last module loaded wins), so an application can
    /// override a built-in kernel.
    /// </summary>
    /// <param name="descriptor">The configuration the kernel implements; its layout is part of the key.</param>
    /// <param name="kernel">The kernel. It must give exactly the general engine's results.</param>
    /// <param name="name">A name for diagnostics, such as <c>MaxPool_K3x3_S2_P1_F32_Nchw</c>.</param>
    public static void Register<T>(PoolDescriptor descriptor, SpecializedPoolKernel<T> kernel, string name)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Add(descriptor, kernel, kernel, name);

    /// <summary>
    /// Registers a kernel together with its core that skips the argument checks: <c>Pooling.Run</c> checks the
    /// arguments once, before it splits the work, and calls <paramref name="validatedKernel"/> on each part;
    /// <see cref="TryGet{T}"/> still hands out <paramref name="kernel"/>. Generated kernels register this way.
    /// </summary>
    /// <param name="descriptor">The configuration the kernel implements; its layout is part of the key.</param>
    /// <param name="kernel">The kernel, validating its arguments. It must give exactly the general engine's results.</param>
    /// <param name="validatedKernel">The same kernel on arguments <see cref="KernelArguments.Validate{T}"/> has accepted.</param>
    /// <param name="name">A name for diagnostics, such as <c>MaxPool_K3x3_S2_P1_F32_Nchw</c>.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void Register<T>(PoolDescriptor descriptor, SpecializedPoolKernel<T> kernel, SpecializedPoolKernel<T> validatedKernel, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(validatedKernel);
        Add(descriptor, kernel, validatedKernel, name);
    }

    /// <summary>
    /// Removes the kernel registered for <paramref name="descriptor"/> and <typeparamref name="T"/>, if any: tests that
    /// register kernels of their own put the process-wide registry back for the tests after them.
    /// </summary>
    internal static bool Unregister<T>(in PoolDescriptor descriptor) => Kernels.TryRemove((descriptor, typeof(T)), out _);

    /// <summary>Checks a registration's arguments and stores its entry, in one write.</summary>
    private static void Add<T>(PoolDescriptor descriptor, SpecializedPoolKernel<T> kernel, SpecializedPoolKernel<T> validatedKernel, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (descriptor.SpatialRank == 0)
            throw new ArgumentException("The descriptor is default(PoolDescriptor).", nameof(descriptor));
        Kernels[(descriptor, typeof(T))] = new Entry(name, kernel, validatedKernel);
    }

    /// <summary>The specialized kernel for this configuration and element type, if one is registered.</summary>
    public static bool TryGet<T>(in PoolDescriptor descriptor, out SpecializedPoolKernel<T>? kernel, out string? name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Kernels.TryGetValue((descriptor, typeof(T)), out var entry))
        {
            kernel = (SpecializedPoolKernel<T>)entry.Kernel;
            name = entry.Name;
            return true;
        }
        kernel = null;
        name = null;
        return false;
    }

    /// <summary>
    /// The kernel Pooling.Run takes for <paramref name="descriptor"/> on inputs of <paramref name="shape"/> (output
    /// <paramref name="outputShape"/>): the one registered for the descriptor, else, for padding larger at the
    /// beginning than at the end, the one registered for its symmetric form where that computes the same on this
    /// shape (see <see cref="SymmetricPadding"/>).
    /// </summary>
    internal static bool TryGetForShape<T>(in PoolDescriptor descriptor, PoolShape shape, PoolShape outputShape, out SpecializedPoolKernel<T>? kernel, out string? name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool found = TryGetEntryForShape<T>(descriptor, shape, outputShape, out var entry);
        kernel = found ? (SpecializedPoolKernel<T>)entry!.Kernel : null;
        name = entry?.Name;
        return found;
    }

    /// <summary>
    /// As <see cref="TryGetForShape{T}"/>, but the kernel's core for arguments already validated (the kernel itself if
    /// it has none): Pooling.Run checks the arguments once and calls it on each parallel part.
    /// </summary>
    internal static bool TryGetValidatedForShape<T>(in PoolDescriptor descriptor, PoolShape shape, PoolShape outputShape, out SpecializedPoolKernel<T>? kernel, out string? name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool found = TryGetEntryForShape<T>(descriptor, shape, outputShape, out var entry);
        kernel = found ? (SpecializedPoolKernel<T>)entry!.Validated : null;
        name = entry?.Name;
        return found;
    }

    private static bool TryGetEntryForShape<T>(in PoolDescriptor descriptor, PoolShape shape, PoolShape outputShape, out Entry? entry)
    {
        if (Kernels.TryGetValue((descriptor, typeof(T)), out entry)) return true;
        entry = null;
        return SymmetricPadding.TryGetSymmetric(descriptor, out var symmetric)
            && SymmetricPadding.ComputesSame(descriptor, symmetric, shape, outputShape)
            && Kernels.TryGetValue((symmetric, typeof(T)), out entry);
    }

    /// <summary>
    /// Whether a specialized kernel is registered for exactly this configuration. (Pooling.Run also runs a descriptor
    /// padded more at the beginning than at the end with its symmetric form's kernel, on inputs where the two agree.)
    /// </summary>
    public static bool IsSpecialized<T>(in PoolDescriptor descriptor) where T : unmanaged, IFloatingPointIeee754<T> =>
        Kernels.ContainsKey((descriptor, typeof(T)));

    /// <summary>Every registered kernel: configuration, element type and name, sorted by name.</summary>
    public static IReadOnlyList<(PoolDescriptor Descriptor, Type ElementType, string Name)> Registered =>
        Kernels.Select(pair => (pair.Key.Descriptor, pair.Key.Element, pair.Value.Name)).OrderBy(entry => entry.Name, StringComparer.Ordinal).ToList();
}
