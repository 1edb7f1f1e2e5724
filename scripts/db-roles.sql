-- stockhold's two roles and its database, for an administrator to run once; idempotent.
--
-- Locally none of this is needed: `npm start` and `npm test` migrate as the superuser
-- `postgres`, which creates the service role `stockhold_app` itself. On a managed PostgreSQL
-- (Amazon RDS/Aurora, Cloud SQL, Azure: no superuser) run it as the administrator the provider
-- gives you (rds_superuser, cloudsqlsuperuser, azure_pg_admin):
--
--   psql "postgresql://<admin>@<host>:5432/postgres?sslmode=verify-full&sslrootcert=<ca.pem>" \
--     -v owner_password="$(openssl rand -base64 32)" -v app_password="$(openssl rand -base64 32)" \
--     -f scripts/db-roles.sql
--
-- Names: -v owner=… -v app=… -v db=… (defaults stockhold_owner, stockhold_app, stockhold).
-- A password given again replaces the role's password (rotation); omitted, it is left alone.
--
-- Then migrate as the owner; the runner gives the service role its privileges (prisma/roles.ts):
--   MIGRATION_DATABASE_URL=postgresql://stockhold_owner:<pw>@<host>/stockhold?sslmode=verify-full \
--   DATABASE_URL=postgresql://stockhold_app:<pw>@<host>/stockhold?sslmode=verify-full npm run migrate
-- and run the service with DATABASE_URL (the service role) only.

\set ON_ERROR_STOP on
\if :{?owner}
\else
  \set owner stockhold_owner
\endif
\if :{?app}
\else
  \set app stockhold_app
\endif
\if :{?db}
\else
  \set db stockhold
\endif

-- The owner: owns the schema's objects and runs the migrations. No superuser, no CREATEROLE.
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', :'owner')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
-- The service: DML on the tables, append-only on the ledger, owns nothing, cannot
-- SET session_replication_role (a superuser-only setting).
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', :'app')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') \gexec
\if :{?owner_password}
  SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'owner_password') \gexec
\endif
\if :{?app_password}
  SELECT format('ALTER ROLE %I PASSWORD %L', :'app', :'app_password') \gexec
\endif

-- Creating a database owned by another role needs membership of it (RDS, Cloud SQL).
SELECT format('GRANT %I TO CURRENT_USER', :'owner')
 WHERE NOT pg_has_role(current_user, :'owner', 'MEMBER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec

-- Only the two roles connect.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I', :'db', :'owner', :'app') \gexec

\c :"db"
-- PostgreSQL 15+: `public` belongs to the database owner and only it may create there.
-- Before 15: give the schema to the owner and take CREATE from everyone else.
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner') WHERE current_setting('server_version_num')::int < 150000 \gexec
SELECT 'REVOKE CREATE ON SCHEMA public FROM PUBLIC' WHERE current_setting('server_version_num')::int < 150000 \gexec
