-- Grain state payloads (the chunks of issuers, images and events; a commit rewrites its org's tail
-- chunks whole) compressed with lz4 instead of pglz: pglz_compress was a quarter of PostgreSQL's
-- CPU under an upload load. Rows written before keep pglz and stay readable; new values use lz4.
-- A server built without lz4 keeps pglz (the migration still counts as applied).
DO $$
BEGIN
    ALTER TABLE credentials_grain_state ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4; grain state payloads stay compressed with pglz';
END
$$;
