/**
 * Extending a hold on MySQL/MariaDB (issue 22): data/orders/extend.ts and the `payment.pending`
 * webhook (data/payments/payment-deliveries.ts acceptPendingPayment) for InnoDB, with the same
 * answers. Each runs in one READ COMMITTED transaction under the order's serial slot
 * (mechanism 1), the lock the saga's release and the payment webhook take, so an extension and
 * a release (or a payment) of one order are ordered: the release that comes second sees the
 * new expiry (data/mariadb/holds.ts refuses an EXPIRED release of an extended hold not yet due).
 *
 * Fenced by (order, extension id) in `hold_extensions`, which keeps every extension as a fact
 * with its answer, granted or refused: under the slot lock the fence read sees every earlier
 * extension of the order (READ COMMITTED), so a repeat gets the first answer and the INSERT is
 * ours. The new expiry is one guarded UPDATE (status RESERVED, `expires_at >
 * UTC_TIMESTAMP(3)`, within the caps: MariaDB's clock decides whether the hold is still live),
 * read back under the row's X lock (mechanism 5: no UPDATE … RETURNING).
 */
import type { Pool } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import {
  extensionRefusal,
  pendingPaymentAnswer,
  pendingPaymentExtension,
  redeliveredPendingEvent,
  type ExtensionOutcome,
  type ExtensionRequest,
  type HoldExtensionCaps,
  type PendingOutcome,
} from '../../domain/hold-extensions';
import { PaymentEventType, type OrderPayment } from '../../domain/payments';
import { isoColumn, isoOf } from './payments';
import { inMariadbTx, isDuplicateKey, jsonValue, lockSerial, type MariadbTx } from './tx';

/** data/orders/extend.ts RecordedExtension: the answer, and whether it is the first one given again. */
export interface MariadbRecordedExtension {
  readonly outcome: ExtensionOutcome;
  readonly repeat: boolean;
}

