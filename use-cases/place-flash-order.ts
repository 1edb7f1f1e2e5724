/**
 * Flash-sale ordering. The gate answers refusals on its own; an admitted order is held in the
 * campaign's pool in PostgreSQL (group commit), which decides. While the gate cannot answer
 * (Redis down, or flushed and being rebuilt), PostgreSQL answers instead: orders go to the same
 * group commit, which refuses a sold-out pool without taking its lock and sends a burst as a
 * few transactions per pool, and the per-user limit is PostgreSQL's. A shopper gets 503 only
 * when PostgreSQL itself does not answer: its hold still queued after `dbPathDeadlineMs` is
 * withdrawn (nothing sent, nothing held), or its batch failed.
 */
import type Redis from 'ioredis';
import { GateVerdict, syncGate, type AdmissionLimits, type Gate } from '../data/gate';
import type { Db } from '../data/db';
import { campaignPlacement } from '../data/campaigns/campaign-queries';
import { DomainError, ErrorCode } from '../domain/errors';
import type { CampaignRefusal, ReserveOutcome } from '../domain/types';
import { holdOrder, type HoldDeps } from './hold-order';

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
  readonly limits: FlashLimits;
  /** How long an order the gate could not admit may wait for its hold batch (FLASH_DB_PATH_DEADLINE_MS). */
  readonly dbPathDeadlineMs: number;
  readonly onGateMiss: (campaignId: string) => void;
}

/**
 * The order limits (api/plugins/order-limits), for flash orders: the budgets an order spends
 * (`buckets`, per request) are spent by the gate's admission step, or on their own when the
 * gate cannot answer. One object per app: nothing is built per request.
 */
export interface FlashLimits {
  /** The limits' window (ms), passed to the gate's step. */
  readonly windowMs: number;
  /** Spends the budgets through the shared limiter (Redis, or each process's memory); throws RATE_LIMITED. */
  spend(buckets: AdmissionLimits['buckets']): Promise<void>;
  /** Records an admission that spent the budgets in the gate's step. */
  spentByGate(): void;
  /** Records a refusal the gate's step counted, and returns the 429 RATE_LIMITED to answer. */
  refusedByGate(refused: { bucket: string; retryAfterMs: number }): DomainError;
}

/**
 * What became of a flash order: refused by the gate (the hot path: no PostgreSQL, no
 * Temporal), or let in — by the gate, or straight to PostgreSQL while the gate cannot
 * answer — with the hold's outcome.
 */
export type FlashOutcome =
  | { readonly via: 'gate-refusal'; readonly refusal: CampaignRefusal }
  | { readonly via: 'gate' | 'database'; readonly outcome: ReserveOutcome };

/**
 * Places a flash order for `actor` (the key id placing it, recorded on its ledger row). The
 * order limits (api/plugins/order-limits) are spent only by orders that would take something,
 * and in the gate's own step: one Redis round trip answers a flash order, admitted, refused or
 * limited. A gate refusal spends nothing (counting it would protect nothing and make a sold-out
 * shopper's next order elsewhere fail); a replay of an admitted order (READMITTED) spends
 * nothing new; an order past a limit takes no token. While the gate cannot answer, the limits
 * are spent on their own before PostgreSQL.
 */
export async function placeFlashOrder(
  deps: FlashOrderDeps,
  order: FlashOrder,
  buckets: AdmissionLimits['buckets'],
  actor?: string,
): Promise<FlashOutcome> {
  const { limits } = deps;
  const admission = await admit(deps, order, { buckets, windowMs: limits.windowMs });
  if (!admission || admission.verdict === GateVerdict.NOT_LOADED) {
    if (admission) deps.onGateMiss(order.campaignId);
    await limits.spend(buckets);
    const outcome = await withDeadline(deps.dbPathDeadlineMs, (signal) =>
      hold(deps, order, { gateAdmitted: false, actor, signal }),
    );
    return { via: 'database', outcome };
  }
  const { verdict, limited } = admission;
  if (verdict === GateVerdict.ORDER_CONFLICT) {
    throw new DomainError(ErrorCode.ORDER_CONFLICT, `order ${order.orderId} was placed for another user or quantity`);
  }
  if (verdict === GateVerdict.RATE_LIMITED)
    throw limits.refusedByGate(limited ?? { bucket: 'key', retryAfterMs: limits.windowMs });
  if (verdict !== GateVerdict.ADMITTED && verdict !== GateVerdict.READMITTED)
    return { via: 'gate-refusal', refusal: verdict };
  if (verdict === GateVerdict.ADMITTED) limits.spentByGate();
  return { via: 'gate', outcome: await holdAdmitted(deps, order, verdict === GateVerdict.ADMITTED, actor) };
}

