using System.Data.Common;

namespace Credentials.Grains.Membership;

/// <summary>
/// The cluster membership table on PostgreSQL, for Microsoft.Orleans.Clustering.AdoNet 10.4: the
/// OrleansQuery rows it reads at start-up (its tables are in Storage/Migrations). Our own SQL, written for the provider's
/// contract: the query keys it requires, the parameters it binds (<c>@DeploymentId</c> is the
/// cluster id; <c>@Address</c>, <c>@Port</c>, <c>@Generation</c> name a silo; <c>@Version</c> is
/// the table version the caller read) and the columns it reads back by name.
/// </summary>
/// <remarks>
/// Every membership change (a silo joining, a status change, a death vote) bumps the version row
/// only if the caller's version is still current, in the same statement as the change: two silos
/// racing on one version cannot both win. The insert and update queries answer one boolean.
/// Reads always return the version row, joined to zero or more silo rows.
/// </remarks>
internal static class PostgreSqlMembershipTable
{
    /// <summary>The ADO.NET invariant the clustering provider loads (Npgsql, as for storage).</summary>
    public const string Invariant = "Npgsql";

    private const string SiloMatch = "m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation";

    private const string MemberColumns = """
        v.Version AS "Version", m.Address AS "Address", m.Port AS "Port", m.Generation AS "Generation",
        m.SiloName AS "SiloName", m.HostName AS "HostName", m.Status AS "Status", m.ProxyPort AS "ProxyPort",
        m.SuspectTimes AS "SuspectTimes", m.StartTime AS "StartTime", m.IAmAliveTime AS "IAmAliveTime"
        """;

    /// <summary>Bumps the version row when the caller's version is still the current one.</summary>
    private const string BumpVersion = """
        UPDATE OrleansMembershipVersionTable
        SET Version = Version + 1, Timestamp = now()
        WHERE DeploymentId = @DeploymentId AND Version = @Version
        """;

    public static readonly IReadOnlyDictionary<string, string> Queries = new Dictionary<string, string>
    {
        ["InsertMembershipVersionKey"] = """
            WITH inserted AS (
                INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId)
                ON CONFLICT (DeploymentId) DO NOTHING
                RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM inserted) AS "Inserted";
            """,
        ["MembershipReadAllKey"] = $"""
            SELECT {MemberColumns}
            FROM OrleansMembershipVersionTable v
            LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
            WHERE v.DeploymentId = @DeploymentId;
            """,
        ["MembershipReadRowKey"] = $"""
            SELECT {MemberColumns}
            FROM OrleansMembershipVersionTable v
            LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId AND {SiloMatch}
            WHERE v.DeploymentId = @DeploymentId;
            """,
        // The version moves only when the silo's row is not there yet, so a repeated insert changes nothing.
        ["InsertMembershipKey"] = $"""
            WITH bumped AS (
                {BumpVersion}
                AND NOT EXISTS (SELECT 1 FROM OrleansMembershipTable m
                                WHERE m.DeploymentId = @DeploymentId AND {SiloMatch})
                RETURNING DeploymentId),
            inserted AS (
                INSERT INTO OrleansMembershipTable
                    (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
                SELECT DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
                FROM bumped
                ON CONFLICT DO NOTHING
                RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM inserted) AS "Inserted";
            """,
        ["UpdateMembershipKey"] = $"""
            WITH bumped AS (
                {BumpVersion}
                AND EXISTS (SELECT 1 FROM OrleansMembershipTable m
                            WHERE m.DeploymentId = @DeploymentId AND {SiloMatch})
                RETURNING DeploymentId),
            updated AS (
                UPDATE OrleansMembershipTable m
                SET Status = @Status, SuspectTimes = @SuspectTimes, IAmAliveTime = @IAmAliveTime
                FROM bumped
                WHERE m.DeploymentId = bumped.DeploymentId AND {SiloMatch}
                RETURNING 1)
            SELECT EXISTS (SELECT 1 FROM updated) AS "Updated";
            """,
        // Liveness heartbeats do not change the table version: nobody's view of membership changes.
        ["UpdateIAmAlivetimeKey"] = $"""
            UPDATE OrleansMembershipTable m
            SET IAmAliveTime = @IAmAliveTime
            WHERE m.DeploymentId = @DeploymentId AND {SiloMatch};
            """,
        ["GatewaysQueryKey"] = """
            SELECT Address AS "Address", ProxyPort AS "ProxyPort", Generation AS "Generation"
            FROM OrleansMembershipTable
            WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
            """,
        // Rows of silos that stopped heart-beating long ago and are not active (Status 3).
        ["CleanupDefunctSiloEntriesKey"] = """
            DELETE FROM OrleansMembershipTable
            WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status <> 3;
            """,
        ["DeleteMembershipTableEntriesKey"] = """
            DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
            DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
            """,
    };
}
