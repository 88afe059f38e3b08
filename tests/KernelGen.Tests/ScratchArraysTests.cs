using System;
using System.Threading;
using KernelGen.Engine;
using Xunit;

namespace KernelGen.Tests;

/// <summary>The engine's per-thread scratch cache: right sizes, reuse within a thread, none across threads.</summary>
public class ScratchArraysTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4096)]
    [InlineData(1 << 20)] // 4 MB of ints: past the cache's limit, from ArrayPool.Shared
    public void RentedArraysAreAtLeastTheLengthAsked(int length)
    {
        var array = ScratchArrays<int>.Rent(length);
        Assert.True(array.Length >= length, $"asked {length}, got {array.Length}");
        ScratchArrays<int>.Return(array);
    }

    [Fact]
    public void AReturnedArrayServesTheNextRentOnTheSameThreadWithoutAllocating()
    {
        // On a thread of its own, so that no other test's arrays are in this thread's cache.
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var small = ScratchArrays<double>.Rent(100);
                var large = ScratchArrays<double>.Rent(1000);
                ScratchArrays<double>.Return(large);
                ScratchArrays<double>.Return(small);
                long before = GC.GetAllocatedBytesForCurrentThread();
                var again = ScratchArrays<double>.Rent(90);   // the smallest cached array that fits
                var again2 = ScratchArrays<double>.Rent(900);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.Same(small, again);
                Assert.Same(large, again2);
                Assert.Equal(0, allocated);
                ScratchArrays<double>.Return(again);
                ScratchArrays<double>.Return(again2);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure != null) throw failure;
    }

    [Fact]
    public void AnotherThreadDoesNotGetThisThreadsArrays()
    {
        var mine = ScratchArrays<float>.Rent(64);
        ScratchArrays<float>.Return(mine);
        float[]? theirs = null;
        var thread = new Thread(() => theirs = ScratchArrays<float>.Rent(64));
        thread.Start();
        thread.Join();
        Assert.NotSame(mine, theirs);
    }
}
