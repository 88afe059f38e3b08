using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using KernelGen.Testing.Onnx;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using Xunit.Abstractions;
using KernelGen.Testing;

namespace KernelGen.Tests;

/// <summary>
/// KernelGen against ONNX Runtime 1.31 (CPU, MLAS) on random ONNX-only configurations: asymmetric begin/end pads,
/// dilation in max and average, ceil_mode, count_include_pad, auto_pad, float and double. Each model is a single
/// pooling node built in memory (<see cref="OnnxModelBuilder"/>), run with ORT allocating the output so that ORT's own
/// output shape is compared with <see cref="PoolDescriptor.GetOutputShape"/> too.
/// </summary>
public sealed class OnnxRuntimeDifferentialTests(ITestOutputHelper log)
{
    private const int ExplicitConfigs = 250; // per element type
    private const int AutoPadConfigs = 100;  // per element type
    private const int GlobalConfigs = 40;    // per operator (float only)

    // ---------------------------------------------------------------------------------------------------------
    // Random configurations.
    // ---------------------------------------------------------------------------------------------------------

    [Fact]
    [Trait("Category", "Kernel")]
    public void ExplicitPads_Float() => RunRandom<float>(seed: 1001, ExplicitConfigs, autoPad: false);

    [Fact]
    [Trait("Category", "Kernel")]
    public void ExplicitPads_Double() => RunRandom<double>(seed: 1002, ExplicitConfigs, autoPad: false);

    [Fact]
    [Trait("Category", "Kernel")]
    public void AutoPad_Float() => RunRandom<float>(seed: 2001, AutoPadConfigs, autoPad: true);

    [Fact]
    [Trait("Category", "Kernel")]
    public void AutoPad_Double() => RunRandom<double>(seed: 2002, AutoPadConfigs, autoPad: true);

    [Fact]
    [Trait("Category", "Kernel")]
    public void GlobalPooling_Float() => RunGlobal<float>(seed: 3001);


    private sealed class Tally
    {
        public int Configs, Compared, Cells, AllPaddingCells, NaNWindowCells, OrtDroppedNaN, TooSmallBothReject,
            TooSmallOrtEmpty, TooSmallOrtTruncated, SameOutsideOrtRules, SameOutsideOrtRulesRejected, OrtLowestForNegativeInfinity;
        public readonly Dictionary<string, int> OrtAllPaddingValues = [];
        public readonly List<string> Notes = [];
        public readonly List<string> Failures = [];

        public void Fail(string message)
        {
            if (Failures.Count < 20) Failures.Add(message);
            else if (Failures.Count == 20) Failures.Add("(more failures left out)");
        }

        public void Note(string message)
        {
            if (Notes.Count < 6) Notes.Add(message);
        }
    }

    private void RunRandom<T>(int seed, int count, bool autoPad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var tally = new Tally();
        // ORT 1.31's CPU provider has AveragePool for float only (see OrtHasNoDoubleAverageOrGlobalPool): double runs MaxPool.
        bool averageToo = typeof(T) == typeof(float);
        for (int i = 0; i < count; i++)
        {
            var (spec, inputShape) = autoPad ? RandomAutoPadConfig(random, averageToo) : RandomExplicitConfig(random, averageToo);
            tally.Configs++;
            RunOne<T>(spec, inputShape, random, tally);
        }

        log.WriteLine($"{typeof(T).Name}, {(autoPad ? "auto_pad" : "explicit pads")}, seed {seed}: {tally.Configs} configurations, " +
            $"{tally.Compared} compared cell by cell ({tally.Cells} output cells).");
        log.WriteLine($"  input too small for the window (KernelGen rejects): {tally.TooSmallBothReject} ORT rejects too, " +
            $"{tally.TooSmallOrtEmpty} ORT returns an empty tensor, {tally.TooSmallOrtTruncated} ORT returns windows that do not fit (truncated division).");
        if (autoPad)
            log.WriteLine($"  SAME_* where ORT departs from the ONNX formula (dilation > 1 or negative padding): {tally.SameOutsideOrtRules} " +
                $"({tally.SameOutsideOrtRulesRejected} rejected by ORT); KernelGen checked against the spec's ceil(L / s) only.");
        log.WriteLine($"  max windows holding a NaN: {tally.NaNWindowCells} (KernelGen NaN; ORT dropped the NaN in {tally.OrtDroppedNaN}).");
        log.WriteLine($"  max windows whose maximum is -inf (KernelGen -inf, ORT the lowest finite value): {tally.OrtLowestForNegativeInfinity}.");
        log.WriteLine($"  windows made only of padding: {tally.AllPaddingCells}.");
        foreach (var (value, n) in tally.OrtAllPaddingValues.OrderBy(p => p.Key, StringComparer.Ordinal))
            log.WriteLine($"    ORT there: {value} x{n}");
        foreach (string note in tally.Notes) log.WriteLine("  e.g. " + note);
        Assert.True(tally.Failures.Count == 0, string.Join(Environment.NewLine, tally.Failures));
    }