/**
 * An admitted order: every way it can end without a hold gives its token back (once: the
 * gate's receipt). `fresh`: this request took the token (ADMITTED), rather than an earlier
 * attempt of the same order (READMITTED).
 */
async function holdAdmitted(deps: FlashOrderDeps, order: FlashOrder, fresh: boolean, actor?: string) {
  let outcome: ReserveOutcome;
  try {
    outcome = await hold(deps, order, { gateAdmitted: true, actor });
  } catch (err) {
    // Failed after admission (a lock timeout, a batch failure, PostgreSQL unreachable):
    // nothing is held. But a conflict on a replayed admission means the id is held for the
    // order that came first: the receipt is that order's.
    if (fresh || !(err instanceof DomainError && err.code === ErrorCode.ORDER_CONFLICT)) await giveBack(deps, order);
    throw err;
  }
  // PostgreSQL refused the hold: its token goes back — unless it found the pool empty, in
  // which case the token was one the gate never really had (giving it back would only admit
  // another order PostgreSQL must refuse).
  if (outcome.status === 'rejected' && outcome.reason !== 'SOLD_OUT') await giveBack(deps, order);
  return outcome;
}

/**
 * Runs `work` with a signal that aborts after `ms` — with the 503 its caller gets: a hold
 * still queued then is withdrawn, never sent (one already in a batch keeps the batch's answer).
 */
async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new AbortController();
  const late = new DomainError(
    ErrorCode.SERVICE_UNAVAILABLE,
    `PostgreSQL did not take this order within ${ms} ms; nothing is held; retry with the same orderId`,
  );
  const timer = setTimeout(() => deadline.abort(late), ms);
  try {
    return await work(deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** Best effort: a give-back Redis cannot take now is made good by the next gate check. */
async function giveBack(deps: FlashOrderDeps, order: FlashOrder): Promise<void> {
  await deps.gate.giveBack(order.campaignId, order.userId, order.orderId).catch(() => undefined);
}

type HoldVia = { readonly gateAdmitted: boolean; readonly actor?: string; readonly signal?: AbortSignal };

/** Holds the order in the campaign's pool (group commit), the saga started after the commit. */
async function hold(deps: FlashOrderDeps, order: FlashOrder, via: HoldVia): Promise<ReserveOutcome> {
  const campaign = await campaignMeta(deps.db, order.campaignId).catch((err: unknown) => {
    if (err instanceof DomainError) throw err;
    throw new DomainError(
      ErrorCode.SERVICE_UNAVAILABLE,
      'the campaign could not be read right now; nothing is held; retry',
      {
        cause: String(err).slice(0, 200),
      },
    );
  });
  const lines = [{ sku: campaign.sku, warehouseCode: campaign.warehouseCode, quantity: order.quantity }];
  const { quantity: _quantity, ...request } = order;
  return holdOrder(deps.holds, { ...request, lines }, { ...via, expectedShipDate: campaign.expectedAt?.toISOString() });
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
    known = campaignPlacement(db, campaignId).then((c) => {
      if (!c) throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no campaign ${campaignId}`);
      return c;
    });
    metaCache.set(campaignId, known);
    // A miss or a failed read is not remembered: the campaign may be created, the database may come back.
    known.catch(() => metaCache.delete(campaignId));
  }
  return known;
}

/** The gate's answer (with the limits spent), or undefined when Redis cannot give one right now. */
async function admit(deps: FlashOrderDeps, order: FlashOrder, limits: AdmissionLimits) {
  if (!deps.gate.ready()) return undefined;
  try {
    return await deps.gate.admit(order.campaignId, order.userId, order.orderId, order.quantity, undefined, limits);
  } catch {
    return undefined;
  }
}

/** Rebuilds a missing gate from PostgreSQL at most once at a time per campaign. */
export function gateRebuilder(
  db: Db,
  gate: Gate,
  log: (msg: string, err?: unknown) => void,
): (campaignId: string) => void {
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
