using Microsoft.Extensions.Logging;

namespace SeqSharp.Training;

/// <summary>
/// SeqSharp's log events outside the training loop (docs/logging.md lists every event id):
/// Evaluate, Predict, Save and Load, and the warnings of models and callbacks.
/// </summary>
internal static partial class ModelLog
{
    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Evaluated {Model} on {Samples} samples in {ElapsedMs:F0} ms: {Logs}")]
    public static partial void Evaluated(ILogger logger, string model, long samples, double elapsedMs, IReadOnlyDictionary<string, double> logs);

    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Predicted {Samples} samples with {Model} in {ElapsedMs:F0} ms")]
    public static partial void Predicted(ILogger logger, string model, long samples, double elapsedMs);

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Saved {Model} ({What}) to {Path}")]
    public static partial void Saved(ILogger logger, string model, string what, string path);

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Loaded {Model} ({What}) from {Path}")]
    public static partial void Loaded(ILogger logger, string model, string what, string path);

    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "'{Path}' holds optimizer state in Keras 2's layout, which SeqSharp does not restore; training starts with a fresh optimizer state.")]
    public static partial void LegacyOptimizerState(ILogger logger, string path);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Skipping variable loading for optimizer '{Optimizer}', because it has {Current} variables whereas the saved optimizer has {Stored} variables.")]
    public static partial void OptimizerVariablesSkipped(ILogger logger, string optimizer, int current, int stored);

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "{Callback}: {Warning}")]
    public static partial void CallbackWarning(ILogger logger, string callback, string warning);

    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "TorchSharp's native library: {Fix}. {Detail}")]
    public static partial void NativeReport(ILogger logger, Native.NativeFix fix, string detail);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "TorchSharp's native library was fixed at start-up, not by the build step ({Fix}). {Detail}")]
    public static partial void NativeFixedAtStartup(ILogger logger, Native.NativeFix fix, string detail);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "TorchSharp's native library could not be fixed; TorchSharp may fail to load. {Detail}")]
    public static partial void NativeFixFailed(ILogger logger, string detail);
}
