namespace KernelGen;

/// <summary>How a batch of feature maps is laid out in memory.</summary>
public enum PoolLayout
{
    /// <summary>Channels first: N, C, [D, H,] W with W fastest (PyTorch's and ONNX's default, "NCHW").</summary>
    ChannelsFirst = 0,

    /// <summary>Channels last: N, [D, H,] W, C with C fastest ("NHWC").</summary>
    ChannelsLast = 1,
}
