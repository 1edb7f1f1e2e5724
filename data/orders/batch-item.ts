/**
 * One item of the group-commit hold batch, as both stores' batch takes it (PostgreSQL's
 * function through request-hold.ts, MySQL/MariaDB's procedure through
 * data/mariadb/hold-batch.ts): its own module so the two import it without importing each other.
 */
import type { OrderWorkflowInput } from '../../domain/order-saga';
import type { ReserveOutcome } from '../../domain/types';

/** One single-line hold for a batch; if it is taken, `reserved` is its outcome and `saga` (with it) its saga's input. */
export interface BatchItem {
  readonly serial: string;
  readonly orderId: string;
  readonly userId: string;
  readonly quantity: number;
  readonly expiresAt: string;
  readonly amountCents?: number;
  readonly reserved: ReserveOutcome;
  readonly saga: OrderWorkflowInput;
  /** The key id that placed the order, recorded on its ledger row. */
  readonly actor?: string;
}
