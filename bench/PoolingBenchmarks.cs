using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using KernelGen.Testing;
using KernelGen.Testing.Onnx;

namespace KernelGen.Bench;

/// <summary>
/// Every case in both layouts, one method per implementation, ONNX Runtime the baseline of each (case, layout) group so
/// the Ratio column is "time relative to ORT" measured in the same run. ORT is NCHW-only: in a channels-last group its
/// row is ORT on the same data in NCHW (its best case, without the transposes an NHWC user would add).
/// </summary>
public class PoolingBenchmarks
{
    /// <summary>Layout names as they appear in the table.</summary>
    public const string Nchw = "NCHW", Nhwc = "NHWC";

    /// <summary>The case (see <see cref="BenchCase.All"/>).</summary>
    [ParamsSource(nameof(CaseNames))]
    public string Case { get; set; } = "";

    /// <summary>NCHW (channels first) or NHWC (channels last).</summary>
    [Params(Nchw, Nhwc)]
    public string Layout { get; set; } = Nchw;

    /// <summary>The cases' names, in report order.</summary>
    public static IEnumerable<string> CaseNames => BenchCase.All.Select(c => c.Name);

    private CaseState _s = null!;

    // One setup per method: build (or reuse) the case's state, which checks every method's output once, then warm the
    // method being measured until the tiered JIT has promoted it (see Warm).
    [GlobalSetup(Target = nameof(OnnxRuntime))] public void SetupOnnxRuntime() { Setup(); Warm(OnnxRuntime); }
    [GlobalSetup(Target = nameof(Specialized))] public void SetupSpecialized() { Setup(); Warm(Specialized); }
    [GlobalSetup(Target = nameof(PoolKernel))] public void SetupPoolKernel() { Setup(); Warm(PoolKernel); }
    [GlobalSetup(Target = nameof(General))] public void SetupGeneral() { Setup(); Warm(General); }
    [GlobalSetup(Target = nameof(Naive))] public void SetupNaive() { Setup(); Warm(Naive); }
    [GlobalSetup(Target = nameof(Roofline))] public void SetupRoofline() { Setup(); Warm(Roofline); }
    [GlobalSetup(Target = nameof(SpecializedAllCores))] public void SetupSpecializedAllCores() { Setup(); Warm(SpecializedAllCores); }

    private void Setup() => _s = CaseState.Get(Case, Layout == Nhwc ? PoolLayout.ChannelsLast : PoolLayout.ChannelsFirst);

    /// <summary>
    /// Calls <paramref name="method"/> for at least 400 ms and 100 calls (or 1.5 s, for the slow naive loops, whose
    /// long loops are optimized by on-stack replacement anyway). The tiered JIT starts counting calls only after
    /// 100 ms without new tier-0 code, and promotes a method after 30 counted calls; the in-process quick job has too
    /// few warm-up iterations for that (without this, its measured iterations ran tier-0 code, many times slower),
    /// so the warm-up is done here, where nothing else is being compiled. The full job warms up long enough anyway.
    /// </summary>
    private static void Warm(Action method)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int calls = 0; clock.ElapsedMilliseconds < 400 || (calls < 100 && clock.ElapsedMilliseconds < 1500); calls++)
            method();
    }

    /// <summary>ONNX Runtime 1.31: one node, one thread, preallocated OrtValues (only the operator is timed).</summary>
    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => _s.Ort.Run();

    /// <summary>KernelGen through the runtime entry point on one thread: <c>Pooling.Run</c>, which finds the specialized kernel (resnet50.head: <c>Pooling.GlobalAverage</c>).</summary>
    [Benchmark(Description = "KernelGen specialized")]
    public void Specialized() => _s.RunSpecialized(_s.SpecializedOutput, 1);

    /// <summary>KernelGen: calling the <c>[PoolKernel]</c> method declared in <see cref="BenchKernels"/> directly.</summary>
    [Benchmark(Description = "KernelGen [PoolKernel]")]
    public void PoolKernel() => _s.AttributeKernel!(_s.Input.Span, _s.AttributeOutput.Span, _s.Case.Shape);

    /// <summary>KernelGen's general engine on one thread (<c>Pooling.RunGeneral</c>).</summary>
    [Benchmark(Description = "KernelGen general")]
    public void General() => Pooling.RunGeneral(_s.Descriptor, _s.Input.Span, _s.GeneralOutput.Span, _s.Case.Shape, 1);

    /// <summary>The textbook nested loops.</summary>
    [Benchmark(Description = "naive loops")]
    public void Naive() => _s.RunNaive(_s.NaiveOutput);

    /// <summary>The roofline: <c>Span.CopyTo</c> of half the bytes the operation moves, so that the copy reads and writes as many bytes as the operation reads and writes.</summary>
    [Benchmark(Description = "roofline (copy)")]
    public void Roofline() => _s.Input.Span[.._s.CopyElements].CopyTo(_s.CopyDestination.Span);

    /// <summary>KernelGen specialized through <c>Pooling.Run</c> on every core (batch32 only).</summary>
    [Benchmark(Description = "KernelGen specialized, all cores")]
    public void SpecializedAllCores() => _s.RunSpecialized(_s.AllCoresOutput, -1);

    /// <summary>The method/parameter combinations that exist: no [PoolKernel] for global pooling, all cores for batch32 only.</summary>
    public static bool Applies(string method, string caseName) => method switch
    {
        nameof(PoolKernel) => !BenchCase.Get(caseName).IsGlobal,
        nameof(SpecializedAllCores) => caseName == BenchCase.AllCoresCase,
        _ => true,
    };
}

