/**
 * Allocation: which warehouses serve an order's lines. Pure (no I/O): the reserve activity
 * feeds it the warehouses and the availability it read inside its transaction, then takes
 * the plan with conditional updates; if stock moved meanwhile it plans again.
 *
 * Rules, in order:
 * 1. A line that names a warehouse is taken there or is short (never moved elsewhere).
 * 2. Warehouses rank by: the order's preferred warehouse, the delivery region, distance to
 *    the delivery location (when both have coordinates), priority (lower first), code.
 * 3. Fewest shipments: one warehouse that can serve every unplaced line wins (one already
 *    shipping a named line first); otherwise, repeatedly, the warehouse that can serve the
 *    most remaining lines whole.
 * 4. A line no warehouse can serve whole is split across warehouses (already used ones
 *    first, then by rank) only when the order allows splitting; otherwise it is short.
 */
import { compareBytes } from './byte-order';
import { compareLines, mergeLines } from './lines';
import {
  AllocationReason,
  type AllocationNote,
  type AllocationPreferences,
  type OrderLine,
  type RequestedLine,
  type Shortage,
} from './types';

/** A warehouse as allocation sees it. */
export interface WarehouseSite {
  readonly code: string;
  readonly region: string;
  readonly priority: number;
  readonly latitude: number | null;
  readonly longitude: number | null;
}

/** Sellable quantity per SKU, then per warehouse (what the reserve guard would allow). */
export type Availability = ReadonlyMap<string, ReadonlyMap<string, number>>;

/** Where every line goes and why, or what could not be placed. */
export type AllocationPlan =
  | { readonly status: 'planned'; readonly lines: OrderLine[]; readonly notes: AllocationNote[] }
  | { readonly status: 'short'; readonly shortages: Shortage[] };

const REQUESTED_DETAIL = 'named by the order line';

interface Ranked {
  readonly site: WarehouseSite;
  readonly reason: AllocationReason;
  readonly why: string;
}

/** Plans the allocation of `lines`; see the module comment for the rules. */
export function planAllocation(
  lines: readonly RequestedLine[],
  prefs: AllocationPreferences,
  sites: readonly WarehouseSite[],
  availability: Availability,
): AllocationPlan {
  const left = copyAvailability(availability);
  const notes: AllocationNote[] = [];
  const shortages: Shortage[] = [];
  const merged = mergeLines(lines);
  for (const line of merged.filter((l) => l.warehouseCode !== undefined)) {
    const code = line.warehouseCode!;
    const have = left.get(line.sku)?.get(code) ?? 0;
    if (have < line.quantity)
      shortages.push({ sku: line.sku, warehouseCode: code, requested: line.quantity, available: Math.max(0, have) });
    else take(left, notes, line.sku, code, line.quantity, AllocationReason.REQUESTED, REQUESTED_DETAIL, false);
  }
  const ranked = rankSites(sites, prefs);
  const open = merged.filter((l) => l.warehouseCode === undefined);
  placeWhole(open, ranked, left, notes);
  for (const line of open) {
    const total = ranked.reduce((sum, r) => sum + Math.max(0, left.get(line.sku)?.get(r.site.code) ?? 0), 0);
    if (!prefs.allowSplit || total < line.quantity) {
      shortages.push({
        sku: line.sku,
        requested: line.quantity,
        available: prefs.allowSplit ? total : largest(left, line.sku),
      });
    } else {
      placeSplit(line, ranked, left, notes);
    }
  }
  if (shortages.length > 0) return { status: 'short', shortages };
  const planned = mergeLines(notes.map(({ sku, warehouseCode, quantity }) => ({ sku, warehouseCode, quantity })));
  return { status: 'planned', lines: planned, notes: [...notes].sort(compareLines) };
}

/**
 * Places whole lines, fewest warehouses first: each round picks the warehouse that can
 * serve the most remaining lines (used warehouses, then rank, break ties). Placed lines are
 * removed from `open`.
 */
