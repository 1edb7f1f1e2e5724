-- The hold batch at set speed (issue "A flash sale answered at PostgreSQL speed"). Same
-- contract and outcomes as 20261130120000; what changes is how many statements a batch runs.
-- Before, each item ran its own statements: two fence look-ups, and per winner three INSERTs
-- (hold, line, saga outbox row) and a ledger INSERT — about five statement executions per
-- item, each with plpgsql's per-statement overhead, on the hottest transaction we have. Now:
--   * the fences of the whole batch are read by one join (a new serial finds nothing);
--   * the holds, their lines, their sagas' outbox rows and (levels) their ledger rows are
--     each one INSERT … SELECT over the winners, in arrival order (ledger ids, and the
--     before/after levels from a running sum, as before);
--   * the per-user limit is read with the campaign once, not twice per item.
-- What stays per item: the serial locks (byte order, so batches cannot deadlock) and the
-- campaign's per-user upsert (whether it took is that item's answer).
--
-- And a deadlock fixed. Two batches on one campaign at once (two API processes; or one API
-- with HOLD_BATCHES_IN_FLIGHT > 1) each took KEY SHARE on the campaign row when their new
-- per-user rows were inserted (the foreign key), then asked FOR UPDATE on that row, which
-- conflicts with KEY SHARE: each waited for the other, PostgreSQL killed one (40P01) and its
-- shoppers got a 503. The pool is now locked FOR NO KEY UPDATE, which is what its UPDATE needs
-- (it changes no key) and does not conflict with KEY SHARE: the second batch waits for the
-- first's commit instead. The level row likewise (campaigns and lots hold KEY SHARE on it).

CREATE OR REPLACE FUNCTION "stockhold_hold_batch"(p_kind TEXT, p_pool TEXT, p_warehouse TEXT, p_items JSONB) RETURNS JSONB
LANGUAGE plpgsql AS $$
DECLARE
  n INT := jsonb_array_length(p_items);
  outcomes JSONB[] := array_fill(NULL::jsonb, ARRAY[n]);
  passed BOOLEAN[] := array_fill(TRUE, ARRAY[n]);
  it JSONB; fr RECORD; s TEXT; i INT; q INT;
  v_sku TEXT; v_wh TEXT; v_campaign TEXT; v_limit INT;
  c RECORD; avail INT; r0 INT; oh INT; taken INT := 0; winners INT[] := '{}';
BEGIN
  -- A blocked row fails the batch fast (nothing is held; the callers may retry), as in every stock step.
  PERFORM set_config('lock_timeout', '3s', true);
  -- 1. Serials: locked in byte order; a recorded reserve is returned, a recorded release refuses.
  FOR s IN SELECT DISTINCT (x->>'serial') COLLATE "C" AS serial FROM jsonb_array_elements(p_items) x ORDER BY serial LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(s, 0));
  END LOOP;
  -- One look-up for the batch; RESERVE comes last so a recorded reserve wins over a release.
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
    IF NOT FOUND THEN RAISE EXCEPTION 'CAMPAIGN_NOT_FOUND: %', v_campaign USING ERRCODE = 'P0002'; END IF;
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
        ELSE taken := taken + q; winners := winners || i; CONTINUE;
        END IF;
        passed[i] := FALSE;
        UPDATE campaign_user_counts SET quantity = quantity - q WHERE campaign_id = v_campaign AND user_id = it->>'userId';
      END LOOP;
      IF taken > 0 THEN UPDATE campaigns SET remaining = remaining - taken WHERE id = v_campaign; END IF;
    END IF;
  ELSE
    v_sku := p_pool; v_wh := p_warehouse;
    -- 2. Refusals need no lock: an item more than is available now is refused as of now.
    SELECT on_hand - reserved - safety_stock - unsellable_quantity(sku, warehouse_code) INTO avail
      FROM inventory_levels WHERE sku = v_sku AND warehouse_code = v_wh;
    -- No level row: an unknown SKU or warehouse fails the whole batch (every item names this
    -- level), so nothing is recorded and the caller answers 404. The hot path never gets here.
    IF NOT FOUND THEN
      IF NOT EXISTS (SELECT 1 FROM products WHERE sku = v_sku) THEN
        RAISE EXCEPTION 'UNKNOWN_PRODUCT: %', v_sku USING ERRCODE = 'P0002';
      ELSIF NOT EXISTS (SELECT 1 FROM warehouses WHERE code = v_wh) THEN
        RAISE EXCEPTION 'UNKNOWN_WAREHOUSE: %', v_wh USING ERRCODE = 'P0002';
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
      SELECT on_hand - reserved - safety_stock - unsellable_quantity(sku, warehouse_code), reserved, on_hand
        INTO avail, r0, oh FROM inventory_levels WHERE sku = v_sku AND warehouse_code = v_wh;
      avail := COALESCE(avail, 0);
      FOR i IN 1..n LOOP
        CONTINUE WHEN NOT passed[i];
        it := p_items->(i - 1); q := (it->>'quantity')::int;
        IF q <= avail - taken THEN taken := taken + q; winners := winners || i; CONTINUE; END IF;
        outcomes[i] := jsonb_build_object('status', 'rejected', 'reason', 'INSUFFICIENT_STOCK', 'shortages',
          jsonb_build_array(jsonb_build_object('sku', v_sku, 'warehouseCode', v_wh, 'requested', q, 'available', GREATEST(0, avail - taken))));
        passed[i] := FALSE;
      END LOOP;
      IF taken > 0 THEN
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
  END IF;

  -- 4. The holds, their lines, their sagas' outbox rows (the saga starts from the hold): one
  -- statement each over the winners, in arrival order; every outcome fenced.
  IF cardinality(winners) > 0 THEN
    INSERT INTO reservations (id, order_id, user_id, campaign_id, status, expires_at, amount_cents, allocation)
    SELECT w.it->>'serial', w.it->>'orderId', w.it->>'userId', v_campaign, 'RESERVED', (w.it->>'expiresAt')::timestamptz,
           (w.it->>'amountCents')::int, CASE WHEN v_campaign IS NULL THEN w.it->'reserved'->'allocations' END
      FROM (SELECT u.ord, p_items->(u.i - 1) AS it FROM unnest(winners) WITH ORDINALITY AS u(i, ord)) w ORDER BY w.ord;
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
  INSERT INTO operation_fences (serial, operation, outcome)
  SELECT p_items->(o - 1)->>'serial', 'RESERVE', outcomes[o] FROM generate_series(1, n) o
   WHERE passed[o] OR (outcomes[o]->>'status' = 'rejected' AND NOT EXISTS (
     SELECT 1 FROM operation_fences f WHERE f.serial = p_items->(o - 1)->>'serial' AND f.operation = 'RESERVE'));
  RETURN to_jsonb(outcomes);
END;
$$;
