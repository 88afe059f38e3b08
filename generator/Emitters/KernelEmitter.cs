using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;
using KernelGen.Shared;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// Writes the members of one kernel class. Subclasses choose the algorithm: channels first, channels last, or a call
/// into the general engine for configurations that are not specialized.
/// </summary>
internal abstract class KernelEmitter
{
    protected KernelEmitter(KernelConfiguration configuration)
    {
        Configuration = configuration;
        T = configuration.ElementType;
    }

    protected KernelConfiguration Configuration { get; }

    /// <summary>The element type's C# keyword.</summary>
    protected string T { get; }

    /// <summary>The emitter for <paramref name="configuration"/>; the general engine when it is not specialized or the project allows no unsafe code.</summary>
    public static KernelEmitter For(KernelConfiguration configuration, bool allowUnsafe = true) =>
        configuration.UnsupportedReason is { } reason ? new GeneralEngineEmitter(configuration, reason, "KG0009")
        : !allowUnsafe ? new GeneralEngineEmitter(configuration, "the project does not allow unsafe code (AllowUnsafeBlocks), which specialized kernels use", "KG0010")
        : configuration.Layout == PoolLayout.ChannelsLast
            ? SeparableMaxChannelsLastEmitter.Applies(configuration) ? new SeparableMaxChannelsLastEmitter(configuration)
                : SlidingAverageChannelsLastEmitter.Applies(configuration) ? new SlidingAverageChannelsLastEmitter(configuration)
                : new ChannelsLastEmitter(configuration)
        : configuration.IsMax && configuration.StrideWidth == 1 ? new SeparableMaxEmitter(configuration)
        : new ChannelsFirstEmitter(configuration);

    /// <summary>Whether the kernel uses pointers, so its class is declared <c>unsafe</c>.</summary>
    public virtual bool RequiresUnsafe => true;

    /// <summary>The lines of the kernel class's &lt;remarks&gt;: how it works, in words.</summary>
    public abstract IEnumerable<string> Remarks();

    public abstract void Emit(SourceWriter writer);

    /// <summary>The module initializer that makes <c>Pooling.Run</c> use this kernel for its configuration.</summary>
    protected void EmitRegistration(SourceWriter writer)
    {
        writer.Line("/// <summary>Registers the kernel so that <c>Pooling.Run</c> uses it for <see cref=\"Descriptor\"/>.</summary>");
        writer.Line("[ModuleInitializer]");
        writer.Line($"internal static void Register() => global::KernelGen.PoolKernelRegistry.Register<{T}>(Descriptor, Run, RunValidated, \"{Configuration.KernelName}\");");
        writer.Line();
        writer.Line("/// <summary>The widest of the kernel's vector paths this machine runs (the JIT keeps that one), or \"Scalar\".</summary>");
        string paths = string.Concat(VectorIsa.All.Select(isa => $"{isa.Condition} ? \"{isa.Vector}\" : "));
        writer.Line($"internal static string VectorPath => {paths}\"Scalar\";");
        writer.Line();
    }

    /// <summary>
    /// Writes the maximum of <paramref name="operands"/> as a balanced tree of <paramref name="max"/> calls, which keeps
    /// dependency chains short; any order gives the same value (only a zero's sign can differ, and every kernel settles
    /// that by adding +0 to its result). Returns the expression that holds the maximum.
    /// </summary>
    protected static string EmitMaxTree(SourceWriter w, string max, IReadOnlyList<string> operands)
    {
        var level = operands.ToList();
        int counter = 0;
        while (level.Count > 1)
        {
            var next = new List<string>();
            for (int i = 0; i + 1 < level.Count; i += 2)
            {
                string variable = $"max{counter++}";
                w.Line($"var {variable} = {max}({level[i]}, {level[i + 1]});");
                next.Add(variable);
            }
            if (level.Count % 2 == 1) next.Add(level[level.Count - 1]);
            level = next;
        }
        return level[0];
    }

    /// <summary>Lanes of the element in one 512-bit vector (16 floats, 8 doubles).</summary>
    protected int Lanes512 => VectorIsa.V512.LaneCount(Configuration.Element);

    /// <summary>
    /// Whether every tap of a window row lies within half a 512-bit vector of the output lane it feeds, so that a
    /// 256-bit last block (<see cref="RegisterRow"/>) reaches each tap with one valign.
    /// </summary>
    protected bool TapsWithinHalfVector =>
        Configuration.PadWidth <= Lanes512 / 2 && Configuration.KernelWidth - 1 - Configuration.PadWidth <= Lanes512 / 2;

