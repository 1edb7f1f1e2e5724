/** The pure parts of issue 19: the one list cursor (domain/cursor.ts) and an edit's deltas (domain/lines.ts). */
import { decodeCursor, encodeCursor, toPage } from '../../domain/cursor';
import { DomainError } from '../../domain/errors';
import { lineDeltas } from '../../domain/lines';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof DomainError ? err.code : String(err);
  }
  return 'no error';
};

describe('the list cursor', () => {
  it('round-trips a key of its list and shape', () => {
    const c = encodeCursor('orders', ['2026-01-01T00:00:00.000Z', 'o-1é']);
    expect(decodeCursor('orders', c, ['instant', 'text'])).toEqual(['2026-01-01T00:00:00.000Z', 'o-1é']);
  });

  it('refuses an edited cursor, another list, another shape, or garbage: INVALID_CURSOR', () => {
    const c = encodeCursor('movements', ['41']);
    const forged = `${Buffer.from(JSON.stringify(['movements', '40'])).toString('base64url')}${c.slice(c.lastIndexOf('.'))}`;
    for (const bad of [forged, `${c}0`, 'x', '.', ''])
      expect(code(() => decodeCursor('movements', bad, ['int']))).toBe('INVALID_CURSOR');
    expect(code(() => decodeCursor('alerts', c, ['int']))).toBe('INVALID_CURSOR');
    expect(code(() => decodeCursor('movements', c, ['instant']))).toBe('INVALID_CURSOR');
    expect(code(() => decodeCursor('movements', encodeCursor('movements', ['4x']), ['int']))).toBe('INVALID_CURSOR');
  });

  it('a page of limit + 1 rows has more and a cursor after its last row; a short one has neither', () => {
    const page = toPage(
      'p',
      [1, 2, 3],
      2,
      (n) => [String(n)],
      (n) => n * 10,
    );
    expect(page).toMatchObject({ data: [10, 20], hasMore: true });
    expect(decodeCursor('p', page.nextCursor!, ['int'])).toEqual(['2']);
    expect(
      toPage(
        'p',
        [1],
        2,
        (n) => [String(n)],
        (n) => n,
      ),
    ).toEqual({ data: [1], hasMore: false, nextCursor: null });
  });
});

describe("an edit's deltas", () => {
  it('moves only the differences, merged per level, in lock order', () => {
    const held = [
      { sku: 'B', warehouseCode: 'W1', quantity: 4 },
      { sku: 'A', warehouseCode: 'W2', quantity: 1 },
    ];
    const wanted = [
      { sku: 'B', warehouseCode: 'W1', quantity: 1 },
      { sku: 'A', warehouseCode: 'W2', quantity: 1 },
      { sku: 'A', warehouseCode: 'W1', quantity: 1 },
      { sku: 'A', warehouseCode: 'W1', quantity: 1 },
    ];
    expect(lineDeltas(held, wanted)).toEqual([
      { sku: 'A', warehouseCode: 'W1', delta: 2 },
      { sku: 'B', warehouseCode: 'W1', delta: -3 },
    ]);
    expect(lineDeltas(held, held)).toEqual([]);
  });
});
