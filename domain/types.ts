/**
 * Domain types shared by activities, workflows and the API. Pure data: no I/O, so that
 * workflow code may import it.
 */

/** A quantity of one SKU taken from one warehouse. */
export interface OrderLine {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
}

/** A line as ordered: without a warehouse, allocation chooses one (or several, if split). */
export interface RequestedLine {
  readonly sku: string;
  readonly warehouseCode?: string;
  readonly quantity: number;
}

/** How an order wants its unplaced lines allocated (domain/allocation.ts). */
export interface AllocationPreferences {
  /** Taken first when it can serve a line. */
  readonly preferredWarehouse?: string;
  /** Warehouses in this region come before others. */
  readonly deliveryRegion?: string;
  /** Among the rest, nearer warehouses (with coordinates) come before farther ones. */
  readonly deliveryLocation?: { readonly latitude: number; readonly longitude: number };
  /** May one line be split across warehouses? Default false: each line ships whole. */
  readonly allowSplit?: boolean;
}

/** What a shopper asks to hold. `orderId` is the business serial of the whole saga. */
export interface OrderRequest {
  readonly orderId: string;
  readonly userId: string;
  readonly lines: readonly RequestedLine[];
  readonly allocation?: AllocationPreferences;
  /** Set for a flash-sale or pre-sale order: the hold comes from the campaign's pool. */
  readonly campaignId?: string;
  /** What the order costs; when set, a payment of another amount is not confirmed. */
  readonly amountCents?: number;
}

/** Why a warehouse was chosen for (part of) a line. */
export const AllocationReason = {
  /** The order line named this warehouse. */
  REQUESTED: 'REQUESTED',
  /** The order's preferred warehouse. */
  PREFERRED: 'PREFERRED',
  /** The warehouse already ships another part of this order: no extra shipment. */
  CONSOLIDATED: 'CONSOLIDATED',
  /** In the delivery region. */
  REGION: 'REGION',
  /** Nearest to the delivery location. */
  NEAREST: 'NEAREST',
  /** Highest priority (lowest number) with enough stock. */
  PRIORITY: 'PRIORITY',
} as const;
export type AllocationReason = (typeof AllocationReason)[keyof typeof AllocationReason];

/** One allocation of a reservation and why it was made; recorded on the reservation. */
export interface AllocationNote {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly reason: AllocationReason;
  /** True when the line was split across warehouses and this is one part. */
  readonly split: boolean;
  readonly detail: string;
}

/** A line that could not be held, with what was there when it was tried. */
export interface Shortage {
  readonly sku: string;
  /** Absent for a line the allocation had to place: no warehouse (or all of them) had enough. */
  readonly warehouseCode?: string;
  readonly requested: number;
  readonly available: number;
}

/** Outcome of the reserve step; a repeat of the same serial returns the first one. */
export type ReserveOutcome =
  | {
      readonly status: 'reserved';
      readonly reservationId: string;
      readonly lines: readonly OrderLine[];
      readonly allocations: readonly AllocationNote[];
      readonly expiresAt: string;
      /** Pre-orders: when the goods are expected to ship. */
      readonly expectedShipDate?: string;
    }
  | { readonly status: 'rejected'; readonly reason: 'INSUFFICIENT_STOCK'; readonly shortages: readonly Shortage[] }
  | { readonly status: 'rejected'; readonly reason: 'ALREADY_RELEASED' }
  /** The reserve could not be completed before its deadline; compensated, nothing is held. */
  | { readonly status: 'rejected'; readonly reason: 'RESERVE_FAILED' }
  /** A flash-sale order the campaign refused (its pool, the user's limit, or its window). */
  | { readonly status: 'rejected'; readonly reason: CampaignRefusal };

/** Why a campaign refuses an order; the gate and PostgreSQL give the same answers. */
export const CampaignRefusal = {
  SOLD_OUT: 'SOLD_OUT',
  LIMIT_REACHED: 'LIMIT_REACHED',
  NOT_STARTED: 'NOT_STARTED',
  ENDED: 'ENDED',
} as const;
export type CampaignRefusal = (typeof CampaignRefusal)[keyof typeof CampaignRefusal];

/**
 * Outcome of the confirm step. `not_held`: the hold was released (or never taken) first.
 * Pre-orders: `backordered` (paid, waiting for the goods), or, when the goods had already
 * been allocated, `confirmed` or `unfulfillable` (nothing left: refund).
 */
