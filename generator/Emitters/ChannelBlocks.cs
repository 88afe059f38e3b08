using System;
using KernelGen.Generator.Helpers;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitters;

/// <summary>
/// The channel loop of the channels-last sweeping kernels: which sweep takes which channels, widest vectors first.
/// </summary>
internal static class ChannelBlocks
{

    /// <summary>
    /// Writes <c>int c = 0;</c> and the loops that hand every channel to a sweep (which takes the channels from
    /// <c>c</c> on). <paramref name="call"/> spells the call for a vector width (null: one channel) and an unroll
    /// factor; sweeps of <paramref name="unroll"/> vectors come first on each width.
    /// </summary>
    /// <remarks>
    /// Channels left over after the whole 512-bit vectors go to one last 512-bit sweep that ends at the last channel and
    /// overlaps the one before, rather than to narrower sweeps: a sweep costs about the same at any width, so three
    /// narrow ones (8 + 4 + 1 channels, say) cost three times one wide one. An overlapped channel is computed twice,
    /// identically (each channel is computed on its own, the same way on every width), and stored twice with the same
    /// value. (Aligning the sweeps to cache lines by the same overlap was tried: it only paid when input and output were
    /// both aligned, which one peel cannot arrange.)
    /// </remarks>
    public static void Emit(SourceWriter w, ElementKind element, int unroll, Func<VectorIsa?, int, string> call)
    {
        w.Line("int c = 0;");
        foreach (var isa in VectorIsa.All)
        {
            int lanes = isa.LaneCount(element);
            w.Line($"if ({isa.Condition})");
            using (w.Block(""))
            {
                if (unroll > 1)
                    using (w.Block($"for (; c <= channels - {unroll * lanes}; c += {unroll * lanes})"))
                        w.Line(call(isa, unroll) + ";");
                using (w.Block($"for (; c <= channels - {lanes}; c += {lanes})"))
                    w.Line(call(isa, 1) + ";");
                if (isa == VectorIsa.V512)
                {
                    w.Line("// The channels left: one sweep that ends at the last channel, overlapping the previous one.");
                    using (w.Block($"if (c < channels && channels >= {lanes})"))
                    {
                        w.Line($"c = channels - {lanes};");
                        w.Line(call(isa, 1) + ";");
                        w.Line("c = channels;");
                    }
                }
            }
        }
        using (w.Block("for (; c < channels; c++)"))
            w.Line(call(null, 1) + ";");
    }
}
