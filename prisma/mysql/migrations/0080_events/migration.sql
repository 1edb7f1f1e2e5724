-- Issue 22, stock events on MySQL/MariaDB (docs/events.md; PostgreSQL: migrations
-- 20261208200000_event_outbox, 20261208600000_event_subscriptions, 20261208700000_event_channels
-- and prisma/functions/stockhold_*_event.sql). Every committed change writes its events in its own
-- transaction, by triggers on the rows that change, so no writer can forget one and a rollback
-- takes them with it.
--
-- The transaction's id. InnoDB gives SQL no id of the running transaction (PostgreSQL's
-- pg_current_xact_id), so every MariaDB writer sets the session variable @stockhold_txid to a
-- fresh UUID_SHORT() when it begins (data/mariadb/tx.ts inMariadbTx, and the procedures
-- stockhold_hold_batch / stockhold_accept_payment after their START TRANSACTION). The triggers
-- stamp it on the ledger rows and the events (a statement outside such a transaction gets an id
-- of its own), which gives one stock.changed per (transaction, level) and its causes.
--
-- Positions (data/mariadb/events.ts assignMariadbPositions): an event gets its position after
-- its transaction committed, under one row lock, in a new READ COMMITTED statement: see there
-- why a reader at position N never later finds a new event below N.