    /// <summary>
    /// Declares <c>halfLast</c> in a register path's dispatcher, from <c>blocks</c>, <c>width</c> and <c>outWidth</c>:
    /// whether the row's method with a 256-bit last block (<see cref="RegisterRow"/>) takes the call.
    /// </summary>
    protected void EmitHalfLastTest(SourceWriter w)
    {
        int lanes = Lanes512;
        w.Line($"// Input and output cells of the last vector in its lower {lanes / 2} lanes: that block is a 256-bit half (see RegisterRow).");
        w.Line($"bool halfLast = Math.Max(width, outWidth) <= blocks * {lanes} - {lanes / 2};");
    }

    /// <summary>The lane-mask vector type of the AVX-512 paths, as <c>KernelLanes512.InsideMask32/64</c> return it.</summary>
    protected string Mask512 => Configuration.Element == ElementKind.Float ? "Vector512<int>" : "Vector512<long>";

    /// <summary>The call that reinterprets such a mask as the element's vector, for masked loads and stores.</summary>
    protected string MaskAs => Configuration.Element == ElementKind.Float ? "AsSingle()" : "AsDouble()";

    /// <summary>
    /// Every output row stores the same lanes of each output block, so the AVX-512 register paths compute the store
    /// masks (<c>storeMask0</c>, <c>storeMask1</c>, ...) once per plane rather than per row. Only a call's last
    /// plane uses them (see <see cref="EmitBlockStore"/>).
    /// </summary>
    /// <remarks>With <paramref name="halfLast"/>, the last block is a 256-bit half (see <see cref="VectorIsa.V512Half"/>), and so is its mask.</remarks>
    protected void EmitStoreMasks(SourceWriter w, int outBlocks, bool halfLast = false)
    {
        string first = Configuration.Element == ElementKind.Float ? "FirstLanes32" : "FirstLanes64";
        for (int b = 0; b < outBlocks; b++)
        {
            string half = halfLast && b == outBlocks - 1 ? ".GetLower()" : "";
            w.Line($"var storeMask{b} = KernelLanes512.{first}(outWidth{(b == 0 ? "" : $" - {b * Lanes512}")}){half};");
        }
    }

    /// <summary>
    /// Declares <c>wholePlanes</c>, how many of the call's first planes store whole vectors. A plane's last row stores
    /// <paramref name="spill"/> cells past the plane, which must stay inside the call's output: every plane but the
    /// last when a plane's output holds a vector or more, fewer for tiny planes. The rest store masked.
    /// </summary>
    protected static void EmitWholePlanes(SourceWriter w, string spill)
    {
        w.Line($"long spill = {spill}; // cells the last row's whole-vector stores write past the plane (see IRowStores)");
        w.Line("long wholePlanes = outPlaneSize == 0 ? 0 : planeCount - System.Math.Min(planeCount, (spill + outPlaneSize - 1) / outPlaneSize);");
    }

    /// <summary>
    /// Stores output block <paramref name="b"/> of a row, <paramref name="value"/> (a local), at <paramref name="at"/>:
    /// a whole vector, or masked by <c>storeMask{b}</c> for a call's last plane (see <c>IRowStores</c>). The block is
    /// 512 bits wide unless <paramref name="isa"/> says otherwise.
    /// </summary>
    protected void EmitBlockStore(SourceWriter w, string at, int b, string value, VectorIsa? isa = null)
    {
        w.Line($"if (TStores.Whole) {value}.Store({at});");
        w.Line($"else {(isa ?? VectorIsa.V512).Avx512Class}.MaskStore({at}, storeMask{b}, {value});");
    }

    /// <summary>The maximum of <paramref name="operands"/> as one balanced expression (short dependency chains).</summary>
    protected static string MaxExpression(string max, IReadOnlyList<string> operands)
    {
        if (operands.Count == 1) return operands[0];
        int half = operands.Count / 2;
        return $"{max}({MaxExpression(max, operands.Take(half).ToList())}, {MaxExpression(max, operands.Skip(half).ToList())})";
    }

