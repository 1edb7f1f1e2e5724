-- The cache checker's record on MySQL/MariaDB (issue 22): one row per consistency check, read by
-- GET /admin/cache/checks and the console; the same columns as PostgreSQL's cache_checks
-- (details: JSON). Each step one idempotent statement (prisma/mysql-migrate.ts).

-- step: cache_checks
CREATE TABLE IF NOT EXISTS cache_checks (
  id BIGINT NOT NULL AUTO_INCREMENT,
  checked_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  hot INT NOT NULL,
  sampled INT NOT NULL,
  compared INT NOT NULL,
  drifted INT NOT NULL,
  drift_ppm INT NOT NULL,
  rebuilt BOOLEAN NOT NULL,
  details JSON NULL,
  CONSTRAINT cache_checks_pkey PRIMARY KEY (id),
  KEY cache_checks_checked_at_idx (checked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
