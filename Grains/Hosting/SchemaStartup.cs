using Credentials.Grains.Storage;
using Credentials.Grains.Storage.Migrations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Credentials.Grains.Hosting;

/// <summary>
/// The schema step of a start: migrate (the embedded service, or <c>Storage:AutoMigrate=true</c>)
/// or, in a cluster, only check that the PostgreSQL schema is at least the version this build needs
/// and refuse to start otherwise. Silos run it in their lifecycle (<see cref="PrepareAsync"/>); an
/// API node in client mode registers this hosted service, which runs before the cluster client starts.
/// </summary>
public sealed partial class SchemaStartup(StorageBackend backend, bool migrate, IHostApplicationLifetime lifetime, ILogger<SchemaStartup> logger)
    : IHostedLifecycleService
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>A silo's schema step; throws <see cref="SchemaTooOldException"/> (start-up fails) on an old schema.</summary>
    public static async Task PrepareAsync(StorageBackend backend, bool migrate, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            if (migrate) await backend.EnsureSchemaAsync(cancellationToken);
            else await backend.VerifySchemaAsync(cancellationToken);
        }
        catch (SchemaTooOldException ex)
        {
            LogRefused(logger, ex.Message);
            throw;
        }
        LogReady(logger, backend.Name, migrate ? "migrated" : "checked");
    }

    /// <summary>
    /// An API node checks before the cluster client starts. It may start before the database answers
    /// (readiness then says 503): the check is then repeated in the background, and an old schema
    /// found later stops the process with exit code 1.
    /// </summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (backend is not PostgreSqlStorage postgres) return;
        try
        {
            await CheckAsync(postgres, cancellationToken);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            LogUnreachable(logger, ex.Message);
            _ = Task.Run(() => CheckLaterAsync(postgres, _stopping.Token), CancellationToken.None);
        }
    }

    private async Task CheckAsync(PostgreSqlStorage postgres, CancellationToken cancellationToken)
    {
        try
        {
            if (migrate) await postgres.MigrateAsync(cancellationToken);
            else await SchemaMigrations.RequireAsync(postgres.ConnectionString, cancellationToken);
        }
        catch (SchemaTooOldException ex)
        {
            LogRefused(logger, ex.Message);
            throw;
        }
        LogReady(logger, backend.Name, migrate ? "migrated" : "checked");
    }

    private async Task CheckLaterAsync(PostgreSqlStorage postgres, CancellationToken cancellationToken)
    {
        for (var attempt = 1; !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), cancellationToken);
                await CheckAsync(postgres, cancellationToken);
                return;
            }
            catch (SchemaTooOldException)
            {
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }
            catch (Exception ex) when (IsUnreachable(ex)) { }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>The database did not answer (not: it answered with an error, such as a missing grant, which fails the start).</summary>
    private static bool IsUnreachable(Exception ex) => ex is NpgsqlException { IsTransient: true } or TimeoutException;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => _stopping.CancelAsync();
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage schema {Outcome} on {Backend}.")]
    private static partial void LogReady(ILogger logger, string backend, string outcome);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Refusing to start: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The schema version could not be read yet ({Reason}); checking again in the background.")]
    private static partial void LogUnreachable(ILogger logger, string reason);
}
