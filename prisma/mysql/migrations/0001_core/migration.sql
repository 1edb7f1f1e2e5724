-- The core tables on MySQL/MariaDB (issue 22, docs/mysql.md): the same tables and columns as
-- PostgreSQL's (test/mariadb/schema.test.ts compares them), InnoDB, utf8mb4_bin (byte order and
-- case-sensitive equality, as PostgreSQL's "C" collation and text =), timestamps as UTC
-- DATETIME(3). Every step is one statement written to be idempotent: MySQL commits each DDL,
-- so the runner (prisma/mysql-migrate.ts) records each step after it succeeds and a crash
-- re-runs from the first step not recorded. Never edit a step once released: add one.

-- step: products
CREATE TABLE IF NOT EXISTS products (
  sku VARCHAR(255) NOT NULL,
  name TEXT NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  lot_tracked BOOLEAN NOT NULL DEFAULT FALSE,
  alert_days_before_expiry INT NULL,
  removal_days_before_expiry INT NULL,
  CONSTRAINT products_pkey PRIMARY KEY (sku)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: warehouses
CREATE TABLE IF NOT EXISTS warehouses (
  code VARCHAR(255) NOT NULL,
  name TEXT NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  region VARCHAR(255) NOT NULL DEFAULT 'default',
  priority INT NOT NULL DEFAULT 100,
  latitude DOUBLE NULL,
  longitude DOUBLE NULL,
  CONSTRAINT warehouses_pkey PRIMARY KEY (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: inventory_levels
CREATE TABLE IF NOT EXISTS inventory_levels (
  sku VARCHAR(255) NOT NULL,
  warehouse_code VARCHAR(255) NOT NULL,
  on_hand INT NOT NULL DEFAULT 0,
  reserved INT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  safety_stock INT NOT NULL DEFAULT 0,
  incoming INT NOT NULL DEFAULT 0,
  event_available INT NOT NULL DEFAULT 0,
  damaged INT NOT NULL DEFAULT 0,
  quality_control INT NOT NULL DEFAULT 0,
  CONSTRAINT inventory_levels_pkey PRIMARY KEY (sku, warehouse_code),
  CONSTRAINT inventory_levels_sku_fkey FOREIGN KEY (sku) REFERENCES products (sku) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT inventory_levels_warehouse_code_fkey FOREIGN KEY (warehouse_code) REFERENCES warehouses (code) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT inventory_levels_on_hand_nonneg CHECK (on_hand >= 0),
  CONSTRAINT inventory_levels_reserved_nonneg CHECK (reserved >= 0),
  CONSTRAINT inventory_levels_reserved_le_on_hand CHECK (reserved <= on_hand),
  CONSTRAINT inventory_levels_safety_stock_nonneg CHECK (safety_stock >= 0),
  CONSTRAINT inventory_levels_incoming_nonneg CHECK (incoming >= 0),
  CONSTRAINT inventory_levels_damaged_nonneg CHECK (damaged >= 0),
  CONSTRAINT inventory_levels_quality_control_nonneg CHECK (quality_control >= 0),
  CONSTRAINT inventory_levels_held_and_set_aside_le_on_hand CHECK (reserved + damaged + quality_control <= on_hand)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: stock_lots
CREATE TABLE IF NOT EXISTS stock_lots (
  sku VARCHAR(255) NOT NULL,
  warehouse_code VARCHAR(255) NOT NULL,
  lot_code VARCHAR(255) NOT NULL,
  quantity INT NOT NULL DEFAULT 0,
  received_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  expires_at DATETIME(3) NULL,
  alert_at DATETIME(3) NULL,
  remove_at DATETIME(3) NULL,
  quarantined BOOLEAN NOT NULL DEFAULT FALSE,
  quarantine_reason TEXT NULL,
  CONSTRAINT stock_lots_pkey PRIMARY KEY (sku, warehouse_code, lot_code),
  CONSTRAINT stock_lots_sku_warehouse_code_fkey FOREIGN KEY (sku, warehouse_code)
    REFERENCES inventory_levels (sku, warehouse_code) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT stock_lots_quantity_nonneg CHECK (quantity >= 0),
  CONSTRAINT stock_lots_dates_ordered CHECK (remove_at IS NULL OR expires_at IS NULL OR remove_at <= expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: campaigns
CREATE TABLE IF NOT EXISTS campaigns (
  id VARCHAR(255) NOT NULL,
  sku VARCHAR(255) NOT NULL,
  warehouse_code VARCHAR(255) NOT NULL,
  starts_at DATETIME(3) NOT NULL,
  ends_at DATETIME(3) NOT NULL,
  quota INT NOT NULL,
  per_user_limit INT NOT NULL,
  remaining INT NOT NULL,
  status VARCHAR(32) NOT NULL DEFAULT 'OPEN',
  ended_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  kind VARCHAR(32) NOT NULL DEFAULT 'FLASH_SALE',
  expected_at DATETIME(3) NULL,
  allow_hold_extension BOOLEAN NOT NULL DEFAULT FALSE,
  CONSTRAINT campaigns_pkey PRIMARY KEY (id),
  KEY campaigns_created_at_id_idx (created_at, id),
  CONSTRAINT campaigns_sku_warehouse_code_fkey FOREIGN KEY (sku, warehouse_code)
    REFERENCES inventory_levels (sku, warehouse_code) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT campaigns_window CHECK (ends_at > starts_at),
  CONSTRAINT campaigns_quota_pos CHECK (quota > 0 AND per_user_limit > 0),
  CONSTRAINT campaigns_remaining_range CHECK (remaining >= 0 AND remaining <= quota),
  CONSTRAINT campaigns_kind_known CHECK (kind IN ('FLASH_SALE', 'PRE_SALE')),
  CONSTRAINT campaigns_pre_sale_has_date CHECK (kind <> 'PRE_SALE' OR expected_at IS NOT NULL),
  CONSTRAINT campaigns_status_known CHECK (status IN ('OPEN', 'ENDED', 'FULFILLED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: campaign_user_counts
-- No foreign key to campaigns, unlike PostgreSQL: InnoDB's check takes a shared lock on the
-- campaign row, and two hold batches holding it would deadlock asking for the row (InnoDB has no
-- FOR NO KEY UPDATE). The batch writes counts only for a campaign it has read; campaigns are
-- never deleted (reservations refer to them).
CREATE TABLE IF NOT EXISTS campaign_user_counts (
  campaign_id VARCHAR(255) NOT NULL,
  user_id VARCHAR(255) NOT NULL,
  quantity INT NOT NULL,
  CONSTRAINT campaign_user_counts_pkey PRIMARY KEY (campaign_id, user_id),
  CONSTRAINT campaign_user_counts_quantity_nonneg CHECK (quantity >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: reservations
CREATE TABLE IF NOT EXISTS reservations (
  id VARCHAR(255) NOT NULL,
  order_id VARCHAR(255) NOT NULL,
  user_id VARCHAR(255) NOT NULL,
  status VARCHAR(32) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  payment_id VARCHAR(255) NULL,
  release_reason VARCHAR(64) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  campaign_id VARCHAR(255) NULL,
  paid_at DATETIME(3) NULL,
  allocation JSON NULL,
  consumed_lots JSON NULL,
  amount_cents INT NULL,
  extension_count INT NOT NULL DEFAULT 0,
  extended_seconds INT NOT NULL DEFAULT 0,
  version INT NOT NULL DEFAULT 0,
  CONSTRAINT reservations_pkey PRIMARY KEY (id),
  KEY reservations_order_id_idx (order_id),
  KEY reservations_status_expires_at_id_idx (status, expires_at, id),
  KEY reservations_campaign_id_status_idx (campaign_id, status),
  KEY reservations_campaign_id_paid_at_idx (campaign_id, paid_at),
  KEY reservations_created_at_id_idx (created_at, id),
  KEY reservations_user_id_created_at_id_idx (user_id, created_at, id),
  CONSTRAINT reservations_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT reservations_status_known CHECK (status IN ('RESERVED', 'CONFIRMED', 'RELEASED', 'BACKORDERED', 'REFUND_REQUIRED')),
  CONSTRAINT reservations_amount_check CHECK (amount_cents IS NULL OR amount_cents >= 0),
  CONSTRAINT reservations_extensions_nonnegative CHECK (extension_count >= 0 AND extended_seconds >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: reservation_lines
CREATE TABLE IF NOT EXISTS reservation_lines (
  reservation_id VARCHAR(255) NOT NULL,
  sku VARCHAR(255) NOT NULL,
  warehouse_code VARCHAR(255) NOT NULL,
  quantity INT NOT NULL,
  CONSTRAINT reservation_lines_pkey PRIMARY KEY (reservation_id, sku, warehouse_code),
  CONSTRAINT reservation_lines_reservation_id_fkey FOREIGN KEY (reservation_id) REFERENCES reservations (id) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT reservation_lines_quantity_pos CHECK (quantity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: operation_fences
CREATE TABLE IF NOT EXISTS operation_fences (
  serial VARCHAR(255) NOT NULL,
  operation VARCHAR(64) NOT NULL,
  outcome JSON NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT operation_fences_pkey PRIMARY KEY (serial, operation)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: stock_movements
CREATE TABLE IF NOT EXISTS stock_movements (
  id BIGINT NOT NULL AUTO_INCREMENT,
  sku VARCHAR(255) NOT NULL,
  warehouse_code VARCHAR(255) NOT NULL,
  reason VARCHAR(255) NOT NULL,
  reference VARCHAR(255) NOT NULL,
  on_hand_delta INT NOT NULL,
  reserved_delta INT NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  lot_code VARCHAR(255) NULL,
  incoming_delta INT NOT NULL DEFAULT 0,
  on_hand_before INT NULL,
  on_hand_after INT NULL,
  reserved_before INT NULL,
  reserved_after INT NULL,
  incoming_before INT NULL,
  incoming_after INT NULL,
  actor VARCHAR(255) NULL,
  damaged_delta INT NOT NULL DEFAULT 0,
  quality_control_delta INT NOT NULL DEFAULT 0,
  CONSTRAINT stock_movements_pkey PRIMARY KEY (id),
  KEY stock_movements_sku_warehouse_code_idx (sku, warehouse_code),
  KEY stock_movements_sku_warehouse_code_lot_code_idx (sku, warehouse_code, lot_code),
  KEY stock_movements_reference_idx (reference),
  KEY stock_movements_actor_id_idx (actor, id),
  KEY stock_movements_created_at_idx (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: stock_movements_no_update
CREATE OR REPLACE TRIGGER stock_movements_append_only_update BEFORE UPDATE ON stock_movements FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'stock_movements is append-only (UPDATE refused)'

-- step: stock_movements_no_delete
CREATE OR REPLACE TRIGGER stock_movements_append_only_delete BEFORE DELETE ON stock_movements FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'stock_movements is append-only (DELETE refused)'

-- step: cache_outbox
CREATE TABLE IF NOT EXISTS cache_outbox (
  id BIGINT NOT NULL AUTO_INCREMENT,
  sku VARCHAR(255) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT cache_outbox_pkey PRIMARY KEY (id),
  KEY cache_outbox_next_attempt_at_idx (next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: saga_starts
CREATE TABLE IF NOT EXISTS saga_starts (
  order_id VARCHAR(255) NOT NULL,
  input JSON NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  started_at DATETIME(3) NULL,
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT saga_starts_pkey PRIMARY KEY (order_id),
  KEY saga_starts_started_at_next_attempt_at_idx (started_at, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: stockhold_key_locks
-- The transaction-scoped named locks (docs/mysql.md, mechanism 1): one fixed row per slot.
CREATE TABLE IF NOT EXISTS stockhold_key_locks (
  slot INT NOT NULL,
  CONSTRAINT stockhold_key_locks_pkey PRIMARY KEY (slot)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: stockhold_key_locks_slots
-- 65,536 slots by cross joins (MySQL 8 caps recursive CTEs at 1,000 rows); a re-run adds nothing.
INSERT INTO stockhold_key_locks (slot)
SELECT a.d * 4096 + b.d * 256 + c.d * 16 + e.d
  FROM (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7
        UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15) a
 CROSS JOIN (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7
        UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15) b
 CROSS JOIN (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7
        UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15) c
 CROSS JOIN (SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7
        UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15) e
 WHERE NOT EXISTS (SELECT 1 FROM stockhold_key_locks)
