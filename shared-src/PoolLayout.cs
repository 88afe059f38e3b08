// Compiled into the attributes assembly (public, namespace KernelGen: what users write and the runtime takes) and
// into the generator (internal, its model's namespace), so [PoolKernel]'s values and the generator's reading of them
// are one definition. Keep it to what netstandard2.0 and C# latest allow.
#if KERNELGEN_GENERATOR
namespace KernelGen.Generator.Model;
#else
namespace KernelGen;
#endif

/// <summary>How a batch of feature maps is laid out in memory.</summary>
#if KERNELGEN_GENERATOR
internal
#else
public
#endif
enum PoolLayout
{
    /// <summary>Channels first: N, C, [D, H,] W with W fastest (PyTorch's and ONNX's default, "NCHW").</summary>
    ChannelsFirst = 0,

    /// <summary>Channels last: N, [D, H,] W, C with C fastest ("NHWC").</summary>
    ChannelsLast = 1,
}
