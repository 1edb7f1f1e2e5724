/**
 * Returns of sold goods (POST /admin/returns): what becomes of each returned line. Saleor never
 * restocks, Medusa keeps damaged units out: the shop says which, line by line.
 */
import { DomainError, ErrorCode } from './errors';

/** What a returned line becomes. */
export const Disposition = {
  /** Back on the shelf: on hand and available. */
  RESTOCK: 'RESTOCK',
  /** On hand, in the level's damaged bucket: not sellable. */
  DAMAGED: 'DAMAGED',
  /** On hand, in the level's quality-control bucket: not sellable until moved to AVAILABLE. */
  QC_HOLD: 'QC_HOLD',
  /** Came back and was destroyed: recorded (a ledger row, the return line), no stock. */
  WRITE_OFF: 'WRITE_OFF',
} as const;
export type Disposition = (typeof Disposition)[keyof typeof Disposition];

/** How a returned line of `quantity` changes its level. */
export function returnDeltas(
  disposition: Disposition,
  quantity: number,
): { onHand: number; damaged: number; qualityControl: number } {
  if (disposition === Disposition.WRITE_OFF) return { onHand: 0, damaged: 0, qualityControl: 0 };
  return {
    onHand: quantity,
    damaged: disposition === Disposition.DAMAGED ? quantity : 0,
    qualityControl: disposition === Disposition.QC_HOLD ? quantity : 0,
  };
}

/** One line of a return. */
export interface ReturnLineInput {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly disposition: Disposition;
  /** The consumed lot it returns into (lot-tracked SKUs); defaults to the only one consumed. */
  readonly lotCode?: string;
}

/** A returned line as recorded: the lot it went into, for lot-tracked SKUs. */
export interface ReturnedLine extends ReturnLineInput {
  readonly lotCode?: string;
}

/** What the order sold: units per SKU, and per lot of each lot-tracked SKU (with its use-by date). */
export interface Sale {
  readonly units: Map<string, number>;
  readonly lots: Map<string, Map<string, { quantity: number; expiresAt: string | null }>>;
}

/** The lot a line of a lot-tracked SKU returns into when it names none: the only one sold. */
export function soleLot(sale: Sale, sku: string): string | undefined {
  const lots = [...(sale.lots.get(sku)?.keys() ?? [])];
  return lots.length === 1 ? lots[0] : undefined;
}

/** At most what was sold minus what came back, per SKU and per consumed lot. */
export function checkWithinSale(sale: Sale, back: Map<string, number>, lines: readonly ReturnedLine[]): void {
  const asked = new Map<string, number>();
  for (const line of lines) {
    asked.set(line.sku, (asked.get(line.sku) ?? 0) + line.quantity);
    if (line.lotCode) {
      const key = `${line.sku}\u0000${line.lotCode}`;
      asked.set(key, (asked.get(key) ?? 0) + line.quantity);
    }
  }
  for (const [key, quantity] of asked) {
    const [sku, lotCode] = key.split('\u0000');
    const sold = lotCode === undefined ? (sale.units.get(sku) ?? 0) : (sale.lots.get(sku)?.get(lotCode)?.quantity ?? 0);
    const returned = back.get(key) ?? 0;
    if (quantity > sold - returned) {
      const what = lotCode === undefined ? sku : `${sku} from lot ${lotCode}`;
      throw new DomainError(
        ErrorCode.RETURN_EXCEEDS_SALE,
        `${quantity} of ${what} cannot come back: ${sold} sold, ${returned} returned before`,
        {
          sku,
          ...(lotCode === undefined ? {} : { lotCode }),
          requested: quantity,
          sold,
          returned,
        },
      );
    }
  }
}
