-- The messenger's PostgreSQL roles: an owner that runs the migrations (DDL) and a runtime role the
-- server's processes use, with only the rights their queries need. Run once, as a superuser, in
-- the messenger's database (created beforehand: CREATE DATABASE messenger):
--   psql -d messenger -v owner_password=... -v app_password=... -f deploy/postgres/roles.sql
-- Optional: -v owner=<name> -v app=<name> -v schema=<name> (defaults messenger_owner, messenger,
-- messenger). The server then runs with
--   DATABASE_URL=postgres://messenger:<app_password>@db/messenger           (every process)
--   DATABASE_MIGRATION_URL=postgres://messenger_owner:<owner_password>@db/messenger
--                                       (one process, or `messenger migrate`: who applies migrations)
--   DATABASE_SCHEMA=messenger
-- A process without DATABASE_MIGRATION_URL finds the schema up to date and runs no DDL; one
-- started on a newer version before the migrations ran refuses to start.
\set ON_ERROR_STOP on
\if :{?owner} \else \set owner messenger_owner \endif
\if :{?app} \else \set app messenger \endif
\if :{?schema} \else \set schema messenger \endif
SELECT current_database() AS db \gset

CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD :'app_password';

-- Nobody else connects; the runtime role may not create schemas or temporary tables. The owner
-- needs CREATE on the database: migrations run CREATE SCHEMA IF NOT EXISTS (checked even when the
-- schema exists).
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"app";
GRANT CREATE ON DATABASE :"db" TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The extensions the migrations use, installed here so the owner needs no rights on public.
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public;

CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"owner";
GRANT USAGE ON SCHEMA :"schema" TO :"app";
ALTER ROLE :"owner" SET search_path = :"schema";
ALTER ROLE :"app" SET search_path = :"schema";

-- What the owner's migrations create later is the runtime role's to read and write, never to
-- alter, drop or truncate. Not limited to one schema, so a schema named by DATABASE_SCHEMA that
-- migrations create is covered too.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" GRANT USAGE ON SCHEMAS TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" GRANT USAGE, SELECT ON SEQUENCES TO :"app";
-- And what exists already (running this on a database migrated before).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app";
