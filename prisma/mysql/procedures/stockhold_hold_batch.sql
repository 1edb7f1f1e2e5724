-- stockhold_hold_batch: the request path's group commit on MySQL/MariaDB (docs/mysql.md), the
-- form of prisma/functions/stockhold_hold_batch.sql for InnoDB. One CALL, one round trip: it
-- runs its own READ COMMITTED transaction (so it cannot be called inside another), takes every
-- single-line hold queued on one pool (a campaign, or one stock level), first fit in arrival
-- order, each with its own fence row and outcome; the winners' holds, lines, ledger rows, saga
-- outbox rows and the cache outbox row.
--
-- Inputs:      p_kind 'campaign' | 'level'; p_pool the campaign id or the SKU; p_warehouse the
--              level's warehouse (NULL for a campaign); p_items a JSON array of
--              { serial, orderId, userId, quantity, expiresAt (ISO, UTC), amountCents?, reserved,
--              saga, actor? }, each serial once.
-- Outcome:     one result set (ord, outcome): per item, in order, the outcome taken now (its
--              `reserved`, or a rejection: SOLD_OUT, ENDED, NOT_STARTED, LIMIT_REACHED,
--              INSUFFICIENT_STOCK with its shortage, ALREADY_RELEASED) or {"replayed": <the
--              outcome recorded before>}. Every new outcome is fenced.
-- Error codes: the whole batch rolls back, nothing is recorded. SIGNAL SQLSTATE 'SH001' no such
--              campaign, 'SH002' no such product, 'SH003' no such warehouse, 'SH004' a serial
--              twice, 'SH005' a hold without its fence (the same classes as PostgreSQL's); InnoDB's
--              1205 (lock wait timeout) and 1213 (deadlock) pass through.
-- Lock order:  users' counts in byte order of user id, the pool row (the campaign, FOR UPDATE),
--              then the claims in byte order of serial — holds first, then fences — the order
--              every reserve path writes a serial's keys in; a release takes the counts before
--              the pool too. The counts have no foreign key to the campaign on MySQL (its check
--              takes a shared lock on the campaign row: two batches holding it would deadlock
--              asking for FOR UPDATE; InnoDB has no FOR NO KEY UPDATE). A level: its row FOR
--              UPDATE, then the claims.
-- Isolation:   READ COMMITTED: the availability read after the row lock sees what committed
--              while it waited.
-- MariaDB quirk: a procedure's INT variable goes into JSON_OBJECT as a string ("3"): CAST it.
CREATE OR REPLACE PROCEDURE stockhold_hold_batch(IN p_kind VARCHAR(16), IN p_pool VARCHAR(255), IN p_warehouse VARCHAR(255), IN p_items LONGTEXT)
MODIFIES SQL DATA SQL SECURITY DEFINER
BEGIN
  DECLARE n, i_ord, i_q, v_limit, v_remaining, avail, r0, oh, inc, taken, dup INT DEFAULT 0;
  DECLARE v_sku, v_wh, v_campaign, i_serial, i_user VARCHAR(255) DEFAULT NULL;
  DECLARE v_status VARCHAR(32);
  DECLARE v_started, v_over, i_won, i_held, each_once, slow BOOLEAN DEFAULT FALSE;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

  SET time_zone = '+00:00';
  SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
  START TRANSACTION;
  -- The transaction's id for the event triggers (migration 0080_events).
  SET @stockhold_txid = UUID_SHORT();
  CREATE TEMPORARY TABLE IF NOT EXISTS stockhold_batch_items (
    ord INT NOT NULL PRIMARY KEY, serial VARCHAR(255) NOT NULL, order_id VARCHAR(255) NOT NULL,
    user_id VARCHAR(255) NOT NULL, quantity INT NOT NULL, expires_at DATETIME(3) NOT NULL,
    amount_cents INT NULL, actor VARCHAR(255) NULL, reserved LONGTEXT NULL, saga LONGTEXT NULL,
    outcome LONGTEXT NULL, passed BOOLEAN NOT NULL DEFAULT TRUE, won BOOLEAN NOT NULL DEFAULT FALSE,
    held BOOLEAN NOT NULL DEFAULT FALSE, fenced BOOLEAN NOT NULL DEFAULT FALSE,
    replayed BOOLEAN NOT NULL DEFAULT FALSE
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
  DELETE FROM stockhold_batch_items;
  CREATE TEMPORARY TABLE IF NOT EXISTS stockhold_batch_fit (ord INT NOT NULL PRIMARY KEY, cum INT NOT NULL) ENGINE=InnoDB;
  DELETE FROM stockhold_batch_fit;
  -- One parse of the items: JSON_TABLE's JSON columns keep `reserved` and `saga` as objects.
  INSERT INTO stockhold_batch_items (ord, serial, order_id, user_id, quantity, expires_at, amount_cents, actor, reserved, saga)
  SELECT j.ord, j.serial, j.order_id, j.user_id, j.quantity,
         CAST(REPLACE(REPLACE(j.expires_at, 'T', ' '), 'Z', '') AS DATETIME(3)), j.amount_cents, j.actor, j.reserved, j.saga
    FROM JSON_TABLE(p_items, '$[*]' COLUMNS (
           ord FOR ORDINALITY, serial VARCHAR(255) PATH '$.serial', order_id VARCHAR(255) PATH '$.orderId',
           user_id VARCHAR(255) PATH '$.userId', quantity INT PATH '$.quantity', expires_at VARCHAR(40) PATH '$.expiresAt',
           amount_cents INT PATH '$.amountCents', actor VARCHAR(255) PATH '$.actor',
           reserved JSON PATH '$.reserved', saga JSON PATH '$.saga')) j;
  SELECT COUNT(*), COUNT(DISTINCT serial) INTO n, i_q FROM stockhold_batch_items;
  IF n <> i_q THEN
    SIGNAL SQLSTATE 'SH004' SET MESSAGE_TEXT = 'DUPLICATE_SERIAL: a batch names each serial once';
  END IF;

  -- 1. One look-up for the batch (a recorded fence never changes); RESERVE last, so a recorded
  -- reserve wins over a release. Serials recorded after this are caught in 4. STRAIGHT_JOIN: the
  -- batch's rows drive every join (the fences and counts only grow; a plan scanning them would
  -- slow each batch as the sale goes on).
  UPDATE stockhold_batch_items h STRAIGHT_JOIN operation_fences fe ON fe.serial = h.serial AND fe.operation = 'RELEASE'
     SET h.outcome = '{"status":"rejected","reason":"ALREADY_RELEASED"}', h.passed = FALSE;
  UPDATE stockhold_batch_items h STRAIGHT_JOIN operation_fences fe ON fe.serial = h.serial AND fe.operation = 'RESERVE'
     SET h.outcome = CONCAT('{"replayed":', COALESCE(fe.outcome, 'null'), '}'), h.passed = FALSE, h.replayed = TRUE;

  IF p_kind = 'campaign' THEN
    SET v_campaign = p_pool;
    SELECT sku, warehouse_code, remaining, status, per_user_limit, starts_at <= UTC_TIMESTAMP(3), ends_at <= UTC_TIMESTAMP(3)
      INTO v_sku, v_wh, v_remaining, v_status, v_limit, v_started, v_over FROM campaigns WHERE id = v_campaign;
    IF v_sku IS NULL THEN
      SIGNAL SQLSTATE 'SH001' SET MESSAGE_TEXT = 'CAMPAIGN_NOT_FOUND';
    END IF;
    -- 2. Refusals need no lock: what is committed now already refuses them.
    UPDATE stockhold_batch_items
       SET outcome = CASE WHEN v_status <> 'OPEN' OR v_over THEN '{"status":"rejected","reason":"ENDED"}'
                          WHEN NOT v_started THEN '{"status":"rejected","reason":"NOT_STARTED"}'
                          ELSE '{"status":"rejected","reason":"SOLD_OUT"}' END,
           passed = FALSE
     WHERE passed AND (v_status <> 'OPEN' OR v_over OR NOT v_started OR quantity > v_remaining);
    IF EXISTS (SELECT 1 FROM stockhold_batch_items WHERE passed) THEN
      -- 3a. Each user's count, users in byte order: the rows made sure of (and locked), then a
      -- guarded add. Each user once in the batch (the usual case): set-based, three statements.
      SELECT COUNT(*) = COUNT(DISTINCT user_id) INTO each_once FROM stockhold_batch_items WHERE passed;
      IF each_once THEN
        INSERT INTO campaign_user_counts (campaign_id, user_id, quantity)
        SELECT v_campaign, user_id, 0 FROM stockhold_batch_items WHERE passed ORDER BY user_id
            ON DUPLICATE KEY UPDATE campaign_user_counts.quantity = campaign_user_counts.quantity;
        UPDATE stockhold_batch_items h STRAIGHT_JOIN campaign_user_counts u ON u.campaign_id = v_campaign AND u.user_id = h.user_id
           SET h.outcome = '{"status":"rejected","reason":"LIMIT_REACHED"}', h.passed = FALSE
         WHERE h.passed AND u.quantity + h.quantity > v_limit;
        UPDATE stockhold_batch_items h STRAIGHT_JOIN campaign_user_counts u ON u.campaign_id = v_campaign AND u.user_id = h.user_id
           SET u.quantity = u.quantity + h.quantity
         WHERE h.passed;
      END IF;
      -- A user twice: one by one, each a guarded UPDATE (ROW_COUNT() 0 = the limit refuses; q > 0,
      -- so a matched row is a changed row).
      SET i_user = '', i_ord = 0;
      users: LOOP
        IF each_once THEN LEAVE users; END IF;
        SET i_serial = NULL;
        SELECT ord, user_id, quantity, serial INTO i_ord, i_user, i_q, i_serial FROM stockhold_batch_items
         WHERE passed AND (user_id > i_user OR (user_id = i_user AND ord > i_ord)) ORDER BY user_id, ord LIMIT 1;
        IF i_serial IS NULL THEN LEAVE users; END IF;
        INSERT INTO campaign_user_counts (campaign_id, user_id, quantity) VALUES (v_campaign, i_user, 0)
          ON DUPLICATE KEY UPDATE quantity = quantity;
        UPDATE campaign_user_counts SET quantity = quantity + i_q
         WHERE campaign_id = v_campaign AND user_id = i_user AND quantity + i_q <= v_limit;
        IF ROW_COUNT() = 0 THEN
          UPDATE stockhold_batch_items SET outcome = '{"status":"rejected","reason":"LIMIT_REACHED"}', passed = FALSE WHERE ord = i_ord;
        END IF;
      END LOOP;
      -- 3b. The pool row, last (its lock is the hot one: held for the fit and the writes only),
      -- then a fresh read of it (READ COMMITTED).
      SELECT remaining, status, starts_at <= UTC_TIMESTAMP(3), ends_at <= UTC_TIMESTAMP(3)
        INTO v_remaining, v_status, v_started, v_over FROM campaigns WHERE id = v_campaign FOR UPDATE;
      -- 3c. First fit in arrival order: the prefix that fits at once, then one by one after the
      -- first that does not; a refused item gives its user count back.
      IF v_status = 'OPEN' AND NOT v_over AND v_started THEN
        INSERT INTO stockhold_batch_fit (ord, cum)
        SELECT ord, SUM(quantity) OVER (ORDER BY ord) FROM stockhold_batch_items WHERE passed;
        UPDATE stockhold_batch_items h JOIN stockhold_batch_fit f ON f.ord = h.ord SET h.won = TRUE WHERE f.cum <= v_remaining;
        SELECT COALESCE(SUM(quantity), 0) INTO taken FROM stockhold_batch_items WHERE won;
      END IF;
      SET i_ord = 0;
      pool: LOOP
        SET i_serial = NULL;
        SELECT ord, user_id, quantity, serial INTO i_ord, i_user, i_q, i_serial FROM stockhold_batch_items
         WHERE passed AND NOT won AND ord > i_ord ORDER BY ord LIMIT 1;
        IF i_serial IS NULL THEN LEAVE pool; END IF;
        IF v_status = 'OPEN' AND NOT v_over AND v_started AND i_q <= v_remaining - taken THEN
          SET taken = taken + i_q;
          UPDATE stockhold_batch_items SET won = TRUE WHERE ord = i_ord;
        ELSE
          UPDATE stockhold_batch_items
             SET passed = FALSE,
                 outcome = CASE WHEN v_status <> 'OPEN' OR v_over THEN '{"status":"rejected","reason":"ENDED"}'
                                WHEN NOT v_started THEN '{"status":"rejected","reason":"NOT_STARTED"}'
                                ELSE '{"status":"rejected","reason":"SOLD_OUT"}' END
           WHERE ord = i_ord;
          UPDATE campaign_user_counts SET quantity = quantity - i_q WHERE campaign_id = v_campaign AND user_id = i_user;
        END IF;
      END LOOP;
    END IF;
  ELSE
    SET v_sku = p_pool, v_wh = p_warehouse, avail = NULL;
    -- 2. Refusals need no lock: an item more than is available now is refused as of now.
    SELECT il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
           - (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
               WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code AND l.quantity > 0
                 AND (l.quarantined OR l.remove_at <= UTC_TIMESTAMP(3)))
      INTO avail FROM inventory_levels il WHERE il.sku = v_sku AND il.warehouse_code = v_wh;
    IF avail IS NULL THEN
      IF NOT EXISTS (SELECT 1 FROM products WHERE sku = v_sku) THEN
        SIGNAL SQLSTATE 'SH002' SET MESSAGE_TEXT = 'UNKNOWN_PRODUCT';
      ELSEIF NOT EXISTS (SELECT 1 FROM warehouses WHERE code = v_wh) THEN
        SIGNAL SQLSTATE 'SH003' SET MESSAGE_TEXT = 'UNKNOWN_WAREHOUSE';
      END IF;
      SET avail = 0;
    END IF;
    UPDATE stockhold_batch_items
       SET outcome = JSON_OBJECT('status', 'rejected', 'reason', 'INSUFFICIENT_STOCK', 'shortages',
             JSON_ARRAY(JSON_OBJECT('sku', v_sku, 'warehouseCode', v_wh, 'requested', quantity, 'available', GREATEST(0, avail)))),
           passed = FALSE
     WHERE passed AND quantity > avail;
    -- 3. The level row (only if an item may fit), then its availability in a fresh statement.
    IF EXISTS (SELECT 1 FROM stockhold_batch_items WHERE passed) THEN
      SELECT il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
             - (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
                 WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code AND l.quantity > 0
                   AND (l.quarantined OR l.remove_at <= UTC_TIMESTAMP(3))),
             il.reserved, il.on_hand, il.incoming
        INTO avail, r0, oh, inc FROM inventory_levels il WHERE il.sku = v_sku AND il.warehouse_code = v_wh FOR UPDATE;
      INSERT INTO stockhold_batch_fit (ord, cum)
      SELECT ord, SUM(quantity) OVER (ORDER BY ord) FROM stockhold_batch_items WHERE passed;
      UPDATE stockhold_batch_items h JOIN stockhold_batch_fit f ON f.ord = h.ord SET h.won = TRUE WHERE f.cum <= avail;
      SELECT COALESCE(SUM(quantity), 0) INTO taken FROM stockhold_batch_items WHERE won;
      SET i_ord = 0;
      fit: LOOP
        SET i_serial = NULL;
        SELECT ord, quantity, serial INTO i_ord, i_q, i_serial FROM stockhold_batch_items
         WHERE passed AND NOT won AND ord > i_ord ORDER BY ord LIMIT 1;
        IF i_serial IS NULL THEN LEAVE fit; END IF;
        IF i_q <= avail - taken THEN
          SET taken = taken + i_q;
          UPDATE stockhold_batch_items SET won = TRUE WHERE ord = i_ord;
        ELSE
          UPDATE stockhold_batch_items
             SET passed = FALSE,
                 outcome = JSON_OBJECT('status', 'rejected', 'reason', 'INSUFFICIENT_STOCK', 'shortages',
                   JSON_ARRAY(JSON_OBJECT('sku', v_sku, 'warehouseCode', v_wh, 'requested', CAST(i_q AS SIGNED), 'available', GREATEST(0, avail - taken))))
           WHERE ord = i_ord;
        END IF;
      END LOOP;
    END IF;
  END IF;

  -- 4. The claims, in byte order of serial: the winners' holds, then every new outcome's fence.
  -- A key another transaction is inserting waits for its commit; one it recorded is a
  -- duplicate key (1062), caught for these inserts only. All at once first; a duplicate rolls
  -- that one statement back, and the claims go one by one.
  SET dup = 0;
  BEGIN
    DECLARE CONTINUE HANDLER FOR 1062 SET dup = 1;
    INSERT INTO reservations (id, order_id, user_id, campaign_id, status, expires_at, amount_cents, allocation)
    SELECT serial, order_id, user_id, v_campaign, 'RESERVED', expires_at, amount_cents,
           CASE WHEN v_campaign IS NULL THEN JSON_EXTRACT(reserved, '$.allocations') END
      FROM stockhold_batch_items WHERE won ORDER BY serial;
  END;
  SET slow = dup;
  IF NOT slow THEN UPDATE stockhold_batch_items SET held = TRUE WHERE won; END IF;
  SET i_serial = '';
  holds: LOOP
    IF NOT slow THEN LEAVE holds; END IF;
    SET i_ord = NULL;
    SELECT ord, serial INTO i_ord, i_serial FROM stockhold_batch_items WHERE won AND serial > i_serial ORDER BY serial LIMIT 1;
    IF i_ord IS NULL THEN LEAVE holds; END IF;
    SET dup = 0;
    BEGIN
      DECLARE CONTINUE HANDLER FOR 1062 SET dup = 1;
      INSERT INTO reservations (id, order_id, user_id, campaign_id, status, expires_at, amount_cents, allocation)
      SELECT serial, order_id, user_id, v_campaign, 'RESERVED', expires_at, amount_cents,
             CASE WHEN v_campaign IS NULL THEN JSON_EXTRACT(reserved, '$.allocations') END
        FROM stockhold_batch_items WHERE ord = i_ord;
    END;
    IF dup = 0 THEN UPDATE stockhold_batch_items SET held = TRUE WHERE ord = i_ord; END IF;
  END LOOP;
  SET dup = 0;
  BEGIN
    DECLARE CONTINUE HANDLER FOR 1062 SET dup = 1;
    INSERT INTO operation_fences (serial, operation, outcome)
    SELECT serial, 'RESERVE', CASE WHEN won THEN reserved ELSE outcome END
      FROM stockhold_batch_items WHERE won OR NOT replayed ORDER BY serial;
  END;
  SET slow = dup;
  IF NOT slow THEN UPDATE stockhold_batch_items SET fenced = TRUE WHERE won OR NOT replayed; END IF;
  SET i_serial = '';
  fences: LOOP
    IF NOT slow THEN LEAVE fences; END IF;
    SET i_ord = NULL;
    SELECT ord, serial INTO i_ord, i_serial FROM stockhold_batch_items
     WHERE (won OR NOT replayed) AND serial > i_serial ORDER BY serial LIMIT 1;
    IF i_ord IS NULL THEN LEAVE fences; END IF;
    SET dup = 0;
    BEGIN
      DECLARE CONTINUE HANDLER FOR 1062 SET dup = 1;
      INSERT INTO operation_fences (serial, operation, outcome)
      SELECT serial, 'RESERVE', CASE WHEN won THEN reserved ELSE outcome END FROM stockhold_batch_items WHERE ord = i_ord;
    END;
    IF dup = 0 THEN UPDATE stockhold_batch_items SET fenced = TRUE WHERE ord = i_ord; END IF;
  END LOOP;
  -- Serials another transaction recorded since step 1: its outcome is the answer, and what this
  -- batch took for them goes back (the pool and level are not written yet).
  SET i_ord = 0;
  lost: LOOP
    SET i_serial = NULL;
    SELECT ord, serial, user_id, quantity, won, held INTO i_ord, i_serial, i_user, i_q, i_won, i_held
      FROM stockhold_batch_items WHERE (won OR NOT replayed) AND NOT fenced AND ord > i_ord ORDER BY ord LIMIT 1;
    IF i_serial IS NULL THEN LEAVE lost; END IF;
    IF i_won THEN
      SET taken = taken - i_q;
      IF i_held THEN DELETE FROM reservations WHERE id = i_serial; END IF;
      IF v_campaign IS NOT NULL THEN
        UPDATE campaign_user_counts SET quantity = quantity - i_q WHERE campaign_id = v_campaign AND user_id = i_user;
      END IF;
    END IF;
    UPDATE stockhold_batch_items h
       SET h.won = FALSE, h.held = FALSE, h.replayed = TRUE,
           h.outcome = CONCAT('{"replayed":',
             COALESCE((SELECT fe.outcome FROM operation_fences fe WHERE fe.serial = i_serial AND fe.operation = 'RESERVE'), 'null'), '}')
     WHERE h.ord = i_ord;
  END LOOP;
  -- A hold's key taken by another transaction always comes with its fence (every path writes
  -- both in one transaction), so a winner fenced here holds its row.
  IF EXISTS (SELECT 1 FROM stockhold_batch_items WHERE won AND NOT held) THEN
    SIGNAL SQLSTATE 'SH005' SET MESSAGE_TEXT = 'SERIAL_RACE: a hold without its fence';
  END IF;

  -- 5. The pool, then the holds' lines, ledger rows and sagas' outbox rows: one statement each
  -- over the winners, in arrival order.
  IF taken > 0 THEN
    IF v_campaign IS NOT NULL THEN
      UPDATE campaigns SET remaining = remaining - taken WHERE id = v_campaign;
    ELSE
      UPDATE inventory_levels SET reserved = reserved + taken, version = version + 1, updated_at = UTC_TIMESTAMP(3)
       WHERE sku = v_sku AND warehouse_code = v_wh;
      INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, incoming_delta,
                                   on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after, actor)
      SELECT v_sku, v_wh, 'RESERVE', w.serial, 0, w.quantity, 0, oh, oh, r0 + w.cum - w.quantity, r0 + w.cum, inc, inc, w.actor
        FROM (SELECT ord, serial, quantity, actor, SUM(quantity) OVER (ORDER BY ord) AS cum
                FROM stockhold_batch_items WHERE won) w
       ORDER BY w.ord;
      INSERT INTO cache_outbox (sku) VALUES (v_sku);
    END IF;
    INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity)
    SELECT serial, v_sku, v_wh, quantity FROM stockhold_batch_items WHERE won ORDER BY ord;
    INSERT INTO saga_starts (order_id, input)
    SELECT order_id, JSON_MERGE_PATCH(COALESCE(saga, '{}'), CONCAT('{"reservation":', reserved, '}')) FROM stockhold_batch_items WHERE won ORDER BY ord;
  END IF;
  COMMIT;
  SELECT ord, CASE WHEN won THEN reserved ELSE outcome END AS outcome FROM stockhold_batch_items ORDER BY ord;
END
