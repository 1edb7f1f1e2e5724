-- Payments on MySQL/MariaDB (issue 22): the tables of PostgreSQL's migrations
-- 20261125080000_init (payment_events), 20261130090000_payments, 20261207100000_payment_deliveries,
-- 20261208300000_hold_extensions (payment_events.type) and 20261208300100_payment_lifecycle
-- (REFUNDED, currency), with the same names, columns, keys and checks. Text keys are
-- utf8mb4_bin (byte order and case-sensitive equality, as PostgreSQL's text =); timestamps are
-- UTC DATETIME(3). One statement per step, each idempotent (docs/mysql.md, mechanism 6). The
-- currency checks are case-sensitive through the columns' utf8mb4_bin collation (MySQL 8
-- deprecates REGEXP BINARY).

-- step: payment_events
-- One row per webhook event, unique by the provider's event id: the key is the claim that makes
-- a redelivered event get its first answer (INSERT, and the duplicate key is the answer).
CREATE TABLE IF NOT EXISTS payment_events (
  event_id VARCHAR(255) NOT NULL,
  order_id VARCHAR(255) NOT NULL,
  payment_id VARCHAR(255) NOT NULL,
  amount_cents INT NOT NULL,
  result VARCHAR(64) NOT NULL,
  received_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  delivered_at DATETIME(3) NULL,
  answer VARCHAR(64) NULL,
  type VARCHAR(64) NOT NULL DEFAULT 'payment.succeeded',
  currency VARCHAR(3) NULL,
  CONSTRAINT payment_events_pkey PRIMARY KEY (event_id),
  KEY payment_events_order_id_idx (order_id),
  CONSTRAINT payment_events_amount_nonneg CHECK (amount_cents >= 0),
  CONSTRAINT payment_events_currency_iso CHECK (currency IS NULL OR currency REGEXP '^[A-Z]{3}$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: payments
-- A payment is a fact before any saga hears of it, and ends in exactly one settled state:
-- settled_at is set exactly when the state is not PENDING (the same check as PostgreSQL's).
CREATE TABLE IF NOT EXISTS payments (
  order_id VARCHAR(255) NOT NULL,
  payment_id VARCHAR(255) NOT NULL,
  event_id VARCHAR(255) NOT NULL,
  amount_cents INT NOT NULL,
  state VARCHAR(32) NOT NULL DEFAULT 'PENDING',
  reason TEXT NULL,
  reservation_id VARCHAR(255) NULL,
  received_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  settled_at DATETIME(3) NULL,
  currency VARCHAR(3) NULL,
  CONSTRAINT payments_pkey PRIMARY KEY (order_id, payment_id),
  KEY payments_state_received_at_idx (state, received_at),
  KEY payments_received_at_order_id_payment_id_idx (received_at, order_id, payment_id),
  KEY payments_state_received_at_order_id_payment_id_idx (state, received_at, order_id, payment_id),
  CONSTRAINT payments_state_check CHECK (state IN ('PENDING', 'CONFIRMED', 'BACKORDERED', 'REFUND_REQUIRED', 'DUPLICATE_CHARGE', 'AMOUNT_MISMATCH', 'REFUNDED')),
  CONSTRAINT payments_settled_check CHECK ((state = 'PENDING') = (settled_at IS NULL)),
  CONSTRAINT payments_amount_check CHECK (amount_cents >= 0),
  CONSTRAINT payments_currency_iso CHECK (currency IS NULL OR currency REGEXP '^[A-Z]{3}$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- step: payment_deliveries
-- The transactional outbox of payment deliveries: committed with the payment by the webhook,
-- kept until the payment is settled (a signal accepted is not a settlement).
CREATE TABLE IF NOT EXISTS payment_deliveries (
  order_id VARCHAR(255) NOT NULL,
  payment_id VARCHAR(255) NOT NULL,
  event_id VARCHAR(255) NOT NULL,
  amount_cents INT NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  delivered_at DATETIME(3) NULL,
  CONSTRAINT payment_deliveries_pkey PRIMARY KEY (order_id, payment_id),
  KEY payment_deliveries_next_attempt_at_idx (next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
