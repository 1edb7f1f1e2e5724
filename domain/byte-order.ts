/**
 * The one order in which stockhold compares identifiers (SKUs, warehouse codes) when it
 * decides a lock order: byte order of their UTF-8 encoding, which is what PostgreSQL's
 * `COLLATE "C"` sorts by on a UTF-8 database. Every multi-row lock sorts this way, in
 * TypeScript with `compareBytes` and in SQL with `ORDER BY sku COLLATE "C", warehouse_code
 * COLLATE "C"`; a plain `ORDER BY sku` follows the database's collation (en-US on most
 * hosted PostgreSQL: 'sku_a' < 'sku-B', 'b' < 'C'), and two transactions locking the same
 * rows in two orders deadlock.
 *
 * UTF-8 byte order is Unicode code-point order. JavaScript's `<` compares UTF-16 code units,
 * which agrees except when a character outside the BMP (a surrogate pair, D800–DFFF) meets one
 * in E000–FFFF; the API's `Id` pattern keeps ids ASCII today, but the lock order must not
 * rest on a validation rule elsewhere. Pure (no Buffer): workflows import it.
 */

/** Negative, 0 or positive as `a` sorts before, with or after `b` in UTF-8 byte order. */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/**
 * At the first differing code unit, surrogates (D800–DFFF, i.e. code points ≥ 10000) must
 * sort after E000–FFFF: shift them up past it and E000–FFFF down into their place.
 */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
