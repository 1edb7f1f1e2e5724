-- API keys (README "Security"), the actor of every ledger row, and the admin audit log.

-- A key is presented as sk_<id>_<secret>; only sha256(secret) is kept. The secret is 192
-- random bits, so a leaked hash cannot be brute-forced and a slow password hash (bcrypt,
-- argon2) would only add its cost to every verification. Never deleted: revoked_at ends it.
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[] NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by" TEXT,
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "api_keys_scopes_known" CHECK (
      cardinality("scopes") > 0 AND "scopes" <@ ARRAY['orders', 'inventory:read', 'campaigns', 'admin', 'ops']::TEXT[]),
    CONSTRAINT "api_keys_revoked_by" CHECK (("revoked_at" IS NULL) = ("revoked_by" IS NULL))
);

-- Who made each ledger row: the key id (or 'bootstrap') of the request that caused it; NULL
-- for rows the system makes on its own (a saga confirming a payment or releasing an expired
-- hold, a schedule). A transaction acting for a caller sets stockhold.actor (inSerialTx);
-- the request path's hold batch names each hold's actor itself.
ALTER TABLE "stock_movements" ADD COLUMN "actor" TEXT DEFAULT NULLIF(current_setting('stockhold.actor', true), '');

-- One row per admin request (scopes admin and campaigns, every method but GET), written after
-- authentication and validation and before the change runs: no admin change without a row
-- naming its actor. Append-only, like the ledger.
CREATE TABLE "admin_audit" (
    "id" BIGSERIAL NOT NULL,
    "actor" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "body" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "admin_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "admin_audit_actor_created_at_idx" ON "admin_audit"("actor", "created_at");

CREATE FUNCTION "admin_audit_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'admin_audit is append-only (% refused)', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER "admin_audit_no_update_delete"
  BEFORE UPDATE OR DELETE ON "admin_audit"
  FOR EACH ROW EXECUTE FUNCTION "admin_audit_append_only"();

-- The request path's hold batch, as in 20261130111000_hold_unknown_sku_or_warehouse, now
-- recording each hold's actor (item field "actor") on its RESERVE row.
CREATE OR REPLACE FUNCTION "stockhold_hold_batch"(p_kind TEXT, p_pool TEXT, p_warehouse TEXT, p_items JSONB) RETURNS JSONB
LANGUAGE plpgsql AS $$
DECLARE
  n INT := jsonb_array_length(p_items);
  outcomes JSONB[] := array_fill(NULL::jsonb, ARRAY[n]);
  passed BOOLEAN[] := array_fill(TRUE, ARRAY[n]);
  it JSONB; recorded JSONB; s TEXT; i INT; q INT;
  v_sku TEXT; v_wh TEXT; v_campaign TEXT;
  c RECORD; avail INT; r0 INT; oh INT; taken INT := 0; winners INT[] := '{}'; cum INT := 0;
BEGIN
  -- A blocked row fails the batch fast (nothing is held; the callers may retry), as in every stock step.
  PERFORM set_config('lock_timeout', '3s', true);
  -- 1. Serials: locked in byte order; a recorded reserve is returned, a recorded release refuses.
  FOR s IN SELECT DISTINCT (x->>'serial') COLLATE "C" AS serial FROM jsonb_array_elements(p_items) x ORDER BY serial LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(s, 0));
  END LOOP;
  FOR i IN 1..n LOOP
    it := p_items->(i - 1);
    -- Wrapped, so the caller can tell a replay (and check it is the same order).
    SELECT jsonb_build_object('replayed', f.outcome) INTO recorded FROM operation_fences f WHERE f.serial = it->>'serial' AND f.operation = 'RESERVE';
    IF recorded IS NOT NULL THEN outcomes[i] := recorded; passed[i] := FALSE; CONTINUE; END IF;
    IF EXISTS (SELECT 1 FROM operation_fences f WHERE f.serial = it->>'serial' AND f.operation = 'RELEASE') THEN
      outcomes[i] := '{"status":"rejected","reason":"ALREADY_RELEASED"}';
      passed[i] := FALSE;
    END IF;
  END LOOP;

  IF p_kind = 'campaign' THEN
    v_campaign := p_pool;
    SELECT sku, warehouse_code, remaining, status, starts_at <= now() AS started, ends_at <= now() AS over INTO c FROM campaigns WHERE id = v_campaign;
    IF NOT FOUND THEN RAISE EXCEPTION 'CAMPAIGN_NOT_FOUND: %', v_campaign USING ERRCODE = 'P0002'; END IF;
    v_sku := c.sku; v_wh := c.warehouse_code;
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
      SELECT id, it->>'userId', q FROM campaigns WHERE id = v_campaign AND per_user_limit >= q
      ON CONFLICT (campaign_id, user_id) DO UPDATE SET quantity = u.quantity + EXCLUDED.quantity
       WHERE u.quantity + EXCLUDED.quantity <= (SELECT per_user_limit FROM campaigns WHERE id = v_campaign);
      IF NOT FOUND THEN
        outcomes[i] := '{"status":"rejected","reason":"LIMIT_REACHED"}';
        passed[i] := FALSE;
      END IF;
    END LOOP;
    -- 3b. The pool, last: first fit in arrival order; a refused item gives its user count back.
    IF TRUE = ANY(passed) THEN
      SELECT remaining, status, starts_at <= now() AS started, ends_at <= now() AS over INTO c
        FROM campaigns WHERE id = v_campaign FOR UPDATE;
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
      PERFORM 1 FROM inventory_levels WHERE sku = v_sku AND warehouse_code = v_wh FOR UPDATE;
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
        -- One ledger row per hold, each with the level before and after it.
        FOREACH i IN ARRAY winners LOOP
          it := p_items->(i - 1); q := (it->>'quantity')::int;
          INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, incoming_delta,
                                       on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after, actor)
          SELECT v_sku, v_wh, 'RESERVE', it->>'serial', 0, q, 0, oh, oh, r0 + cum, r0 + cum + q, il.incoming, il.incoming, it->>'actor'
            FROM inventory_levels il WHERE il.sku = v_sku AND il.warehouse_code = v_wh;
          cum := cum + q;
        END LOOP;
        INSERT INTO cache_outbox (sku) VALUES (v_sku);
      END IF;
    END IF;
  END IF;

  -- 4. The holds, their lines, their sagas' outbox rows (the saga starts from the hold); every outcome fenced.
  FOREACH i IN ARRAY winners LOOP
    it := p_items->(i - 1);
    INSERT INTO reservations (id, order_id, user_id, campaign_id, status, expires_at, amount_cents, allocation)
    VALUES (it->>'serial', it->>'orderId', it->>'userId', v_campaign, 'RESERVED', (it->>'expiresAt')::timestamptz,
            (it->>'amountCents')::int, CASE WHEN v_campaign IS NULL THEN it->'reserved'->'allocations' END);
    INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity) VALUES (it->>'serial', v_sku, v_wh, (it->>'quantity')::int);
    INSERT INTO saga_starts (order_id, input) VALUES (it->>'orderId', (it->'saga') || jsonb_build_object('reservation', it->'reserved'));
    outcomes[i] := it->'reserved';
  END LOOP;
  INSERT INTO operation_fences (serial, operation, outcome)
  SELECT p_items->(o - 1)->>'serial', 'RESERVE', outcomes[o] FROM generate_series(1, n) o
   WHERE passed[o] OR (outcomes[o]->>'status' = 'rejected' AND NOT EXISTS (
     SELECT 1 FROM operation_fences f WHERE f.serial = p_items->(o - 1)->>'serial' AND f.operation = 'RESERVE'));
  RETURN to_jsonb(outcomes);
END;
$$;
