/**
 * Returns of sold goods (POST /admin/returns): what becomes of each returned line. Saleor never
 * restocks, Medusa keeps damaged units out: the shop says which, line by line.
 */

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
