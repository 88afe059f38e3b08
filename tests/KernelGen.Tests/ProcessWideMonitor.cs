using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// Tests that start a <see cref="Monitoring.PoolingMonitor"/> or count allocations see every pooling call of the process,
/// so they run in this collection: one at a time, after the parallel tests, with no other test's calls in their numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMonitor
{
    public const string Name = "Process-wide pooling monitor";
}
