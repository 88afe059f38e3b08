namespace KernelGen;

/// <summary>What a pooling window reduces its elements to.</summary>
public enum PoolMode
{
    /// <summary>The largest element of the window; NaN if any element is NaN.</summary>
    Max = 0,

    /// <summary>The sum of the window divided by a divisor (see <c>countIncludePad</c> and <c>divisorOverride</c>).</summary>
    Average = 1,
}
