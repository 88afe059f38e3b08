using System;

namespace KernelGen;

/// <summary>
/// Asks the KernelGen source generator to implement the annotated method as a 2-d pooling kernel specialized for
/// exactly this configuration: the window fully unrolled, strides, offsets and divisors folded into constants, and
/// explicit Vector512/256/128 paths.
/// </summary>
/// <remarks>
/// <para>The method must be <c>static partial</c>, have an access modifier, return <c>void</c> and take
/// <c>(ReadOnlySpan&lt;T&gt; input, Span&lt;T&gt; output, PoolShape shape)</c> with <c>T</c> = <c>float</c> or
/// <c>double</c>. The analyzer (KG0001 onwards) reports anything else.</para>
/// <para>The semantics are PyTorch's <c>max_pool2d</c> / <c>avg_pool2d</c> (padding of at most half the kernel).
/// The per-axis properties (<see cref="KernelHeight"/>, <see cref="StrideWidth"/>, ...) override the square
/// <see cref="Size"/>, <see cref="Stride"/> and <see cref="Padding"/> when they are set.</para>
/// <para>Padding is symmetric unless an end padding is set: <see cref="Padding"/>, <see cref="PaddingHeight"/> and
/// <see cref="PaddingWidth"/> give the beginning (top, left) and, by default, the end too; <see cref="PaddingEnd"/>,
/// <see cref="PaddingHeightEnd"/> and <see cref="PaddingWidthEnd"/> give the end (bottom, right) where it differs, as
/// ONNX's <c>pads</c> (begins, then ends) and <c>auto_pad</c> SAME_UPPER/SAME_LOWER do. Each side keeps the limit of half
/// the kernel.</para>
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class PoolKernelAttribute : Attribute
{
    /// <summary>A square window of <paramref name="size"/> with the same <paramref name="stride"/> on both axes.</summary>
    public PoolKernelAttribute(int size, int stride, PoolMode mode)
    {
        Size = size;
        Stride = stride;
        Mode = mode;
    }

    /// <summary>The window's height and width, unless <see cref="KernelHeight"/> / <see cref="KernelWidth"/> say otherwise.</summary>
    public int Size { get; }

    /// <summary>The step between windows on both axes, unless <see cref="StrideHeight"/> / <see cref="StrideWidth"/> say otherwise.</summary>
    public int Stride { get; }

    /// <summary>Max or average.</summary>
    public PoolMode Mode { get; }

    /// <summary>Implicit padding on every side (PyTorch's <c>padding</c>); 0 by default.</summary>
    public int Padding { get; set; }

    /// <summary>Spacing between window taps (max pooling only, as in PyTorch); 1 by default.</summary>
    public int Dilation { get; set; } = 1;

    /// <summary>PyTorch's <c>ceil_mode</c>: round the output size up, keeping the last window inside the input or the begin padding.</summary>
    public bool CeilMode { get; set; }

    /// <summary>Average only: whether padding cells count in the divisor (PyTorch's default, true).</summary>
    public bool CountIncludePad { get; set; } = true;

    /// <summary>Average only: a constant divisor for every window (PyTorch's <c>divisor_override</c>); 0 means none.</summary>
    public int DivisorOverride { get; set; }

    /// <summary>Channels first (NCHW, the default) or channels last (NHWC).</summary>
    public PoolLayout Layout { get; set; }

    /// <summary>The window's height when it differs from its width; 0 means <see cref="Size"/>.</summary>
    public int KernelHeight { get; set; }

    /// <summary>The window's width when it differs from its height; 0 means <see cref="Size"/>.</summary>
    public int KernelWidth { get; set; }

    /// <summary>The vertical stride when it differs from the horizontal one; 0 means <see cref="Stride"/>.</summary>
    public int StrideHeight { get; set; }

    /// <summary>The horizontal stride when it differs from the vertical one; 0 means <see cref="Stride"/>.</summary>
    public int StrideWidth { get; set; }

    /// <summary>Top and bottom padding when it differs from <see cref="Padding"/>; -1 means <see cref="Padding"/>.</summary>
    public int PaddingHeight { get; set; } = -1;

    /// <summary>Left and right padding when it differs from <see cref="Padding"/>; -1 means <see cref="Padding"/>.</summary>
    public int PaddingWidth { get; set; } = -1;

    /// <summary>
    /// Bottom and right padding when they differ from the top and left (ONNX's end <c>pads</c>); -1, the default, means
    /// each axis ends as it begins. <see cref="PaddingHeightEnd"/> / <see cref="PaddingWidthEnd"/> override it per axis.
    /// </summary>
    public int PaddingEnd { get; set; } = -1;

    /// <summary>Bottom padding when it differs from the top's; -1 means <see cref="PaddingEnd"/>, or the top padding when that is -1 too.</summary>
    public int PaddingHeightEnd { get; set; } = -1;

    /// <summary>Right padding when it differs from the left's; -1 means <see cref="PaddingEnd"/>, or the left padding when that is -1 too.</summary>
    public int PaddingWidthEnd { get; set; } = -1;
}
