using System.Data.Common;
using System.Text.Json;

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

    /// <summary>Every platform of <paramref name="serviceId"/>, read from its row; one scan, run at directory activation only.</summary>
    public static async Task<List<Platform>> ListAsync(StorageBackend backend, string serviceId, CancellationToken cancellationToken)
    {
        await using var connection = backend.CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT grain_key, payload FROM credentials_grain_state " +
            "WHERE service_id = @service AND state_name = @state AND grain_key LIKE @pattern AND payload IS NOT NULL";
        Add(command, "service", serviceId);
        Add(command, "state", ChunkStore.StateName);
        Add(command, "pattern", "%" + PlatformSuffix);
        var platforms = new List<Platform>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = reader.GetString(0);
            // LIKE is case-insensitive in SQLite; the suffix is checked exactly here.
            if (key.EndsWith(PlatformSuffix, StringComparison.Ordinal) && key.Length > PlatformSuffix.Length)
            {
                platforms.Add(Read(key[..^PlatformSuffix.Length], reader.GetFieldValue<byte[]>(1)));
            }
        }
        return platforms;
    }

    /// <summary>The platform a row holds; a row that does not parse still names an org that exists.</summary>
    private static Platform Read(string org, byte[] payload)
    {
        try
        {
            var record = JsonSerializer.Deserialize(payload, StorageJsonContext.Default.PlatformRecord);
            if (record is not null) return new Platform(org, record.Name, record.Created);
        }
        catch (JsonException)
        {
        }
        return new Platform(org, org, DateTimeOffset.UnixEpoch);
    }

    private static void Add(DbCommand command, string name, string value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
