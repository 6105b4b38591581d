using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Credentials.Tests.Telemetry;

/// <summary>Keeps every log entry with its structured state and the scopes it was written in.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    public sealed record Entry(string Category, LogLevel Level, int EventId, string Message,
        IReadOnlyDictionary<string, object?> State, IReadOnlyList<IReadOnlyDictionary<string, object?>> Scopes)
    {
        /// <summary>A scope value by name, innermost first.</summary>
        public object? Scope(string name) => Scopes.Reverse().FirstOrDefault(s => s.ContainsKey(name))?[name];
    }

    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    private static Dictionary<string, object?> Pairs(object? state) =>
        state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value)
            : new Dictionary<string, object?> { ["Message"] = state?.ToString() };

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<IReadOnlyDictionary<string, object?>>();
            capture._scopes.ForEachScope((scope, list) => list.Add(Pairs(scope)), scopes);
            capture.Entries.Enqueue(new Entry(category, logLevel, eventId.Id, formatter(state, exception), Pairs(state), scopes));
        }
    }
}
