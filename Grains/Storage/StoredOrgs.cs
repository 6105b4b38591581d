using System.Data.Common;

namespace Credentials.Grains.Storage;

/// <summary>
/// The orgs that have a platform record in storage: what the org directory starts from, so orgs
/// created before the directory existed (or while it was down) are never forgotten.
/// </summary>
public static class StoredOrgs
{
    /// <summary>The chunk key of an org's platform record is <c>{org}/platform</c>.</summary>
    public const string PlatformSuffix = "/platform";

    public static string PlatformKey(string org) => org + PlatformSuffix;

    /// <summary>Every org of <paramref name="serviceId"/> with a platform row; one scan, run at directory activation only.</summary>
    public static async Task<List<string>> ListAsync(StorageBackend backend, string serviceId, CancellationToken cancellationToken)
    {
        await using var connection = backend.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT grain_key FROM credentials_grain_state " +
            "WHERE service_id = @service AND state_name = @state AND grain_key LIKE @pattern AND payload IS NOT NULL";
        Add(command, "service", serviceId);
        Add(command, "state", ChunkStore.StateName);
        Add(command, "pattern", "%" + PlatformSuffix);
        var orgs = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = reader.GetString(0);
            // LIKE is case-insensitive in SQLite; the suffix is checked exactly here.
            if (key.EndsWith(PlatformSuffix, StringComparison.Ordinal) && key.Length > PlatformSuffix.Length)
            {
                orgs.Add(key[..^PlatformSuffix.Length]);
            }
        }
        return orgs;
    }

    private static void Add(DbCommand command, string name, string value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
