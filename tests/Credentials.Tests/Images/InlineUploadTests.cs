using System.Net;
using Credentials.Grains;
using Credentials.Tests.Infrastructure;
using Npgsql;

namespace Credentials.Tests.Images;

/// <summary>
/// Small uploads (at most <see cref="ImageBytes.MaxInlineBytes"/>) travel to the org grain with their
/// record: on PostgreSQL the bytes are stored in the record's own commit, so both are durable or
/// neither is; elsewhere the grain puts them in the blob store before the record.
/// </summary>
public abstract class InlineUploadTests(Backend backend)
{
    protected static HttpClient Admin(ObservedService service)
    {
        var client = service.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Api-Token", ApiFactory.AdminToken);
        return client;
    }

    [Fact]
    public async Task A_small_upload_is_served_byte_for_byte_and_reaches_the_blob_store_as_the_backend_requires()
    {
        await using var service = new ObservedService(backend);
        var admin = Admin(service);
        var org = await admin.CreatePlatformAsync();
        var small = SampleImages.Png(5, 4, seed: 11);
        var large = SampleImages.PngOfLength(ImageBytes.MaxInlineBytes + 1);

        var first = await admin.UploadImageAsync(org, small, "small.png", "image/png");
        var second = await admin.UploadImageAsync(org, large, "large.png", "image/png");

        Assert.Equal(small, await admin.GetByteArrayAsync(first.MediaPath()));
        Assert.Equal(large, await admin.GetByteArrayAsync(second.MediaPath()));
        // The large one always goes through the store first; the small one only where the commit cannot hold it.
        Assert.Equal(backend == Backend.PostgreSql ? 1 : 2, service.Blobs.Puts(org));
    }

    [Fact]
    public async Task The_same_small_bytes_uploaded_twice_make_two_records_and_one_blob()
    {
        await using var service = new ObservedService(backend);
        var admin = Admin(service);
        var org = await admin.CreatePlatformAsync();
        var bytes = SampleImages.Png(3, 3, seed: 12);

        var first = await admin.UploadImageAsync(org, bytes, "a.png", "image/png");
        var second = await admin.UploadImageAsync(org, bytes, "b.png", "image/png");

        Assert.NotEqual(first.Id(), second.Id());
        Assert.Equal(first.MediaPath(), second.MediaPath());
        var blobs = new List<string>();
        await foreach (var (sha256, _) in service.Blobs.ListAsync(org)) blobs.Add(sha256);
        Assert.Single(blobs);
    }
}

public sealed class SqliteInlineUploadTests() : InlineUploadTests(Backend.Sqlite);

public sealed class PostgreSqlInlineUploadTests() : InlineUploadTests(Backend.PostgreSql)
{
    /// <summary>
    /// A trigger that fails one org's writes to <paramref name="table"/> as a database refusing the
    /// commit would (dropped on dispose); other tests' orgs are untouched.
    /// </summary>
    private static async Task<IAsyncDisposable> FailWritesAsync(string table, string org)
    {
        var name = "fail_" + Guid.NewGuid().ToString("N");
        var owner = table == "credentials_blobs" ? "NEW.org" : "split_part(NEW.grain_key, '/', 1)";
        await ExecuteAsync($"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {owner} = '{org}' THEN RAISE EXCEPTION 'injected failure'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();
            """);
        return new Dropped(name, table);
    }

    private sealed class Dropped(string name, string table) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await ExecuteAsync($"DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}();");
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestBackends.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Theory]
    [InlineData("credentials_blobs")]
    [InlineData("credentials_grain_state")]
    public async Task A_commit_that_fails_on_either_the_bytes_or_the_record_answers_503_and_keeps_neither(string failingTable)
    {
        await using var service = new ObservedService(Backend.PostgreSql);
        var admin = Admin(service);
        var org = await admin.CreatePlatformAsync();
        var bytes = SampleImages.Png(4, 4, seed: 13);

        HttpResponseMessage refused;
        await using (await FailWritesAsync(failingTable, org))
        {
            refused = await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(bytes, "x.png", "image/png"));
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var blobs = new List<string>();
        await foreach (var (sha256, _) in service.Blobs.ListAsync(org)) blobs.Add(sha256);
        Assert.Empty(blobs);
        // The grain reloads from what storage holds: no record; the same upload then succeeds, once.
        await ImageRequests.EventuallyAsync(async () =>
            (await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(bytes, "x.png", "image/png"))).StatusCode == HttpStatusCode.OK,
            "an upload succeeding after the failed commit");
        Assert.Single(await admin.SearchImagesAsync(org, ""));
    }
}
