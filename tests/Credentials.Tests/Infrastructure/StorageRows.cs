using Credentials.Grains.Storage;

namespace Credentials.Tests.Infrastructure;

/// <summary>Changes to an embedded service's rows behind its grains' backs (fault injection).</summary>
public static class StorageRows
{
    /// <summary>Moves a chunk row's version on, so the grain's next write of it is a version conflict.</summary>
    public static async Task BumpVersionAsync(ApiFactory factory, string key)
    {
        var storage = TestBackends.Create(factory.Backend, factory.DataDirectory);
        await using var connection = storage.CreateConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE credentials_grain_state SET version = version + 1 WHERE service_id = @service AND state_name = @state AND grain_key = @key";
        foreach (var (name, value) in new[] { ("service", factory.ServiceId), ("state", ChunkStore.StateName), ("key", key) })
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
