using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using KernelGen.Monitoring;

namespace KernelGen.Bench;

/// <summary>
/// What watching costs on resnet50.stem (NCHW, one thread, Pooling.Run): nobody listening (the baseline), a
/// MeterListener on every KernelGen instrument, a PoolingMonitor; and the check a call makes when nobody listens.
/// </summary>
public class MonitoringBenchmarks
{
    /// <summary>The case; resnet50.stem only (the parameter lets the bench's filter and results treat these rows like the others).</summary>
    [Params("resnet50.stem")]
    public string Case { get; set; } = "resnet50.stem";

    /// <summary>NCHW only.</summary>
    [Params(PoolingBenchmarks.Nchw)]
    public string Layout { get; set; } = PoolingBenchmarks.Nchw;

    private const int Checks = 1024;
    private PoolDescriptor _descriptor;
    private PoolShape _shape;
    private float[] _input = [], _output = [];
    private MeterListener? _listener;
    private PoolingMonitor? _monitor;
    private long _sink;

    [GlobalSetup(Target = nameof(NoListener))]
    public void SetupNoListener() { Setup(); Warm(NoListener); }

    [GlobalSetup(Target = nameof(EnabledCheck))]
    public void SetupEnabledCheck() { Setup(); Warm(() => EnabledCheck()); }

    [GlobalSetup(Target = nameof(WithMeterListener))]
    public void SetupMeterListener()
    {
        Setup();
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) => { if (instrument.Meter.Name == "KernelGen") listener.EnableMeasurementEvents(instrument); },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => System.Threading.Interlocked.Add(ref _sink, value));
        _listener.SetMeasurementEventCallback<double>((_, _, _, _) => System.Threading.Interlocked.Increment(ref _sink));
        _listener.Start();
        Warm(WithMeterListener);
    }

    [GlobalSetup(Target = nameof(WithPoolingMonitor))]
    public void SetupMonitor() { Setup(); _monitor = PoolingMonitor.Start(); Warm(WithPoolingMonitor); }

    // In the in-process quick job every benchmark shares the process, so a listener must not outlive its rows.
    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _listener = null;
        _monitor?.Stop();
        _monitor = null;
    }

    private void Setup()
    {
        var c = BenchCase.Get(Case);
        _descriptor = c.Descriptor(PoolLayout.ChannelsFirst);
        _shape = c.Shape;
        _input = new float[_shape.ElementCount];
        var random = new Random(7);
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)random.NextDouble();
        _output = new float[c.OutputShape.ElementCount];
    }

    private static void Warm(Action method)
    {
        var clock = Stopwatch.StartNew();
        for (int calls = 0; clock.ElapsedMilliseconds < 400 || calls < 100; calls++) method();
    }

    /// <summary>Pooling.Run with no listener and no monitor: the baseline.</summary>
    [Benchmark(Baseline = true, Description = "Pooling.Run, no listener")]
    public void NoListener() => Pooling.Run(_descriptor, _input, _output, _shape, 1);

    /// <summary>Pooling.Run while a MeterListener takes every measurement of the three instruments.</summary>
    [Benchmark(Description = "Pooling.Run, MeterListener on")]
    public void WithMeterListener() => Pooling.Run(_descriptor, _input, _output, _shape, 1);

    /// <summary>Pooling.Run while a PoolingMonitor records every call.</summary>
    [Benchmark(Description = "Pooling.Run, PoolingMonitor on")]
    public void WithPoolingMonitor() => Pooling.Run(_descriptor, _input, _output, _shape, 1);

    // Read like the instruments' own fields, but never set: the loop's cost without the check, for the difference.
    // Not readonly, as theirs are not: the JIT would fold a static readonly field's length into a constant.
#pragma warning disable IDE0044
    private static PoolingMonitor[] s_none = [];
#pragma warning restore IDE0044

    [GlobalSetup(Target = nameof(LoopAlone))]
    public void SetupLoopAlone() { Setup(); Warm(() => LoopAlone()); }

    /// <summary>The same loop reading one static field instead of the check: what <see cref="EnabledCheck"/> costs is the difference.</summary>
    [Benchmark(OperationsPerInvoke = Checks, Description = "loop reading one static field (per iteration)")]
    public long LoopAlone()
    {
        long enabled = 0;
        for (int i = 0; i < Checks; i++)
            if (s_none.Length != 0) enabled++;
        return enabled;
    }

    /// <summary>The per-call cost of monitoring when nobody listens: the check each call makes, per check.</summary>
    [Benchmark(OperationsPerInvoke = Checks, Description = "enabled check, no listener (per call)")]
    public long EnabledCheck()
    {
        long enabled = 0;
        for (int i = 0; i < Checks; i++)
            if (PoolingInstrumentation.Enabled) enabled++;
        return enabled;
    }
}
