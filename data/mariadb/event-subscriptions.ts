/**
 * Webhook subscriptions and their failed deliveries on MySQL/MariaDB (issue 22, docs/events.md
 * "Webhooks"): data/events/subscriptions.ts and deliveries.ts with the same contracts, so the
 * routes (POST/GET/DELETE /admin/event-subscriptions…) and the dispatcher
 * (use-cases/webhook-dispatcher.ts) run unchanged. The filter lists are JSON arrays. A
 * subscription's lease is one guarded UPDATE (only a free, own or expired lease is taken), read
 * back after it (no RETURNING on UPDATE, mechanism 5); the cursor moves only from the position
 * the sender read (compare-and-set), so two workers never both deliver past one event.
 */
import type { Pool } from 'mariadb';
import { isDuplicateKey, jsonValue } from './tx';

// The shapes of data/events/subscriptions.ts and deliveries.ts, restated here (structurally the
// same) so that those modules can dispatch to this one without an import cycle.
type DeliveryStatus = 'RETRYING' | 'DEAD' | 'DELIVERED';
interface OutgoingEvent {
  readonly position: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly time: Date;
  readonly body: string;
}
interface DeliveryRecord {
  readonly subscriptionId: string;
  readonly position: bigint;
  readonly eventId: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly firstFailedAt: Date;
  readonly updatedAt: Date;
}
interface Filter {
  readonly types: readonly string[];
  readonly skus: readonly string[];
  readonly warehouses: readonly string[];
}
interface SubscriptionView {
  readonly id: string;
  readonly types: string[];
  readonly skus: string[];
  readonly warehouses: string[];
  readonly url: string;
  readonly description: string | null;
  readonly status: 'ACTIVE' | 'DISABLED';
  readonly disabledReason: string | null;
  readonly disabledAt: string | null;
  readonly cursor: string;
  readonly previousSecretExpiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}
interface LeasedSubscription extends Filter {
  readonly id: string;
  readonly url: string;
  readonly cursor: bigint;
  readonly secret: string;
  readonly previousSecret: string | null;
  readonly previousSecretUntil: Date | null;
}
interface NewSubscription extends Filter {
  readonly id: string;
  readonly url: string;
  readonly description?: string;
  readonly secret: string;
}
interface SubscriptionChange extends Partial<Filter> {
  readonly url?: string;
  readonly description?: string | null;
  readonly enabled?: boolean;
}

