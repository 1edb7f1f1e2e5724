-- stockhold_hold_batch: the request path's group commit (data/orders/request-hold.ts HoldBatcher).
-- One transaction, one round trip: every single-line hold queued on one pool (a campaign, or
-- one stock level) while the previous batch ran, first fit in arrival order, each with its own
-- fence row and outcome; the winners' holds, lines, ledger rows and saga outbox rows.
--
-- Inputs:      p_kind 'campaign' | 'level'; p_pool the campaign id or the SKU; p_warehouse the
--              level's warehouse (NULL for a campaign); p_items a JSON array of
--              { serial, orderId, userId, quantity, expiresAt, amountCents?, reserved, saga, actor? },
--              each serial once (the caller merges a serial sent twice).
-- Outcome:     a JSON array, one element per item in order: the reserve outcome taken now (the
--              item's `reserved`, or a rejection: SOLD_OUT, ENDED, NOT_STARTED, LIMIT_REACHED,
--              INSUFFICIENT_STOCK with its shortage, ALREADY_RELEASED), or
--              { "replayed": <the outcome recorded before> }. Every new outcome is fenced.
--              Availability of a level is stockhold_available (its own file), nothing else.
-- Error codes: the whole batch fails, nothing is recorded. Raised with these SQLSTATEs (class
--              SH, ours), the subject as a JSON object in DETAIL, and a message for the logs
--              (the text these errors always had); decoded in one place, data/sql-errors.ts
--              (keep the two in step; test/db/sql-functions.test.ts checks they are):
--                SH001  no such campaign      → CAMPAIGN_NOT_FOUND (404); DETAIL {campaignId}
--                SH002  no such product       → UNKNOWN_PRODUCT (404); DETAIL {sku}
--                SH003  no such warehouse     → UNKNOWN_WAREHOUSE (404); DETAIL {warehouseCode}
--                SH004  a serial twice        → a caller's bug: not decoded (503, nothing held)
--                SH005  a hold without fence  → a broken invariant: not decoded (503, nothing held)
--              and PostgreSQL's 55P03 when a row stays locked past lock_timeout (3 s, set here).
-- Lock order:  users' counts (byte order of user id), the pool row (FOR NO KEY UPDATE), then
--              the claims in byte order of serial — holds first, then fences — the order every
--              reserve path writes a serial's keys in (the hold, then its fence), so paths
--              cannot deadlock on them. No advisory lock: the keys that make a serial unique
--              are the claim (a row's wait, not a lock-table entry per serial). An empty
--              release claims the RESERVE fence too (data/orders/release.ts): a hold racing it
--              commits before it and is released, or comes after it and is refused
--              ALREADY_RELEASED.
--
-- History: migrations 20261130100000 (first), 20261130111000 (unknown SKU or warehouse),
-- 20261130120000 (actor), 20261130130000 (set-based), 20261207110000 (claims by key, no
-- advisory locks) — their headers tell why each step was taken. Since then this file is the
-- definition; its SQLSTATEs replaced P0002/22023/XX000 (the messages kept their text, so a
-- replica still decoding by text during a rolling deploy answers as before).
CREATE OR REPLACE FUNCTION "stockhold_hold_batch"(p_kind TEXT, p_pool TEXT, p_warehouse TEXT, p_items JSONB) RETURNS JSONB
LANGUAGE plpgsql AS $$
DECLARE
  n INT := jsonb_array_length(p_items);
  outcomes JSONB[] := array_fill(NULL::jsonb, ARRAY[n]);
  passed BOOLEAN[] := array_fill(TRUE, ARRAY[n]);
  won BOOLEAN[] := array_fill(FALSE, ARRAY[n]);
  it JSONB; fr RECORD; s TEXT; i INT; q INT;
  v_sku TEXT; v_wh TEXT; v_campaign TEXT; v_limit INT;
  c RECORD; avail INT; r0 INT; oh INT; taken INT := 0; winners INT[] := '{}';
  held TEXT[]; fenced TEXT[];
BEGIN
  -- A blocked row fails the batch fast (nothing is held; the callers may retry), as in every stock step.
  PERFORM set_config('lock_timeout', '3s', true);
  IF (SELECT count(DISTINCT x->>'serial') FROM jsonb_array_elements(p_items) x) <> n THEN
    RAISE EXCEPTION USING ERRCODE = 'SH004', MESSAGE = 'DUPLICATE_SERIAL: a batch names each serial once';
  END IF;
  -- 1. One look-up for the batch (no lock: a recorded fence never changes); RESERVE comes last
  -- so a recorded reserve wins over a release. Serials recorded after this are caught in 4.
  FOR fr IN SELECT o, fe.operation, fe.outcome
             FROM generate_series(1, n) o
             JOIN operation_fences fe ON fe.serial = p_items->(o - 1)->>'serial' AND fe.operation IN ('RESERVE', 'RELEASE')
            ORDER BY fe.operation = 'RESERVE' LOOP
    -- Wrapped, so the caller can tell a replay (and check it is the same order).
    outcomes[fr.o] := CASE WHEN fr.operation = 'RESERVE' THEN jsonb_build_object('replayed', fr.outcome)
                          ELSE '{"status":"rejected","reason":"ALREADY_RELEASED"}'::jsonb END;
    passed[fr.o] := FALSE;
  END LOOP;

  IF p_kind = 'campaign' THEN
    v_campaign := p_pool;
    SELECT sku, warehouse_code, remaining, status, per_user_limit, starts_at <= now() AS started, ends_at <= now() AS over
      INTO c FROM campaigns WHERE id = v_campaign;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'SH001', MESSAGE = format('CAMPAIGN_NOT_FOUND: %s', v_campaign),
        DETAIL = jsonb_build_object('campaignId', v_campaign)::text;
    END IF;
    v_sku := c.sku; v_wh := c.warehouse_code; v_limit := c.per_user_limit;
    -- 2. Refusals need no lock: what is committed now already refuses them (sold out, window).
    FOR i IN 1..n LOOP
      CONTINUE WHEN NOT passed[i];
      q := (p_items->(i - 1)->>'quantity')::int;
      IF c.status <> 'OPEN' OR c.over THEN outcomes[i] := '{"status":"rejected","reason":"ENDED"}';
      ELSIF NOT c.started THEN outcomes[i] := '{"status":"rejected","reason":"NOT_STARTED"}';
      ELSIF q > c.remaining THEN outcomes[i] := '{"status":"rejected","reason":"SOLD_OUT"}';
      ELSE CONTINUE;
      END IF;
      passed[i] := FALSE;
    END LOOP;
    -- 3a. Each user's count, users in byte order: a conditional upsert under the limit.
    FOR i IN SELECT o FROM generate_series(1, n) o ORDER BY p_items->(o - 1)->>'userId' COLLATE "C", o LOOP
      CONTINUE WHEN NOT passed[i];
      it := p_items->(i - 1); q := (it->>'quantity')::int;
      INSERT INTO campaign_user_counts AS u (campaign_id, user_id, quantity)
      SELECT v_campaign, it->>'userId', q WHERE v_limit >= q
      ON CONFLICT (campaign_id, user_id) DO UPDATE SET quantity = u.quantity + EXCLUDED.quantity
       WHERE u.quantity + EXCLUDED.quantity <= v_limit;
      IF NOT FOUND THEN
        outcomes[i] := '{"status":"rejected","reason":"LIMIT_REACHED"}';
        passed[i] := FALSE;
      END IF;
    END LOOP;
    -- 3b. The pool, last: first fit in arrival order; a refused item gives its user count back.
    IF TRUE = ANY(passed) THEN
      SELECT remaining, status, starts_at <= now() AS started, ends_at <= now() AS over INTO c
        FROM campaigns WHERE id = v_campaign FOR NO KEY UPDATE;
      FOR i IN 1..n LOOP
        CONTINUE WHEN NOT passed[i];
        it := p_items->(i - 1); q := (it->>'quantity')::int;
        IF c.status <> 'OPEN' OR c.over THEN outcomes[i] := '{"status":"rejected","reason":"ENDED"}';
        ELSIF NOT c.started THEN outcomes[i] := '{"status":"rejected","reason":"NOT_STARTED"}';
        ELSIF q > c.remaining - taken THEN outcomes[i] := '{"status":"rejected","reason":"SOLD_OUT"}';
        ELSE taken := taken + q; won[i] := TRUE; CONTINUE;
        END IF;
        passed[i] := FALSE;
        UPDATE campaign_user_counts SET quantity = quantity - q WHERE campaign_id = v_campaign AND user_id = it->>'userId';
      END LOOP;
    END IF;
  ELSE
    v_sku := p_pool; v_wh := p_warehouse;
    -- 2. Refusals need no lock: an item more than is available now is refused as of now.
    SELECT stockhold_available(inventory_levels) INTO avail
      FROM inventory_levels WHERE sku = v_sku AND warehouse_code = v_wh;
    -- No level row: an unknown SKU or warehouse fails the whole batch (every item names this
    -- level), so nothing is recorded and the caller answers 404. The hot path never gets here.
    IF NOT FOUND THEN
      IF NOT EXISTS (SELECT 1 FROM products WHERE sku = v_sku) THEN
        RAISE EXCEPTION USING ERRCODE = 'SH002', MESSAGE = format('UNKNOWN_PRODUCT: %s', v_sku),
          DETAIL = jsonb_build_object('sku', v_sku)::text;
      ELSIF NOT EXISTS (SELECT 1 FROM warehouses WHERE code = v_wh) THEN
        RAISE EXCEPTION USING ERRCODE = 'SH003', MESSAGE = format('UNKNOWN_WAREHOUSE: %s', v_wh),
          DETAIL = jsonb_build_object('warehouseCode', v_wh)::text;
      END IF;
    END IF;
    avail := COALESCE(avail, 0);
    FOR i IN 1..n LOOP
      CONTINUE WHEN NOT passed[i];
      q := (p_items->(i - 1)->>'quantity')::int;
      CONTINUE WHEN q <= avail;
      outcomes[i] := jsonb_build_object('status', 'rejected', 'reason', 'INSUFFICIENT_STOCK', 'shortages',
        jsonb_build_array(jsonb_build_object('sku', v_sku, 'warehouseCode', v_wh, 'requested', q, 'available', GREATEST(0, avail))));
      passed[i] := FALSE;
    END LOOP;
    -- 3. The level row (only if an item may fit), then its availability in a fresh statement
    -- (sees what committed while we waited).
    IF TRUE = ANY(passed) THEN
      PERFORM 1 FROM inventory_levels WHERE sku = v_sku AND warehouse_code = v_wh FOR NO KEY UPDATE;
      SELECT stockhold_available(inventory_levels), reserved, on_hand
        INTO avail, r0, oh FROM inventory_levels WHERE sku = v_sku AND warehouse_code = v_wh;
      avail := COALESCE(avail, 0);
      FOR i IN 1..n LOOP
        CONTINUE WHEN NOT passed[i];
        it := p_items->(i - 1); q := (it->>'quantity')::int;
        IF q <= avail - taken THEN taken := taken + q; won[i] := TRUE; CONTINUE; END IF;
        outcomes[i] := jsonb_build_object('status', 'rejected', 'reason', 'INSUFFICIENT_STOCK', 'shortages',
          jsonb_build_array(jsonb_build_object('sku', v_sku, 'warehouseCode', v_wh, 'requested', q, 'available', GREATEST(0, avail - taken))));
        passed[i] := FALSE;
      END LOOP;
    END IF;
  END IF;

  -- 4. The claims, in byte order of serial: the winners' holds, then every new outcome's fence.
  -- A key another transaction is inserting waits for its commit; one it recorded is skipped.
  IF TRUE = ANY(won) THEN
    WITH ins AS (
      INSERT INTO reservations (id, order_id, user_id, campaign_id, status, expires_at, amount_cents, allocation)
      SELECT w.it->>'serial', w.it->>'orderId', w.it->>'userId', v_campaign, 'RESERVED', (w.it->>'expiresAt')::timestamptz,
             (w.it->>'amountCents')::int, CASE WHEN v_campaign IS NULL THEN w.it->'reserved'->'allocations' END
        FROM (SELECT p_items->(o - 1) AS it FROM generate_series(1, n) o WHERE won[o]) w
       ORDER BY w.it->>'serial' COLLATE "C"
      ON CONFLICT (id) DO NOTHING RETURNING id)
    SELECT array_agg(id) INTO held FROM ins;
  END IF;
  WITH ins AS (
    INSERT INTO operation_fences (serial, operation, outcome)
    SELECT f.serial, 'RESERVE', f.outcome
      FROM (SELECT p_items->(o - 1)->>'serial' AS serial, CASE WHEN won[o] THEN p_items->(o - 1)->'reserved' ELSE outcomes[o] END AS outcome
              FROM generate_series(1, n) o WHERE won[o] OR NOT (outcomes[o] ? 'replayed')) f
     ORDER BY f.serial COLLATE "C"
    ON CONFLICT (serial, operation) DO NOTHING RETURNING serial)
  SELECT array_agg(serial) INTO fenced FROM ins;
  held := COALESCE(held, '{}'); fenced := COALESCE(fenced, '{}');
  -- Serials another transaction recorded since step 1: its outcome is the answer, and what
  -- this batch took for them goes back (the pool and levels are not written yet).
  FOR i IN SELECT o FROM generate_series(1, n) o
            WHERE (won[o] OR NOT (outcomes[o] ? 'replayed')) AND NOT (p_items->(o - 1)->>'serial' = ANY(fenced)) LOOP
    it := p_items->(i - 1); s := it->>'serial';
    IF won[i] THEN
      q := (it->>'quantity')::int;
      taken := taken - q; won[i] := FALSE;
      IF s = ANY(held) THEN DELETE FROM reservations WHERE id = s; END IF;
      IF v_campaign IS NOT NULL THEN
        UPDATE campaign_user_counts SET quantity = quantity - q WHERE campaign_id = v_campaign AND user_id = it->>'userId';
      END IF;
    END IF;
    outcomes[i] := jsonb_build_object('replayed', (SELECT outcome FROM operation_fences WHERE serial = s AND operation = 'RESERVE'));
  END LOOP;
  -- A hold's key taken by another transaction always comes with its fence (every path writes
  -- both in one transaction), so a winner fenced here holds its row.
  IF EXISTS (SELECT 1 FROM generate_series(1, n) o WHERE won[o] AND NOT (p_items->(o - 1)->>'serial' = ANY(held))) THEN
    RAISE EXCEPTION USING ERRCODE = 'SH005', MESSAGE = 'SERIAL_RACE: a hold without its fence';
  END IF;
  SELECT COALESCE(array_agg(o ORDER BY o), '{}') INTO winners FROM generate_series(1, n) o WHERE won[o];

  -- 5. The pool, then the holds' lines, ledger rows and sagas' outbox rows: one statement each
  -- over the winners, in arrival order.
  IF taken > 0 THEN
    IF v_campaign IS NOT NULL THEN
      UPDATE campaigns SET remaining = remaining - taken WHERE id = v_campaign;
    ELSE
      UPDATE inventory_levels SET reserved = reserved + taken, version = version + 1, updated_at = now()
       WHERE sku = v_sku AND warehouse_code = v_wh;
      -- One ledger row per hold, in arrival order, each with the level before and after it.
      INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, incoming_delta,
                                   on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after, actor)
      SELECT v_sku, v_wh, 'RESERVE', w.it->>'serial', 0, w.q, 0, oh, oh, r0 + w.cum - w.q, r0 + w.cum, il.incoming, il.incoming, w.it->>'actor'
        FROM (SELECT u.ord, p_items->(u.i - 1) AS it, (p_items->(u.i - 1)->>'quantity')::int AS q,
                     sum((p_items->(u.i - 1)->>'quantity')::int) OVER (ORDER BY u.ord) AS cum
                FROM unnest(winners) WITH ORDINALITY AS u(i, ord)) w
       CROSS JOIN (SELECT incoming FROM inventory_levels WHERE sku = v_sku AND warehouse_code = v_wh) il
       ORDER BY w.ord;
      INSERT INTO cache_outbox (sku) VALUES (v_sku);
    END IF;
  END IF;
  IF cardinality(winners) > 0 THEN
    INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity)
    SELECT w.it->>'serial', v_sku, v_wh, (w.it->>'quantity')::int
      FROM (SELECT u.ord, p_items->(u.i - 1) AS it FROM unnest(winners) WITH ORDINALITY AS u(i, ord)) w ORDER BY w.ord;
    INSERT INTO saga_starts (order_id, input)
    SELECT w.it->>'orderId', (w.it->'saga') || jsonb_build_object('reservation', w.it->'reserved')
      FROM (SELECT u.ord, p_items->(u.i - 1) AS it FROM unnest(winners) WITH ORDINALITY AS u(i, ord)) w ORDER BY w.ord;
    FOREACH i IN ARRAY winners LOOP
      outcomes[i] := p_items->(i - 1)->'reserved';
    END LOOP;
  END IF;
  RETURN to_jsonb(outcomes);
END;
$$;
