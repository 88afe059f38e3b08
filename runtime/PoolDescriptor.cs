using System;
using System.Globalization;
using System.Text;

using KernelGen.Shared;

namespace KernelGen;

/// <summary>
/// An immutable description of one pooling operation: mode, spatial rank, the window on every axis, ceil mode,
/// divisor rules and memory layout. Create one with the factories (<see cref="MaxPool2d(int, int?, int, int, bool, PoolLayout)"/>,
/// <see cref="AvgPool2d(int, int?, int, bool, bool, int?, PoolLayout)"/>, <see cref="FromOnnx"/>, ...) and run it with
/// <see cref="Pooling.Run(in PoolDescriptor, ReadOnlySpan{float}, Span{float}, PoolShape, int)"/>.
/// </summary>
/// <remarks>
/// Everything that does not depend on the input size is validated when the descriptor is made; the output size is
/// checked against each input shape. The semantics (output size, ceil mode, divisors, NaN) are written down in
/// docs/semantics.md.
/// </remarks>
public readonly struct PoolDescriptor : IEquatable<PoolDescriptor>
{
    // The window is always held as three axes (depth, height, width); the axes a lower rank lacks are identities,
    // so the engine has one code path for every rank.
    private readonly PoolAxis _depth;
    private readonly PoolAxis _height;
    private readonly PoolAxis _width;

    private PoolDescriptor(
        PoolMode mode, int spatialRank, PoolAxis depth, PoolAxis height, PoolAxis width, bool ceilMode,
        bool countIncludePad, int divisorOverride, PoolLayout layout, PoolConvention convention)
    {
        Mode = mode;
        SpatialRank = spatialRank;
        _depth = depth;
        _height = height;
        _width = width;
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
        DivisorOverride = divisorOverride;
        Layout = layout;
        Convention = convention;
    }

    /// <summary>Max or average.</summary>
    public PoolMode Mode { get; }

    /// <summary>1, 2 or 3.</summary>
    public int SpatialRank { get; }

    /// <summary>Whether output sizes round up (PyTorch's and ONNX's <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; }

    /// <summary>Average only: whether padding cells count in the divisor.</summary>
    public bool CountIncludePad { get; }

    /// <summary>Average only: the constant divisor of every window, or 0 when the divisor follows the window.</summary>
    public int DivisorOverride { get; }

    /// <summary>Channels first (NCHW) or channels last (NHWC).</summary>
    public PoolLayout Layout { get; }

    /// <summary>Whose parameter limits were enforced when this descriptor was made.</summary>
    public PoolConvention Convention { get; }

    /// <summary>The window along spatial axis <paramref name="axis"/> (0 is the first spatial axis of this rank).</summary>
    public PoolAxis GetAxis(int axis)
    {
        if ((uint)axis >= (uint)SpatialRank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"The descriptor has {SpatialRank} spatial axes.");
        return GetAxis3(3 - SpatialRank + axis);
    }

    /// <summary>Axis 0 = depth, 1 = height, 2 = width; identities below the rank.</summary>
    internal PoolAxis GetAxis3(int axis3) => axis3 == 0 ? _depth : axis3 == 1 ? _height : _width;

    /// <summary>A copy of this descriptor with another memory layout.</summary>
    public PoolDescriptor WithLayout(PoolLayout layout)
    {
        ValidateLayout(layout);
        return new(Mode, SpatialRank, _depth, _height, _width, CeilMode, CountIncludePad, DivisorOverride, layout, Convention);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Factories in the shape of torch.nn.MaxPoolNd / AvgPoolNd (PyTorch's defaults and limits).
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>PyTorch's <c>max_pool1d</c>. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor MaxPool1d(int kernel, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false, PoolLayout layout = PoolLayout.ChannelsFirst) =>
        Create(PoolMode.Max, [Torch(kernel, stride, padding, dilation)], ceilMode, true, null, layout, PoolConvention.PyTorch, ParameterNames.Torch);

    /// <summary>PyTorch's <c>max_pool2d</c> with a square window. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor MaxPool2d(int kernel, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false, PoolLayout layout = PoolLayout.ChannelsFirst) =>
        Create(PoolMode.Max, [Torch(kernel, stride, padding, dilation), Torch(kernel, stride, padding, dilation)], ceilMode, true, null, layout, PoolConvention.PyTorch, ParameterNames.Torch);

    /// <summary>PyTorch's <c>max_pool2d</c> with per-axis (height, width) values. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor MaxPool2d((int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default, (int Height, int Width)? dilation = null, bool ceilMode = false, PoolLayout layout = PoolLayout.ChannelsFirst) =>
        Create(PoolMode.Max,
            [Torch(kernel.Height, stride?.Height, padding.Height, dilation?.Height ?? 1), Torch(kernel.Width, stride?.Width, padding.Width, dilation?.Width ?? 1)],
            ceilMode, true, null, layout, PoolConvention.PyTorch, ParameterNames.Torch);

    /// <summary>PyTorch's <c>max_pool3d</c> with a cubic window. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor MaxPool3d(int kernel, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false, PoolLayout layout = PoolLayout.ChannelsFirst)
    {
        var axis = Torch(kernel, stride, padding, dilation);
        return Create(PoolMode.Max, [axis, axis, axis], ceilMode, true, null, layout, PoolConvention.PyTorch, ParameterNames.Torch);
    }

    /// <summary>PyTorch's <c>max_pool3d</c> with per-axis (depth, height, width) values. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor MaxPool3d((int Depth, int Height, int Width) kernel, (int Depth, int Height, int Width)? stride = null, (int Depth, int Height, int Width) padding = default, (int Depth, int Height, int Width)? dilation = null, bool ceilMode = false, PoolLayout layout = PoolLayout.ChannelsFirst) =>
        Create(PoolMode.Max,
            [Torch(kernel.Depth, stride?.Depth, padding.Depth, dilation?.Depth ?? 1), Torch(kernel.Height, stride?.Height, padding.Height, dilation?.Height ?? 1), Torch(kernel.Width, stride?.Width, padding.Width, dilation?.Width ?? 1)],
            ceilMode, true, null, layout, PoolConvention.PyTorch, ParameterNames.Torch);

    /// <summary>PyTorch's <c>avg_pool1d</c>. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor AvgPool1d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, PoolLayout layout = PoolLayout.ChannelsFirst) =>
        Create(PoolMode.Average, [Torch(kernel, stride, padding, 1)], ceilMode, countIncludePad, null, layout, PoolConvention.PyTorch, ParameterNames.Torch);

    /// <summary>PyTorch's <c>avg_pool2d</c> with a square window. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor AvgPool2d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null, PoolLayout layout = PoolLayout.ChannelsFirst) =>
        Create(PoolMode.Average, [Torch(kernel, stride, padding, 1), Torch(kernel, stride, padding, 1)], ceilMode, countIncludePad, divisorOverride, layout, PoolConvention.PyTorch, ParameterNames.Torch);

    /// <summary>PyTorch's <c>avg_pool2d</c> with per-axis (height, width) values. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor AvgPool2d((int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null, PoolLayout layout = PoolLayout.ChannelsFirst) =>
        Create(PoolMode.Average,
            [Torch(kernel.Height, stride?.Height, padding.Height, 1), Torch(kernel.Width, stride?.Width, padding.Width, 1)],
            ceilMode, countIncludePad, divisorOverride, layout, PoolConvention.PyTorch, ParameterNames.Torch);

    /// <summary>PyTorch's <c>avg_pool3d</c> with a cubic window. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor AvgPool3d(int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null, PoolLayout layout = PoolLayout.ChannelsFirst)
    {
        var axis = Torch(kernel, stride, padding, 1);
        return Create(PoolMode.Average, [axis, axis, axis], ceilMode, countIncludePad, divisorOverride, layout, PoolConvention.PyTorch, ParameterNames.Torch);
    }

    /// <summary>PyTorch's <c>avg_pool3d</c> with per-axis (depth, height, width) values. <paramref name="stride"/> defaults to the kernel.</summary>
    public static PoolDescriptor AvgPool3d((int Depth, int Height, int Width) kernel, (int Depth, int Height, int Width)? stride = null, (int Depth, int Height, int Width) padding = default, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null, PoolLayout layout = PoolLayout.ChannelsFirst) =>
        Create(PoolMode.Average,
            [Torch(kernel.Depth, stride?.Depth, padding.Depth, 1), Torch(kernel.Height, stride?.Height, padding.Height, 1), Torch(kernel.Width, stride?.Width, padding.Width, 1)],
            ceilMode, countIncludePad, divisorOverride, layout, PoolConvention.PyTorch, ParameterNames.Torch);

    private static PoolAxis Torch(int kernel, int? stride, int padding, int dilation) =>
        new(kernel, stride ?? kernel, padding, padding, dilation);

    // ---------------------------------------------------------------------------------------------------------
    // General and ONNX factories.
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Any supported pooling: one <see cref="PoolAxis"/> per spatial axis (1 to 3, outermost first), begin and end
    /// padding of their own.
    /// </summary>
    /// <param name="mode">Max or average.</param>
    /// <param name="axes">The window per spatial axis, outermost (depth or height) first.</param>
    /// <param name="ceilMode">Round output sizes up.</param>
    /// <param name="countIncludePad">Average only: padding cells count in the divisor.</param>
    /// <param name="divisorOverride">Average only: one constant divisor (not 0), or null.</param>
    /// <param name="layout">Channels first or last.</param>
    /// <param name="convention">Whose limits to enforce; see <see cref="PoolConvention"/>.</param>
    public static PoolDescriptor Create(
        PoolMode mode, ReadOnlySpan<PoolAxis> axes, bool ceilMode = false, bool countIncludePad = true,
        int? divisorOverride = null, PoolLayout layout = PoolLayout.ChannelsFirst, PoolConvention convention = PoolConvention.Onnx) =>
        Create(mode, axes, ceilMode, countIncludePad, divisorOverride, layout, convention, ParameterNames.Axes);

    /// <summary>Which parameters of the public method that was called hold the window values, for error messages.</summary>
    private enum ParameterNames { Torch, Axes, Onnx }

    private static string NameOf(ParameterNames names, string torchName, string onnxName) =>
        names switch { ParameterNames.Torch => torchName, ParameterNames.Onnx => onnxName, _ => "axes" };

    private static PoolDescriptor Create(
        PoolMode mode, ReadOnlySpan<PoolAxis> axes, bool ceilMode, bool countIncludePad,
        int? divisorOverride, PoolLayout layout, PoolConvention convention, ParameterNames names)
    {
        if (mode is not (PoolMode.Max or PoolMode.Average))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "The pooling mode must be Max or Average.");
        if (axes.Length is < 1 or > 3)
            throw new ArgumentOutOfRangeException(nameof(axes), axes.Length, "Pooling needs 1, 2 or 3 spatial axes.");
        ValidateLayout(layout);
        if (convention is not (PoolConvention.PyTorch or PoolConvention.Onnx))
            throw new ArgumentOutOfRangeException(nameof(convention), convention, "The convention must be PyTorch or Onnx.");

        foreach (var axis in axes)
            ValidateAxis(axis, axes, mode, convention, names);

        if (divisorOverride is { } divisor)
        {
            if (mode != PoolMode.Average)
                throw new ArgumentException($"divisorOverride ({divisor}) applies to average pooling only, not {mode}.", nameof(divisorOverride));
            if (divisor == 0)
                throw new ArgumentOutOfRangeException(nameof(divisorOverride), divisor, "divisorOverride must not be zero.");
        }

        var d = axes.Length == 3 ? axes[0] : PoolAxis.Identity;
        var h = axes.Length >= 2 ? axes[^2] : PoolAxis.Identity;
        var w = axes[^1];
        return new(mode, axes.Length, d, h, w, ceilMode, mode == PoolMode.Average && countIncludePad,
            divisorOverride ?? 0, layout, convention);
    }

    /// <summary>
    /// ONNX's <c>MaxPool</c> / <c>AveragePool</c> node attributes. With <paramref name="autoPad"/> SAME_UPPER or
    /// SAME_LOWER the padding depends on the input, so <paramref name="inputShape"/> is required and the descriptor
    /// holds the explicit pads resolved for it.
    /// </summary>
    /// <param name="mode">Max (MaxPool) or average (AveragePool).</param>
    /// <param name="kernelShape"><c>kernel_shape</c>: one entry per spatial axis.</param>
    /// <param name="strides"><c>strides</c>; empty means 1 on every axis (ONNX's default).</param>
    /// <param name="pads"><c>pads</c>: all begin values then all end values; empty means no padding.</param>
    /// <param name="dilations"><c>dilations</c>; empty means 1.</param>
    /// <param name="autoPad"><c>auto_pad</c>.</param>
    /// <param name="ceilMode"><c>ceil_mode</c>.</param>
    /// <param name="countIncludePad"><c>count_include_pad</c> (AveragePool; ONNX's default is false).</param>
    /// <param name="inputShape">The input the SAME modes are resolved for.</param>
    /// <param name="layout">Channels first (ONNX's own layout) or last.</param>
    public static PoolDescriptor FromOnnx(
        PoolMode mode, ReadOnlySpan<int> kernelShape, ReadOnlySpan<int> strides = default, ReadOnlySpan<int> pads = default,
        ReadOnlySpan<int> dilations = default, OnnxAutoPad autoPad = OnnxAutoPad.NotSet, bool ceilMode = false,
        bool countIncludePad = false, PoolShape? inputShape = null, PoolLayout layout = PoolLayout.ChannelsFirst)
    {
        int rank = kernelShape.Length;
        if (rank is < 1 or > 3)
            throw new ArgumentOutOfRangeException(nameof(kernelShape), rank, "kernel_shape needs 1, 2 or 3 entries.");
        CheckLength(strides, rank, nameof(strides));
        CheckLength(dilations, rank, nameof(dilations));
        if (!pads.IsEmpty && pads.Length != 2 * rank)
            throw new ArgumentException($"pads has {pads.Length} entries; ONNX needs 2 * {rank} (all begins, then all ends) or none.", nameof(pads));
        if (autoPad is not (OnnxAutoPad.NotSet or OnnxAutoPad.SameUpper or OnnxAutoPad.SameLower or OnnxAutoPad.Valid))
            throw new ArgumentOutOfRangeException(nameof(autoPad), autoPad, "Unknown auto_pad value.");
        if (autoPad != OnnxAutoPad.NotSet && !pads.IsEmpty)
            throw new ArgumentException($"pads and auto_pad ({autoPad}) cannot both be given (ONNX forbids it).", nameof(pads));

        bool same = autoPad is OnnxAutoPad.SameUpper or OnnxAutoPad.SameLower;
        if (same)
        {
            if (inputShape is not { } resolved)
                throw new ArgumentNullException(nameof(inputShape), $"auto_pad {autoPad} resolves padding from the input size; pass the input shape.");
            if (resolved.SpatialRank != rank)
                throw new ArgumentException($"inputShape {resolved} has {resolved.SpatialRank} spatial axes, kernel_shape has {rank}.", nameof(inputShape));
        }

        Span<PoolAxis> axes = stackalloc PoolAxis[rank];
        for (int i = 0; i < rank; i++)
        {
            int kernel = kernelShape[i];
            int stride = strides.IsEmpty ? 1 : strides[i];
            int dilation = dilations.IsEmpty ? 1 : dilations[i];
            int begin = pads.IsEmpty ? 0 : pads[i];
            int end = pads.IsEmpty ? 0 : pads[rank + i];
            if (same && kernel >= 1 && stride >= 1 && dilation >= 1)
                (begin, end) = SamePadding(inputShape!.Value.GetSpatialSize(i), kernel, stride, dilation, autoPad == OnnxAutoPad.SameUpper, i);
            axes[i] = new PoolAxis(kernel, stride, begin, end, dilation);
        }
        return Create(mode, axes, ceilMode, countIncludePad, null, layout, PoolConvention.Onnx, ParameterNames.Onnx);
    }

    /// <summary>
    /// ONNX SAME padding: output ceil(L / s), total padding spread with the odd cell at the end (upper) or beginning.
    /// Computed in 64 bits; a pad beyond the range of <see cref="PoolAxis"/> (an effective kernel past 2^32) is rejected.
    /// </summary>
    private static (int Begin, int End) SamePadding(int length, int kernel, int stride, int dilation, bool upper, int axis)
    {
        long output = (length + (long)stride - 1) / stride;
        long effective = (long)(kernel - 1) * dilation + 1;
        long total = Math.Max(0, (output - 1) * stride + effective - length);
        long small = total / 2, large = total - small;
        if (large > int.MaxValue)
            throw new ArgumentOutOfRangeException(dilation > 1 ? "dilations" : "kernelShape", large,
                $"auto_pad SAME needs padding {small}/{large} on spatial axis {axis} (kernel {kernel}, dilation {dilation}, stride {stride}, input {length}); a pad must fit in 32 bits.");
        return upper ? ((int)small, (int)large) : ((int)large, (int)small);
    }

    private static void CheckLength(ReadOnlySpan<int> values, int rank, string name)
    {
        if (!values.IsEmpty && values.Length != rank)
            throw new ArgumentException($"{name} has {values.Length} entries; kernel_shape has {rank}.", name);
    }

    private static void ValidateLayout(PoolLayout layout)
    {
        if (layout is not (PoolLayout.ChannelsFirst or PoolLayout.ChannelsLast))
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "The layout must be ChannelsFirst or ChannelsLast.");
    }

    private static void ValidateAxis(PoolAxis axis, ReadOnlySpan<PoolAxis> axes, PoolMode mode, PoolConvention convention, ParameterNames names)
    {
        var problems = PoolAxisRule.Check(axis.Kernel, axis.Stride, axis.PadBegin, axis.PadEnd, axis.Dilation,
            isAverage: mode == PoolMode.Average, pyTorchLimits: convention == PoolConvention.PyTorch);
        if (problems == AxisProblems.None) return;

        // Messages quote every axis; they are built only when a check fails, so a valid descriptor allocates nothing.
        // The first problem in AxisProblems' order is reported.
        string kernel = NameOf(names, "kernel", "kernelShape"), stride = NameOf(names, "stride", "strides");
        string padding = NameOf(names, "padding", "pads"), dilation = NameOf(names, "dilation", "dilations");
        if (Has(problems, AxisProblems.KernelBelowOne))
            throw new ArgumentOutOfRangeException(kernel, axis.Kernel, $"Every kernel size must be at least 1; got kernel {Describe(axes)}.");
        if (Has(problems, AxisProblems.StrideBelowOne))
            throw new ArgumentOutOfRangeException(stride, axis.Stride, $"Every stride must be at least 1; got stride {Describe(axes)}.");
        if (Has(problems, AxisProblems.DilationBelowOne))
            throw new ArgumentOutOfRangeException(dilation, axis.Dilation, $"Every dilation must be at least 1; got dilation {Describe(axes)}.");
        if (Has(problems, AxisProblems.NegativePadding))
            throw new ArgumentOutOfRangeException(padding, Math.Min(axis.PadBegin, axis.PadEnd), $"Padding must not be negative; got padding {Describe(axes)}.");
        long effective = PoolAxisRule.EffectiveKernel(axis.Kernel, axis.Dilation);
        if (Has(problems, AxisProblems.PaddingNotBelowEffectiveKernel))
            throw new ArgumentOutOfRangeException(padding, Math.Max(axis.PadBegin, axis.PadEnd),
                $"Padding must be smaller than the effective kernel (k - 1) * d + 1 = {effective} (kernel {axis.Kernel}, dilation {axis.Dilation}); got padding {Describe(axes)}.");
        if (Has(problems, AxisProblems.AsymmetricPadding))
            throw new ArgumentException($"PyTorch pads both sides of an axis equally; got begin {axis.PadBegin} and end {axis.PadEnd} ({Describe(axes)}). Use the ONNX convention for asymmetric padding.", padding);
        if (Has(problems, AxisProblems.PaddingOverHalfKernel))
            throw new ArgumentOutOfRangeException(padding, axis.PadBegin,
                $"PyTorch requires padding at most half the kernel: padding {axis.PadBegin} > {axis.Kernel} / 2 ({Describe(axes)}).");
        throw new ArgumentOutOfRangeException(dilation, axis.Dilation, $"PyTorch's average pooling has no dilation; got dilation {axis.Dilation}. Use the ONNX convention for dilated average pooling.");
    }

    private static bool Has(AxisProblems problems, AxisProblems problem) => (problems & problem) != 0;

    private static string Describe(ReadOnlySpan<PoolAxis> axes)
    {
        var text = new StringBuilder();
        for (int i = 0; i < axes.Length; i++)
        {
            var a = axes[i];
            text.Append(i == 0 ? "[" : ", ")
                .Append(CultureInfo.InvariantCulture, $"k={a.Kernel} s={a.Stride} pad={a.PadBegin}/{a.PadEnd} d={a.Dilation}");
        }
        return text.Append(']').ToString();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Output size.
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>
    /// The output shape for <paramref name="inputShape"/>: same batch and channels, each spatial size
    /// <c>floor((L + pb + pe - keff + (ceil ? s - 1 : 0)) / s) + 1</c>, less one under ceil mode when the last window
    /// would start past the input and its begin padding.
    /// </summary>
    /// <exception cref="ArgumentException">The rank differs, or an output size is below 1, or PyTorch's 3-d average
    /// pooling would reject the input.</exception>
    public PoolShape GetOutputShape(PoolShape inputShape) => GetOutputShape(inputShape, nameof(inputShape));

    /// <summary><see cref="GetOutputShape(PoolShape)"/> with the caller's name for the shape in its errors.</summary>
    internal PoolShape GetOutputShape(PoolShape inputShape, string shapeParameter)
    {
        EnsureCreated();
        if (inputShape.SpatialRank != SpatialRank)
            throw new ArgumentException(
                inputShape.SpatialRank == 0
                    ? "The input shape is default(PoolShape); construct it with its sizes."
                    : $"The input shape {inputShape} has {inputShape.SpatialRank} spatial axes; the descriptor has {SpatialRank}.",
                shapeParameter);

        Span<int> sizes = stackalloc int[3];
        for (int axis3 = 0; axis3 < 3; axis3++)
        {
            var axis = GetAxis3(axis3);
            int length = inputShape.GetAxis3(axis3);
            if (Convention == PoolConvention.PyTorch && SpatialRank == 3 && Mode == PoolMode.Average && length < axis.Kernel)
                throw new ArgumentException(
                    $"PyTorch's avg_pool3d rejects an input axis shorter than the kernel: input {inputShape} is smaller than the kernel ({_depth.Kernel}x{_height.Kernel}x{_width.Kernel}).",
                    shapeParameter);
            long size = OutputSize(length, axis, CeilMode);
            if (size < 1)
                throw new ArgumentException(
                    $"The input {inputShape} is too small for this pooling: the output would have size {size} on spatial axis {axis3 - (3 - SpatialRank)} (input {length}, kernel {axis.Kernel}, stride {axis.Stride}, padding {axis.PadBegin}/{axis.PadEnd}, dilation {axis.Dilation}, ceil mode {CeilMode}).",
                    shapeParameter);
            if (size > int.MaxValue)
                throw new ArgumentException(
                    $"The output of {inputShape} would have size {size} on spatial axis {axis3 - (3 - SpatialRank)}, more than a PoolShape holds ({int.MaxValue}) (input {length}, kernel {axis.Kernel}, stride {axis.Stride}, padding {axis.PadBegin}/{axis.PadEnd}, dilation {axis.Dilation}, ceil mode {CeilMode}).",
                    shapeParameter);
            sizes[axis3] = (int)size;
        }
        return inputShape.WithSpatial(sizes[0], sizes[1], sizes[2]);
    }

    /// <summary>The output size along one axis, in 64-bit integers; may be 0 or negative for an input too small.</summary>
    internal static long OutputSize(long length, PoolAxis axis, bool ceilMode)
    {
        long stride = axis.Stride;
        long numerator = length + axis.PadBegin + axis.PadEnd - ((long)(axis.Kernel - 1) * axis.Dilation + 1) + (ceilMode ? stride - 1 : 0);
        long output = FloorDivide(numerator, stride) + 1;
        if (ceilMode && (output - 1) * stride >= length + axis.PadBegin)
            output--;
        return output;
    }

    // C# division truncates toward zero; the formula needs floor for the negative numerators of too-small inputs.
    private static long FloorDivide(long numerator, long denominator)
    {
        long quotient = Math.DivRem(numerator, denominator, out long remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }

    private void EnsureCreated()
    {
        if (SpatialRank == 0)
            throw new InvalidOperationException("This PoolDescriptor is default; create one with a factory such as PoolDescriptor.MaxPool2d.");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Equality (descriptors key the registry of specialized kernels) and text.
    // ---------------------------------------------------------------------------------------------------------

    /// <inheritdoc/>
    public bool Equals(PoolDescriptor other) =>
        Mode == other.Mode && SpatialRank == other.SpatialRank && _depth == other._depth && _height == other._height &&
        _width == other._width && CeilMode == other.CeilMode && CountIncludePad == other.CountIncludePad &&
        DivisorOverride == other.DivisorOverride && Layout == other.Layout;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PoolDescriptor other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(Mode, SpatialRank, _depth, _height, _width, CeilMode, CountIncludePad, HashCode.Combine(DivisorOverride, Layout));

    /// <summary>Compares two descriptors (the convention that validated them is not part of the operation).</summary>
    public static bool operator ==(PoolDescriptor left, PoolDescriptor right) => left.Equals(right);

    /// <summary>Compares two descriptors.</summary>
    public static bool operator !=(PoolDescriptor left, PoolDescriptor right) => !left.Equals(right);

    /// <summary>For example <c>Max2d k=3x3 s=2x2 pad=1/1,1/1 d=1x1 ChannelsFirst</c>.</summary>
    public override string ToString()
    {
        if (SpatialRank == 0) return "(default PoolDescriptor)";
        var text = new StringBuilder();
        text.Append(Mode).Append(SpatialRank).Append("d k=");
        Join(text, a => a.Kernel.ToString(CultureInfo.InvariantCulture), "x");
        text.Append(" s=");
        Join(text, a => a.Stride.ToString(CultureInfo.InvariantCulture), "x");
        text.Append(" pad=");
        Join(text, a => $"{a.PadBegin}/{a.PadEnd}", ",");
        text.Append(" d=");
        Join(text, a => a.Dilation.ToString(CultureInfo.InvariantCulture), "x");
        if (CeilMode) text.Append(" ceil");
        if (Mode == PoolMode.Average) text.Append(CountIncludePad ? " include-pad" : " exclude-pad");
        if (DivisorOverride != 0) text.Append(CultureInfo.InvariantCulture, $" divisor={DivisorOverride}");
        return text.Append(' ').Append(Layout).ToString();
    }

    private void Join(StringBuilder text, Func<PoolAxis, string> part, string separator)
    {
        for (int i = 0; i < SpatialRank; i++)
        {
            if (i > 0) text.Append(separator);
            text.Append(part(GetAxis(i)));
        }
    }
}
