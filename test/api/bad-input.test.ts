/**
 * Bad input gets a clear 4xx and changes nothing (issue 10, items 1-4), on the real API,
 * worker, Temporal (time-skipping), PostgreSQL and Redis:
 * - a transfer step refused for good (a value PostgreSQL cannot store, more received than
 *   shipped) answers with its code and leaves the transfer where the next steps still work;
 * - control characters in free text, and half a position, are 400 before anything is stored;
 * - PostgreSQL's own refusals (SQLSTATE class 22/23) are final domain errors, not 500s;
 * - query strings are typed, bodies are not coerced; 405 with Allow; long ids in the
 *   project's error shape; the OpenAPI document says all of it.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { asDataError } from '../../data/data-errors';
import type { Db } from '../../data/db';
import { transferWorkflowId } from '../../workflows/ids';
import { receiveTransferUpdate } from '../../workflows/transfer-messages';
import { useAppStack } from '../helpers/app';
import { invariantViolations, stock } from '../helpers/db';

const ADMIN = { authorization: 'Bearer test-admin-token' };
const stack = useAppStack('time-skipping', 'bad-input-test');
let db: Db;
let app: FastifyInstance;
beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'BAD', 'SRC', 100);
  await stock(db, 'BAD', 'DST', 0);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const admin = (method: 'POST' | 'PUT', url: string, payload: object, headers: Record<string, string> = {}) =>
  app.inject({ method, url, payload, headers: { ...ADMIN, ...headers } });
const transfer = (id: string) => app.inject({ method: 'GET', url: `/transfers/${id}`, headers: ADMIN });

/** Everything an admin change could touch, in one comparable value. */
async function snapshot() {
  const [products, warehouses, levels, movements, lots, fences] = await Promise.all([
    db.product.findMany({ orderBy: { sku: 'asc' } }),
    db.warehouse.findMany({ orderBy: { code: 'asc' } }),
    db.inventoryLevel.findMany({ orderBy: [{ sku: 'asc' }, { warehouseCode: 'asc' }] }),
    db.stockMovement.count(),
    db.stockLot.findMany({ orderBy: [{ sku: 'asc' }, { warehouseCode: 'asc' }, { lotCode: 'asc' }] }),
    db.operationFence.count(),
  ]);
  return JSON.stringify({ products, warehouses, levels, movements, lots, fences }, (_k, v: unknown) =>
    typeof v === 'bigint' ? String(v) : v,
  );
}

async function shipped(id: string, quantity = 5) {
  expect(
    (
      await admin('POST', '/transfers', {
        transferId: id,
        sku: 'BAD',
        fromWarehouse: 'SRC',
        toWarehouse: 'DST',
        quantity,
      })
    ).statusCode,
  ).toBe(201);
  expect((await admin('POST', `/transfers/${id}/ship`, {})).json().stage).toBe('SHIPPED');
}