    private static (OnnxPoolSpec Spec, long[] InputShape) RandomExplicitConfig(Random random, bool averageToo)
    {
        int rank = random.Next(1, 4);
        var op = averageToo && random.Next(2) == 0 ? OnnxPoolOp.AveragePool : OnnxPoolOp.MaxPool;
        int[] kernel = new int[rank], strides = new int[rank], dilations = new int[rank], pads = new int[2 * rank];
        long[] shape = new long[2 + rank];
        shape[0] = random.Next(1, 3);
        shape[1] = random.Next(1, 4);
        for (int a = 0; a < rank; a++)
        {
            kernel[a] = random.Next(1, rank == 3 ? 4 : 6);
            strides[a] = random.Next(1, 4);
            dilations[a] = random.Next(2) == 0 ? random.Next(2, 4) : 1;
            // ORT requires pad < kernel (not the effective kernel): stay within that.
            pads[a] = random.Next(kernel[a]);
            pads[rank + a] = random.Next(kernel[a]);
            shape[2 + a] = random.Next(1, rank == 3 ? 7 : 12);
        }
        var spec = new OnnxPoolSpec(op, kernel, strides, pads, dilations, AutoPad: null,
            CeilMode: random.Next(2) == 0, CountIncludePad: random.Next(2) == 0);
        return (spec, shape);
    }

    private static (OnnxPoolSpec Spec, long[] InputShape) RandomAutoPadConfig(Random random, bool averageToo)
    {
        int rank = random.Next(1, 4);
        var op = averageToo && random.Next(2) == 0 ? OnnxPoolOp.AveragePool : OnnxPoolOp.MaxPool;
        string autoPad = random.Next(3) switch { 0 => "SAME_UPPER", 1 => "SAME_LOWER", _ => "VALID" };
        int[] kernel = new int[rank], strides = new int[rank], dilations = new int[rank];
        long[] shape = new long[2 + rank];
        shape[0] = random.Next(1, 3);
        shape[1] = random.Next(1, 4);
        for (int a = 0; a < rank; a++)
        {
            kernel[a] = random.Next(1, rank == 3 ? 4 : 6);
            strides[a] = random.Next(1, 4);
            dilations[a] = random.Next(4) == 0 ? random.Next(2, 4) : 1;
            shape[2 + a] = random.Next(1, rank == 3 ? 7 : 12);
        }
        var spec = new OnnxPoolSpec(op, kernel, strides, Pads: null, dilations, autoPad,
            CeilMode: random.Next(2) == 0, CountIncludePad: random.Next(2) == 0);
        return (spec, shape);
    }

    /// <summary>
    /// Whether ORT 1.31 resolves this SAME_* configuration as the ONNX spec says. ORT computes the SAME padding as
    /// <c>(ceil(L / s) - 1) * s + k - L</c>, with the kernel instead of the effective kernel and without clamping at 0
    /// (see <see cref="OrtQuirk_SamePaddingIgnoresDilation"/> and <see cref="OrtQuirk_SameNegativePadding"/>).
    /// </summary>
    private static bool OrtFollowsSameSpec(OnnxPoolSpec spec, long[] dims)
    {
        if (spec.AutoPad is not ("SAME_UPPER" or "SAME_LOWER")) return true;
        for (int a = 0; a < spec.KernelShape!.Length; a++)
        {
            long length = dims[2 + a], stride = spec.Strides![a];
            if (spec.Dilations![a] != 1) return false;
            if (((length + stride - 1) / stride - 1) * stride + spec.KernelShape[a] - length < 0) return false;
        }
        return true;
    }

    private static void RunOne<T>(OnnxPoolSpec spec, long[] inputDims, Random random, Tally tally)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = OnnxPoolRunner<T>.ToPoolShape(inputDims);
        string config = $"{typeof(T).Name} {spec} input {shape}";
        bool max = spec.Op == OnnxPoolOp.MaxPool;
        var input = RandomInput.Uniform<T>(random, (int)shape.ElementCount, withSpecials: max);

        PoolDescriptor descriptor;
        PoolShape outputShape;
        try
        {
            descriptor = spec.ToDescriptor(shape);
        }
        catch (ArgumentException e)
        {
            tally.Fail($"{config}: KernelGen rejects the descriptor, generated within ORT's limits: {e.Message}");
            return;
        }
        try
        {
            outputShape = descriptor.GetOutputShape(shape);
        }
        catch (ArgumentException)
        {
            ClassifyTooSmall(spec, input, inputDims, descriptor, config, tally);
            return;
        }