/** data/orders/extend.ts extendHold on MariaDB: ORDER_NOT_FOUND when no such order is held. */
export async function extendHoldOnMariadb(
  pool: Pool,
  req: ExtensionRequest,
  caps: HoldExtensionCaps,
): Promise<MariadbRecordedExtension> {
  const recorded = await inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, req.orderId);
    return extendHoldTxOnMariadb(tx, req, caps);
  });
  if (!recorded) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${req.orderId}`);
  return recorded;
}

/**
 * The extension inside a caller's transaction, which holds the order's serial slot; undefined
 * (and nothing recorded) when the order has no hold. The same extension id with other seconds
 * is IDEMPOTENCY_CONFLICT and changes nothing.
 */
export async function extendHoldTxOnMariadb(
  tx: MariadbTx,
  req: ExtensionRequest,
  caps: HoldExtensionCaps,
): Promise<MariadbRecordedExtension | undefined> {
  const [first] = await tx.query<{ seconds: number; outcome: unknown }[]>(
    'SELECT seconds, outcome FROM hold_extensions WHERE order_id = ? AND extension_id = ?',
    [req.orderId, req.extensionId],
  );
  if (first) {
    if (first.seconds !== req.seconds) {
      throw new DomainError(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        `extension ${req.extensionId} was asked for ${first.seconds} s, not ${req.seconds} s`,
      );
    }
    return { outcome: jsonValue(first.outcome) as ExtensionOutcome, repeat: true };
  }
  const [hold] = await tx.query<
    {
      status: string;
      live: number;
      release_reason: string | null;
      extension_count: number;
      extended_seconds: number;
      kind: string | null;
      allow_hold_extension: number | boolean | null;
    }[]
  >(
    `SELECT r.status, r.expires_at > UTC_TIMESTAMP(3) AS live, r.release_reason, r.extension_count, r.extended_seconds,
            c.kind, c.allow_hold_extension
       FROM reservations r LEFT JOIN campaigns c ON c.id = r.campaign_id
      WHERE r.id = ?`,
    [req.orderId],
  );
  if (!hold) return undefined;
  const refused = extensionRefusal(
    {
      status: hold.status,
      live: Boolean(hold.live),
      releaseReason: hold.release_reason,
      extensionCount: hold.extension_count,
      extendedSeconds: hold.extended_seconds,
      campaignKind: hold.kind,
      campaignAllowsExtension: Boolean(hold.allow_hold_extension),
    },
    req.seconds,
    caps,
  );
  const outcome: ExtensionOutcome = refused
    ? { status: 'REFUSED', orderId: req.orderId, extensionId: req.extensionId, ...refused }
    : await moveExpiry(tx, req, caps);
  await tx.query(
    'INSERT INTO hold_extensions (order_id, extension_id, seconds, reason, source, outcome) VALUES (?, ?, ?, ?, ?, ?)',
    [req.orderId, req.extensionId, req.seconds, req.reason, req.source, JSON.stringify(outcome)],
  );
  return { outcome, repeat: false };
}

/** The one guarded UPDATE (0 rows: no longer live, or past a cap), then the row read back under its lock. */
async function moveExpiry(tx: MariadbTx, req: ExtensionRequest, caps: HoldExtensionCaps): Promise<ExtensionOutcome> {
  const moved = await tx.query<{ affectedRows: number }>(
    `UPDATE reservations
        SET expires_at = expires_at + INTERVAL ? SECOND, extension_count = extension_count + 1,
            extended_seconds = extended_seconds + ?, updated_at = UTC_TIMESTAMP(3)
      WHERE id = ? AND status = 'RESERVED' AND expires_at > UTC_TIMESTAMP(3)
        AND extension_count < ? AND extended_seconds + ? <= ?`,
    [req.seconds, req.seconds, req.orderId, caps.maxCount, req.seconds, caps.maxTotalSeconds],
  );
  if (moved.affectedRows === 0)
    return {
      status: 'REFUSED',
      orderId: req.orderId,
      extensionId: req.extensionId,
      code: ErrorCode.HOLD_EXPIRED,
      message: 'the hold has expired',
    };
  const [row] = await tx.query<{ expires_at: string; extension_count: number; extended_seconds: number }[]>(
    `SELECT ${isoColumn('expires_at')} AS expires_at, extension_count, extended_seconds FROM reservations WHERE id = ?`,
    [req.orderId],
  );
  return {
    status: 'EXTENDED',
    orderId: req.orderId,
    extensionId: req.extensionId,
    expiresAt: isoOf(row.expires_at),
    extensionCount: row.extension_count,
    extendedSeconds: row.extended_seconds,
  };
}

/**
 * data/payments/payment-deliveries.ts acceptPendingPayment on MariaDB: the event (type
 * `payment.pending`) and the extension (id `payment-pending:<paymentId>`, so once per payment) in
 * one transaction under the order's slot. The event id is the claim (mechanism 4: INSERT, and
 * the duplicate key is the answer): a redelivered event gets its first answer, its id with
 * other content is a conflict, and neither extends anything.
 */
export async function acceptPendingPaymentOnMariadb(
  pool: Pool,
  p: OrderPayment,
  seconds: number,
  caps: HoldExtensionCaps,
): Promise<PendingOutcome> {
  return inMariadbTx(pool, async (tx): Promise<PendingOutcome> => {
    await lockSerial(tx, p.orderId);
    try {
      await tx.query(
        `INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, currency, result, type)
         VALUES (?, ?, ?, ?, ?, 'RECEIVED', ?)`,
        [p.eventId, p.orderId, p.paymentId, p.amountCents, p.currency ?? null, PaymentEventType.PENDING],
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const [seen] = await tx.query<
        { order_id: string; payment_id: string; amount_cents: number; type: string; answer: string | null }[]
      >('SELECT order_id, payment_id, amount_cents, type, answer FROM payment_events WHERE event_id = ? FOR UPDATE', [
        p.eventId,
      ]);
      return redeliveredPendingEvent(p.eventId, seen, p);
    }
    const extension = await extendHoldTxOnMariadb(tx, pendingPaymentExtension(p, seconds), caps);
    const answer = pendingPaymentAnswer(extension?.outcome);
    await tx.query(
      'UPDATE payment_events SET answer = ?, result = ?, delivered_at = UTC_TIMESTAMP(3) WHERE event_id = ?',
      [answer, answer, p.eventId],
    );
    return { kind: 'accepted', answer, ...(extension ? { extension: extension.outcome } : {}) };
  });
}
