/**
 * Pure stock rules: lot dates derived from a product's perishable settings, the state of a
 * lot at a moment, and which adjustment reasons may move stock which way.
 */

/** The quantities of a level that availability is computed from. */
export interface LevelQuantities {
  readonly onHand: number;
  readonly reserved: number;
  readonly safetyStock: number;
  /** On hand, set aside as damaged (a move, a return). */
  readonly damaged: number;
  /** On hand, held for quality control. */
  readonly qualityControl: number;
  /** In quarantined lots or lots past their removal date. */
  readonly unsellable: number;
}

/**
 * Units of a level a shopper may still be promised, as the API shows it: the reserve
 * guard's formula (stockhold_available in SQL, data/stock/level-sql.ts AVAILABLE), clamped at
 * 0 because a level held beyond what may be sold (an admin change after the holds) offers
 * nothing, not less.
 */
export function availableUnits(l: LevelQuantities): number {
  return Math.max(0, l.onHand - l.reserved - l.safetyStock - l.damaged - l.qualityControl - l.unsellable);
}

/**
 * The states a unit on hand can be moved between (POST /admin/levels/:sku/:wh/moves):
 * AVAILABLE (sellable, what is not held, kept back or in another state), DAMAGED and
 * QUALITY_CONTROL (on hand, not sellable: the level's buckets of those names).
 */
export const StockState = {
  AVAILABLE: 'AVAILABLE',
  DAMAGED: 'DAMAGED',
  QUALITY_CONTROL: 'QUALITY_CONTROL',
} as const;
export type StockState = (typeof StockState)[keyof typeof StockState];

/** Where a move may take units: another state, or out of stock altogether (on hand falls). */
export const MoveTarget = { ...StockState, WRITE_OFF: 'WRITE_OFF' } as const;
export type MoveTarget = (typeof MoveTarget)[keyof typeof MoveTarget];

/** How a move changes the level's buckets and on-hand (AVAILABLE is what is left, no column). */
export function moveDeltas(
  from: StockState,
  to: MoveTarget,
  quantity: number,
): { onHand: number; damaged: number; qualityControl: number } {
  const bucket = (state: MoveTarget) =>
    state === StockState.DAMAGED ? 'damaged' : state === StockState.QUALITY_CONTROL ? 'qualityControl' : undefined;
  const out = { onHand: to === MoveTarget.WRITE_OFF ? -quantity : 0, damaged: 0, qualityControl: 0 };
  const source = bucket(from);
  const target = bucket(to);
  if (source) out[source] -= quantity;
  if (target) out[target] += quantity;
  return out;
}

/** Days-before-expiry settings of a lot-tracked product. */
export interface PerishableSettings {
  readonly alertDaysBeforeExpiry: number | null;
  readonly removalDaysBeforeExpiry: number | null;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Alert and removal dates of a lot from its use-by date. Without a use-by date the lot
 * never alerts nor expires; without a setting, the date falls on the use-by date itself.
 */
export function lotDates(
  expiresAt: Date | null,
  settings: PerishableSettings,
): { alertAt: Date | null; removeAt: Date | null } {
  if (!expiresAt) return { alertAt: null, removeAt: null };
  const before = (days: number | null) => new Date(expiresAt.getTime() - (days ?? 0) * DAY_MS);
  return { alertAt: before(settings.alertDaysBeforeExpiry), removeAt: before(settings.removalDaysBeforeExpiry) };
}

/** How a lot counts at a moment; only SELLABLE and NEAR_EXPIRY lots are available. */
export const LotState = {
  SELLABLE: 'SELLABLE',
  NEAR_EXPIRY: 'NEAR_EXPIRY',
  EXPIRED: 'EXPIRED',
  QUARANTINED: 'QUARANTINED',
} as const;
export type LotState = (typeof LotState)[keyof typeof LotState];

/**
 * May a lot be sold at `now`? Not quarantined and not past its removal date. The one rule
 * of lot sellability; the SQL function unsellable_quantity (the reserve guard's) applies the
 * same test in the database, so `now` must be the transaction's now() where both meet.
 */
export function lotSellable(lot: { quarantined: boolean; removeAt: Date | null }, now: Date): boolean {
  return !lot.quarantined && !(lot.removeAt !== null && lot.removeAt <= now);
}

/** How a lot counts at `now`: quarantine wins, then removal, then alert (lotSellable decides the first two). */
export function lotState(
  lot: { quarantined: boolean; alertAt: Date | null; removeAt: Date | null },
  now: Date,
): LotState {
  if (!lotSellable(lot, now)) return lot.quarantined ? LotState.QUARANTINED : LotState.EXPIRED;
  if (lot.alertAt && lot.alertAt <= now) return LotState.NEAR_EXPIRY;
  return LotState.SELLABLE;
}

/** A lot as FEFO sees it, already in consumption order (sellable, then first-expiring). */
export interface LotForPicking {
  readonly lotCode: string;
  readonly quantity: number;
  readonly sellable: boolean;
  readonly expiresAt: Date | null;
}

/** What a confirmation took from one lot; recorded on the reservation. */
export interface ConsumedLot {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string;
  readonly quantity: number;
  readonly expiresAt: string | null;
  /** False when a hold outlived its stock's sellability (quarantined or expired meanwhile). */
  readonly sellable: boolean;
}

/**
 * Consumption order: sellable lots before unsellable ones, each group in the order given
 * (first-expiring first, as the caller's query sorts them; the sort is stable).
 */
export function sellableFirst<T extends { readonly sellable: boolean }>(lots: readonly T[]): T[] {
  return [...lots].sort((a, b) => Number(b.sellable) - Number(a.sellable));
}

/**
 * First-expiring-first-out: takes `quantity` from the lots in the order given, each lot as
 * far as it goes. Returns the takes; they fall short only if the lots do.
 */
export function pickFefo(lots: readonly LotForPicking[], quantity: number): { lot: LotForPicking; take: number }[] {
  const picks: { lot: LotForPicking; take: number }[] = [];
  let rest = quantity;
  for (const lot of lots) {
    if (rest === 0) break;
    const take = Math.min(rest, lot.quantity);
    if (take > 0) picks.push({ lot, take });
    rest -= take;
  }
  return picks;
}

/** Why an operator changes on-hand by hand; each reason allows one direction (COUNT both). */
export const AdjustReason = {
  COUNT: 'COUNT',
  DAMAGE: 'DAMAGE',
  LOSS: 'LOSS',
  EXPIRED: 'EXPIRED',
  RETURN: 'RETURN',
  FOUND: 'FOUND',
} as const;
export type AdjustReason = (typeof AdjustReason)[keyof typeof AdjustReason];

/** Which way each reason may move stock (the API's schema states the same rule). */
export const adjustDirection: Readonly<Record<AdjustReason, 'down' | 'up' | 'both'>> = {
  COUNT: 'both',
  DAMAGE: 'down',
  LOSS: 'down',
  EXPIRED: 'down',
  RETURN: 'up',
  FOUND: 'up',
};

/** True when `delta` (never 0) goes the way `reason` allows: a "return" cannot remove stock. */
export function adjustmentAllowed(reason: AdjustReason, delta: number): boolean {
  if (delta === 0) return false;
  const way = adjustDirection[reason];
  return way === 'both' || (way === 'up' ? delta > 0 : delta < 0);
}