    /// <summary>
    /// The statement that adds <paramref name="terms"/> to the NaN check's <c>loadedSum</c> of an AVX-512 max path, through
    /// <c>KernelLanes512.Add</c> (the same sum, on the FMA pipes, so the maxima keep the add pipes). The terms are summed
    /// first and the running sum last, so a row's loads wait on one another and not on the previous row.
    /// </summary>
    protected static string AddToNaNCheckSum(IEnumerable<string> terms)
    {
        string sum = terms.Aggregate((total, term) => $"KernelLanes512.Add({total}, {term})");
        return $"if (TMax.NeedsNaNCheck) loadedSum = KernelLanes512.Add({sum}, loadedSum);";
    }

    /// <summary>
    /// Writes the entry point every kernel has, <c>Run</c>, which checks the arguments once, and opens the core it calls,
    /// <c>RunValidated</c> (registered for <c>Pooling.Run</c>, which checks them itself), down to the early return for an
    /// empty batch. The caller writes the rest of the core and disposes the scope.
    /// </summary>
    protected SourceWriter.Scope BeginRun(SourceWriter w)
    {
        string layout = Configuration.Layout == PoolLayout.ChannelsFirst ? "NCHW" : "NHWC";
        w.Line("/// <summary>");
        w.Line($"/// Pools <paramref name=\"input\"/> (shape <paramref name=\"shape\"/>, {layout}) into <paramref name=\"output\"/> on the calling");
        w.Line("/// thread. Every argument is checked here, once; the loops below read and write without bounds checks.");
        w.Line("/// </summary>");
        using (w.Block($"public static void Run(ReadOnlySpan<{T}> input, Span<{T}> output, global::KernelGen.PoolShape shape)"))
        {
            w.Line("KernelArguments.Validate(Descriptor, input, output, shape);");
            w.Line("RunValidated(input, output, shape);");
        }
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// <see cref=\"Run\"/> on arguments <c>KernelArguments.Validate</c> has accepted: <c>Pooling.Run</c> checks them once,");
        w.Line("/// before it splits the work, and calls this on each part.");
        w.Line("/// </summary>");
        var scope = w.Block($"private static void RunValidated(ReadOnlySpan<{T}> input, Span<{T}> output, global::KernelGen.PoolShape shape)");
        w.Line("var outputShape = Descriptor.GetOutputShape(shape);");
        w.Line("if (outputShape.ElementCount == 0) return;");
        if (HandsSmallPlanesToEngine)
        {
            w.Line("// Shapes the general engine pools a plane at a time (narrow rows, small planes) are faster there than here.");
            w.Line($"if (KernelArguments.EngineHasPlanePath<{T}>(Descriptor, shape, outputShape))");
            using (w.Block(""))
            {
                w.Line("KernelArguments.RunEngine(Descriptor, input, output, shape, outputShape);");
                w.Line("return;");
            }
        }
        return scope;
    }

    /// <summary>
    /// Channels-first stride-1 windows that keep the row's width, and large (a max 7 rows tall, an average of 25 taps
    /// or more): where the general engine pools a plane at a time (narrow rows, small planes) it is faster than the
    /// kernel (bench <c>--specialization</c>, bench/notes.md), so the kernel hands it those shapes.
    /// </summary>
    private bool HandsSmallPlanesToEngine
    {
        get
        {
            var c = Configuration;
            bool sameWidth = c.StrideHeight == 1 && c.StrideWidth == 1 && c.Dilation == 1 && !c.CeilMode && c.KernelWidth - 1 == c.PadWidth + c.PadWidthEnd;
            bool large = c.IsMax ? c.KernelHeight >= 7 : c.KernelHeight * c.KernelWidth >= 25;
            return c.Layout == PoolLayout.ChannelsFirst && sameWidth && large;
        }
    }

    /// <summary>
    /// An expression for the average divisor's factor on one axis for a window starting at <paramref name="start"/>:
    /// the cells before the end of the end padding <paramref name="pad"/>, or only those inside the input. (Average pooling has no dilation
    /// under PyTorch's limits, which [PoolKernel] follows, so a window spans <paramref name="kernel"/> cells.)
    /// </summary>
    protected string DivisorFactor(string start, string length, string kernel, string pad) =>
        $"({T}){DivisorCells(start, length, kernel, pad)}";

    /// <summary><see cref="DivisorFactor"/> as an <c>int</c> expression.</summary>
    protected string DivisorCells(string start, string length, string kernel, string pad) =>
        PoolDivisorRule.AxisCellsExpression(start, length, kernel, pad, Configuration.CountIncludePad);

