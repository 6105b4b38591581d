using System.Net;
using System.Net.Sockets;
using Credentials.Api.Commands;
using Credentials.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Credentials.Tests.Infrastructure;

public enum Backend
{
    Sqlite,
    PostgreSql,
}

/// <summary>Storage for a test: a fresh SQLite file, or the PostgreSQL server the test script started.</summary>
public static class TestBackends
{
    public const string PostgresVariable = "CREDENTIALS_TEST_POSTGRES";

    /// <summary>
    /// <c>Webhooks:SecretKey</c> for silos that share a database, which refuse to start without one
    /// (a lone silo generates its own in its data directory).
    /// </summary>
    public const string WebhookSecretKey = "lUAC4RRJf4fyrVHXb+yAk2eQTUS5jcxYPe54VgPYSTw=";

    /// <summary>
    /// The PostgreSQL connection string. Missing is a failure, never a skip: run the tests through
    /// scripts/test.sh, which starts a throwaway server, or set the variable yourself.
    /// </summary>
    public static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set. Run `bash scripts/test.sh`, which starts PostgreSQL, or point the variable at a server.");

    private static readonly Lazy<Task> Migrated = new(() => MigrateAsync(PostgresConnectionString));

    /// <summary>
    /// Migrates the shared test database once per run, as <c>Credentials.Api migrate</c> does before
    /// cluster nodes (which run no DDL) or a bare blob store start.
    /// </summary>
    public static Task MigratePostgresAsync() => Migrated.Value;

    /// <summary>Runs the <c>migrate</c> command against a database; fails the test with its output when it fails.</summary>
    public static async Task MigrateAsync(string connectionString)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:PostgreSql"] = connectionString })
            .Build();
        var output = new StringWriter();
        if (await MigrateCommand.RunAsync(configuration, output, CancellationToken.None) != 0)
        {
            throw new InvalidOperationException("migrate failed: " + output);
        }
    }

    /// <summary>Creates a database of the test's own on the test server (dropped by <see cref="DropDatabaseAsync"/>).</summary>
    public static Task CreateDatabaseAsync(string name) => AdminAsync($"CREATE DATABASE {name}");

    public static Task DropDatabaseAsync(string name) => AdminAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");

    private static async Task AdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(PostgresConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }

    public static StorageBackend Create(Backend backend, string dataDirectory) => backend switch
    {
        Backend.PostgreSql => new PostgreSqlStorage(PostgresConnectionString),
        _ => SqliteStorage.InDirectory(dataDirectory),
    };

    public static string NewTempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "credentials-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A fresh service id keeps every fixture's rows apart in a shared PostgreSQL database.</summary>
    public static string NewServiceId() => "test-" + Guid.NewGuid().ToString("N")[..12];

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