        if (!OrtFollowsSameSpec(spec, inputDims))
        {
            // ORT departs from the spec here: check KernelGen against the spec's output size, count what ORT does.
            tally.SameOutsideOrtRules++;
            for (int a = 0; a < descriptor.SpatialRank; a++)
            {
                long expectedSize = (inputDims[2 + a] + spec.Strides![a] - 1) / spec.Strides[a];
                if (outputShape.GetSpatialSize(a) != expectedSize)
                    tally.Fail($"{config}: SAME output size on axis {a} is {outputShape.GetSpatialSize(a)}, the spec says ceil(L / s) = {expectedSize}.");
            }
            try
            {
                OnnxPoolRunner<T>.RunOnce(spec, input, inputDims);
            }
            catch (OnnxRuntimeException)
            {
                tally.SameOutsideOrtRulesRejected++;
            }
            return;
        }

        T[] ort;
        long[] ortDims;
        try
        {
            (ort, ortDims) = OnnxPoolRunner<T>.RunOnce(spec, input, inputDims);
        }
        catch (OnnxRuntimeException e)
        {
            tally.Fail($"{config}: ORT rejects a configuration KernelGen accepts (output {outputShape}): {e.Message}");
            return;
        }
        long[] ours = OnnxPoolRunner<T>.ToDims(outputShape);
        if (!ours.SequenceEqual(ortDims))
        {
            tally.Fail($"{config}: output shape KernelGen {outputShape}, ORT [{string.Join(",", ortDims)}] ({descriptor}).");
            return;
        }

