/**
 * Extending a hold still waiting for its payment (issue 19 item 1). Fenced by (order,
 * extension id) in `hold_extensions`, which also keeps every extension as a fact with its
 * answer: a repeat gets the first answer, granted or refused. PostgreSQL decides whether the
 * hold is still live: the new expiry is one guarded UPDATE (status RESERVED, `expires_at >
 * now()`, within the caps), under the order's serial lock (the lock its release takes), so an
 * extension and the saga's release are ordered.
 */
import { ErrorCode, DomainError } from '../../domain/errors';
import {
  extensionRefusal,
  type ExtendableHold,
  type ExtensionOutcome,
  type ExtensionRequest,
  type HoldExtensionCaps,
} from '../../domain/hold-extensions';
import { inKeyLockedTx, type Db, type Tx } from '../db';
import { mariadbOf } from '../mariadb/db';
import { extendHoldOnMariadb } from '../mariadb/extend';

/** An extension's answer, and whether it is the first answer given again (a repeat). */
export interface RecordedExtension {
  readonly outcome: ExtensionOutcome;
  readonly repeat: boolean;
}

/** Extends the order's hold once per extension id; ORDER_NOT_FOUND when PostgreSQL holds no such order. */
export async function extendHold(db: Db, req: ExtensionRequest, caps: HoldExtensionCaps): Promise<RecordedExtension> {
  const maria = mariadbOf(db);
  if (maria) return extendHoldOnMariadb(maria, req, caps);
  const recorded = await inKeyLockedTx(db, req.orderId, (tx) => extendHoldTx(tx, req, caps));
  if (!recorded) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${req.orderId}`);
  return recorded;
}

/**
 * The extension inside a caller's transaction, which holds the order's serial lock; undefined
 * (and nothing recorded) when the order has no hold in PostgreSQL. The same extension id with
 * other seconds is IDEMPOTENCY_CONFLICT and changes nothing.
 */
export async function extendHoldTx(
  tx: Tx,
  req: ExtensionRequest,
  caps: HoldExtensionCaps,
): Promise<RecordedExtension | undefined> {
  const [first] = await tx.$queryRaw<{ seconds: number; outcome: ExtensionOutcome }[]>`
    SELECT seconds, outcome FROM hold_extensions WHERE order_id = ${req.orderId} AND extension_id = ${req.extensionId}`;
  if (first) {
    if (first.seconds !== req.seconds) {
      throw new DomainError(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        `extension ${req.extensionId} was asked for ${first.seconds} s, not ${req.seconds} s`,
      );
    }
    return { outcome: first.outcome, repeat: true };
  }
  const hold = await readHold(tx, req.orderId);
  if (!hold) return undefined;
  const refused = extensionRefusal(hold, req.seconds, caps);
  const outcome: ExtensionOutcome = refused
    ? { status: 'REFUSED', orderId: req.orderId, extensionId: req.extensionId, ...refused }
    : await moveExpiry(tx, req, caps);
  await tx.$executeRaw`
    INSERT INTO hold_extensions (order_id, extension_id, seconds, reason, source, outcome)
    VALUES (${req.orderId}, ${req.extensionId}, ${req.seconds}, ${req.reason}, ${req.source}, ${JSON.stringify(outcome)}::jsonb)`;
  return { outcome, repeat: false };
}

/** The one guarded UPDATE: PostgreSQL's clock decides whether the hold is still live. */
async function moveExpiry(tx: Tx, req: ExtensionRequest, caps: HoldExtensionCaps): Promise<ExtensionOutcome> {
  const [moved] = await tx.$queryRaw<{ expires_at: Date; extension_count: number; extended_seconds: number }[]>`
    UPDATE reservations
       SET expires_at = expires_at + ${req.seconds} * interval '1 second',
           extension_count = extension_count + 1, extended_seconds = extended_seconds + ${req.seconds}, updated_at = now()
     WHERE id = ${req.orderId} AND status = 'RESERVED' AND expires_at > now()
       AND extension_count < ${caps.maxCount} AND extended_seconds + ${req.seconds} <= ${caps.maxTotalSeconds}
    RETURNING expires_at, extension_count, extended_seconds`;
  if (!moved)
    return {
      status: 'REFUSED',
      orderId: req.orderId,
      extensionId: req.extensionId,
      code: ErrorCode.HOLD_EXPIRED,
      message: 'the hold has expired',
    };
  return {
    status: 'EXTENDED',
    orderId: req.orderId,
    extensionId: req.extensionId,
    expiresAt: moved.expires_at.toISOString(),
    extensionCount: moved.extension_count,
    extendedSeconds: moved.extended_seconds,
  };
}

async function readHold(tx: Tx, orderId: string): Promise<ExtendableHold | undefined> {
  const [row] = await tx.$queryRaw<
    {
      status: string;
      live: boolean;
      release_reason: string | null;
      extension_count: number;
      extended_seconds: number;
      kind: string | null;
      allow_hold_extension: boolean | null;
    }[]
  >`
    SELECT r.status, r.expires_at > now() AS live, r.release_reason, r.extension_count, r.extended_seconds, c.kind, c.allow_hold_extension
      FROM reservations r LEFT JOIN campaigns c ON c.id = r.campaign_id
     WHERE r.id = ${orderId}`;
  if (!row) return undefined;
  return {
    status: row.status,
    live: row.live,
    releaseReason: row.release_reason,
    extensionCount: row.extension_count,
    extendedSeconds: row.extended_seconds,
    campaignKind: row.kind,
    campaignAllowsExtension: row.allow_hold_extension === true,
  };
}
