using System;

namespace KernelGen.Tool;

/// <summary>The process exit codes of <c>kernelgen</c>; each error case has its own.</summary>
public enum ExitCode
{
    /// <summary>Done; every compared layer agrees.</summary>
    Success = 0,

    /// <summary><c>verify</c>: KernelGen and ONNX Runtime disagree on at least one layer.</summary>
    Mismatch = 1,

    /// <summary>The command line is wrong (System.CommandLine's own errors).</summary>
    Usage = 2,

    /// <summary>The model file does not exist.</summary>
    FileNotFound = 3,

    /// <summary>The file is not an ONNX model.</summary>
    NotOnnx = 4,

    /// <summary>The model uses an opset or an operator domain kernelgen does not know.</summary>
    Unsupported = 5,

    /// <summary>A dimension is symbolic and nothing resolves it.</summary>
    UnresolvedShape = 6,

    /// <summary>ONNX Runtime refused to load or run the model.</summary>
    RuntimeFailed = 7,

    /// <summary>The output file could not be written.</summary>
    OutputFailed = 8,
}

/// <summary>An error the tool reports as one message and an exit code (no stack trace).</summary>
public sealed class ToolException(ExitCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The exit code the process ends with.</summary>
    public ExitCode Code { get; } = code;
}
