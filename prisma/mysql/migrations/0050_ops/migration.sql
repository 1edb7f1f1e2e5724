-- The operator's tables on MySQL/MariaDB (issue 22): API keys, the admin audit log, stock
-- alerts and reconciliation runs, with PostgreSQL's names, columns and nullability
-- (prisma/migrations/20261125094000_stock_model, 20261130120000_api_keys and the later columns).
-- Each step is one idempotent statement (prisma/mysql-migrate.ts records it once it succeeded).

-- step: api_keys
-- A key is presented as sk_<id>_<secret>; only sha256(secret) is kept; never deleted (revoked_at
-- ends it). `scopes` is PostgreSQL's TEXT[] as a JSON array of strings. The scope CHECK cannot
-- unnest the array (no subqueries in a CHECK): it counts the known scopes the array contains,
-- which equals its length exactly when every element is a known scope named once.
CREATE TABLE IF NOT EXISTS api_keys (
  id VARCHAR(255) NOT NULL,
  name TEXT NOT NULL,
  hash VARCHAR(255) NOT NULL,
  scopes JSON NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  created_by VARCHAR(255) NOT NULL,
  expires_at DATETIME(3) NULL,
  revoked_at DATETIME(3) NULL,
  revoked_by VARCHAR(255) NULL,
  CONSTRAINT api_keys_pkey PRIMARY KEY (id),
  KEY api_keys_created_at_idx (created_at),
  CONSTRAINT api_keys_scopes_known CHECK (
    JSON_TYPE(scopes) = 'ARRAY' AND JSON_LENGTH(scopes) > 0 AND JSON_LENGTH(scopes) =
      JSON_CONTAINS(scopes, '"orders"') + JSON_CONTAINS(scopes, '"inventory:read"') + JSON_CONTAINS(scopes, '"campaigns"')
      + JSON_CONTAINS(scopes, '"admin"') + JSON_CONTAINS(scopes, '"ops"') + JSON_CONTAINS(scopes, '"events"')),
  CONSTRAINT api_keys_revoked_by CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: admin_audit
-- One row per admin request (scopes admin and campaigns, every method but GET), written after
-- authentication and validation and before the change runs. Append-only: the service user holds
-- SELECT, INSERT only (prisma/mysql-roles.ts) and the triggers below refuse a rewrite even by the owner.
CREATE TABLE IF NOT EXISTS admin_audit (
  id BIGINT NOT NULL AUTO_INCREMENT,
  actor VARCHAR(255) NOT NULL,
  method VARCHAR(16) NOT NULL,
  route TEXT NOT NULL,
  url TEXT NOT NULL,
  body JSON NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT admin_audit_pkey PRIMARY KEY (id),
  KEY admin_audit_actor_created_at_idx (actor, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: admin_audit_no_update
CREATE OR REPLACE TRIGGER admin_audit_append_only_update BEFORE UPDATE ON admin_audit FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'admin_audit is append-only (UPDATE refused)'

-- step: admin_audit_no_delete
CREATE OR REPLACE TRIGGER admin_audit_append_only_delete BEFORE DELETE ON admin_audit FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'admin_audit is append-only (DELETE refused)'

-- step: stock_alerts
-- Raised once per (kind, subject), ever: the unique key makes it a fact of the database (an
-- INSERT that meets it is caught as error 1062, docs/mysql.md mechanism 4). `subject` is
-- VARCHAR(700) so the unique key fits InnoDB's 3,072-byte limit in utf8mb4 (a lot's subject is
-- sku/warehouse/lot).
CREATE TABLE IF NOT EXISTS stock_alerts (
  id BIGINT NOT NULL AUTO_INCREMENT,
  kind VARCHAR(64) NOT NULL,
  subject VARCHAR(700) NOT NULL,
  sku VARCHAR(255) NOT NULL,
  warehouse_code VARCHAR(255) NOT NULL,
  lot_code VARCHAR(255) NULL,
  details JSON NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  delivered_at DATETIME(3) NULL,
  CONSTRAINT stock_alerts_pkey PRIMARY KEY (id),
  CONSTRAINT stock_alerts_kind_subject_key UNIQUE (kind, subject),
  KEY stock_alerts_delivered_at_idx (delivered_at),
  CONSTRAINT stock_alerts_kind_known CHECK (kind IN ('NEAR_EXPIRY', 'EXPIRED', 'TRANSFER_OVERDUE', 'SAGA_PAST_EXPIRY',
    'PAYMENT_UNSETTLED', 'RELEASE_FAILED', 'PAYMENT_UNKNOWN_ORDER', 'SAGA_PAYMENT_MISMATCH', 'WEBHOOK_DISABLED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: reconciliation_runs
-- One reconciliation pass: what it found (never fixed automatically).
CREATE TABLE IF NOT EXISTS reconciliation_runs (
  id BIGINT NOT NULL AUTO_INCREMENT,
  started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  levels_checked INT NOT NULL,
  clean BOOLEAN NOT NULL,
  drifts JSON NOT NULL,
  unsettled_payments JSON NOT NULL DEFAULT ('[]'),
  unstarted_sagas JSON NOT NULL DEFAULT ('[]'),
  saga_mismatches JSON NOT NULL DEFAULT ('[]'),
  CONSTRAINT reconciliation_runs_pkey PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
