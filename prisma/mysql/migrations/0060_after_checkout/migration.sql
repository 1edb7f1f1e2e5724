-- After checkout on MySQL/MariaDB (issue 22): the tables of PostgreSQL's migrations
-- 20261208300000_hold_extensions (hold_extensions; the reservations' extension counters and
-- campaigns.allow_hold_extension are in 0001_core, payment_events.type in 0020_payments) and
-- 20261208401000_returns (return_lines), with the same names, columns, keys and checks. Text
-- keys are utf8mb4_bin (byte order and case-sensitive equality, as PostgreSQL's text =);
-- timestamps are UTC DATETIME(3). One statement per step, each idempotent (docs/mysql.md,
-- mechanism 6).

-- step: hold_extensions
-- Each extension of a hold is a fact, keyed by (order, extension id): the key is the fence
-- that gives a repeat its first answer (granted or refused).
CREATE TABLE IF NOT EXISTS hold_extensions (
  order_id VARCHAR(255) NOT NULL,
  extension_id VARCHAR(255) NOT NULL,
  seconds INT NOT NULL,
  reason TEXT NOT NULL,
  source VARCHAR(64) NOT NULL,
  outcome JSON NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT hold_extensions_pkey PRIMARY KEY (order_id, extension_id),
  CONSTRAINT hold_extensions_seconds_positive CHECK (seconds > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: return_lines
-- One row per line of a return, written with its ledger rows: what came back of each order, so
-- a return takes at most what was sold minus what came back before. Append-only for the
-- service user (prisma/roles.ts APPEND_ONLY_TABLES: SELECT, INSERT).
CREATE TABLE IF NOT EXISTS return_lines (
  return_id VARCHAR(255) NOT NULL,
  line_no INT NOT NULL,
  order_id VARCHAR(255) NOT NULL,
  sku VARCHAR(255) NOT NULL,
  warehouse_code VARCHAR(255) NOT NULL,
  lot_code VARCHAR(255) NULL,
  quantity INT NOT NULL,
  disposition VARCHAR(32) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT return_lines_pkey PRIMARY KEY (return_id, line_no),
  KEY return_lines_order_id_idx (order_id),
  CONSTRAINT return_lines_quantity_pos CHECK (quantity > 0),
  CONSTRAINT return_lines_disposition_known CHECK (disposition IN ('RESTOCK', 'DAMAGED', 'QC_HOLD', 'WRITE_OFF'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
