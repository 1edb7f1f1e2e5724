-- Runs once, when the temporal-postgres volume is created (docker-entrypoint-initdb.d).
-- POSTGRES_DB already created `temporal` (history, tasks, shards); Temporal's SQL
-- visibility store (the UI's list queries and the search attributes) lives beside it.
CREATE DATABASE temporal_visibility OWNER temporal;
