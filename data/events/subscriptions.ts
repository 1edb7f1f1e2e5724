/**
 * `event_subscriptions`: every query on it. A subscription is a receiver's URL, its filter,
 * its signing secrets and its cursor (the last position handled). The secret is returned by
 * create and rotate only; every other read leaves it out. The dispatcher's loop leases a
 * subscription (one worker at a time) and moves its cursor compare-and-set, so a replay that
 * moved it back meanwhile is never overwritten.
 */
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  activeSubscriptionIdsOnMariadb,
  createSubscriptionOnMariadb,
  deleteSubscriptionOnMariadb,
  disableSubscriptionOnMariadb,
  getSubscriptionOnMariadb,
  leaseSubscriptionOnMariadb,
  listSubscriptionsOnMariadb,
  moveCursorOnMariadb,
  releaseLeaseOnMariadb,
  replayAfterOnMariadb,
  rotateSecretOnMariadb,
  subscriptionForSendingOnMariadb,
  updateSubscriptionOnMariadb,
} from '../mariadb/event-subscriptions';

export interface SubscriptionFilter {
  readonly types: readonly string[];
  readonly skus: readonly string[];
  readonly warehouses: readonly string[];
}

/** A subscription as the API shows it (never the secret). */
export interface SubscriptionView {
  readonly id: string;
  readonly types: string[];
  readonly skus: string[];
  readonly warehouses: string[];
  readonly url: string;
  readonly description: string | null;
  readonly status: 'ACTIVE' | 'DISABLED';
  readonly disabledReason: string | null;
  readonly disabledAt: string | null;
  /** The last position handled: delivered, filtered out, or DEAD. */
  readonly cursor: string;
  /** While a rotation's overlap lasts, the old secret still signs until then. */
  readonly previousSecretExpiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What the dispatcher works with: the view's facts plus the secrets. */
export interface LeasedSubscription extends SubscriptionFilter {
  readonly id: string;
  readonly url: string;
  readonly cursor: bigint;
  readonly secret: string;
  readonly previousSecret: string | null;
  readonly previousSecretUntil: Date | null;
}

interface Row {
  id: string;
  url: string;
  description: string | null;
  types: string[];
  skus: string[];
  warehouses: string[];
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
  cursor: bigint;
  status: string;
  disabledReason: string | null;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

function view(r: Row, now = new Date()): SubscriptionView {
  const overlap = r.previousSecretUntil && r.previousSecretUntil > now ? r.previousSecretUntil.toISOString() : null;
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    types: r.types,
    skus: r.skus,
    warehouses: r.warehouses,
    status: r.status as SubscriptionView['status'],
    disabledReason: r.disabledReason,
    disabledAt: r.disabledAt?.toISOString() ?? null,
    cursor: r.cursor.toString(),
    previousSecretExpiresAt: overlap,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export interface NewSubscription extends SubscriptionFilter {
  readonly id: string;
  readonly url: string;
  readonly description?: string;
  readonly secret: string;
}

/** Creates a subscription whose cursor is the feed's head: it hears what is positioned from now on. */
export async function createSubscription(db: Db, s: NewSubscription): Promise<SubscriptionView> {
  const maria = mariadbOf(db);
  if (maria) return createSubscriptionOnMariadb(maria, s);
  await db.$executeRaw`
    INSERT INTO event_subscriptions (id, url, description, types, skus, warehouses, secret, cursor)
    VALUES (${s.id}, ${s.url}, ${s.description ?? null}, ${[...s.types]}::text[], ${[...s.skus]}::text[], ${[...s.warehouses]}::text[], ${s.secret},
            (SELECT COALESCE(max(position), 0) FROM event_outbox))`;
  return (await getSubscription(db, s.id))!;
}

export async function getSubscription(db: Db, id: string): Promise<SubscriptionView | undefined> {
  const maria = mariadbOf(db);
  if (maria) return getSubscriptionOnMariadb(maria, id);
  const r = await db.eventSubscription.findUnique({ where: { id } });
  return r ? view(r) : undefined;
}

export async function listSubscriptions(db: Db): Promise<SubscriptionView[]> {
  const maria = mariadbOf(db);
  if (maria) return listSubscriptionsOnMariadb(maria);
  return (await db.eventSubscription.findMany({ orderBy: { createdAt: 'asc' } })).map((r) => view(r));
}

export interface SubscriptionChange extends Partial<SubscriptionFilter> {
  readonly url?: string;
  readonly description?: string | null;
  /** false disables (MANUAL); true re-enables: the loop goes on after the cursor. */
  readonly enabled?: boolean;
}

/** Changes a subscription; undefined when there is none. */
export async function updateSubscription(
  db: Db,
  id: string,
  c: SubscriptionChange,
): Promise<SubscriptionView | undefined> {
  const maria = mariadbOf(db);
  if (maria) return updateSubscriptionOnMariadb(maria, id, c);
  const status = c.enabled === undefined ? undefined : c.enabled ? 'ACTIVE' : 'DISABLED';
  const { count } = await db.eventSubscription.updateMany({
    where: { id },
    data: {
      url: c.url,
      description: c.description,
      types: c.types ? [...c.types] : undefined,
      skus: c.skus ? [...c.skus] : undefined,
      warehouses: c.warehouses ? [...c.warehouses] : undefined,
      status,
      ...(status === 'ACTIVE'
        ? { disabledReason: null, disabledAt: null }
        : status === 'DISABLED'
          ? { disabledReason: 'MANUAL', disabledAt: new Date() }
          : {}),
      updatedAt: new Date(),
    },
  });
  return count === 0 ? undefined : getSubscription(db, id);
}

/** Deletes a subscription and its delivery records; false when there was none. */
export async function deleteSubscription(db: Db, id: string): Promise<boolean> {
  const maria = mariadbOf(db);
  if (maria) return deleteSubscriptionOnMariadb(maria, id);
  return (await db.eventSubscription.deleteMany({ where: { id } })).count > 0;
}

/** A new current secret; the old one keeps signing until `previousUntil` (now: not at all). */
export async function rotateSecret(
  db: Db,
  id: string,
  secret: string,
  previousUntil: Date,
): Promise<SubscriptionView | undefined> {
  const maria = mariadbOf(db);
  if (maria) return rotateSecretOnMariadb(maria, id, secret, previousUntil);
  const n = await db.$executeRaw`
    UPDATE event_subscriptions
       SET previous_secret = secret, previous_secret_until = ${previousUntil}, secret = ${secret}, updated_at = now()
     WHERE id = ${id}`;
  return n === 0 ? undefined : getSubscription(db, id);
}

/** Sends again every event after `afterPosition` (the cursor goes there; retries pending beyond it are dropped: they come again). */
export async function replayAfter(db: Db, id: string, afterPosition: bigint): Promise<SubscriptionView | undefined> {
  const maria = mariadbOf(db);
  if (maria) return replayAfterOnMariadb(maria, id, afterPosition);
  const n = await db.$executeRaw`
    WITH moved AS (UPDATE event_subscriptions SET cursor = ${afterPosition}, updated_at = now() WHERE id = ${id} RETURNING id)
    DELETE FROM event_deliveries d USING moved WHERE d.subscription_id = moved.id AND d.status = 'RETRYING' AND d.position > ${afterPosition}`;
  void n;
  return getSubscription(db, id);
}

/** Ids of the subscriptions a dispatcher should run. */
export async function activeSubscriptionIds(db: Db): Promise<string[]> {
  const maria = mariadbOf(db);
  if (maria) return activeSubscriptionIdsOnMariadb(maria);
  return (
    await db.eventSubscription.findMany({ where: { status: 'ACTIVE' }, select: { id: true }, orderBy: { id: 'asc' } })
  ).map((r) => r.id);
}

/**
 * Takes or renews the lease of an ACTIVE subscription for `owner` for `leaseMs`; the
 * subscription as it is now, or undefined (disabled, deleted, or another owner's lease runs).
 */
export async function leaseSubscription(
  db: Db,
  id: string,
  owner: string,
  leaseMs: number,
): Promise<LeasedSubscription | undefined> {
  const maria = mariadbOf(db);
  if (maria) return leaseSubscriptionOnMariadb(maria, id, owner, leaseMs);
  const [r] = await db.$queryRaw<Row[]>`
    UPDATE event_subscriptions SET lease_owner = ${owner}, lease_until = now() + make_interval(secs => ${leaseMs / 1000})
     WHERE id = ${id} AND status = 'ACTIVE' AND (lease_owner IS NULL OR lease_owner = ${owner} OR lease_until < now())
    RETURNING id, url, types, skus, warehouses, cursor, secret, previous_secret AS "previousSecret", previous_secret_until AS "previousSecretUntil"`;
  return r;
}

/** Gives a lease back (the loop stopped). */
export async function releaseLease(db: Db, id: string, owner: string): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) return releaseLeaseOnMariadb(maria, id, owner);
  await db.eventSubscription.updateMany({
    where: { id, leaseOwner: owner },
    data: { leaseOwner: null, leaseUntil: null },
  });
}

/** Moves the cursor from `from` to `to`; false when it was no longer at `from` (a replay moved it). */
export async function moveCursor(db: Db, id: string, from: bigint, to: bigint): Promise<boolean> {
  const maria = mariadbOf(db);
  if (maria) return moveCursorOnMariadb(maria, id, from, to);
  return (await db.eventSubscription.updateMany({ where: { id, cursor: from }, data: { cursor: to } })).count > 0;
}

/**
 * Disables a subscription and raises its WEBHOOK_DISABLED alert, in one transaction; false
 * when it was not ACTIVE (already disabled: no second alert).
 */
export async function disableSubscription(
  db: Db,
  id: string,
  reason: 'GONE' | 'FAILING',
  at: Date,
  details: Record<string, unknown>,
): Promise<boolean> {
  const maria = mariadbOf(db);
  if (maria) return disableSubscriptionOnMariadb(maria, id, reason, at, details);
  const [row] = await db.$queryRaw<{ n: number }[]>`
    WITH off AS (
      UPDATE event_subscriptions SET status = 'DISABLED', disabled_reason = ${reason}, disabled_at = ${at}, lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE id = ${id} AND status = 'ACTIVE' RETURNING id, url),
    alert AS (
      INSERT INTO stock_alerts (kind, subject, sku, warehouse_code, details)
      SELECT 'WEBHOOK_DISABLED', off.id || '/' || ${at.getTime()}::text, '-', '-',
             ${JSON.stringify(details)}::jsonb || jsonb_build_object('subscriptionId', off.id, 'url', off.url, 'reason', ${reason}::text)
        FROM off
      ON CONFLICT (kind, subject) DO NOTHING RETURNING 1)
    SELECT (SELECT count(*) FROM off)::int AS n`;
  return row.n > 0;
}

/** A subscription with its secrets, for a send by request (a DEAD delivery's retry); undefined when there is none. */
export async function subscriptionForSending(db: Db, id: string): Promise<LeasedSubscription | undefined> {
  const maria = mariadbOf(db);
  if (maria) return subscriptionForSendingOnMariadb(maria, id);
  const r = await db.eventSubscription.findUnique({ where: { id } });
  return r
    ? {
        id: r.id,
        url: r.url,
        types: r.types,
        skus: r.skus,
        warehouses: r.warehouses,
        cursor: r.cursor,
        secret: r.secret,
        previousSecret: r.previousSecret,
        previousSecretUntil: r.previousSecretUntil,
      }
    : undefined;
}
