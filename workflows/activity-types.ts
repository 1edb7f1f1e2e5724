/**
 * The activities as the workflows see them: names, arguments and results, in domain types
 * only. Workflow code is bundled for the sandbox and must not pull in the activities' I/O
 * (Prisma, ioredis, pg), so the contract lives here and activities/index.ts is checked
 * against it (`createActivities(...): Activities`). The names are the registered activity
 * types recorded in workflow histories: never rename one.
 */
import type {
  TransferReceipt,
  TransferRequest,
  TransferRequestOutcome,
  TransferStepOutcome,
} from '../domain/transfers';
import type { OrderPayment, Settlement, StoredPayment } from '../domain/payments';
import type {
  CacheCheckOptions,
  CacheCheckResult,
  Fulfilment,
  ReconciliationReport,
  ReservationView,
  SweepResult,
  UnsettledPayment,
  WriteOffResult,
} from '../domain/reports';
import type { ReleaseOutcome, ReleaseReason, ReserveInput, ReserveOutcome } from '../domain/types';

export interface Activities {
  /** A campaign order takes its hold from the campaign's pool; any other from the levels. */
  reserve(input: ReserveInput & { campaignId?: string }): Promise<ReserveOutcome>;
  confirmPayment(reservationId: string, paid: OrderPayment): Promise<Settlement | undefined>;
  settlePayment(paid: OrderPayment, settlement: Settlement): Promise<Settlement>;
  release(reservationId: string, reason: ReleaseReason): Promise<ReleaseOutcome>;
  lookupReservation(reservationId: string): Promise<ReservationView | null>;
  /** Every payment stored for the order, oldest first: what the saga checks before it decides EXPIRED and before it ends. */
  readOrderPayments(orderId: string): Promise<StoredPayment[]>;
  recordSettlement(orderId: string, paymentId: string, result: string): Promise<void>;
  sweepExpiredHolds(graceSeconds: number): Promise<SweepResult>;
  /** Returns an admitted flash-sale order's gate token (its hold was refused or released). */
  returnGateToken(campaignId: string, userId: string, orderId: string): Promise<boolean>;
  syncGate(campaignId: string, force: boolean): Promise<'rebuilt' | 'in-sync' | 'no-campaign'>;
  endCampaign(campaignId: string): Promise<{ returned: number }>;
  fulfilPreSale(campaignId: string, idempotencyKey: string, quantity: number): Promise<Fulfilment>;
  raiseExpiryAlerts(): Promise<number>;
  writeOffExpiredLots(runId: string): Promise<WriteOffResult>;
  deliverAlerts(): Promise<number>;
  requestTransfer(request: TransferRequest): Promise<TransferRequestOutcome>;
  shipTransfer(transferId: string, deadlineAt: string): Promise<TransferStepOutcome>;
  receiveTransfer(transferId: string, receipt: TransferReceipt): Promise<TransferStepOutcome>;
  cancelTransfer(transferId: string): Promise<TransferStepOutcome>;
  returnTransfer(transferId: string): Promise<TransferStepOutcome>;
  raiseTransferOverdue(transferId: string): Promise<void>;
  reconcileStock(settleMinutes: number): Promise<ReconciliationReport>;
  settleStalePayments(settleMinutes: number): Promise<UnsettledPayment[]>;
  checkCache(options: CacheCheckOptions): Promise<CacheCheckResult>;
}