-- step: event_outbox
-- No partial unique index in InnoDB: `once_key` is the subject for stock.changed and
-- campaign.changed and NULL otherwise (NULLs never collide), so (txid, type, once_key) is
-- PostgreSQL's event_outbox_once_per_tx. (position, id) serves both "the unpositioned in id
-- order" (position IS NULL) and the feed (position > cursor).
CREATE TABLE IF NOT EXISTS event_outbox (
  id BIGINT NOT NULL AUTO_INCREMENT,
  event_id VARCHAR(36) NOT NULL DEFAULT (UUID()),
  txid BIGINT UNSIGNED NOT NULL,
  type VARCHAR(64) NOT NULL,
  subject VARCHAR(700) NOT NULL,
  sku VARCHAR(255) NULL,
  warehouse_code VARCHAR(255) NULL,
  data JSON NOT NULL,
  time DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  position BIGINT NULL,
  event JSON NULL,
  once_key VARCHAR(700) AS (CASE WHEN type IN ('stock.changed', 'campaign.changed') THEN subject END) VIRTUAL,
  CONSTRAINT event_outbox_pkey PRIMARY KEY (id),
  CONSTRAINT event_outbox_position_key UNIQUE (position),
  CONSTRAINT event_outbox_once_per_tx UNIQUE (txid, type, once_key),
  KEY event_outbox_unpositioned (position, id),
  KEY event_outbox_sku_position_idx (sku, position),
  CONSTRAINT event_outbox_positioned_whole CHECK ((position IS NULL) = (event IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: stock_movements_txid
ALTER TABLE stock_movements ADD COLUMN IF NOT EXISTS txid BIGINT UNSIGNED NULL

-- step: stock_movements_txid_idx
CREATE INDEX IF NOT EXISTS stock_movements_txid_idx ON stock_movements (txid)

-- step: event_position_lock
-- The positioning lock: one row, locked FOR UPDATE by each pass until its COMMIT (mechanism 1:
-- a row lock ends with the transaction, GET_LOCK would not).
CREATE TABLE IF NOT EXISTS event_position_lock (
  id INT NOT NULL,
  CONSTRAINT event_position_lock_pkey PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: event_position_lock_row
INSERT IGNORE INTO event_position_lock (id) VALUES (1)

-- step: stock_movements_txid_stamp
CREATE OR REPLACE TRIGGER stock_movements_txid BEFORE INSERT ON stock_movements FOR EACH ROW
  SET NEW.txid = COALESCE(@stockhold_txid, NEW.txid)

-- step: inventory_levels_event_before_insert
-- A new level is version 0 when empty, else 1 (its event is written AFTER INSERT).
CREATE OR REPLACE TRIGGER inventory_levels_event_before_insert BEFORE INSERT ON inventory_levels FOR EACH ROW
BEGIN
  SET NEW.version = IF(NEW.on_hand = 0 AND NEW.reserved = 0 AND NEW.safety_stock = 0 AND NEW.incoming = 0
                       AND NEW.damaged = 0 AND NEW.quality_control = 0, 0, 1);
  SET NEW.event_available = NEW.on_hand - NEW.reserved - NEW.safety_stock - NEW.damaged - NEW.quality_control;
END

-- step: inventory_levels_event_after_insert
CREATE OR REPLACE TRIGGER inventory_levels_event_after_insert AFTER INSERT ON inventory_levels FOR EACH ROW
BEGIN
  IF NEW.version > 0 THEN
    INSERT INTO event_outbox (txid, type, subject, sku, warehouse_code, data)
    VALUES (COALESCE(@stockhold_txid, UUID_SHORT()), 'stock.changed', CONCAT(NEW.sku, '@', NEW.warehouse_code), NEW.sku, NEW.warehouse_code,
            JSON_OBJECT('sku', NEW.sku, 'warehouseCode', NEW.warehouse_code, 'fromVersion', 0, 'toVersion', NEW.version,
              'before', JSON_OBJECT('onHand', 0, 'reserved', 0, 'safetyStock', 0, 'incoming', 0, 'damaged', 0,
                                    'qualityControl', 0, 'available', 0),
              'after', JSON_OBJECT('onHand', NEW.on_hand, 'reserved', NEW.reserved, 'safetyStock', NEW.safety_stock,
                                   'incoming', NEW.incoming, 'damaged', NEW.damaged, 'qualityControl', NEW.quality_control,
                                   'available', NEW.event_available)));
  END IF;
END

-- step: inventory_levels_event_before_update
-- The version becomes OLD.version + 1 whatever the writer set (versions count changes with no
-- hole) and event_available the availability after the change (lots counted). An UPDATE that
-- changes no bucket and not the version is not a change of the level: the ensure-row step
-- (INSERT … ON DUPLICATE KEY UPDATE sku = sku, PostgreSQL's ON CONFLICT DO NOTHING) and the lot
-- trigger's event_available update below. A writer that changes no bucket but means a change
-- (quarantine) moves the version itself.
CREATE OR REPLACE TRIGGER inventory_levels_event_before_update BEFORE UPDATE ON inventory_levels FOR EACH ROW
BEGIN
  IF NOT (NEW.on_hand = OLD.on_hand AND NEW.reserved = OLD.reserved AND NEW.safety_stock = OLD.safety_stock
          AND NEW.incoming = OLD.incoming AND NEW.damaged = OLD.damaged AND NEW.quality_control = OLD.quality_control
          AND NEW.version = OLD.version) THEN
    SET NEW.version = OLD.version + 1;
    SET NEW.event_available = NEW.on_hand - NEW.reserved - NEW.safety_stock - NEW.damaged - NEW.quality_control
      - (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
          WHERE l.sku = NEW.sku AND l.warehouse_code = NEW.warehouse_code AND l.quantity > 0
            AND (l.quarantined OR l.remove_at <= UTC_TIMESTAMP(3)));
  END IF;
END

-- step: inventory_levels_event_after_update
-- The transaction's stock.changed of the level: inserted, or (a second change in the same
-- transaction) its toVersion and "after" moved on while the first "before" stays.
CREATE OR REPLACE TRIGGER inventory_levels_event_after_update AFTER UPDATE ON inventory_levels FOR EACH ROW
BEGIN
  IF NEW.version <> OLD.version THEN
    INSERT INTO event_outbox (txid, type, subject, sku, warehouse_code, data)
    VALUES (COALESCE(@stockhold_txid, UUID_SHORT()), 'stock.changed', CONCAT(NEW.sku, '@', NEW.warehouse_code), NEW.sku, NEW.warehouse_code,
            JSON_OBJECT('sku', NEW.sku, 'warehouseCode', NEW.warehouse_code, 'fromVersion', OLD.version, 'toVersion', NEW.version,
              'before', JSON_OBJECT('onHand', OLD.on_hand, 'reserved', OLD.reserved, 'safetyStock', OLD.safety_stock,
                                    'incoming', OLD.incoming, 'damaged', OLD.damaged, 'qualityControl', OLD.quality_control,
                                    'available', OLD.event_available),
              'after', JSON_OBJECT('onHand', NEW.on_hand, 'reserved', NEW.reserved, 'safetyStock', NEW.safety_stock,
                                   'incoming', NEW.incoming, 'damaged', NEW.damaged, 'qualityControl', NEW.quality_control,
                                   'available', NEW.event_available)))
    ON DUPLICATE KEY UPDATE data = JSON_SET(event_outbox.data, '$.toVersion', NEW.version,
      '$.after', JSON_OBJECT('onHand', NEW.on_hand, 'reserved', NEW.reserved, 'safetyStock', NEW.safety_stock,
                             'incoming', NEW.incoming, 'damaged', NEW.damaged, 'qualityControl', NEW.quality_control,
                             'available', NEW.event_available));
  END IF;
END

-- step: stock_lots_event_insert
-- A lot changed after its level in the same transaction (a lot receipt, a write-off) changes the
-- availability after the level's stock.changed was written: its "after" and the level's
-- event_available are brought up to date (the level's trigger sees only event_available move).
CREATE OR REPLACE TRIGGER stock_lots_event_insert AFTER INSERT ON stock_lots FOR EACH ROW
BEGIN
  DECLARE avail INT;
  SELECT il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
         - (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
             WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code AND l.quantity > 0
               AND (l.quarantined OR l.remove_at <= UTC_TIMESTAMP(3)))
    INTO avail FROM inventory_levels il WHERE il.sku = NEW.sku AND il.warehouse_code = NEW.warehouse_code;
  UPDATE event_outbox SET data = JSON_SET(data, '$.after.available', avail)
   WHERE txid = @stockhold_txid AND type = 'stock.changed' AND once_key = CONCAT(NEW.sku, '@', NEW.warehouse_code)
     AND position IS NULL AND JSON_EXTRACT(data, '$.after.available') <> avail;
  IF ROW_COUNT() > 0 THEN
    UPDATE inventory_levels SET event_available = avail WHERE sku = NEW.sku AND warehouse_code = NEW.warehouse_code;
  END IF;
END

-- step: stock_lots_event_update
CREATE OR REPLACE TRIGGER stock_lots_event_update AFTER UPDATE ON stock_lots FOR EACH ROW
BEGIN
  DECLARE avail INT;
  SELECT il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
         - (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
             WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code AND l.quantity > 0
               AND (l.quarantined OR l.remove_at <= UTC_TIMESTAMP(3)))
    INTO avail FROM inventory_levels il WHERE il.sku = NEW.sku AND il.warehouse_code = NEW.warehouse_code;
  UPDATE event_outbox SET data = JSON_SET(data, '$.after.available', avail)
   WHERE txid = @stockhold_txid AND type = 'stock.changed' AND once_key = CONCAT(NEW.sku, '@', NEW.warehouse_code)
     AND position IS NULL AND JSON_EXTRACT(data, '$.after.available') <> avail;
  IF ROW_COUNT() > 0 THEN
    UPDATE inventory_levels SET event_available = avail WHERE sku = NEW.sku AND warehouse_code = NEW.warehouse_code;
  END IF;
END

-- step: campaigns_event_insert
CREATE OR REPLACE TRIGGER campaigns_event_insert AFTER INSERT ON campaigns FOR EACH ROW
  INSERT INTO event_outbox (txid, type, subject, sku, warehouse_code, data)
  VALUES (COALESCE(@stockhold_txid, UUID_SHORT()), 'campaign.changed', NEW.id, NEW.sku, NEW.warehouse_code,
          JSON_OBJECT('campaignId', NEW.id, 'kind', NEW.kind, 'sku', NEW.sku, 'warehouseCode', NEW.warehouse_code,
            'before', NULL,
            'after', JSON_OBJECT('remaining', NEW.remaining, 'quota', NEW.quota, 'status', NEW.status,
                                 'endsAt', CONCAT(DATE_FORMAT(NEW.ends_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(NEW.ends_at) DIV 1000, 3, '0'), 'Z'))))
  ON DUPLICATE KEY UPDATE data = JSON_SET(event_outbox.data, '$.after', JSON_EXTRACT(VALUES(data), '$.after'))

-- step: campaigns_event_update
-- One campaign.changed per (transaction, campaign); an update that changes none of remaining,
-- quota, status, ends_at emits nothing.
CREATE OR REPLACE TRIGGER campaigns_event_update AFTER UPDATE ON campaigns FOR EACH ROW
BEGIN
  IF NOT (NEW.remaining = OLD.remaining AND NEW.quota = OLD.quota AND NEW.status = OLD.status AND NEW.ends_at = OLD.ends_at) THEN
    INSERT INTO event_outbox (txid, type, subject, sku, warehouse_code, data)
    VALUES (COALESCE(@stockhold_txid, UUID_SHORT()), 'campaign.changed', NEW.id, NEW.sku, NEW.warehouse_code,
            JSON_OBJECT('campaignId', NEW.id, 'kind', NEW.kind, 'sku', NEW.sku, 'warehouseCode', NEW.warehouse_code,
              'before', JSON_OBJECT('remaining', OLD.remaining, 'quota', OLD.quota, 'status', OLD.status,
                                    'endsAt', CONCAT(DATE_FORMAT(OLD.ends_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(OLD.ends_at) DIV 1000, 3, '0'), 'Z')),
              'after', JSON_OBJECT('remaining', NEW.remaining, 'quota', NEW.quota, 'status', NEW.status,
                                   'endsAt', CONCAT(DATE_FORMAT(NEW.ends_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(NEW.ends_at) DIV 1000, 3, '0'), 'Z'))))
    ON DUPLICATE KEY UPDATE data = JSON_SET(event_outbox.data, '$.after', JSON_EXTRACT(VALUES(data), '$.after'));
  END IF;
END

-- step: reservations_event_insert
-- A hold inserted is order.held (order.backordered for a pre-sale's); transfer holds are not orders.
CREATE OR REPLACE TRIGGER reservations_event_insert AFTER INSERT ON reservations FOR EACH ROW
BEGIN
  IF NEW.id NOT LIKE 'transfer:%' THEN
    INSERT INTO event_outbox (txid, type, subject, data)
    VALUES (COALESCE(@stockhold_txid, UUID_SHORT()),
            CONCAT('order.', IF(NEW.status = 'RESERVED', 'held', LOWER(NEW.status))), NEW.order_id,
            JSON_OBJECT('orderId', NEW.order_id, 'reservationId', NEW.id, 'userId', NEW.user_id, 'status', NEW.status,
                        'campaignId', NEW.campaign_id,
                        'expiresAt', CONCAT(DATE_FORMAT(NEW.expires_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(NEW.expires_at) DIV 1000, 3, '0'), 'Z'),
                        'amountCents', NEW.amount_cents));
  END IF;
END

-- step: reservations_event_update
-- A status change is order.<new status>; a hold still RESERVED whose expiry moved later is
-- order.extended; one whose version moved (an edit) is order.edited.
CREATE OR REPLACE TRIGGER reservations_event_update AFTER UPDATE ON reservations FOR EACH ROW
BEGIN
  DECLARE tx BIGINT UNSIGNED DEFAULT COALESCE(@stockhold_txid, UUID_SHORT());
  IF NEW.id NOT LIKE 'transfer:%' THEN
    IF NOT (NEW.status <=> OLD.status) THEN
      INSERT INTO event_outbox (txid, type, subject, data)
      VALUES (tx, CONCAT('order.', IF(NEW.status = 'RESERVED', 'held', LOWER(NEW.status))), NEW.order_id,
              JSON_OBJECT('orderId', NEW.order_id, 'reservationId', NEW.id, 'userId', NEW.user_id, 'status', NEW.status,
                          'previousStatus', OLD.status, 'reason', NEW.release_reason, 'paymentId', NEW.payment_id,
                          'campaignId', NEW.campaign_id, 'amountCents', NEW.amount_cents));
    END IF;
    IF NEW.status = 'RESERVED' AND OLD.status = 'RESERVED' AND NEW.expires_at > OLD.expires_at THEN
      INSERT INTO event_outbox (txid, type, subject, data)
      VALUES (tx, 'order.extended', NEW.order_id,
              JSON_OBJECT('orderId', NEW.order_id, 'reservationId', NEW.id, 'userId', NEW.user_id, 'status', NEW.status,
                          'previousExpiresAt', CONCAT(DATE_FORMAT(OLD.expires_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(OLD.expires_at) DIV 1000, 3, '0'), 'Z'),
                          'expiresAt', CONCAT(DATE_FORMAT(NEW.expires_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(NEW.expires_at) DIV 1000, 3, '0'), 'Z'),
                          'campaignId', NEW.campaign_id, 'amountCents', NEW.amount_cents));
    END IF;
    IF NEW.version > OLD.version THEN
      INSERT INTO event_outbox (txid, type, subject, data)
      VALUES (tx, 'order.edited', NEW.order_id,
              JSON_OBJECT('orderId', NEW.order_id, 'reservationId', NEW.id, 'userId', NEW.user_id, 'status', NEW.status,
                          'previousVersion', OLD.version, 'version', NEW.version,
                          'previousAmountCents', OLD.amount_cents, 'amountCents', NEW.amount_cents,
                          'campaignId', NEW.campaign_id,
                          'expiresAt', CONCAT(DATE_FORMAT(NEW.expires_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(NEW.expires_at) DIV 1000, 3, '0'), 'Z')));
    END IF;
  END IF;
END

-- step: payments_event_insert
-- A payment stored already settled is payment.settled.
CREATE OR REPLACE TRIGGER payments_event_insert AFTER INSERT ON payments FOR EACH ROW
BEGIN
  IF NEW.state <> 'PENDING' THEN
    INSERT INTO event_outbox (txid, type, subject, data)
    VALUES (COALESCE(@stockhold_txid, UUID_SHORT()), 'payment.settled', NEW.order_id,
            JSON_OBJECT('orderId', NEW.order_id, 'paymentId', NEW.payment_id, 'state', NEW.state, 'previousState', NULL,
                        'reason', NEW.reason, 'amountCents', NEW.amount_cents, 'reservationId', NEW.reservation_id));
  END IF;
END

-- step: payments_event_update
-- A payment leaving PENDING, or a settled payment changing its state, is payment.settled.
CREATE OR REPLACE TRIGGER payments_event_update AFTER UPDATE ON payments FOR EACH ROW
BEGIN
  IF NEW.state <> 'PENDING' AND NOT (NEW.state <=> OLD.state) THEN
    INSERT INTO event_outbox (txid, type, subject, data)
    VALUES (COALESCE(@stockhold_txid, UUID_SHORT()), 'payment.settled', NEW.order_id,
            JSON_OBJECT('orderId', NEW.order_id, 'paymentId', NEW.payment_id, 'state', NEW.state, 'previousState', OLD.state,
                        'reason', NEW.reason, 'amountCents', NEW.amount_cents, 'reservationId', NEW.reservation_id));
  END IF;
END

-- step: stock_alerts_event
-- Every alert raised is alert.<kind in lower case>.
CREATE OR REPLACE TRIGGER stock_alerts_event AFTER INSERT ON stock_alerts FOR EACH ROW
  INSERT INTO event_outbox (txid, type, subject, sku, warehouse_code, data)
  VALUES (COALESCE(@stockhold_txid, UUID_SHORT()), CONCAT('alert.', LOWER(NEW.kind)), NEW.subject, NEW.sku, NEW.warehouse_code,
          JSON_OBJECT('alertId', CAST(NEW.id AS CHAR), 'kind', NEW.kind, 'subject', NEW.subject, 'sku', NEW.sku,
                      'warehouseCode', NEW.warehouse_code, 'lotCode', NEW.lot_code, 'details', JSON_EXTRACT(NEW.details, '$')))

-- step: event_channel_cursors
CREATE TABLE IF NOT EXISTS event_channel_cursors (
  channel VARCHAR(255) NOT NULL,
  position BIGINT NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT event_channel_cursors_pkey PRIMARY KEY (channel),
  CONSTRAINT event_channel_cursors_position_nonneg CHECK (position >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: event_subscriptions
-- Webhook receivers (PostgreSQL: 20261208600000_event_subscriptions; docs/events.md "Webhooks"):
-- a cursor per subscription, rows in event_deliveries only for failed deliveries. The filter
-- lists are JSON arrays (PostgreSQL's TEXT[]; empty: all).
CREATE TABLE IF NOT EXISTS event_subscriptions (
  id VARCHAR(255) NOT NULL,
  url TEXT NOT NULL,
  description TEXT NULL,
  types JSON NOT NULL DEFAULT ('[]'),
  skus JSON NOT NULL DEFAULT ('[]'),
  warehouses JSON NOT NULL DEFAULT ('[]'),
  secret TEXT NOT NULL,
  previous_secret TEXT NULL,
  previous_secret_until DATETIME(3) NULL,
  `cursor` BIGINT NOT NULL DEFAULT 0,
  status VARCHAR(32) NOT NULL DEFAULT 'ACTIVE',
  disabled_reason VARCHAR(32) NULL,
  disabled_at DATETIME(3) NULL,
  lease_owner VARCHAR(255) NULL,
  lease_until DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT event_subscriptions_pkey PRIMARY KEY (id),
  CONSTRAINT event_subscriptions_status_known CHECK (status IN ('ACTIVE', 'DISABLED')),
  CONSTRAINT event_subscriptions_secret_format CHECK (secret LIKE 'whsec\_%')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: event_deliveries
CREATE TABLE IF NOT EXISTS event_deliveries (
  id BIGINT NOT NULL AUTO_INCREMENT,
  subscription_id VARCHAR(255) NOT NULL,
  position BIGINT NOT NULL,
  event_id VARCHAR(36) NOT NULL,
  status VARCHAR(32) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(3) NULL,
  last_status INT NULL,
  last_error TEXT NULL,
  first_failed_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  CONSTRAINT event_deliveries_pkey PRIMARY KEY (id),
  CONSTRAINT event_deliveries_subscription_position_key UNIQUE (subscription_id, position),
  KEY event_deliveries_status_idx (subscription_id, status),
  CONSTRAINT event_deliveries_status_known CHECK (status IN ('RETRYING', 'DEAD', 'DELIVERED')),
  CONSTRAINT event_deliveries_subscription_fkey FOREIGN KEY (subscription_id) REFERENCES event_subscriptions (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