    /// <summary>
    /// The kernel's constant for the bottom padding: <c>PadTop</c> when the axis ends as it begins (so symmetric kernels
    /// read as before), else <c>PadBottom</c> (see <see cref="EmitEndPaddingConstants"/>).
    /// </summary>
    protected string PadBottom => Configuration.PadHeightEnd == Configuration.PadHeight ? "PadTop" : "PadBottom";

    /// <summary>The kernel's constant for the right padding: <c>PadLeft</c>, or <c>PadRight</c> where it differs.</summary>
    protected string PadRight => Configuration.PadWidthEnd == Configuration.PadWidth ? "PadLeft" : "PadRight";

    /// <summary>
    /// Declares <c>PadBottom</c> / <c>PadRight</c> for an axis padded differently at its end, where the kernel reads them:
    /// only divisors that count padding cells do (windows start from the begin padding; the output size is the descriptor's).
    /// </summary>
    protected void EmitEndPaddingConstants(SourceWriter w)
    {
        var c = Configuration;
        if (c.IsMax || !c.CountIncludePad || c.DivisorOverride != 0) return;
        var ends = new List<string>();
        if (PadBottom == "PadBottom") ends.Add($"PadBottom = {c.PadHeightEnd}");
        if (PadRight == "PadRight") ends.Add($"PadRight = {c.PadWidthEnd}");
        if (ends.Count > 0) w.Line($"private const int {string.Join(", ", ends)}; // the end padding, where it differs from the beginning's");
    }

    /// <summary>The reduction's identity: what a padding cell contributes.</summary>
    protected string Identity => Configuration.IsMax ? $"{T}.NegativeInfinity" : Literal(0);

    protected string Literal(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        if (Configuration.Element == ElementKind.Float) return text + "f";
        return text.Contains(".") || text.Contains("E") ? text : text + ".0";
    }

    protected static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The constant divisor every window has, when the configuration guarantees one: an override, or a window that
    /// never touches padding or the ceil-mode overhang. Null when divisors vary at the borders.
    /// </summary>
    protected int? ConstantDivisor
    {
        get
        {
            var c = Configuration;
            if (c.IsMax) return null;
            bool anyWindowLeavesInput = c.PadHeight != 0 || c.PadWidth != 0 || c.PadHeightEnd != 0 || c.PadWidthEnd != 0 || c.CeilMode;
            if (!PoolDivisorRule.IsConstant(c.DivisorOverride, anyWindowLeavesInput)) return null;
            return (int)PoolDivisorRule.Divisor((long)c.KernelHeight * c.KernelWidth, c.DivisorOverride);
        }
    }

    /// <summary>
    /// <c>value / divisor</c> for a constant divisor: a multiplication when the divisor is a power of two, because
    /// then <c>x * (1 / d)</c> is exactly <c>x / d</c> (both are the correctly rounded quotient), and a division
    /// otherwise, as PyTorch computes it.
    /// </summary>
    protected string DivideByConstant(string value, int divisor, string broadcast)
    {
        long magnitude = System.Math.Abs((long)divisor);
        bool powerOfTwo = (magnitude & (magnitude - 1)) == 0;
        string constant = broadcast.Length == 0 ? "{0}" : broadcast + "({0})";
        return powerOfTwo
            ? $"{value} * {string.Format(CultureInfo.InvariantCulture, constant, Literal(1.0 / divisor))}"
            : $"{value} / {string.Format(CultureInfo.InvariantCulture, constant, Literal(divisor))}";
    }
}

/// <summary>
/// A configuration the generator does not specialize, or a project without unsafe code: the method validates and calls
/// the general engine.
/// </summary>
internal sealed class GeneralEngineEmitter(KernelConfiguration configuration, string reason, string diagnosticId) : KernelEmitter(configuration)
{
    public override bool RequiresUnsafe => false;

    public override IEnumerable<string> Remarks()
    {
        yield return $"Not specialized: {reason}. It runs the general engine on the calling";
        yield return $"thread, which gives the same results; the build reported this as {diagnosticId}.";
    }

    public override void Emit(SourceWriter writer)
    {
        writer.Line("/// <summary>Pools <paramref name=\"input\"/> of shape <paramref name=\"shape\"/> into <paramref name=\"output\"/> with the general engine.</summary>");
        using (writer.Block($"public static void Run(ReadOnlySpan<{T}> input, Span<{T}> output, global::KernelGen.PoolShape shape)"))
            writer.Line("global::KernelGen.Pooling.RunGeneral(Descriptor, input, output, shape, maxDegreeOfParallelism: 1);");
    }
}
