using System.Data.Common;
using System.Net.Sockets;
using Orleans.Storage;

namespace Credentials.Grains.Storage;

/// <summary>
/// The one rule for which exceptions mean "the state or blob store is unavailable" rather than a
/// bug: driver errors (Npgsql, PostgreSQL's own such as 53300 too many clients, SQLite), pool and
/// command timeouts, I/O and socket failures, and a version conflict (memory is stale; a reload fixes it).
/// </summary>
/// <remarks>
/// Such exceptions never cross a grain boundary as themselves: a driver's exception type has no
/// Orleans codec. The grain answers <see cref="StorageUnavailableException"/> instead (503 + Retry-After).
/// </remarks>
public static class StorageFailures
{
    public static bool IsStorageFailure(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is DbException or IOException or TimeoutException or SocketException or InconsistentStateException) return true;
        }
        return exception is AggregateException aggregate && aggregate.InnerExceptions.Any(IsStorageFailure);
    }
}