        var kernelGen = new T[outputShape.ElementCount];
        RunKernelGen(descriptor, input, kernelGen, shape);
        tally.Compared++;
        var windows = new WindowMap(descriptor, shape, outputShape);
        int reported = 0;
        for (int i = 0; i < kernelGen.Length; i++)
        {
            tally.Cells++;
            T got = kernelGen[i], expected = ort[i];
            int cell = (int)(i % outputShape.PlaneSize);
            if (windows.IsAllPadding(cell))
            {
                // KernelGen's documented decision: -inf for max, 0 for average. ORT's value is only counted.
                tally.AllPaddingCells++;
                string key = $"{(max ? "max" : spec.CountIncludePad ? "average include-pad" : "average exclude-pad")} = {Format(expected)}";
                tally.OrtAllPaddingValues[key] = tally.OrtAllPaddingValues.GetValueOrDefault(key) + 1;
                T wanted = max ? T.NegativeInfinity : T.Zero;
                if (!got.Equals(wanted) && reported++ < 3)
                    tally.Fail($"{config}: output {i} is a window made only of padding: KernelGen {Format(got)}, expected {Format(wanted)} ({descriptor}).");
                continue;
            }
            if (max && windows.HasNaN(input, i / outputShape.PlaneSize, cell))
            {
                // KernelGen propagates NaN (PyTorch's rule); MLAS's max drops it. Only KernelGen is checked.
                tally.NaNWindowCells++;
                if (!T.IsNaN(expected))
                {
                    tally.OrtDroppedNaN++;
                    tally.Note($"{config}: output {i}: window holds a NaN, KernelGen {Format(got)}, ORT {Format(expected)}.");
                }
                if (!T.IsNaN(got) && reported++ < 3)
                    tally.Fail($"{config}: output {i}: the window holds a NaN but KernelGen gives {Format(got)} ({descriptor}).");
                continue;
            }
            if (max && T.IsNegativeInfinity(got) && expected == Lowest<T>())
            {
                // The window's maximum is -inf; MLAS starts from the lowest finite value and never goes below it.
                tally.OrtLowestForNegativeInfinity++;
                continue;
            }
            if (!(max ? SameMax(got, expected) : CloseAverage(got, expected)) && reported++ < 3)
                tally.Fail($"{config}: output {i} of {outputShape}: KernelGen {Format(got)}, ORT {Format(expected)} ({descriptor}); input [{string.Join(", ", input.Take(64).Select(Format))}{(input.Length > 64 ? ", ..." : "")}].");
        }
    }

    /// <summary>
    /// KernelGen rejects an input too small for the window (an output size below 1). ORT may reject it too, return an
    /// empty tensor (a 0 dim), or, when C++ division truncates a negative numerator toward zero, compute a size of
    /// 1 whose window hangs past the input (see <see cref="OrtQuirk_TooSmallInput"/>). Anything else fails.
    /// </summary>
    private static void ClassifyTooSmall<T>(OnnxPoolSpec spec, T[] input, long[] inputDims, in PoolDescriptor descriptor, string config, Tally tally)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long[] ortDims;
        try
        {
            (_, ortDims) = OnnxPoolRunner<T>.RunOnce(spec, input, inputDims);
        }
        catch (OnnxRuntimeException)
        {
            tally.TooSmallBothReject++;
            return;
        }
        if (ortDims.Skip(2).Any(d => d == 0))
        {
            tally.TooSmallOrtEmpty++;
            return;
        }
        // Every axis where our floor formula gives < 1 must be one where truncation toward zero gives 1.
        for (int a = 0; a < descriptor.SpatialRank; a++)
        {
            var axis = descriptor.GetAxis(a);
            long numerator = inputDims[2 + a] + axis.PadBegin + axis.PadEnd - axis.EffectiveKernel + (spec.CeilMode ? axis.Stride - 1 : 0);
            long ours = PoolOutputSize(inputDims[2 + a], axis, spec.CeilMode);
            if (ours >= 1) continue;
            bool truncated = numerator < 0 && numerator > -axis.Stride && ortDims[2 + a] == 1;
            if (!truncated)
            {
                tally.Fail($"{config}: KernelGen rejects an input too small (axis {a} size {ours}), ORT accepts it with output shape [{string.Join(",", ortDims)}].");
                return;
            }
        }
        tally.TooSmallOrtTruncated++;
    }

    /// <summary>The documented output-size formula, in 64-bit integers with floor division.</summary>
    private static long PoolOutputSize(long length, PoolAxis axis, bool ceilMode)
    {
        long numerator = length + axis.PadBegin + axis.PadEnd - axis.EffectiveKernel + (ceilMode ? axis.Stride - 1 : 0);
        long output = (long)Math.Floor(numerator / (double)axis.Stride) + 1;
        if (ceilMode && (output - 1) * axis.Stride >= length + axis.PadBegin) output--;
        return output;
    }

    /// <summary>For every output cell of a plane, the input positions its window reads on each axis.</summary>
    private sealed class WindowMap
    {
        private readonly int _rank;
        private readonly int[][][] _taps; // [axis][output index] -> in-bounds input positions
        private readonly int[] _inputSizes, _outputSizes;
        private readonly long _inputPlane;

        public WindowMap(in PoolDescriptor descriptor, PoolShape input, PoolShape output)
        {
            _rank = descriptor.SpatialRank;
            _taps = new int[_rank][][];
            _inputSizes = new int[_rank];
            _outputSizes = new int[_rank];
            _inputPlane = input.PlaneSize;
            for (int a = 0; a < _rank; a++)
            {
                var axis = descriptor.GetAxis(a);
                _inputSizes[a] = input.GetSpatialSize(a);
                _outputSizes[a] = output.GetSpatialSize(a);
                _taps[a] = new int[_outputSizes[a]][];
                for (int o = 0; o < _outputSizes[a]; o++)
                {
                    var positions = new List<int>();
                    for (int j = 0; j < axis.Kernel; j++)
                    {
                        long position = (long)o * axis.Stride - axis.PadBegin + (long)j * axis.Dilation;
                        if (position >= 0 && position < _inputSizes[a]) positions.Add((int)position);
                    }
                    _taps[a][o] = [.. positions];
                }
            }
        }

        private int[] Split(int cell)
        {
            var index = new int[_rank];
            for (int a = _rank - 1; a >= 0; a--)
            {
                index[a] = cell % _outputSizes[a];
                cell /= _outputSizes[a];
            }
            return index;
        }

        public bool IsAllPadding(int cell)
        {
            var index = Split(cell);
            for (int a = 0; a < _rank; a++)
                if (_taps[a][index[a]].Length == 0) return true;
            return false;
        }

        public bool HasNaN<T>(T[] input, long plane, int cell) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var index = Split(cell);
            int[] d = _rank == 3 ? _taps[0][index[0]] : [0];
            int[] h = _rank >= 2 ? _taps[_rank - 2][index[_rank - 2]] : [0];
            int[] w = _taps[_rank - 1][index[_rank - 1]];
            int height = _rank >= 2 ? _inputSizes[_rank - 2] : 1, width = _inputSizes[_rank - 1];
            foreach (int z in d)
                foreach (int y in h)
                    foreach (int x in w)
                        if (T.IsNaN(input[plane * _inputPlane + ((long)z * height + y) * width + x])) return true;
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Global pooling.
    // ---------------------------------------------------------------------------------------------------------

    private void RunGlobal<T>(int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        var failures = new List<string>();
        int compared = 0, nanPlanes = 0, ortDroppedNaN = 0;
        // ORT 1.31's CPU provider has the global operators for float only (see OrtHasNoDoubleAverageOrGlobalPool).
        var ops = new[] { OnnxPoolOp.GlobalMaxPool, OnnxPoolOp.GlobalAveragePool };
        foreach (var op in ops)
        {
            for (int i = 0; i < GlobalConfigs; i++)
            {
                int rank = random.Next(1, 4);
                long[] dims = new long[2 + rank];
                dims[0] = random.Next(1, 3);
                dims[1] = random.Next(1, 5);
                for (int a = 0; a < rank; a++) dims[2 + a] = random.Next(1, rank == 1 ? 300 : rank == 2 ? 40 : 12);
                var shape = OnnxPoolRunner<T>.ToPoolShape(dims);
                var spec = new OnnxPoolSpec(op);
                bool max = op == OnnxPoolOp.GlobalMaxPool;
                var input = RandomInput.Uniform<T>(random, (int)shape.ElementCount, withSpecials: max && random.Next(2) == 0);

                var (ort, ortDims) = OnnxPoolRunner<T>.RunOnce(spec, input, dims);
                var outputShape = Pooling.GetGlobalOutputShape(shape);
                if (!OnnxPoolRunner<T>.ToDims(outputShape).SequenceEqual(ortDims))
                {
                    failures.Add($"{typeof(T).Name} {spec} input {shape}: output shape KernelGen {outputShape}, ORT [{string.Join(",", ortDims)}].");
                    continue;
                }
                var kernelGen = new T[outputShape.ElementCount];
                RunGlobalKernelGen(max, input, kernelGen, shape);
                compared++;
                int planeSize = (int)shape.PlaneSize;
                for (int j = 0; j < kernelGen.Length; j++)
                {
                    if (max && HasNaN(input.AsSpan(j * planeSize, planeSize)))
                    {
                        // NaN propagates in KernelGen; MLAS drops it (counted, not compared).
                        nanPlanes++;
                        if (!T.IsNaN(ort[j])) ortDroppedNaN++;
                        if (!T.IsNaN(kernelGen[j])) failures.Add($"{typeof(T).Name} {spec} input {shape}: plane {j} holds a NaN, KernelGen {Format(kernelGen[j])}.");
                        continue;
                    }
                    if (!(max ? SameMax(kernelGen[j], ort[j]) : CloseAverage(kernelGen[j], ort[j])))
                    {
                        failures.Add($"{typeof(T).Name} {spec} input {shape}: plane {j}: KernelGen {Format(kernelGen[j])}, ORT {Format(ort[j])}.");
                        break;
                    }
                }
            }
        }
        log.WriteLine($"{typeof(T).Name} global pooling ({string.Join(", ", ops)}), seed {seed}: {compared} configurations compared; " +
            $"{nanPlanes} max planes held a NaN (KernelGen NaN, ORT dropped it in {ortDroppedNaN}).");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
    }

    private static bool HasNaN<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var v in values)
            if (T.IsNaN(v)) return true;
        return false;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Where ORT and KernelGen part ways on purpose: each test pins down ORT's behaviour (the evidence) next to
    // KernelGen's, so a change in either shows up here.
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>MLAS's max drops NaN; KernelGen propagates it (PyTorch's rule, docs/semantics.md).</summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void OrtQuirk_MaxPoolDropsNaN()
    {
        float[] input = [1, float.NaN, 3, 2];
        var spec = new OnnxPoolSpec(OnnxPoolOp.MaxPool, [3], [1]);
        var (ort, dims) = OnnxPoolRunner<float>.RunOnce(spec, input, [1, 1, 4]);
        Assert.Equal([1L, 1, 2], dims);
        Assert.Equal([3f, 3f], ort);

        var ours = new float[2];
        Pooling.Run(spec.ToDescriptor(new PoolShape(1, 1, 4)), input, ours, new PoolShape(1, 1, 4));
        Assert.All(ours, v => Assert.True(float.IsNaN(v)));
    }

    /// <summary>
    /// MLAS's max starts from the lowest finite value, so a window whose maximum is -inf (all -inf, or only padding)
    /// gives -3.4028235e38 in ORT. KernelGen gives -inf for both (for padding, its documented decision); average
    /// pooling gives 0 over a window made only of padding in both.
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void OrtQuirk_LowestFiniteInsteadOfNegativeInfinity()
    {
        var shape = new PoolShape(1, 1, 2);
        // All -inf: k = 2 over [-inf, -inf].
        float[] infinities = [float.NegativeInfinity, float.NegativeInfinity];
        var dense = new OnnxPoolSpec(OnnxPoolOp.MaxPool, [2]);
        var (ort, _) = OnnxPoolRunner<float>.RunOnce(dense, infinities, [1, 1, 2]);
        Assert.Equal([float.MinValue], ort);
        var ours = new float[1];
        Pooling.Run(dense.ToDescriptor(shape), infinities, ours, shape);
        Assert.Equal([float.NegativeInfinity], ours);

        // Only padding: L = 2, k = 2, d = 3 (keff 4), pads 1/1: the one window's taps are -1 and 2, both outside.
        float[] input = [5, 6];
        var sparse = new OnnxPoolSpec(OnnxPoolOp.MaxPool, [2], [1], [1, 1], [3]);
        (ort, var dims) = OnnxPoolRunner<float>.RunOnce(sparse, input, [1, 1, 2]);
        Assert.Equal([1L, 1, 1], dims);
        Assert.Equal([float.MinValue], ort);
        Pooling.Run(sparse.ToDescriptor(shape), input, ours, shape);
        Assert.Equal([float.NegativeInfinity], ours);

        foreach (bool includePad in new[] { false, true })
        {
            var average = sparse with { Op = OnnxPoolOp.AveragePool, CountIncludePad = includePad };
            (ort, _) = OnnxPoolRunner<float>.RunOnce(average, input, [1, 1, 2]);
            Pooling.Run(average.ToDescriptor(shape), input, ours, shape);
            log.WriteLine($"{average}: ORT {ort[0]}, KernelGen {ours[0]}");
            Assert.Equal([0f], ours);
            Assert.Equal([0f], ort);
        }
    }

    /// <summary>
    /// ORT resolves SAME_* padding with the kernel instead of the effective kernel <c>(k - 1) * d + 1</c> that the
    /// ONNX spec names, so with dilation its output is not <c>ceil(L / s)</c>. Evidence: ORT's result equals
    /// KernelGen's with the explicit pads ORT's formula gives.
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void OrtQuirk_SamePaddingIgnoresDilation()
    {
        // L = 9, k = 5, d = 2 (keff 9), s = 2, SAME_LOWER. Spec: out = ceil(9 / 2) = 5, total pad = 4 * 2 + 9 - 9 = 8.
        // ORT: pad = 4 * 2 + 5 - 9 = 4 (2 begin, 2 end), out = (9 + 4 - 9) / 2 + 1 = 3.
        var input = Enumerable.Range(0, 9).Select(i => (float)((i * 7) % 9)).ToArray();
        var spec = new OnnxPoolSpec(OnnxPoolOp.MaxPool, [5], [2], Dilations: [2], AutoPad: "SAME_LOWER");
        var shape = new PoolShape(1, 1, 9);
        var descriptor = spec.ToDescriptor(shape);
        Assert.Equal(new PoolAxis(5, 2, 4, 4, 2), descriptor.GetAxis(0));
        Assert.Equal(new PoolShape(1, 1, 5), descriptor.GetOutputShape(shape));

        var (ort, dims) = OnnxPoolRunner<float>.RunOnce(spec, input, [1, 1, 9]);
        Assert.Equal([1L, 1, 3], dims);
        var ortPads = new OnnxPoolSpec(OnnxPoolOp.MaxPool, [5], [2], [2, 2], [2]);
        var ours = new float[3];
        Pooling.Run(ortPads.ToDescriptor(shape), input, ours, shape);
        Assert.Equal(ours, ort);
    }

    /// <summary>
    /// When <c>(ceil(L / s) - 1) * s + k &lt; L</c> ORT's SAME padding is negative: MaxPool rejects it, AveragePool
    /// runs with it and reads shifted windows. The spec's padding is <c>max(0, ...)</c>; KernelGen clamps at 0.
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void OrtQuirk_SameNegativePadding()
    {
        // L = 6, k = 1, s = 3, SAME_UPPER: out = 2, ORT's pad = 1 * 3 + 1 - 6 = -2 (begin -1, end -1).
        float[] input = [10, 11, 12, 13, 14, 15];
        var shape = new PoolShape(1, 1, 6);
        var max = new OnnxPoolSpec(OnnxPoolOp.MaxPool, [1], [3], AutoPad: "SAME_UPPER");
        var error = Assert.Throws<OnnxRuntimeException>(() => OnnxPoolRunner<float>.RunOnce(max, input, [1, 1, 6]));
        Assert.Contains("padding values must be non-negative", error.Message, StringComparison.Ordinal);

        var average = max with { Op = OnnxPoolOp.AveragePool };
        var (ort, dims) = OnnxPoolRunner<float>.RunOnce(average, input, [1, 1, 6]);
        Assert.Equal([1L, 1, 2], dims);
        Assert.Equal([11f, 14f], ort); // windows start at 1 and 4: shifted by the negative begin pad

        foreach (var spec in new[] { max, average })
        {
            var ours = new float[2];
            Pooling.Run(spec.ToDescriptor(shape), input, ours, shape);
            Assert.Equal([10f, 13f], ours);
        }
    }

    /// <summary>
    /// An input too small for the window: the output size formula gives less than 1 and KernelGen rejects it. ORT
    /// divides with C++ truncation, so a numerator in <c>(-s, 0)</c> gives size 1 (a window hanging past the input
    /// with no padding to cover it), and a numerator of <c>-s</c> gives an empty tensor.
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void OrtQuirk_TooSmallInput()
    {
        // L = 2, k = 3, s = 2, no padding: numerator 2 - 3 = -1. Floor: out = 0. ORT: -1 / 2 + 1 = 1.
        float[] two = [4, 6];
        var truncated = new OnnxPoolSpec(OnnxPoolOp.AveragePool, [3], [2]);
        Assert.Throws<ArgumentException>(() => truncated.ToDescriptor(new PoolShape(1, 1, 2)).GetOutputShape(new PoolShape(1, 1, 2)));
        var (ort, dims) = OnnxPoolRunner<float>.RunOnce(truncated, two, [1, 1, 2]);
        Assert.Equal([1L, 1, 1], dims);
        log.WriteLine($"ORT AveragePool k=3 s=2 on [4, 6]: shape [1,1,1], value {ort[0]}");

        // L = 1, k = 3, s = 2: numerator -2. Floor and ORT both give 0; ORT returns an empty tensor.
        var empty = new OnnxPoolSpec(OnnxPoolOp.MaxPool, [3], [2]);
        Assert.Throws<ArgumentException>(() => empty.ToDescriptor(new PoolShape(1, 1, 1)).GetOutputShape(new PoolShape(1, 1, 1)));
        (ort, dims) = OnnxPoolRunner<float>.RunOnce(empty, [5f], [1, 1, 1]);
        Assert.Equal([1L, 1, 0], dims);
        Assert.Empty(ort);
    }

    /// <summary>
    /// ORT 1.31's CPU provider registers AveragePool, GlobalMaxPool and GlobalAveragePool for float only (MaxPool
    /// has double), so double is compared on MaxPool alone. If this fails, ORT gained them: compare them too.
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void OrtHasNoDoubleAverageOrGlobalPool()
    {
        foreach (var spec in new[] { new OnnxPoolSpec(OnnxPoolOp.AveragePool, [2]), new OnnxPoolSpec(OnnxPoolOp.GlobalMaxPool), new OnnxPoolSpec(OnnxPoolOp.GlobalAveragePool) })
        {
            var error = Assert.Throws<OnnxRuntimeException>(() => OnnxPoolRunner<double>.RunOnce(spec, [1.0, 2, 3], [1, 1, 3]));
            Assert.Contains("Could not find an implementation", error.Message, StringComparison.Ordinal);
        }
        var (ort, _) = OnnxPoolRunner<double>.RunOnce(new OnnxPoolSpec(OnnxPoolOp.MaxPool, [2]), [1.0, 2, 3], [1, 1, 3]);
        Assert.Equal([2.0, 3.0], ort);
    }

    /// <summary>Pads not below the kernel: ORT rejects them when it creates the session, and so does KernelGen.</summary>
    [Theory]
    [Trait("Category", "Kernel")]
    [InlineData(OnnxPoolOp.MaxPool, 2, 2, 0)]
    [InlineData(OnnxPoolOp.MaxPool, 3, 0, 3)]
    [InlineData(OnnxPoolOp.AveragePool, 1, 1, 0)]
    [InlineData(OnnxPoolOp.AveragePool, 2, 0, 5)]
    public void BothRejectPadsNotBelowKernel(OnnxPoolOp op, int kernel, int begin, int end)
    {
        var spec = new OnnxPoolSpec(op, [kernel], Pads: [begin, end]);
        var shape = new PoolShape(1, 1, 6);
        Assert.Throws<OnnxRuntimeException>(() => OnnxPoolRunner<float>.RunOnce(spec, new float[6], [1, 1, 6]));
        Assert.ThrowsAny<ArgumentException>(() => spec.ToDescriptor(shape));
    }

    /// <summary>
    /// Pads from the kernel up to below the effective kernel (possible only with dilation): ORT rejects them ("Pad
    /// should be smaller than kernel"), KernelGen's ONNX convention accepts them (its limit is the effective kernel).
    /// A divergence KernelGen chose or should revisit; pinned here so it stays visible.
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void OrtRejectsPadsBetweenKernelAndEffectiveKernel()
    {
        var spec = new OnnxPoolSpec(OnnxPoolOp.MaxPool, [2], Pads: [2, 0], Dilations: [2]); // k 2, keff 3
        var error = Assert.Throws<OnnxRuntimeException>(() => OnnxPoolRunner<float>.RunOnce(spec, new float[6], [1, 1, 6]));
        log.WriteLine("ORT: " + error.Message);
        var shape = new PoolShape(1, 1, 6);
        Assert.Equal(new PoolShape(1, 1, 6), spec.ToDescriptor(shape).GetOutputShape(shape));
    }

    /// <summary>
    /// The preallocated runner (what the benchmarks time) agrees with KernelGen, including under ceil_mode where ONNX's
    /// shape inference (ceil without the last-window correction: 4) disagrees with ORT's kernel and ours (3).
    /// </summary>
    [Fact]
    [Trait("Category", "Kernel")]
    public void PreallocatedRunnerMatchesKernelGen()
    {
        foreach (var spec in new[]
        {
            new OnnxPoolSpec(OnnxPoolOp.MaxPool, [2, 2], [2, 2], [1, 1, 1, 1], CeilMode: true),
            new OnnxPoolSpec(OnnxPoolOp.AveragePool, [3, 3], [2, 2], [1, 1, 1, 1], CeilMode: true, CountIncludePad: true),
        })
        {
            var shape = new PoolShape(2, 3, 5, 5);
            using var runner = new OnnxPoolRunner<float>(spec, OnnxPoolRunner<float>.ToDims(shape));
            Assert.Equal([2L, 3, 3, 3], runner.OutputShape);
            var random = new Random(7);
            for (int i = 0; i < runner.Input.Length; i++) runner.Input[i] = (float)(random.NextDouble() * 16 - 8);
            runner.Run();
            runner.Run(); // runs again into the same buffers
            var ours = new float[runner.Output.Length];
            Pooling.Run(spec.ToDescriptor(shape), runner.Input, ours, shape);
            for (int i = 0; i < ours.Length; i++)
                Assert.True(CloseAverage(ours[i], runner.Output[i]), $"{spec}: output {i}: KernelGen {ours[i]}, ORT {runner.Output[i]}");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers.
    // ---------------------------------------------------------------------------------------------------------


    /// <summary>Max: exactly equal, NaN equals NaN and -0 equals +0.</summary>
    private static bool SameMax<T>(T got, T expected) where T : unmanaged, IFloatingPointIeee754<T> =>
        got == expected || (T.IsNaN(got) && T.IsNaN(expected));

    /// <summary>Average: relative 1e-5 (float) or 1e-12 (double), with values below 1 held to that as an absolute bound.</summary>
    private static bool CloseAverage<T>(T got, T expected) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (T.IsNaN(got) || T.IsNaN(expected)) return T.IsNaN(got) && T.IsNaN(expected);
        if (T.IsInfinity(got) || T.IsInfinity(expected)) return got == expected;
        double tolerance = typeof(T) == typeof(float) ? 1e-5 : 1e-12;
        double g = double.CreateTruncating(got), e = double.CreateTruncating(expected);
        return Math.Abs(g - e) <= tolerance * Math.Max(1.0, Math.Abs(e));
    }

    private static void RunKernelGen<T>(in PoolDescriptor descriptor, T[] input, T[] output, PoolShape shape)
    {
        if (typeof(T) == typeof(float))
            Pooling.Run(descriptor, Unsafe.As<float[]>(input), Unsafe.As<float[]>(output), shape, maxDegreeOfParallelism: 1);
        else
            Pooling.Run(descriptor, Unsafe.As<double[]>(input), Unsafe.As<double[]>(output), shape, maxDegreeOfParallelism: 1);
    }

    private static void RunGlobalKernelGen<T>(bool max, T[] input, T[] output, PoolShape shape)
    {
        if (typeof(T) == typeof(float))
        {
            if (max) Pooling.GlobalMax(Unsafe.As<float[]>(input), Unsafe.As<float[]>(output), shape, maxDegreeOfParallelism: 1);
            else Pooling.GlobalAverage(Unsafe.As<float[]>(input), Unsafe.As<float[]>(output), shape, maxDegreeOfParallelism: 1);
        }
        else
        {
            if (max) Pooling.GlobalMax(Unsafe.As<double[]>(input), Unsafe.As<double[]>(output), shape, maxDegreeOfParallelism: 1);
            else Pooling.GlobalAverage(Unsafe.As<double[]>(input), Unsafe.As<double[]>(output), shape, maxDegreeOfParallelism: 1);
        }
    }

    /// <summary>The lowest finite value of float or double.</summary>
    private static T Lowest<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        T.CreateTruncating(typeof(T) == typeof(float) ? float.MinValue : double.MinValue);

    private static string Format<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.IsNegative(value) && T.IsZero(value) ? "-0" : value.ToString("R", CultureInfo.InvariantCulture);
}
