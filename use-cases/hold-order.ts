/**
 * The request path of an order: PostgreSQL decides and the API answers; Temporal closes.
 * The hold commits with its saga's outbox row; the saga is started right after (the relay
 * is the backstop); a refusal starts nothing. The shopper's answer never waits on Temporal.
 */
import { requestedAllocation } from '../domain/allocation';
import { DomainError, ErrorCode } from '../domain/errors';
import { mergeLines } from '../domain/lines';
import type { OrderLine, OrderRequest, ReserveOutcome } from '../domain/types';
import { assertCatalogued } from '../data/stock/catalog';
import type { Db } from '../data/db';
import {
  assertSameOrder,
  holdGeneral,
  type HoldBatcher,
  type HoldResult,
  type Pool,
} from '../data/orders/request-hold';
import type { SagaStarter } from './order-sagas';
import type { OrderWorkflowInput } from '../domain/order-saga';

export interface HoldDeps {
  readonly db: Db;
  readonly batcher: HoldBatcher;
  readonly starter: SagaStarter;
  readonly ttlSeconds: number;
}

export interface HoldOptions {
  /** A flash-sale order admitted by the gate: its token goes back if no sale comes of it. */
  readonly gateAdmitted?: boolean;
  /** Pre-orders: the ship date shown to the shopper. */
  readonly expectedShipDate?: string;
  /** The key id placing the order: its ledger rows and its saga's input record it. */
  readonly actor?: string;
  /** Aborted while the hold still waits for its batch: withdrawn, answered 503 (nothing held). */
  readonly signal?: AbortSignal;
  /** The order's own hold time (`holdSeconds`, checked against HOLD_SECONDS_MIN/MAX by the caller); default the TTL setting. */
  readonly holdSeconds?: number;
}

export async function holdOrder(
  deps: HoldDeps,
  order: OrderRequest,
  options: HoldOptions = {},
): Promise<ReserveOutcome> {
  const ttlSeconds = options.holdSeconds ?? deps.ttlSeconds;
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  // `placedBy` goes into the outbox row with the hold: another shop's key may not see the order.
  const saga: OrderWorkflowInput = { order, ttlSeconds, gateAdmitted: options.gateAdmitted, placedBy: options.actor };
  const result = await take(deps, order, saga, expiresAt, options).catch((err) => {
    if (err instanceof DomainError) throw err;
    // The transaction did not commit (a lock wait past lock_timeout, a lost connection): this
    // attempt holds nothing. Were the commit's answer the thing lost, the retry returns it.
    throw new DomainError(
      ErrorCode.SERVICE_UNAVAILABLE,
      'the hold could not be taken right now; nothing is held; retry with the same orderId',
      {
        cause: String(err).slice(0, 200),
      },
    );
  });
  await assertSameOrder(deps.db, order, result);
  if (result.outcome.status === 'reserved' && !result.replayed)
    deps.starter.start({ ...saga, reservation: result.outcome });
  return result.outcome;
}

async function take(
  deps: HoldDeps,
  order: OrderRequest,
  saga: OrderWorkflowInput,
  expiresAt: string,
  options: HoldOptions,
): Promise<HoldResult> {
  // Nothing else would notice an unknown preferred warehouse: allocation would just rank none first.
  const preferred = order.allocation?.preferredWarehouse;
  if (preferred !== undefined) await assertCatalogued(deps.db, [], [preferred]);
  const line = singleLine(order);
  if (line) {
    const reserved: ReserveOutcome = {
      status: 'reserved',
      reservationId: order.orderId,
      lines: [line],
      allocations: requestedAllocation([line]),
      expiresAt,
      ...(options.expectedShipDate ? { expectedShipDate: options.expectedShipDate } : {}),
    };
    const pool: Pool = order.campaignId
      ? { kind: 'campaign', campaignId: order.campaignId }
      : { kind: 'level', sku: line.sku, warehouseCode: line.warehouseCode };
    return deps.batcher.hold(
      pool,
      {
        serial: order.orderId,
        orderId: order.orderId,
        userId: order.userId,
        quantity: line.quantity,
        expiresAt,
        amountCents: order.amountCents,
        reserved,
        saga,
        actor: options.actor,
      },
      options.signal,
    );
  }
  return holdGeneral(deps.db, saga, expiresAt, options.actor);
}

/** The order's one line, when it is one line in a named warehouse (the group-commit path). */
function singleLine(order: OrderRequest): OrderLine | undefined {
  if (!order.lines.every((l): l is OrderLine => l.warehouseCode !== undefined)) return undefined;
  const merged = mergeLines(order.lines);
  return merged.length === 1 ? merged[0] : undefined;
}