describe('a transfer step refused for good leaves the transfer usable (item 1)', () => {
  it('more received than shipped → 400, stays SHIPPED; a valid receive afterwards works', async () => {
    await shipped('tr-big');
    const big = await admin('POST', '/transfers/tr-big/receive', { receivedQuantity: 6 });
    expect([big.statusCode, big.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await transfer('tr-big')).json()).toMatchObject({ stage: 'SHIPPED' });
    const ok = await admin('POST', '/transfers/tr-big/receive', {
      receivedQuantity: 4,
      shortfallReason: 'one dropped',
    });
    expect([ok.statusCode, ok.json().stage, ok.json().receivedQuantity]).toEqual([200, 'RECEIVED', 4]);
  });

  it('more received than shipped → 400; a return afterwards works', async () => {
    await shipped('tr-big-return');
    expect((await admin('POST', '/transfers/tr-big-return/receive', { receivedQuantity: 7 })).statusCode).toBe(400);
    const back = await admin('POST', '/transfers/tr-big-return/return', {});
    expect([back.statusCode, back.json().stage]).toEqual([200, 'RETURNED']);
  });

  it('a NUL byte in shortfallReason → 400 at the schema, nothing started', async () => {
    await shipped('tr-nul-api');
    const before = await snapshot();
    const res = await admin('POST', '/transfers/tr-nul-api/receive', {
      receivedQuantity: 3,
      shortfallReason: 'lost\u0000',
    });
    expect([res.statusCode, res.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await snapshot()).toBe(before);
    expect((await transfer('tr-nul-api')).json().stage).toBe('SHIPPED');
  });

  it('past the schema, PostgreSQL refusing the value (22021) is final: INVALID_INPUT at once, then a valid receive works', async () => {
    await shipped('tr-nul');
    const before = await snapshot();
    const handle = stack.env.client.workflow.getHandle(transferWorkflowId('tr-nul'));
    // Straight to the workflow, as a client other than the API could: the activity must not retry.
    const failure = await handle
      .executeUpdate(receiveTransferUpdate, { args: [{ receivedQuantity: 3, shortfallReason: 'lost\u0000' }] })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (failure as WorkflowUpdateFailedError).cause as ApplicationFailure;
    expect([cause.type, cause.details?.[0]]).toEqual(['INVALID_INPUT', { sqlState: '22021' }]);
    expect(await snapshot()).toBe(before);
    expect((await transfer('tr-nul')).json()).toMatchObject({ stage: 'SHIPPED' });
    expect((await transfer('tr-nul')).json().receivedQuantity).toBeUndefined();
    const ok = await admin('POST', '/transfers/tr-nul/receive', { receivedQuantity: 3, shortfallReason: 'lost' });
    expect([ok.statusCode, ok.json().stage]).toEqual([200, 'RECEIVED']);
  });
});

describe('schema-valid admin input is never a 500 and changes nothing (item 2)', () => {
  const key = (k: string) => ({ 'idempotency-key': k });
  const cases: [string, () => ReturnType<typeof admin>][] = [
    ['NUL in a product name', () => admin('PUT', '/admin/products/BAD2', { name: 'a\u0000b' })],
    ['a tab in a product name', () => admin('PUT', '/admin/products/BAD2', { name: 'a\tb' })],
    [
      'NUL in a receipt reason',
      () =>
        admin(
          'POST',
          '/admin/receipts',
          { sku: 'BAD', warehouseCode: 'SRC', quantity: 1, reason: '\u0000' },
          key('r-nul'),
        ),
    ],
    [
      'NUL in an adjustment note',
      () =>
        admin(
          'POST',
          '/admin/adjustments',
          { sku: 'BAD', warehouseCode: 'SRC', delta: -1, reasonCode: 'DAMAGE', note: 'x\u0000' },
          key('a-nul'),
        ),
    ],
    [
      'a zero adjustment',
      () =>
        admin(
          'POST',
          '/admin/adjustments',
          { sku: 'BAD', warehouseCode: 'SRC', delta: 0, reasonCode: 'COUNT' },
          key('a-zero'),
        ),
    ],
    [
      'a FOUND adjustment that takes stock away',
      () =>
        admin(
          'POST',
          '/admin/adjustments',
          { sku: 'BAD', warehouseCode: 'SRC', delta: -1, reasonCode: 'FOUND' },
          key('a-found'),
        ),
    ],
    [
      'NUL in a quarantine reason',
      () => admin('POST', '/admin/lots/BAD/SRC/L1/quarantine', { reason: 'x\u0000' }, key('q-nul')),
    ],
    ['NUL in a warehouse region', () => admin('PUT', '/admin/warehouses/W-NUL', { name: 'w', region: 'eu\u0000' })],
    ['C1 control in a warehouse name', () => admin('PUT', '/admin/warehouses/W-NUL', { name: 'w\u0085' })],
    ['latitude without longitude', () => admin('PUT', '/admin/warehouses/W-HALF', { name: 'w', latitude: 10 })],
    [
      'longitude with a null latitude',
      () => admin('PUT', '/admin/warehouses/W-HALF', { name: 'w', latitude: null, longitude: 10 }),
    ],
    [
      'a quantity as a string (bodies are not coerced)',
      () =>
        admin(
          'POST',
          '/admin/receipts',
          { sku: 'BAD', warehouseCode: 'SRC', quantity: '5', reason: 'r' },
          key('r-str'),
        ),
    ],
    [
      'an expected quantity past 32 bits',
      () =>
        admin(
          'POST',
          '/admin/receipts',
          { sku: 'BAD', warehouseCode: 'SRC', quantity: 1, reason: 'r', expectedQuantity: 3_000_000_000 },
          key('r-big'),
        ),
    ],
    [
      'NUL in a cancel reason',
      () => app.inject({ method: 'POST', url: '/orders/o-none/cancel', payload: { reason: '\u0000' } }),
    ],
  ];
  it.each(cases)('%s → 400 VALIDATION_FAILED', async (_name, send) => {
    const before = await snapshot();
    const res = await send();
    expect([res.statusCode, res.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await snapshot()).toBe(before);
  });

  it('PostgreSQL refusals are domain errors: class 22 → INVALID_INPUT, class 23 → CONSTRAINT_VIOLATION, a unique race stays retryable', async () => {
    const refusal = (work: Promise<unknown>) =>
      work.then(
        () => undefined,
        (err: unknown) => asDataError(err),
      );
    const nul = await refusal(db.product.create({ data: { sku: 'NUL', name: 'a\u0000' } }));
    expect([nul?.code, nul?.details]).toEqual(['INVALID_INPUT', { sqlState: '22021' }]);
    const overflow = await refusal(db.$executeRaw`SELECT ${3_000_000_000}::int`);
    expect(overflow?.code).toBe('INVALID_INPUT');
    const half = await refusal(db.warehouse.create({ data: { code: 'W-CHECK', name: 'w', latitude: 1 } }));
    expect([half?.code, (half?.details as { sqlState: string }).sqlState]).toEqual(['CONSTRAINT_VIOLATION', '23514']);
    expect(await refusal(db.product.create({ data: { sku: 'BAD', name: 'again' } }))).toBeUndefined();
    expect(await db.product.count({ where: { sku: { in: ['NUL'] } } })).toBe(0);
    expect(await db.warehouse.count({ where: { code: 'W-CHECK' } })).toBe(0);
  });
});

describe('query strings, methods, long ids (items 3, 4)', () => {
  it('GET /alerts with limit=20 is typed, not refused; a non-number limit is 400', async () => {
    const res = await app.inject({ method: 'GET', url: '/alerts?kind=EXPIRED&limit=20' });
    expect([res.statusCode, res.json()]).toEqual([200, { data: [], alerts: [], hasMore: false, nextCursor: null }]);
    expect((await app.inject({ method: 'GET', url: '/alerts?limit=twenty' })).json().code).toBe('VALIDATION_FAILED');
  });

  it('GET /admin/cache/checks takes an integer limit', async () => {
    expect((await app.inject({ method: 'GET', url: '/admin/cache/checks?limit=5', headers: ADMIN })).statusCode).toBe(
      200,
    );
    expect((await app.inject({ method: 'GET', url: '/admin/cache/checks?limit=0', headers: ADMIN })).statusCode).toBe(
      400,
    );
    expect((await app.inject({ method: 'GET', url: '/admin/cache/checks?limit=5.5', headers: ADMIN })).statusCode).toBe(
      400,
    );
  });

  it('an undeclared method on a known path → 405 METHOD_NOT_ALLOWED with Allow; an unknown path stays 404', async () => {
    const del = await app.inject({ method: 'DELETE', url: '/orders/o-1' });
    expect([del.statusCode, del.json().code, del.headers.allow]).toEqual([405, 'METHOD_NOT_ALLOWED', 'GET, HEAD']);
    const put = await app.inject({ method: 'PUT', url: '/orders', payload: {} });
    expect([put.statusCode, put.headers.allow]).toEqual([405, 'GET, HEAD, POST']);
    const query = await app.inject({ method: 'QUERY' as 'GET', url: '/alerts' });
    expect([query.statusCode, query.headers.allow]).toEqual([405, 'GET, HEAD']);
    const missing = await app.inject({ method: 'DELETE', url: '/nothing/here' });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'NOT_FOUND']);
  });

  it('an id over 100 characters → 400 {code, message}, like any malformed id', async () => {
    for (const length of [65, 101, 5000]) {
      const res = await app.inject({ method: 'GET', url: `/orders/${'x'.repeat(length)}` });
      expect([res.statusCode, res.json()]).toEqual([
        400,
        expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.any(String) }),
      ]);
    }
    const badlyEncoded = await app.inject({ method: 'GET', url: '/orders/%E0%A4%A' });
    expect([badlyEncoded.statusCode, badlyEncoded.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('the OpenAPI document (item 4)', () => {
  type Operation = {
    parameters?: { in: string; name: string; required?: boolean; schema?: Record<string, unknown> }[];
    responses: Record<string, unknown>;
    requestBody?: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown>> } }> };
  };
  let doc: { servers?: unknown[]; paths: Record<string, Record<string, Operation>> };
  beforeAll(async () => {
    doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
  });

  it('names its servers and the webhook signature headers', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const headers = doc.paths['/webhooks/payments'].post.parameters
      ?.filter((p) => p.in === 'header')
      .map((p) => [p.name, p.required]);
    expect(headers).toEqual([
      ['x-signature', true],
      ['x-signature-timestamp', true],
    ]);
  });

  it('puts what it can into the schemas: non-zero delta, integer limits, no control characters', () => {
    const body = (path: string, method = 'post') =>
      doc.paths[path][method].requestBody!.content['application/json'].schema.properties;
    expect(body('/admin/adjustments').delta).toMatchObject({ type: 'integer', not: { enum: [0] } });
    expect(body('/admin/receipts').reason).toMatchObject({ pattern: expect.stringContaining('u0000') });
    expect(body('/transfers/{transferId}/receive').shortfallReason).toMatchObject({
      pattern: expect.stringContaining('u0000'),
    });
    const limit = doc.paths['/admin/cache/checks'].get.parameters?.find((p) => p.name === 'limit');
    expect(limit?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 });
  });

  it('every operation that takes input documents its 4xx answers', () => {
    const undocumented: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const takesInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
        if (takesInput && !Object.keys(op.responses).some((s) => s.startsWith('4')))
          undocumented.push(`${method} ${path}`);
      }
    }
    expect(undocumented).toEqual([]);
    expect(doc.paths['/admin/campaigns'].post.responses['400']).toMatchObject({
      description: expect.stringContaining('endsAt is not after startsAt'),
    });
  });
});
