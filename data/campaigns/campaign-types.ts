/**
 * The shapes of campaigns every store answers with: what the admin creates, what an operator
 * reads, what the gate is rebuilt from, a list row. One definition for PostgreSQL
 * (data/campaigns/) and MySQL/MariaDB (data/mariadb/), so both keep the same contract.
 */

/** A campaign as the admin creates it. */
export interface CampaignInput {
  readonly id: string;
  readonly kind: 'FLASH_SALE' | 'PRE_SALE';
  /** Pre-sales: when the goods are expected (shown to shoppers as the ship date). */
  readonly expectedAt?: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly quota: number;
  readonly perUserLimit: number;
  /** A flash sale whose holds may be extended (POST /orders/:id/extend); default false, for fairness. */
  readonly allowHoldExtension?: boolean;
}

/** What an operator sees of a campaign: the pool, the live holds, what was sold. */
export interface CampaignView extends Omit<CampaignInput, 'kind'> {
  readonly kind: string;
  readonly status: string;
  readonly remaining: number;
  readonly held: number;
  readonly sold: number;
  /** Pre-sales: units paid for and waiting for the goods / that the goods could not cover. */
  readonly backordered: number;
  readonly refundRequired: number;
  /** Payments that arrived after their hold was released and were sold a unit after all. */
  readonly lateConfirmed: number;
  /** Payments on this campaign's orders the shop must refund (REFUND_REQUIRED, DUPLICATE_CHARGE, AMOUNT_MISMATCH). */
  readonly paymentsToRefund: number;
}

/** The state the gate must mirror: window, limit, pool, each user's count, and the orders that hold a unit. */
export interface GateSnapshot {
  readonly campaignId: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly perUserLimit: number;
  readonly remaining: number;
  readonly ended: boolean;
  readonly users: Readonly<Record<string, number>>;
  /**
   * orderId -> '<quantity>:<userId>' for every order of the campaign not released: the gate's
   * receipts. A give-back for an order missing here (its release is already in `remaining`)
   * must not add a token twice.
   */
  readonly orders: Readonly<Record<string, string>>;
}

/** The campaigns list's name in its cursors (domain/cursor.ts), on either store. */
export const CAMPAIGNS_LIST = 'campaigns';

/** One campaign of GET /admin/campaigns: the pool as stored. */
export interface CampaignListRow {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly quota: number;
  readonly perUserLimit: number;
  readonly remaining: number;
  readonly expectedAt: string | null;
  readonly createdAt: string;
}
