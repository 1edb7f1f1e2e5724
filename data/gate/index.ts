/**
 * The flash-sale admission gate in Redis. It only admits: a "yes" sends the shopper on to
 * the order saga, where PostgreSQL decides; a "no" (sold out, limit, window) is answered
 * here without touching PostgreSQL or Temporal. Each operation is one Lua script.
 */
import path from 'node:path';
import type Redis from 'ioredis';
import { bucketKey, type Bucket } from '../../platform/rate-limit';
import { defineScripts } from '../../platform/redis-scripts';
import { gateSnapshot, type GateSnapshot } from '../campaigns/campaign-queries';
import type { Db } from '../db';

/** What the gate says to an order. */
export const GateVerdict = {
  ADMITTED: 'ADMITTED',
  READMITTED: 'READMITTED',
  NOT_LOADED: 'NOT_LOADED',
  NOT_STARTED: 'NOT_STARTED',
  ENDED: 'ENDED',
  SOLD_OUT: 'SOLD_OUT',
  LIMIT_REACHED: 'LIMIT_REACHED',
  /** The order id was admitted for another user or quantity: another order under a used id. */
  ORDER_CONFLICT: 'ORDER_CONFLICT',
  /** The gate would have admitted it, but an order limit refused it: no token taken. */
  RATE_LIMITED: 'RATE_LIMITED',
} as const;
export type GateVerdict = (typeof GateVerdict)[keyof typeof GateVerdict];

/** The one place the scripts' return codes are decoded. */
const verdictOfCode: Record<number, GateVerdict> = {
  1: GateVerdict.ADMITTED,
  2: GateVerdict.READMITTED,
  0: GateVerdict.NOT_LOADED,
  [-1]: GateVerdict.NOT_STARTED,
  [-2]: GateVerdict.ENDED,
  [-3]: GateVerdict.SOLD_OUT,
  [-4]: GateVerdict.LIMIT_REACHED,
  [-5]: GateVerdict.ORDER_CONFLICT,
  [-6]: GateVerdict.RATE_LIMITED,
};

export interface Admission {
  readonly verdict: GateVerdict;
  /** The campaign's SKU and warehouse, from the gate (empty when not loaded). */
  readonly sku: string;
  readonly warehouseCode: string;
  /** RATE_LIMITED: the full budget and the time until its window closes. */
  readonly limited?: { readonly bucket: string; readonly retryAfterMs: number };
}

/**
 * The order limits an admission spends in the same step (platform/rate-limit's buckets,
 * counted in its Redis keys): the API key's, then the (key, user) budget.
 */
export interface AdmissionLimits {
  readonly buckets: readonly [Bucket, Bucket];
  readonly windowMs: number;
}

export interface GateState {
  readonly loaded: boolean;
  readonly tokens: number;
  readonly ended: boolean;
}

type Script = (...args: (string | number)[]) => Promise<unknown>;
interface GateCommands {
  stockholdGateAdmit: Script;
  stockholdGateGiveBack: Script;
  stockholdGateLoad: Script;
  stockholdGateState: Script;
}

/** Keys of one campaign; the hash tag keeps them in one slot on a Redis Cluster. */
export function gateKeys(campaignId: string): string[] {
  const base = `stockhold:gate:{${campaignId}}`;
  return [`${base}:meta`, `${base}:tokens`, `${base}:users`, `${base}:orders`];
}

/** How long gate keys outlive the campaign's end, so an abandoned gate cleans itself up. */
const KEY_TTL_AFTER_END_SECONDS = 7 * 24 * 3600;

export interface Gate {
  /** Whether its Redis connection is up (a gate that cannot answer is not asked). */
  ready(): boolean;
  /** Closes its connection. */
  disconnect(): void;
  /**
   * One round trip: the gate's verdict and, with `limits`, the order limits spent by an order
   * it admits (RATE_LIMITED, no token taken, when one is full).
   */
  admit(
    campaignId: string,
    userId: string,
    orderId: string,
    quantity: number,
    nowMs?: number,
    limits?: AdmissionLimits,
  ): Promise<Admission>;
  giveBack(campaignId: string, userId: string, orderId: string): Promise<boolean>;
  load(snapshot: GateSnapshot): Promise<void>;
  state(campaignId: string): Promise<GateState>;
}

