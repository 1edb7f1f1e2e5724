-- Transfers between warehouses on MySQL/MariaDB (issue 22): PostgreSQL's `transfers` table
-- (prisma/migrations/20261125094000_stock_model, the list indexes of 20261208500000_lists_and_history)
-- with the same columns, nullability and checks. A transfer's hold is a reservation
-- (`transfer:<id>`); while SHIPPED its quantity is the destination level's incoming bucket, which
-- reconciliation's INCOMING_VS_TRANSFERS compares with this table (data/mariadb/reconcile.ts).
-- The warehouse keys are ON UPDATE RESTRICT where PostgreSQL's cascade: MySQL 8.0 refuses a
-- referential action on a column a CHECK reads (error 3823: transfers_distinct_ends reads both),
-- and no path of the service renames a warehouse code.
-- Each step is one idempotent statement (prisma/mysql-migrate.ts records it once it succeeded).

-- step: transfers
CREATE TABLE IF NOT EXISTS transfers (
  id VARCHAR(255) NOT NULL,
  sku VARCHAR(255) NOT NULL,
  from_warehouse VARCHAR(255) NOT NULL,
  to_warehouse VARCHAR(255) NOT NULL,
  quantity INT NOT NULL,
  status VARCHAR(32) NOT NULL,
  received_quantity INT NULL,
  shortfall_reason TEXT NULL,
  shipped_lots JSON NULL,
  deadline_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT transfers_pkey PRIMARY KEY (id),
  KEY transfers_status_idx (status),
  KEY transfers_created_at_id_idx (created_at, id),
  KEY transfers_status_created_at_id_idx (status, created_at, id),
  CONSTRAINT transfers_sku_fkey FOREIGN KEY (sku) REFERENCES products (sku) ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT transfers_from_warehouse_fkey FOREIGN KEY (from_warehouse) REFERENCES warehouses (code) ON DELETE RESTRICT ON UPDATE RESTRICT,
  CONSTRAINT transfers_to_warehouse_fkey FOREIGN KEY (to_warehouse) REFERENCES warehouses (code) ON DELETE RESTRICT ON UPDATE RESTRICT,
  CONSTRAINT transfers_quantity_pos CHECK (quantity > 0),
  CONSTRAINT transfers_distinct_ends CHECK (from_warehouse <> to_warehouse),
  CONSTRAINT transfers_status_known CHECK (status IN ('REQUESTED', 'SHIPPED', 'RECEIVED', 'CANCELLED', 'RETURNED', 'REJECTED')),
  CONSTRAINT transfers_received_le_shipped CHECK (received_quantity IS NULL OR received_quantity BETWEEN 0 AND quantity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