/// <summary>
/// The data of one (case, layout), built once per process: inputs, one output per method, the ORT session. Every tensor,
/// ORT's included, is 64-byte aligned (<see cref="AlignedBuffer{T}"/>), as ML runtimes allocate them, so no method is
/// measured at an alignment that depends on where the GC happened to put an array.
/// </summary>
public sealed class CaseState
{
    private static readonly ConcurrentDictionary<(string, PoolLayout), CaseState> States = new();
    private static readonly ConcurrentDictionary<string, OnnxPoolRunner<float>> Runners = new();

    /// <summary>The state for (<paramref name="caseName"/>, <paramref name="layout"/>), built and checked on first use.</summary>
    public static CaseState Get(string caseName, PoolLayout layout) => States.GetOrAdd((caseName, layout), key => new CaseState(key.Item1, key.Item2));

    private CaseState(string caseName, PoolLayout layout)
    {
        Case = BenchCase.Get(caseName);
        Layout = layout;
        Descriptor = Case.Descriptor(layout);
        AttributeKernel = Case.AttributeKernel(layout);
        Ort = Runners.GetOrAdd(caseName, _ => CreateRunner(Case));
        var shape = Case.Shape;
        // Channels first, the methods read ORT's own input tensor; channels last, a transposed copy of it.
        Input = new AlignedBuffer<float>(Ort.Input.Length);
        if (layout == PoolLayout.ChannelsLast) ToChannelsLast(Ort.Input, Input.Span, shape);
        else Ort.Input.CopyTo(Input.Span);
        int outputLength = (int)Case.OutputShape.ElementCount;
        SpecializedOutput = new AlignedBuffer<float>(outputLength);
        AttributeOutput = new AlignedBuffer<float>(outputLength);
        GeneralOutput = new AlignedBuffer<float>(outputLength);
        NaiveOutput = new AlignedBuffer<float>(outputLength);
        AllCoresOutput = new AlignedBuffer<float>(outputLength);
        CopyElements = (int)(Case.BytesMoved / sizeof(float) / 2);
        CopyDestination = new AlignedBuffer<float>(CopyElements);
        Check();
    }

    public BenchCase Case { get; }
    public PoolLayout Layout { get; }
    public PoolDescriptor Descriptor { get; }
    public SpecializedPoolKernel<float>? AttributeKernel { get; }
    public OnnxPoolRunner<float> Ort { get; }
    public AlignedBuffer<float> Input { get; }
    public AlignedBuffer<float> SpecializedOutput { get; }
    public AlignedBuffer<float> AttributeOutput { get; }
    public AlignedBuffer<float> GeneralOutput { get; }
    public AlignedBuffer<float> NaiveOutput { get; }
    public AlignedBuffer<float> AllCoresOutput { get; }
    public int CopyElements { get; }
    public AlignedBuffer<float> CopyDestination { get; }

