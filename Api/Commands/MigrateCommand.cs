namespace Credentials.Api.Commands;

/// <summary>
/// <c>Credentials.Api migrate</c>. A placeholder in this build: the schema migrations are merged
/// from their own branch, which replaces this file.
/// </summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(IConfiguration configuration, TextWriter output, CancellationToken ct)
    {
        await output.WriteLineAsync("migrate: not in this build");
        return 1;
    }
}
