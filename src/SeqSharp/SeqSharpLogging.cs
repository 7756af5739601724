using Microsoft.Extensions.Logging;
using SeqSharp.Native;

namespace SeqSharp;

/// <summary>
/// The process-wide logging default: where SeqSharp's warnings and events go when a model has no
/// <see cref="Model.LoggerFactory"/> of its own.
/// </summary>
/// <remarks>
/// <para>Out of the box, warnings and errors (legacy files, skipped optimizer state, a callback's
/// missing metric, a failed native fix) are written to standard error as
/// <c>warn: SeqSharp.Sequential[100] ...</c>, the way Keras shows Python warnings; informational events
/// are dropped. Assign an <see cref="ILoggerFactory"/> from Microsoft.Extensions.Logging (a console
/// logger, a generic host's, Serilog's) to send everything there instead; assign
/// <see cref="Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance"/> to silence SeqSharp.
/// The Keras progress bar is not a log: it stays on the console, controlled by <c>verbose</c>.</para>
/// <para>Categories: <c>SeqSharp.Sequential</c> (Fit, Evaluate, Predict, Save, Load and their warnings),
/// <c>SeqSharp.Callbacks.&lt;Name&gt;</c> (callback warnings), <c>SeqSharp.Native</c> (the TorchSharp
/// native-library fix). Event ids are listed in docs/logging.md.</para>
/// </remarks>
/// <example>
/// <code>
/// using var factory = LoggerFactory.Create(b => b.AddConsole());
/// SeqSharpLogging.LoggerFactory = factory;      // every model
/// model.LoggerFactory = otherFactory;           // or one model
/// </code>
/// </example>
public static class SeqSharpLogging
{
    private static ILoggerFactory _factory = StandardErrorLoggerFactory.Instance;

    /// <summary>
    /// The factory used by every model without its own <see cref="Model.LoggerFactory"/>, and by
    /// SeqSharp's process-wide events. Setting it also logs the native-library report to it (event 200-202),
    /// since that report is made when SeqSharp is first loaded, usually before any logging is wired.
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public static ILoggerFactory LoggerFactory
    {
        get => _factory;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _factory = value;
            TorchNative.Log(value.CreateLogger(NativeCategory));
        }
    }

    internal const string NativeCategory = "SeqSharp.Native";

    /// <summary>The logger for <paramref name="category"/> from the model's factory, or the process-wide one.</summary>
    internal static ILogger For(Model? model, string category) =>
        (model?.LoggerFactory ?? _factory).CreateLogger(category);
}