export function createGate(redis: Redis): Gate {
  // ./lua: admit (4 or 6 keys), give-back-4, load-4, state-2 (platform/redis-scripts.ts: the naming rule).
  const commands = defineScripts<GateCommands>(redis, path.join(__dirname, 'lua'), 'stockholdGate');
  return {
    ready: () => redis.status === 'ready',
    disconnect: () => redis.disconnect(),
    async admit(campaignId, userId, orderId, quantity, nowMs = Date.now(), limits) {
      const keys = gateKeys(campaignId);
      const args: (string | number)[] = [nowMs, userId, quantity, orderId];
      if (limits) {
        keys.push(...limits.buckets.map(bucketKey));
        args.push(limits.windowMs, ...limits.buckets.map((b) => b.limit));
      }
      const [code, sku, warehouseCode, bucket, leftMs] = (await commands.stockholdGateAdmit(
        keys.length,
        ...keys,
        ...args,
      )) as [number, string, string, number?, number?];
      const verdict = verdictOfCode[code];
      if (verdict !== GateVerdict.RATE_LIMITED || !limits) return { verdict, sku, warehouseCode };
      return {
        verdict,
        sku,
        warehouseCode,
        limited: { bucket: limits.buckets[bucket! - 1].kind, retryAfterMs: leftMs! },
      };
    },
    async giveBack(campaignId, userId, orderId) {
      return (await commands.stockholdGateGiveBack(...gateKeys(campaignId), userId, orderId)) === 1;
    },
    async load(s) {
      const ttl = Math.max(60, Math.ceil((s.endsAtMs - Date.now()) / 1000) + KEY_TTL_AFTER_END_SECONDS);
      const users = Object.entries(s.users);
      await commands.stockholdGateLoad(
        ...gateKeys(s.campaignId),
        s.startsAtMs,
        s.endsAtMs,
        s.perUserLimit,
        s.ended ? '1' : '0',
        s.remaining,
        ttl,
        s.sku,
        s.warehouseCode,
        users.length,
        ...users.flat(),
        ...Object.entries(s.orders).flat(),
      );
    },
    async state(campaignId) {
      const [loaded, tokens, ended] = (await commands.stockholdGateState(...gateKeys(campaignId).slice(0, 2))) as [
        number,
        number,
        string,
      ];
      return { loaded: loaded === 1, tokens, ended: ended === '1' };
    },
  };
}

/**
 * Brings the gate in line with PostgreSQL. `force` rebuilds unconditionally; otherwise only
 * when the gate is missing (flushed, expired), has fewer tokens than the pool (lost
 * give-backs: shoppers would be refused stock that is there), still admits although the
 * pool is empty (every admission would be refused by PostgreSQL: wasted work), or disagrees
 * on having ended. Otherwise more tokens than the pool is normal while admitted orders are
 * on their way to the database, and harmless (PostgreSQL refuses any excess).
 */
export async function syncGate(
  db: Db,
  gate: Gate,
  campaignId: string,
  force: boolean,
): Promise<'rebuilt' | 'in-sync' | 'no-campaign'> {
  // The gate is read before PostgreSQL: a give-back between the two reads is then in the
  // snapshot, and the snapshot is never older than the state it corrects (read the other way
  // round, a release and its give-back landing between them were overwritten by the older pool).
  const state = force ? undefined : await gate.state(campaignId);
  const snapshot = await gateSnapshot(db, campaignId);
  if (!snapshot) return 'no-campaign';
  if (state) {
    const overAdmitting = snapshot.remaining === 0 && state.tokens > 0;
    if (state.loaded && state.tokens >= snapshot.remaining && !overAdmitting && state.ended === snapshot.ended)
      return 'in-sync';
  }
  await gate.load(snapshot);
  return 'rebuilt';
}
