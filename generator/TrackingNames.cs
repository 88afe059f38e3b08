namespace KernelGen.Generator;

/// <summary>Names of the pipeline steps, so tests can assert which steps re-ran after an edit.</summary>
internal static class TrackingNames
{
    /// <summary>Attribute to <see cref="Model.ParsedMethod"/>: a body to write or diagnostics to report (null when neither, filtered out).</summary>
    public const string Methods = nameof(Methods);

    /// <summary>The distinct configurations, one kernel class each.</summary>
    public const string Configurations = nameof(Configurations);

    /// <summary>One profile file (a KernelGenProfile item) read into its candidate kernels and diagnostics.</summary>
    public const string ProfileFiles = nameof(ProfileFiles);

    /// <summary>The profiles' candidates ranked by time and cut to KernelGenProfileLimit, with the diagnostics of that choice.</summary>
    public const string ProfileSelection = nameof(ProfileSelection);

    /// <summary>The chosen profile kernels, one output each.</summary>
    public const string ProfileKernels = nameof(ProfileKernels);
}
