-- The tables the pre-migration code created at start-up (silos) and on first use (blobs), written
-- with IF NOT EXISTS so a database made by that code is accepted as it is.

-- Microsoft.Orleans AdoNet providers read their SQL from here (keys in PostgreSqlStorage and
-- PostgreSqlMembershipTable); the rows are written by `migrate` and by every silo at start.
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

-- Listing an org's chunks is a prefix match on grain_key; pattern_ops makes it an index range
-- whatever the database's collation.
CREATE INDEX IF NOT EXISTS credentials_grain_state_key_prefix
    ON credentials_grain_state (service_id, state_name, grain_key varchar_pattern_ops);

-- Cluster membership (Microsoft.Orleans.Clustering.AdoNet).
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

-- Image bytes, content-addressed per service and org.
CREATE TABLE IF NOT EXISTS credentials_blobs
(
    service_id varchar(150) NOT NULL,
    org        varchar(64) NOT NULL,
    sha256     char(64) NOT NULL,
    content    bytea NOT NULL,
    stored_on  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, org, sha256)
);