    /// <summary>What a user calls: Pooling.Run (which picks the registered kernel) or, for global pooling, Pooling.GlobalAverage.</summary>
    public void RunSpecialized(AlignedBuffer<float> output, int threads)
    {
        if (Case.IsGlobal) Pooling.GlobalAverage(Input.Span, output.Span, Case.Shape, Layout, threads);
        else Pooling.Run(Descriptor, Input.Span, output.Span, Case.Shape, threads);
    }

    public void RunNaive(AlignedBuffer<float> output)
    {
        if (Case.IsGlobal) NaivePooling.GlobalAverage(Input.Span, output.Span, Case.Shape, Layout);
        else NaivePooling.Pool2d(Input.Span, output.Span, Case.Shape, Case.Mode, Case.Kernel, Case.Stride, Case.Padding, Case.CountIncludePad, Layout);
    }

    private static OnnxPoolRunner<float> CreateRunner(BenchCase c)
    {
        // Default session options (ORT_ENABLE_ALL, ORT's default) with one intra-op thread: one node as a user runs it.
        var runner = new OnnxPoolRunner<float>(c.OnnxSpec, OnnxPoolRunner<float>.ToDims(c.Shape));
        var random = new Random(20250101 + c.Name.Length);
        for (int i = 0; i < runner.Input.Length; i++)
            runner.Input[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return runner;
    }

    private static void ToChannelsLast(ReadOnlySpan<float> nchw, Span<float> nhwc, PoolShape shape)
    {
        int n = shape.Batch, c = shape.Channels, plane = (int)shape.PlaneSize;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < plane; i++)
                    nhwc[(int)(((long)b * plane + i) * c + ch)] = nchw[(int)(((long)b * c + ch) * plane + i)];
    }

    /// <summary>
    /// Runs every method once and compares with the general engine: max exactly, average within 1e-5 relative (with
    /// a floor of 1, since inputs are standard normals and a mean can sit near zero). ORT's output is NCHW, so in a
    /// channels-last group it is compared with the general engine's NCHW result.
    /// </summary>
    private void Check()
    {
        var shape = Case.Shape;
        Pooling.RunGeneral(Descriptor, Input.Span, GeneralOutput.Span, shape, 1);
        float[] reference = GeneralOutput.Span.ToArray();
        // Global pooling: the reference is the general window engine with a full-plane window.
        bool exact = Case.Mode == PoolMode.Max;

        RunSpecialized(SpecializedOutput, 1);
        Compare("KernelGen specialized (Pooling.Run)", SpecializedOutput.Span, reference, exact);
        if (!Case.IsGlobal && !PoolKernelRegistry.IsSpecialized<float>(Descriptor))
            throw new InvalidOperationException($"{Case.Name} {Layout}: Pooling.Run has no specialized kernel for {Descriptor}.");
        if (AttributeKernel != null)
        {
            AttributeKernel(Input.Span, AttributeOutput.Span, shape);
            Compare("[PoolKernel] method", AttributeOutput.Span, reference, exact);
        }
        RunNaive(NaiveOutput);
        Compare("naive loops", NaiveOutput.Span, reference, exact);
        RunSpecialized(AllCoresOutput, -1);
        Compare("KernelGen specialized, all cores", AllCoresOutput.Span, reference, exact);

        Ort.Run();
        float[] ortReference = reference;
        if (Layout == PoolLayout.ChannelsLast)
        {
            ortReference = new float[reference.Length];
            Pooling.RunGeneral(Case.Descriptor(PoolLayout.ChannelsFirst), Ort.Input, ortReference, shape, 1);
        }
        Compare("ONNX Runtime", Ort.Output, ortReference, exact);
        Ort.Output.Clear();
    }

    private void Compare(string method, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, bool exact)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            float a = actual[i], e = expected[i];
            bool ok = exact ? a.Equals(e) : Math.Abs(a - e) <= 1e-5f * Math.Max(1f, Math.Abs(e));
            if (!ok)
                throw new InvalidOperationException(
                    $"{Case.Name} {Layout}: {method} differs from the general engine at output {i}: {a:R} vs {e:R}.");
        }
    }
}
