#!/bin/sh
# One-shot job (temporalio/admin-tools): brings Temporal's two PostgreSQL databases to the
# schema version this server release expects. Safe to re-run: setup-schema only records the
# base version when none is recorded, update-schema applies only what is missing.
# The databases themselves are created by initdb/01-visibility.sql and POSTGRES_DB.
# Connection settings come from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD.
set -eu

SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) versioned="$SCHEMA_DIR/temporal/versioned" ;;
    *) versioned="$SCHEMA_DIR/visibility/versioned" ;;
  esac
  echo "schema: $db"
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "$versioned"
done
echo 'schema: done'
