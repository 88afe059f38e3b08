namespace KernelGen.Generator;

/// <summary>Names of the pipeline steps, so tests can assert which steps re-ran after an edit.</summary>
internal static class TrackingNames
{
    /// <summary>Attribute to <see cref="Model.ParsedMethod"/>: a body to write or diagnostics to report (null when neither, filtered out).</summary>
    public const string Methods = nameof(Methods);

    /// <summary>The distinct configurations, one kernel class each.</summary>
    public const string Configurations = nameof(Configurations);
}