export type ConfirmOutcome =
  | { readonly status: 'confirmed'; readonly paymentId: string }
  | { readonly status: 'backordered'; readonly paymentId: string }
  | { readonly status: 'unfulfillable'; readonly paymentId: string }
  | { readonly status: 'not_held'; readonly reservationStatus: 'RELEASED' | 'MISSING' }
  /** The order carries an amount and this payment is of another: not confirmed, not fenced. */
  | { readonly status: 'amount_mismatch'; readonly paidCents: number; readonly expectedCents: number };

/** Outcome of the release step. `already_confirmed`: payment won the race; nothing released. */
export type ReleaseOutcome =
  /** `releasedAt`: stamped by the release step just after its commit (not recorded in the fence); absent in histories recorded before it existed. */
  | { readonly status: 'released'; readonly lines: readonly OrderLine[]; readonly releasedAt?: string }
  | { readonly status: 'released_empty' }
  | { readonly status: 'already_confirmed' }
  /**
   * An EXPIRED release of a hold whose expiry PostgreSQL still has ahead (an extension the
   * saga has not heard of): nothing released, nothing fenced; the saga waits until `expiresAt`.
   */
  | { readonly status: 'not_expired'; readonly expiresAt: string };

/** Why a hold is released; recorded on the reservation and in the ledger reference. */
export const ReleaseReason = {
  EXPIRED: 'EXPIRED',
  CANCELLED: 'CANCELLED',
  SWEEPER: 'SWEEPER',
  /** The payment provider closed the order's payment for good (a `payment.canceled` webhook). */
  PAYMENT_CANCELED: 'PAYMENT_CANCELED',
} as const;
export type ReleaseReason = (typeof ReleaseReason)[keyof typeof ReleaseReason];

/** Status of a reservation row in the database (CHECK-constrained to these). */
export const ReservationStatus = {
  RESERVED: 'RESERVED',
  CONFIRMED: 'CONFIRMED',
  RELEASED: 'RELEASED',
  /** A paid pre-order waiting for its goods. */
  BACKORDERED: 'BACKORDERED',
  /** A paid pre-order the received goods could not cover. */
  REFUND_REQUIRED: 'REFUND_REQUIRED',
} as const;
export type ReservationStatus = (typeof ReservationStatus)[keyof typeof ReservationStatus];

/** Operation types of the idempotency fence: (serial, operation) is unique. */
export const Operation = {
  RESERVE: 'RESERVE',
  CONFIRM: 'CONFIRM',
  RELEASE: 'RELEASE',
  RECEIVE: 'RECEIVE',
  CAMPAIGN_CREATE: 'CAMPAIGN_CREATE',
  CAMPAIGN_END: 'CAMPAIGN_END',
  PRE_SALE_FULFIL: 'PRE_SALE_FULFIL',
  ADJUST: 'ADJUST',
  SET_SAFETY_STOCK: 'SET_SAFETY_STOCK',
  QUARANTINE: 'QUARANTINE',
  RELEASE_QUARANTINE: 'RELEASE_QUARANTINE',
  WRITE_OFF: 'WRITE_OFF',
  /** A move of units between stock states, or their write-off (POST /admin/levels/:sku/:wh/moves). */
  MOVE: 'MOVE',
  /** A return of sold goods (POST /admin/returns). */
  RETURN: 'RETURN',
  TRANSFER_SHIP: 'TRANSFER_SHIP',
  TRANSFER_RECEIVE: 'TRANSFER_RECEIVE',
  TRANSFER_RETURN: 'TRANSFER_RETURN',
  TRANSFER_CANCEL: 'TRANSFER_CANCEL',
  /** POST /orders/:id/cancel accepted (202): a retried cancel gets this first answer. */
  CANCEL: 'CANCEL',
  /** POST /orders/:id/edit applied; serial `<orderId>:edit:<editId>`: a retried edit gets this first answer. */
  EDIT: 'EDIT',
} as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

/**
 * The business serial of a campaign: the key of its advisory lock and of its fences. Every
 * step on a campaign (create, end, a pre-sale's fulfilment) serialises on it.
 */
export const campaignSerial = (campaignId: string): string => `campaign:${campaignId}`;

/** What the reserve step needs: the hold's id (its business serial) and its expiry. */
export interface ReserveInput {
  readonly reservationId: string;
  readonly orderId: string;
  readonly userId: string;
  /** Lines without a warehouse are placed by allocation. */
  readonly lines: readonly RequestedLine[];
  readonly allocation?: AllocationPreferences;
  readonly expiresAt: string;
  /** What the order costs, when the shop said so (checked against the payment at confirm). */
  readonly amountCents?: number;
}

/** A payment as the provider reports it. */
export interface Payment {
  readonly eventId: string;
  readonly paymentId: string;
  readonly amountCents: number;
  /** ISO 4217, beside `amountCents`, when the provider said. */
  readonly currency?: string;
}
