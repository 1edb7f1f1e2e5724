/** Allocation rules as a pure function: priority, region, nearest, fewest shipments, split. */
import { planAllocation, type Availability, type WarehouseSite } from '../../domain/allocation';

const site = (
  code: string,
  priority: number,
  region = 'east',
  lat: number | null = null,
  lon: number | null = null,
): WarehouseSite => ({
  code,
  region,
  priority,
  latitude: lat,
  longitude: lon,
});
// Shanghai, Hangzhou, Beijing.
const SH = site('SH', 1, 'east', 31.23, 121.47);
const HZ = site('HZ', 2, 'east', 30.27, 120.15);
const BJ = site('BJ', 3, 'north', 39.9, 116.4);
const sites = [BJ, HZ, SH];

function stockOf(rows: Record<string, Record<string, number>>): Availability {
  return new Map(Object.entries(rows).map(([sku, bySite]) => [sku, new Map(Object.entries(bySite))]));
}

describe('planAllocation', () => {
  it('takes the highest-priority warehouse that can ship everything', () => {
    const plan = planAllocation([{ sku: 'A', quantity: 3 }], {}, sites, stockOf({ A: { SH: 5, HZ: 9, BJ: 9 } }));
    expect(plan).toMatchObject({ status: 'planned', lines: [{ sku: 'A', warehouseCode: 'SH', quantity: 3 }] });
    expect(plan.status === 'planned' && plan.notes[0]).toMatchObject({ reason: 'PRIORITY', split: false });
  });

  it('skips a warehouse without enough and says why the next was chosen', () => {
    const plan = planAllocation([{ sku: 'A', quantity: 6 }], {}, sites, stockOf({ A: { SH: 5, HZ: 9 } }));
    expect(plan).toMatchObject({ status: 'planned', lines: [{ warehouseCode: 'HZ', quantity: 6 }] });
  });

  it('a preferred warehouse beats priority; the delivery region beats priority', () => {
    const stock = stockOf({ A: { SH: 9, HZ: 9, BJ: 9 } });
    const preferred = planAllocation([{ sku: 'A', quantity: 1 }], { preferredWarehouse: 'HZ' }, sites, stock);
    expect(preferred).toMatchObject({ lines: [{ warehouseCode: 'HZ' }], notes: [{ reason: 'PREFERRED' }] });
    const region = planAllocation([{ sku: 'A', quantity: 1 }], { deliveryRegion: 'north' }, sites, stock);
    expect(region).toMatchObject({ lines: [{ warehouseCode: 'BJ' }], notes: [{ reason: 'REGION' }] });
  });

  it('nearest to the delivery location beats priority', () => {
    const hangzhouCustomer = { deliveryLocation: { latitude: 30.25, longitude: 120.2 } };
    const plan = planAllocation(
      [{ sku: 'A', quantity: 1 }],
      hangzhouCustomer,
      sites,
      stockOf({ A: { SH: 9, HZ: 9, BJ: 9 } }),
    );
    expect(plan).toMatchObject({ lines: [{ warehouseCode: 'HZ' }], notes: [{ reason: 'NEAREST' }] });
  });

  it('prefers one shipment over the best-ranked warehouse for each line', () => {
    // SH (priority 1) has A only; HZ has both: one parcel from HZ beats two.
    const plan = planAllocation(
      [
        { sku: 'A', quantity: 1 },
        { sku: 'B', quantity: 1 },
      ],
      {},
      sites,
      stockOf({ A: { SH: 9, HZ: 9 }, B: { HZ: 9 } }),
    );
    expect(plan).toMatchObject({
      lines: [
        { sku: 'A', warehouseCode: 'HZ' },
        { sku: 'B', warehouseCode: 'HZ' },
      ],
    });
  });

  it('joins a warehouse already shipping a named line (no extra shipment)', () => {
    const plan = planAllocation(
      [
        { sku: 'A', warehouseCode: 'BJ', quantity: 1 },
        { sku: 'B', quantity: 1 },
      ],
      {},
      sites,
      stockOf({ A: { BJ: 9 }, B: { SH: 9, BJ: 9 } }),
    );
    expect(plan).toMatchObject({
      lines: [
        { sku: 'A', warehouseCode: 'BJ' },
        { sku: 'B', warehouseCode: 'BJ' },
      ],
      notes: [{ reason: 'REQUESTED' }, { reason: 'CONSOLIDATED' }],
    });
  });

  it('without split, a line no warehouse can serve whole is short as a whole', () => {
    const plan = planAllocation([{ sku: 'A', quantity: 8 }], {}, sites, stockOf({ A: { SH: 5, HZ: 5 } }));
    expect(plan).toEqual({ status: 'short', shortages: [{ sku: 'A', requested: 8, available: 5 }] });
  });

  it('with split, takes as few warehouses as the rank allows and marks the parts', () => {
    const plan = planAllocation(
      [{ sku: 'A', quantity: 8 }],
      { allowSplit: true },
      sites,
      stockOf({ A: { SH: 5, HZ: 5, BJ: 5 } }),
    );
    expect(plan).toMatchObject({
      status: 'planned',
      lines: [
        { warehouseCode: 'HZ', quantity: 3 },
        { warehouseCode: 'SH', quantity: 5 },
      ],
      notes: [
        { warehouseCode: 'HZ', split: true },
        { warehouseCode: 'SH', split: true },
      ],
    });
  });

  it('with split, short when every warehouse together has too little', () => {
    const plan = planAllocation(
      [{ sku: 'A', quantity: 20 }],
      { allowSplit: true },
      sites,
      stockOf({ A: { SH: 5, HZ: 5 } }),
    );
    expect(plan).toEqual({ status: 'short', shortages: [{ sku: 'A', requested: 20, available: 10 }] });
  });

  it('a named warehouse is never swapped for another, and its stock is not counted twice', () => {
    const named = planAllocation(
      [{ sku: 'A', warehouseCode: 'SH', quantity: 6 }],
      {},
      sites,
      stockOf({ A: { SH: 5, HZ: 9 } }),
    );
    expect(named).toEqual({
      status: 'short',
      shortages: [{ sku: 'A', warehouseCode: 'SH', requested: 6, available: 5 }],
    });
    const both = planAllocation(
      [
        { sku: 'A', warehouseCode: 'SH', quantity: 4 },
        { sku: 'A', quantity: 4 },
      ],
      {},
      [SH],
      stockOf({ A: { SH: 5 } }),
    );
    expect(both).toMatchObject({ status: 'short', shortages: [{ sku: 'A', requested: 4, available: 1 }] });
  });
});
