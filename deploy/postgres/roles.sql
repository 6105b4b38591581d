-- The two PostgreSQL roles of the credentials service (docs/operations.md, "Schema and migrations").
-- Run once as a superuser (on a managed server: its admin user), connected to the service's database:
--
--   psql "host=db.example dbname=credentials user=postgres" \
--     -v migrator_role=credentials_migrator -v migrator_password='…' \
--     -v app_role=credentials_app -v app_password='…' \
--     -f deploy/postgres/roles.sql
--
-- The migrator owns the schema: `Credentials.Api migrate` (the Kubernetes Job) connects as it.
-- The app role is what silos and API nodes use: it reads and writes rows and can create nothing.

CREATE ROLE :"migrator_role" LOGIN PASSWORD :'migrator_password';
CREATE ROLE :"app_role" LOGIN PASSWORD :'app_password';

-- PostgreSQL 15 and later already keep PUBLIC from creating in public; older servers do not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"migrator_role";
GRANT USAGE ON SCHEMA public TO :"app_role";

-- Every table a migration creates from now on: rows only, for the app.
ALTER DEFAULT PRIVILEGES FOR ROLE :"migrator_role" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";

-- Tables already there (a database the service used before these roles existed; first hand them
-- to the migrator: REASSIGN OWNED BY <old role> TO <migrator role>).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
