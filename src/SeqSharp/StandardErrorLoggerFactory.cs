using Microsoft.Extensions.Logging;

namespace SeqSharp;

/// <summary>
/// SeqSharp's default logger factory: warnings and errors to standard error, one line each
/// (<c>warn: Category[EventId] message</c>); lower levels are disabled.
/// </summary>
internal sealed class StandardErrorLoggerFactory : ILoggerFactory
{
    public static readonly StandardErrorLoggerFactory Instance = new();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName);

    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("SeqSharp's default logger writes warnings to standard error only. Assign SeqSharpLogging.LoggerFactory a factory of your own to add providers.");

    public void Dispose()
    {
    }

    private sealed class Logger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Warning and < LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            string level = logLevel switch { LogLevel.Warning => "warn", LogLevel.Error => "fail", _ => "crit" };
            string line = $"{level}: {category}[{eventId.Id}] {formatter(state, exception)}";
            if (exception is not null)
                line += Environment.NewLine + exception;
            Console.Error.WriteLine(line);
        }
    }
}
