using Credentials.Grains.Storage.Migrations;
using Npgsql;

namespace Credentials.Tests.Persistence;

/// <summary>
/// The versioned PostgreSQL schema: from an empty database, from one the pre-migration code made,
/// twice, several migrators at once, a failing migration, and the version check cluster nodes run.
/// Each test has a database of its own.
/// </summary>
public sealed class MigrationTests : IAsyncLifetime
{
    private static readonly string[] Tables =
        ["orleansquery", "credentials_grain_state", "orleansmembershipversiontable", "orleansmembershiptable", "credentials_blobs", "credentials_schema_version"];

    private MigrationDatabase _database = null!;

    public async Task InitializeAsync() => _database = await MigrationDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private Task<MigrationReport> MigrateAsync(IReadOnlyList<Migration>? migrations = null, int? target = null) =>
        SchemaMigrations.ApplyAsync(_database.ConnectionString, CancellationToken.None, migrations, target);

    private async Task<long> CountAsync(string sql) => Convert.ToInt64(await _database.ScalarAsync(sql));

    private Task<long> TableCountAsync() =>
        CountAsync($"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ({string.Join(", ", Tables.Select(t => $"'{t}'"))})");

    [Fact]
    public async Task Migrating_an_empty_database_creates_every_table_and_records_each_version_with_its_description()
    {
        var report = await MigrateAsync();

        Assert.Equal((0, SchemaMigrations.Required), (report.From, report.To));
        Assert.Equal(SchemaMigrations.All.Select(m => m.Version), report.Applied.Select(m => m.Version));
        Assert.Equal(Tables.Length, await TableCountAsync());
        Assert.Equal(SchemaMigrations.All.Count, await CountAsync("SELECT count(*) FROM credentials_schema_version WHERE description <> '' AND applied_at <= now()"));
        Assert.Equal("e", Convert.ToString(await _database.ScalarAsync(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = 'credentials_blobs'::regclass AND attname = 'content'")));
    }

    [Fact]
    public async Task State_payloads_written_with_pglz_stay_readable_and_new_ones_are_compressed_with_lz4()
    {
        await MigrateAsync(target: 2);
        // 64 KiB that compress well: stored compressed (inline or in TOAST), with the column's method.
        const string Payload = "decode(repeat('00112233445566778899aabbccddeeff', 4096), 'hex')";
        await MigrationDatabase.ExecuteAsync(_database.ConnectionString,
            $"INSERT INTO credentials_grain_state VALUES ('svc', 'state', 0, 0, 'before', {Payload}, 1, now())");
        Assert.Equal("pglz", await _database.ScalarAsync("SELECT pg_column_compression(payload) FROM credentials_grain_state WHERE grain_key = 'before'"));

        var report = await MigrateAsync();

        Assert.Contains(3, report.Applied.Select(m => m.Version));
        Assert.Equal("l", Convert.ToString(await _database.ScalarAsync(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = 'credentials_grain_state'::regclass AND attname = 'payload'")));
        await MigrationDatabase.ExecuteAsync(_database.ConnectionString,
            $"INSERT INTO credentials_grain_state VALUES ('svc', 'state', 0, 0, 'after', {Payload}, 1, now())");
        Assert.Equal("lz4", await _database.ScalarAsync("SELECT pg_column_compression(payload) FROM credentials_grain_state WHERE grain_key = 'after'"));
        var expected = Convert.FromHexString(string.Concat(Enumerable.Repeat("00112233445566778899aabbccddeeff", 4096)));
        Assert.Equal(expected, await _database.ScalarAsync("SELECT payload FROM credentials_grain_state WHERE grain_key = 'before'"));
        Assert.Equal(expected, await _database.ScalarAsync("SELECT payload FROM credentials_grain_state WHERE grain_key = 'after'"));
    }

    [Fact]
    public async Task A_database_made_by_the_pre_migration_code_is_accepted_and_keeps_its_rows()
    {
        await MigrationDatabase.ExecuteAsync(_database.ConnectionString, PreMigrationSchema);
        await MigrationDatabase.ExecuteAsync(_database.ConnectionString, """
            INSERT INTO credentials_grain_state VALUES ('svc', 'state', 0, 0, 'org-1', '\x0102', 7, now());
            INSERT INTO credentials_blobs (service_id, org, sha256, content) VALUES ('svc', 'org-1', repeat('a', 64), '\x030405');
            """);

        var report = await MigrateAsync();

        Assert.Equal((0, SchemaMigrations.Required), (report.From, report.To));
        Assert.Equal(7L, await CountAsync("SELECT version FROM credentials_grain_state WHERE grain_key = 'org-1'"));
        Assert.Equal(new byte[] { 3, 4, 5 }, await _database.ScalarAsync("SELECT content FROM credentials_blobs WHERE org = 'org-1'"));
        await SchemaMigrations.RequireAsync(_database.ConnectionString, CancellationToken.None);
    }

    [Fact]
    public async Task Migrating_twice_applies_nothing_the_second_time()
    {
        await MigrateAsync();
        var appliedAt = await _database.ScalarAsync("SELECT max(applied_at) FROM credentials_schema_version");

        var again = await MigrateAsync();

        Assert.Equal((SchemaMigrations.Required, SchemaMigrations.Required), (again.From, again.To));
        Assert.Empty(again.Applied);
        Assert.Equal(appliedAt, await _database.ScalarAsync("SELECT max(applied_at) FROM credentials_schema_version"));
        Assert.Equal(SchemaMigrations.All.Count, await CountAsync("SELECT count(*) FROM credentials_schema_version"));
    }

    [Fact]
    public async Task Migrators_running_at_once_apply_each_migration_exactly_once()
    {
        var reports = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => MigrateAsync())));

        Assert.Equal(SchemaMigrations.All.Count, reports.Sum(r => r.Applied.Count));
        Assert.All(reports, r => Assert.Equal(SchemaMigrations.Required, r.To));
        Assert.Equal(SchemaMigrations.All.Count, await CountAsync("SELECT count(*) FROM credentials_schema_version"));
    }

    [Fact]
    public async Task A_failing_migration_leaves_the_database_as_it_was()
    {
        await MigrateAsync();
        Migration broken = new(SchemaMigrations.Required + 1, "broken", "CREATE TABLE half_done (id int); SELECT 1 / 0;");

        await Assert.ThrowsAsync<PostgresException>(() => MigrateAsync([.. SchemaMigrations.All, broken]));

        Assert.Equal(SchemaMigrations.Required, await SchemaMigrations.ReadVersionAsync(_database.ConnectionString, CancellationToken.None));
        Assert.False(await _database.HasTableAsync("half_done"));
    }

    [Fact]
    public async Task A_schema_older_than_the_build_needs_is_refused_with_the_versions_and_the_command_to_run()
    {
        var missing = await Assert.ThrowsAsync<SchemaTooOldException>(() => SchemaMigrations.RequireAsync(_database.ConnectionString, CancellationToken.None));
        Assert.Contains("database schema is missing", missing.Message);
        Assert.Contains("run `Credentials.Api migrate`", missing.Message);

        var partial = await MigrateAsync(target: 1);
        Assert.Equal((0, 1), (partial.From, partial.To));

        var old = await Assert.ThrowsAsync<SchemaTooOldException>(() => SchemaMigrations.RequireAsync(_database.ConnectionString, CancellationToken.None, required: 2));
        Assert.Equal("database schema is at version 1, this build needs 2: run `Credentials.Api migrate`", old.Message);
    }

    [Fact]
    public async Task A_schema_newer_than_the_build_needs_is_accepted_and_left_alone()
    {
        await MigrateAsync();
        await MigrationDatabase.ExecuteAsync(_database.ConnectionString, "INSERT INTO credentials_schema_version (version, description) VALUES (99, 'from a later build')");

        await SchemaMigrations.RequireAsync(_database.ConnectionString, CancellationToken.None);
        var report = await MigrateAsync();

        Assert.Equal((99, 99), (report.From, report.To));
        Assert.Empty(report.Applied);
    }

    /// <summary>What the code before versioned migrations ran (silo start-up, then the blob store on first use), frozen here.</summary>
    private const string PreMigrationSchema = """
        SELECT pg_advisory_xact_lock(7461827364);
        CREATE TABLE IF NOT EXISTS OrleansQuery
        (
            QueryKey varchar(64) NOT NULL PRIMARY KEY,
            QueryText text NOT NULL
        );
        CREATE TABLE IF NOT EXISTS credentials_grain_state
        (
            service_id  varchar(150) NOT NULL,
            state_name  varchar(512) NOT NULL,
            grain_n0    bigint NOT NULL,
            grain_n1    bigint NOT NULL,
            grain_key   varchar(512) NOT NULL,
            payload     bytea NULL,
            version     integer NOT NULL,
            modified_on timestamptz NOT NULL,
            PRIMARY KEY (service_id, state_name, grain_n0, grain_n1, grain_key)
        );
        CREATE INDEX IF NOT EXISTS credentials_grain_state_key_prefix
            ON credentials_grain_state (service_id, state_name, grain_key varchar_pattern_ops);
        CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
        (
            DeploymentId varchar(150) NOT NULL PRIMARY KEY,
            Timestamp    timestamptz NOT NULL DEFAULT now(),
            Version      integer NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS OrleansMembershipTable
        (
            DeploymentId varchar(150) NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId),
            Address      varchar(45) NOT NULL,
            Port         integer NOT NULL,
            Generation   integer NOT NULL,
            SiloName     varchar(150) NOT NULL,
            HostName     varchar(150) NOT NULL,
            Status       integer NOT NULL,
            ProxyPort    integer NOT NULL,
            SuspectTimes text NULL,
            StartTime    timestamptz NOT NULL,
            IAmAliveTime timestamptz NOT NULL,
            PRIMARY KEY (DeploymentId, Address, Port, Generation)
        );
        SELECT pg_advisory_xact_lock(7461827365);
        CREATE TABLE IF NOT EXISTS credentials_blobs
        (
            service_id varchar(150) NOT NULL,
            org       varchar(64) NOT NULL,
            sha256    char(64) NOT NULL,
            content   bytea NOT NULL,
            stored_on timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (service_id, org, sha256)
        );
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_attribute
                       WHERE attrelid = 'credentials_blobs'::regclass AND attname = 'content' AND attstorage <> 'e') THEN
                ALTER TABLE credentials_blobs ALTER COLUMN content SET STORAGE EXTERNAL;
            END IF;
        END $$;
        """;
}
