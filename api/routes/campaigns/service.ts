/**
 * Flash-sale ordering. The gate answers refusals on its own; an admitted order goes through
 * the normal order saga, whose reserve takes the campaign's pool in PostgreSQL. While the
 * gate cannot answer (Redis down, or flushed and being rebuilt), orders go straight to
 * PostgreSQL — still exactly as safe, since PostgreSQL decides — but only so many at once
 * per process; beyond that the answer is 503 and the shopper retries.
 */
import type Redis from 'ioredis';
import { GateVerdict, syncGate, type Gate } from '../../../data/gate';
import type { Db } from '../../../data/stock/db';
import { DomainError, ErrorCode } from '../../../domain/errors';
import type { CampaignRefusal, ReserveOutcome } from '../../../domain/types';
import { holdOrder, type HoldDeps } from '../orders/hold';

export interface FlashOrder {
  readonly campaignId: string;
  readonly orderId: string;
  readonly userId: string;
  readonly quantity: number;
  /** What the order costs; a payment of another amount is not confirmed. */
  readonly amountCents?: number;
}

export interface FlashOrderDeps {
  readonly db: Db;
  readonly redis: Redis;
  readonly gate: Gate;
  readonly holds: HoldDeps;
  readonly dbPath: Semaphore;
  readonly onGateMiss: (campaignId: string) => void;
}

/**
 * What became of a flash order: refused by the gate (the hot path: no PostgreSQL, no
 * Temporal), or let in — by the gate or by the bounded PostgreSQL path — with the saga's
 * reserve outcome.
 */
export type FlashOutcome =
  { readonly via: 'gate-refusal'; readonly refusal: CampaignRefusal } | { readonly via: 'gate' | 'database'; readonly outcome: ReserveOutcome };

/**
 * Places a flash order for `actor` (the key id placing it, recorded on its ledger row).
 * The order limits (api/plugins/order-limits) are spent only by orders that would take
 * something: a gate refusal costs one Redis command, as much as the limit check itself, so
 * counting it would double the cost of a sold-out sale's hot path and protect nothing. An
 * admitted order the limits refuse gives its token back; a replay of an admitted order
 * (READMITTED) spends nothing new.
 */
export async function placeFlashOrder(deps: FlashOrderDeps, order: FlashOrder, limit: () => Promise<void>, actor?: string): Promise<FlashOutcome> {
  const admission = await admit(deps, order);
  if (admission && admission.verdict !== GateVerdict.NOT_LOADED) {
    if (admission.verdict !== GateVerdict.ADMITTED && admission.verdict !== GateVerdict.READMITTED) {
      return { via: 'gate-refusal', refusal: admission.verdict };
    }
    if (admission.verdict === GateVerdict.ADMITTED) {
      await limit().catch(async (err: unknown) => {
        await deps.gate.giveBack(order.campaignId, order.userId, order.orderId).catch(() => undefined);
        throw err;
      });
    }
    const outcome = await hold(deps, order, true, actor);
    // No hold came of the admission: its token goes back — unless PostgreSQL found the pool
    // empty, in which case the token was one the gate never really had.
    if (outcome.status === 'rejected' && outcome.reason !== 'SOLD_OUT') {
      await deps.gate.giveBack(order.campaignId, order.userId, order.orderId).catch(() => undefined);
    }
    return { via: 'gate', outcome };
  }
  if (admission) deps.onGateMiss(order.campaignId);
  await limit();
  return deps.dbPath.run(async () => ({ via: 'database' as const, outcome: await hold(deps, order, false, actor) }));
}

/** Holds the order in the campaign's pool (group commit), the saga started after the commit. */
async function hold(deps: FlashOrderDeps, order: FlashOrder, gateAdmitted: boolean, actor: string | undefined): Promise<ReserveOutcome> {
  const campaign = await campaignMeta(deps.db, order.campaignId);
  const lines = [{ sku: campaign.sku, warehouseCode: campaign.warehouseCode, quantity: order.quantity }];
  const { quantity: _quantity, ...request } = order;
  return holdOrder(deps.holds, { ...request, lines }, { gateAdmitted, expectedShipDate: campaign.expectedAt?.toISOString(), actor });
}

/**
 * A campaign's fixed settings (where its units are, the pre-sale ship date), read once per
 * process. The read itself is shared: a sale opens with hundreds of admitted orders at once,
 * and each waiting on its own read of the same row would delay the first hold batch by the
 * time the pool takes to serve them all.
 */
type CampaignMeta = { sku: string; warehouseCode: string; expectedAt: Date | null };
const metaCache = new Map<string, Promise<CampaignMeta>>();
function campaignMeta(db: Db, campaignId: string): Promise<CampaignMeta> {
  let known = metaCache.get(campaignId);
  if (!known) {
    known = db.campaign.findUnique({ where: { id: campaignId }, select: { sku: true, warehouseCode: true, expectedAt: true } }).then((c) => {
      if (!c) throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no campaign ${campaignId}`);
      return c;
    });
    metaCache.set(campaignId, known);
    // A miss or a failed read is not remembered: the campaign may be created, the database may come back.
    known.catch(() => metaCache.delete(campaignId));
  }
  return known;
}

/** The gate's answer, or undefined when Redis cannot give one right now. */
async function admit(deps: FlashOrderDeps, order: FlashOrder) {
  if (!deps.gate.ready()) return undefined;
  try {
    return await deps.gate.admit(order.campaignId, order.userId, order.orderId, order.quantity);
  } catch {
    return undefined;
  }
}

/** A counting semaphore that refuses rather than queues: overload becomes a fast 503. */
export class Semaphore {
  private inUse = 0;
  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.inUse >= this.limit) {
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the flash-sale gate is recovering; retry shortly');
    }
    this.inUse += 1;
    try {
      return await work();
    } finally {
      this.inUse -= 1;
    }
  }
}

/** Rebuilds a missing gate from PostgreSQL at most once at a time per campaign. */
export function gateRebuilder(db: Db, gate: Gate, log: (msg: string, err?: unknown) => void): (campaignId: string) => void {
  const inFlight = new Set<string>();
  return (campaignId) => {
    if (inFlight.has(campaignId)) return;
    inFlight.add(campaignId);
    syncGate(db, gate, campaignId, false)
      .then((result) => log(`gate ${campaignId}: ${result}`))
      .catch((err) => log(`gate ${campaignId}: rebuild failed`, err))
      .finally(() => inFlight.delete(campaignId));
  };
}
