using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Credentials.Tests.Infrastructure;

/// <summary>
/// The whole embedded service (API and co-hosted silo) in-process, on its own data folder, ports
/// and service id, so factories never share state unless a test hands one's settings to another.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public const string AdminToken = "test-admin-token-0123456789abcdef";
    public const string JwtSigningKey = "test-jwt-signing-key-0123456789abcdef-0123456789";

    public ApiFactory(Backend backend = Backend.Sqlite, string? dataDirectory = null, string? serviceId = null)
    {
        Backend = backend;
        DataDirectory = dataDirectory ?? TestBackends.NewTempDirectory();
        ServiceId = serviceId ?? TestBackends.NewServiceId();
    }

    public Backend Backend { get; }
    public string DataDirectory { get; }
    public string ServiceId { get; }
    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>When set, every log line the service writes (message and exception) lands here.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string>? LogSink { get; init; }

    /// <summary>A second factory over the same data: what a restart of the process sees.</summary>
    public ApiFactory Restarted() => new(Backend, DataDirectory, ServiceId);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        builder.UseSetting("Orleans:ServiceId", ServiceId);
        builder.UseSetting("Orleans:ClusterId", ServiceId);
        builder.UseSetting("Orleans:SiloPort", TestBackends.FreePort().ToString());
        builder.UseSetting("Orleans:GatewayPort", TestBackends.FreePort().ToString());
        builder.UseSetting("Auth:AdminToken", AdminToken);
        builder.UseSetting("Auth:Jwt:SigningKey", JwtSigningKey);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // Tests share a credential across thousands of requests; RateLimitTests turns limits back on.
        builder.UseSetting("RateLimiting:Enabled", "false");
        // The start-up warm-up only saves time under load; StartupWarmupTests turn it on.
        builder.UseSetting("Api:WarmupSeconds", "0");
        if (Backend == Backend.PostgreSql)
        {
            builder.UseSetting("ConnectionStrings:PostgreSql", TestBackends.PostgresConnectionString);
        }
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        if (LogSink is { } sink)
        {
            builder.UseSetting("Logging:LogLevel:Default", "Debug");
            builder.ConfigureLogging(logging => logging.AddProvider(new CapturingLoggerProvider(sink)));
        }
    }

    /// <summary>A client that sends the super-admin token.</summary>
    public HttpClient AdminClient() => ClientWith("Api-Token", AdminToken);

    /// <summary>A client that sends <c>Authorization: {scheme} {credential}</c>, or nothing when scheme is null.</summary>
    public HttpClient ClientWith(string? scheme, string? credential)
    {
        var client = CreateClient();
        if (scheme is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, credential);
        return client;
    }
}

/// <summary>Collects formatted log lines (with their exceptions) for tests that inspect what was logged.</summary>
public sealed class CapturingLoggerProvider(System.Collections.Concurrent.ConcurrentQueue<string> sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, sink);

    public void Dispose() { }

    private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception} {state}");
    }
}