interface Row {
  id: string;
  url: string;
  description: string | null;
  types: unknown;
  skus: unknown;
  warehouses: unknown;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  cursor: number;
  status: string;
  disabled_reason: string | null;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, url, description, types, skus, warehouses, secret, previous_secret, previous_secret_until,
  \`cursor\`, status, disabled_reason, disabled_at, created_at, updated_at`;

const list = (v: unknown) => jsonValue(v) as string[];

function view(r: Row, now = new Date()): SubscriptionView {
  const overlap =
    r.previous_secret_until && r.previous_secret_until > now ? r.previous_secret_until.toISOString() : null;
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    types: list(r.types),
    skus: list(r.skus),
    warehouses: list(r.warehouses),
    status: r.status as SubscriptionView['status'],
    disabledReason: r.disabled_reason,
    disabledAt: r.disabled_at?.toISOString() ?? null,
    cursor: String(r.cursor),
    previousSecretExpiresAt: overlap,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function leased(r: Row): LeasedSubscription {
  return {
    id: r.id,
    url: r.url,
    types: list(r.types),
    skus: list(r.skus),
    warehouses: list(r.warehouses),
    cursor: BigInt(r.cursor),
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretUntil: r.previous_secret_until,
  };
}

async function row(pool: Pool, id: string): Promise<Row | undefined> {
  const [r] = await pool.query<Row[]>(`SELECT ${COLUMNS} FROM event_subscriptions WHERE id = ?`, [id]);
  return r;
}

/** A new subscription starts at the head: it hears what commits from then on. */
export async function createSubscriptionOnMariadb(pool: Pool, s: NewSubscription): Promise<SubscriptionView> {
  await pool.query(
    `INSERT INTO event_subscriptions (id, url, description, types, skus, warehouses, secret, \`cursor\`, created_at, updated_at)
     SELECT ?, ?, ?, ?, ?, ?, ?, COALESCE(MAX(position), 0), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM event_outbox`,
    [
      s.id,
      s.url,
      s.description ?? null,
      JSON.stringify(s.types),
      JSON.stringify(s.skus),
      JSON.stringify(s.warehouses),
      s.secret,
    ],
  );
  return view((await row(pool, s.id))!);
}

export async function getSubscriptionOnMariadb(pool: Pool, id: string): Promise<SubscriptionView | undefined> {
  const r = await row(pool, id);
  return r ? view(r) : undefined;
}

export async function listSubscriptionsOnMariadb(pool: Pool): Promise<SubscriptionView[]> {
  return (await pool.query<Row[]>(`SELECT ${COLUMNS} FROM event_subscriptions ORDER BY created_at, id`)).map((r) =>
    view(r),
  );
}

export async function updateSubscriptionOnMariadb(
  pool: Pool,
  id: string,
  c: SubscriptionChange,
): Promise<SubscriptionView | undefined> {
  const sets: string[] = ['updated_at = UTC_TIMESTAMP(3)'];
  const params: unknown[] = [];
  const set = (column: string, value: unknown) => {
    sets.push(`${column} = ?`);
    params.push(value);
  };
  if (c.url !== undefined) set('url', c.url);
  if (c.description !== undefined) set('description', c.description);
  if (c.types) set('types', JSON.stringify(c.types));
  if (c.skus) set('skus', JSON.stringify(c.skus));
  if (c.warehouses) set('warehouses', JSON.stringify(c.warehouses));
  if (c.enabled === true) sets.push("status = 'ACTIVE', disabled_reason = NULL, disabled_at = NULL");
  if (c.enabled === false) sets.push("status = 'DISABLED', disabled_reason = 'MANUAL', disabled_at = UTC_TIMESTAMP(3)");
  const [found] = await pool.query<unknown[]>('SELECT id FROM event_subscriptions WHERE id = ?', [id]);
  if (!found) return undefined;
  await pool.query(`UPDATE event_subscriptions SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
  return getSubscriptionOnMariadb(pool, id);
}

export async function deleteSubscriptionOnMariadb(pool: Pool, id: string): Promise<boolean> {
  const r = await pool.query<{ affectedRows: number }>('DELETE FROM event_subscriptions WHERE id = ?', [id]);
  return r.affectedRows > 0;
}

export async function rotateSecretOnMariadb(
  pool: Pool,
  id: string,
  secret: string,
  previousUntil: Date,
): Promise<SubscriptionView | undefined> {
  const r = await pool.query<{ affectedRows: number }>(
    `UPDATE event_subscriptions
        SET previous_secret = secret, previous_secret_until = ?, secret = ?, updated_at = UTC_TIMESTAMP(3)
      WHERE id = ?`,
    [previousUntil, secret, id],
  );
  return r.affectedRows === 0 ? undefined : getSubscriptionOnMariadb(pool, id);
}

/** Moves the cursor to `afterPosition` and drops the pending retries after it. */
export async function replayAfterOnMariadb(
  pool: Pool,
  id: string,
  afterPosition: bigint,
): Promise<SubscriptionView | undefined> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const r = await conn.query<{ affectedRows: number }>(
      'UPDATE event_subscriptions SET `cursor` = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?',
      [afterPosition.toString(), id],
    );
    if (r.affectedRows > 0)
      await conn.query(
        "DELETE FROM event_deliveries WHERE subscription_id = ? AND status = 'RETRYING' AND position > ?",
        [id, afterPosition.toString()],
      );
    await conn.commit();
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  } finally {
    await conn.release();
  }
  return getSubscriptionOnMariadb(pool, id);
}

export async function activeSubscriptionIdsOnMariadb(pool: Pool): Promise<string[]> {
  return (
    await pool.query<{ id: string }[]>("SELECT id FROM event_subscriptions WHERE status = 'ACTIVE' ORDER BY id")
  ).map((r) => r.id);
}

/** Takes (or renews) the lease when it is free, ours or expired; then reads the row back. */
export async function leaseSubscriptionOnMariadb(
  pool: Pool,
  id: string,
  owner: string,
  leaseMs: number,
): Promise<LeasedSubscription | undefined> {
  const r = await pool.query<{ affectedRows: number }>(
    `UPDATE event_subscriptions
        SET lease_owner = ?, lease_until = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND
      WHERE id = ? AND status = 'ACTIVE'
        AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < UTC_TIMESTAMP(3))`,
    [owner, Math.round(leaseMs * 1000), id, owner],
  );
  if (r.affectedRows === 0) return undefined;
  const [got] = await pool.query<Row[]>(
    `SELECT ${COLUMNS} FROM event_subscriptions WHERE id = ? AND lease_owner = ? AND status = 'ACTIVE'`,
    [id, owner],
  );
  return got ? leased(got) : undefined;
}

export async function releaseLeaseOnMariadb(pool: Pool, id: string, owner: string): Promise<void> {
  await pool.query(
    'UPDATE event_subscriptions SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?',
    [id, owner],
  );
}

/** Compare-and-set: moves the cursor only from where the sender read it. */
export async function moveCursorOnMariadb(pool: Pool, id: string, from: bigint, to: bigint): Promise<boolean> {
  const r = await pool.query<{ affectedRows: number }>(
    'UPDATE event_subscriptions SET `cursor` = ? WHERE id = ? AND `cursor` = ?',
    [to.toString(), id, from.toString()],
  );
  return r.affectedRows > 0;
}

/** Disables an ACTIVE subscription and raises its WEBHOOK_DISABLED alert, in one transaction. */
export async function disableSubscriptionOnMariadb(
  pool: Pool,
  id: string,
  reason: 'GONE' | 'FAILING',
  at: Date,
  details: Record<string, unknown>,
): Promise<boolean> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    await conn.query('SET @stockhold_txid = UUID_SHORT()');
    const off = await conn.query<{ affectedRows: number }>(
      `UPDATE event_subscriptions
          SET status = 'DISABLED', disabled_reason = ?, disabled_at = ?, lease_owner = NULL, lease_until = NULL,
              updated_at = UTC_TIMESTAMP(3)
        WHERE id = ? AND status = 'ACTIVE'`,
      [reason, at, id],
    );
    if (off.affectedRows > 0) {
      const [{ url }] = await conn.query<{ url: string }[]>('SELECT url FROM event_subscriptions WHERE id = ?', [id]);
      try {
        await conn.query(
          `INSERT INTO stock_alerts (kind, subject, sku, warehouse_code, details) VALUES ('WEBHOOK_DISABLED', ?, '-', '-', ?)`,
          [`${id}/${at.getTime()}`, JSON.stringify({ ...details, subscriptionId: id, url, reason })],
        );
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    await conn.commit();
    return off.affectedRows > 0;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  } finally {
    await conn.release();
  }
}

export async function subscriptionForSendingOnMariadb(pool: Pool, id: string): Promise<LeasedSubscription | undefined> {
  const r = await row(pool, id);
  return r ? leased(r) : undefined;
}

interface EventRow {
  position: number | null;
  event_id: string | null;
  type: string | null;
  time: Date | null;
  body: string | null;
  head: number;
}

/**
 * The subscription's next events after `after` that pass its filter, within `window`
 * positions, with the head, in one statement (one read view): see deliveries.ts nextEvents.
 */
export async function nextEventsOnMariadb(
  pool: Pool,
  subscriptionId: string,
  after: bigint,
  limit: number,
  window: number,
): Promise<{ events: OutgoingEvent[]; scannedTo: bigint; head: bigint }> {
  const sub = await row(pool, subscriptionId);
  const types = sub ? list(sub.types) : [];
  const skus = sub ? list(sub.skus) : [];
  const warehouses = sub ? list(sub.warehouses) : [];
  const where: string[] = ['o.position > ?', 'o.position <= ?'];
  const params: unknown[] = [after.toString(), (after + BigInt(window)).toString()];
  if (!sub) where.push('FALSE');
  if (types.length > 0) {
    // Exact types, or a family: `stock.*` is every type starting `stock.`.
    where.push(`(${types.map((t) => (t.endsWith('.*') ? 'o.type LIKE ?' : 'o.type = ?')).join(' OR ')})`);
    params.push(...types.map((t) => (t.endsWith('.*') ? `${t.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%` : t)));
  }
  if (skus.length > 0) {
    where.push(`o.sku IN (${skus.map(() => '?').join(', ')})`);
    params.push(...skus);
  }
  if (warehouses.length > 0) {
    where.push(`o.warehouse_code IN (${warehouses.map(() => '?').join(', ')})`);
    params.push(...warehouses);
  }
  const rows = await pool.query<EventRow[]>(
    `SELECT p.position, p.event_id, p.type, p.time, p.body, h.head
       FROM (SELECT COALESCE(MAX(position), 0) AS head FROM event_outbox) h
       LEFT JOIN (SELECT o.position, o.event_id, o.type, o.time, CAST(o.event AS CHAR) AS body
                    FROM event_outbox o WHERE ${where.join(' AND ')} ORDER BY o.position LIMIT ?) p ON TRUE
      ORDER BY p.position`,
    [...params, limit],
  );
  const head = BigInt(rows[0]?.head ?? 0);
  const events = rows
    .filter((r) => r.position !== null)
    .map((r) => ({
      position: BigInt(r.position!),
      eventId: r.event_id!,
      type: r.type!,
      time: r.time!,
      body: r.body!,
    }));
  const windowEnd = after + BigInt(window);
  const scannedTo =
    events.length === limit
      ? events[events.length - 1].position
      : windowEnd < head
        ? windowEnd
        : head > after
          ? head
          : after;
  return { events, scannedTo, head };
}

export async function eventAtOnMariadb(pool: Pool, position: bigint): Promise<OutgoingEvent | undefined> {
  const [r] = await pool.query<{ position: number; event_id: string; type: string; time: Date; body: string }[]>(
    'SELECT position, event_id, type, time, CAST(event AS CHAR) AS body FROM event_outbox WHERE position = ?',
    [position.toString()],
  );
  return r
    ? { position: BigInt(r.position), eventId: r.event_id, type: r.type, time: r.time, body: r.body }
    : undefined;
}

interface DeliveryRow {
  subscription_id: string;
  position: number;
  event_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  first_failed_at: Date;
  updated_at: Date;
}

const record = (r: DeliveryRow): DeliveryRecord => ({
  subscriptionId: r.subscription_id,
  position: BigInt(r.position),
  eventId: r.event_id,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  firstFailedAt: r.first_failed_at,
  updatedAt: r.updated_at,
});

const DELIVERY_COLUMNS =
  'subscription_id, position, event_id, status, attempts, next_attempt_at, last_status, last_error, first_failed_at, updated_at';

export async function pendingRetryOnMariadb(pool: Pool, subscriptionId: string): Promise<DeliveryRecord | undefined> {
  const [r] = await pool.query<DeliveryRow[]>(
    `SELECT ${DELIVERY_COLUMNS} FROM event_deliveries WHERE subscription_id = ? AND status = 'RETRYING' ORDER BY position LIMIT 1`,
    [subscriptionId],
  );
  return r ? record(r) : undefined;
}

export async function getDeliveryOnMariadb(
  pool: Pool,
  subscriptionId: string,
  position: bigint,
): Promise<DeliveryRecord | undefined> {
  const [r] = await pool.query<DeliveryRow[]>(
    `SELECT ${DELIVERY_COLUMNS} FROM event_deliveries WHERE subscription_id = ? AND position = ?`,
    [subscriptionId, position.toString()],
  );
  return r ? record(r) : undefined;
}

export async function listDeliveriesOnMariadb(
  pool: Pool,
  subscriptionId: string,
  status: DeliveryStatus | undefined,
  limit: number,
): Promise<DeliveryRecord[]> {
  const rows = await pool.query<DeliveryRow[]>(
    `SELECT ${DELIVERY_COLUMNS} FROM event_deliveries
      WHERE subscription_id = ? AND (? IS NULL OR status = ?) ORDER BY position LIMIT ?`,
    [subscriptionId, status ?? null, status ?? null, limit],
  );
  return rows.map(record);
}

export async function recordAttemptOnMariadb(
  pool: Pool,
  d: {
    subscriptionId: string;
    position: bigint;
    eventId: string;
    status: DeliveryStatus;
    attempts: number;
    nextAttemptAt: Date | null;
    lastStatus: number | null;
    lastError: string | null;
    at: Date;
  },
): Promise<void> {
  await pool.query(
    `INSERT INTO event_deliveries (subscription_id, position, event_id, status, attempts, next_attempt_at, last_status, last_error, first_failed_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE status = VALUES(status), attempts = VALUES(attempts), next_attempt_at = VALUES(next_attempt_at),
       last_status = VALUES(last_status), last_error = VALUES(last_error), updated_at = VALUES(updated_at)`,
    [
      d.subscriptionId,
      d.position.toString(),
      d.eventId,
      d.status,
      d.attempts,
      d.nextAttemptAt,
      d.lastStatus,
      d.lastError,
      d.at,
      d.at,
    ],
  );
}
