// Compiled into the attributes assembly (public, namespace KernelGen: what users write and the runtime takes) and
// into the generator (internal, its model's namespace), so [PoolKernel]'s values and the generator's reading of them
// are one definition. Keep it to what netstandard2.0 and C# latest allow.
#if KERNELGEN_GENERATOR
namespace KernelGen.Generator.Model;
#else
namespace KernelGen;
#endif

/// <summary>What a pooling window reduces its elements to.</summary>
#if KERNELGEN_GENERATOR
internal
#else
public
#endif
enum PoolMode
{
    /// <summary>The largest element of the window; NaN if any element is NaN.</summary>
    Max = 0,

    /// <summary>The sum of the window divided by a divisor (see <c>countIncludePad</c> and <c>divisorOverride</c>).</summary>
    Average = 1,
}