function placeWhole(
  open: RequestedLine[],
  ranked: readonly Ranked[],
  left: Map<string, Map<string, number>>,
  notes: AllocationNote[],
): void {
  for (;;) {
    const used = new Set(notes.map((n) => n.warehouseCode));
    const order = [...ranked].sort((a, b) => Number(used.has(b.site.code)) - Number(used.has(a.site.code)));
    let best: { r: Ranked; fits: RequestedLine[] } | undefined;
    for (const r of order) {
      const fits = open.filter((l) => (left.get(l.sku)?.get(r.site.code) ?? 0) >= l.quantity);
      if (fits.length > (best?.fits.length ?? 0)) best = { r, fits };
    }
    if (!best) return;
    const consolidated = used.has(best.r.site.code);
    for (const line of best.fits) {
      const [reason, why] = consolidated
        ? [AllocationReason.CONSOLIDATED, 'already ships part of this order']
        : [best.r.reason, best.r.why];
      const detail =
        best.fits.length === open.length && !consolidated && used.size === 0
          ? `${why}; serves the whole order in one shipment`
          : why;
      take(left, notes, line.sku, best.r.site.code, line.quantity, reason, detail, false);
    }
    for (const line of best.fits) open.splice(open.indexOf(line), 1);
  }
}

/** Splits one line over warehouses already shipping, then the others by rank. */
function placeSplit(
  line: RequestedLine,
  ranked: readonly Ranked[],
  left: Map<string, Map<string, number>>,
  notes: AllocationNote[],
): void {
  const used = new Set(notes.map((n) => n.warehouseCode));
  const order = [...ranked].sort((a, b) => Number(used.has(b.site.code)) - Number(used.has(a.site.code)));
  let rest = line.quantity;
  for (const r of order) {
    const q = Math.min(rest, Math.max(0, left.get(line.sku)?.get(r.site.code) ?? 0));
    if (q === 0) continue;
    const [reason, why] = used.has(r.site.code)
      ? [AllocationReason.CONSOLIDATED, 'already ships part of this order']
      : [r.reason, r.why];
    take(left, notes, line.sku, r.site.code, q, reason, `${why}; split: ${q} of ${line.quantity}`, true);
    rest -= q;
    if (rest === 0) return;
  }
}

/** The notes of lines that all named their warehouse: nothing was chosen. */
export function requestedAllocation(lines: readonly OrderLine[]): AllocationNote[] {
  return lines.map(({ sku, warehouseCode, quantity }) => ({
    sku,
    warehouseCode,
    quantity,
    reason: AllocationReason.REQUESTED,
    split: false,
    detail: REQUESTED_DETAIL,
  }));
}

/** Warehouses best first, each with the criterion that put it there. */
export function rankSites(sites: readonly WarehouseSite[], prefs: AllocationPreferences): Ranked[] {
  const keyed = sites.map((site) => {
    const preferred = site.code === prefs.preferredWarehouse;
    const inRegion = prefs.deliveryRegion !== undefined && site.region === prefs.deliveryRegion;
    const km = distanceKm(site, prefs.deliveryLocation);
    return { site, preferred, inRegion, km };
  });
  keyed.sort(
    (a, b) =>
      Number(b.preferred) - Number(a.preferred) ||
      Number(b.inRegion) - Number(a.inRegion) ||
      (a.km ?? Infinity) - (b.km ?? Infinity) ||
      a.site.priority - b.site.priority ||
      compareBytes(a.site.code, b.site.code),
  );
  return keyed.map(({ site, preferred, inRegion, km }) => {
    if (preferred) return { site, reason: AllocationReason.PREFERRED, why: 'preferred warehouse' };
    if (inRegion) return { site, reason: AllocationReason.REGION, why: `in delivery region ${site.region}` };
    if (km !== undefined)
      return { site, reason: AllocationReason.NEAREST, why: `nearest with stock (${Math.round(km)} km)` };
    return { site, reason: AllocationReason.PRIORITY, why: `highest priority with stock (priority ${site.priority})` };
  });
}

/** Great-circle distance (haversine), or undefined when either end has no coordinates. */
export function distanceKm(site: WarehouseSite, to: AllocationPreferences['deliveryLocation']): number | undefined {
  if (!to || site.latitude === null || site.longitude === null) return undefined;
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(to.latitude - site.latitude);
  const dLon = rad(to.longitude - site.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(site.latitude)) * Math.cos(rad(to.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

function take(
  left: Map<string, Map<string, number>>,
  notes: AllocationNote[],
  sku: string,
  warehouseCode: string,
  quantity: number,
  reason: AllocationReason,
  detail: string,
  split: boolean,
): void {
  const bySite = left.get(sku)!;
  bySite.set(warehouseCode, bySite.get(warehouseCode)! - quantity);
  notes.push({ sku, warehouseCode, quantity, reason, split, detail });
}

function largest(left: Map<string, Map<string, number>>, sku: string): number {
  return Math.max(0, ...(left.get(sku)?.values() ?? []));
}

function copyAvailability(a: Availability): Map<string, Map<string, number>> {
  return new Map([...a].map(([sku, bySite]) => [sku, new Map(bySite)]));
}
