/**
 * The explicit checks of scenario 8: signatures, replays, requests without a key, per-user rate
 * limit; control characters on admin routes, a transfer that bad input must not wedge, 405, long ids.
 */
import type { FastifyInstance } from 'fastify';
import { signedPayment } from '../../test/helpers/app';
import { CHAOS_ADMIN_TOKEN, CHAOS_SECRET, type Stack } from '../stack';

/** Orders per minute per user on the hostile app. */
export const RATE_LIMIT = 20;
const SKU = 'CHAOS-HOSTILE';

const order = (orderId: string, userId: string) => ({
  orderId,
  userId,
  lines: [{ sku: SKU, warehouseCode: 'W1', quantity: 1 }],
});
const KEY = { authorization: `Bearer ${CHAOS_ADMIN_TOKEN}` };

export async function explicitChecks(
  app: FastifyInstance,
  stack: Stack,
  hash: () => Promise<string>,
): Promise<string[]> {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const placed = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: order('h-real', 'real-user'),
    headers: KEY,
  });
  expect(placed.statusCode === 201, `a valid order got ${placed.statusCode}`);
  const event = {
    eventId: 'ev-h-real',
    type: 'payment.succeeded',
    orderId: 'h-real',
    paymentId: 'pay-h-real',
    amountCents: 100,
  };
  const before = await hash();
  for (const [what, signed] of [
    ['bad signature', signedPayment('wrong-secret', event)],
    ['replayed timestamp', signedPayment(CHAOS_SECRET, event, Math.floor(Date.now() / 1000) - 24 * 3600)],
  ] as const) {
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/payments',
      payload: signed.payload,
      headers: signed.headers,
    });
    expect(res.statusCode === 401, `${what} → ${res.statusCode}, expected 401`);
  }
  for (const url of ['/admin/receipts', '/admin/cache/checks', '/orders']) {
    const res = await app.inject({
      method: url === '/admin/cache/checks' ? 'GET' : 'POST',
      url,
      payload: url === '/admin/cache/checks' ? undefined : {},
    });
    expect(res.statusCode === 401, `${url} without a key → ${res.statusCode}, expected 401`);
  }
  expect((await hash()) === before, 'a refused webhook or admin call changed state');
  expect((await stack.probe.holdOf('h-real'))?.status === 'RESERVED', 'the order was confirmed by a refused payment');

  problems.push(...(await adminInputChecks(app, hash)));

  const statuses: number[] = [];
  for (let i = 0; i < RATE_LIMIT + 5; i += 1) {
    statuses.push(
      (await app.inject({ method: 'POST', url: '/orders', payload: order(`h-rate-${i}`, 'greedy-user'), headers: KEY }))
        .statusCode,
    );
  }
  const afterLimit = await hash();
  const refused = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: order('h-rate-extra', 'greedy-user'),
    headers: KEY,
  });
  expect(
    refused.statusCode === 429 && refused.json().code === 'RATE_LIMITED',
    `order past the limit → ${refused.statusCode}`,
  );
  expect((await hash()) === afterLimit, 'a rate-limited order changed state');
  expect(
    statuses.filter((s) => s === 201).length === RATE_LIMIT,
    `${statuses.filter((s) => s === 201).length} orders accepted, limit ${RATE_LIMIT}`,
  );
  const other = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: order('h-rate-other', 'modest-user'),
    headers: KEY,
  });
  expect(other.statusCode === 201, `another user was limited too (${other.statusCode})`);
  return problems;
}

/** Admin routes with the token: control characters and bad numbers are a 400 that changes nothing. */
async function adminInputChecks(app: FastifyInstance, hash: () => Promise<string>): Promise<string[]> {
  const problems: string[] = [];
  const headers = (key: string) => ({ authorization: `Bearer ${CHAOS_ADMIN_TOKEN}`, 'idempotency-key': key });
  const send = (method: 'POST' | 'PUT', url: string, payload: object, key = 'h-admin') =>
    app.inject({ method, url, payload, headers: headers(key) });
  const refused: [string, () => ReturnType<typeof send>][] = [
    ['product name', () => send('PUT', '/admin/products/H-NUL', { name: 'a\u0000b' })],
    [
      'receipt reason',
      () => send('POST', '/admin/receipts', { sku: SKU, warehouseCode: 'W1', quantity: 1, reason: 'r\u0007' }, 'h-r'),
    ],
    [
      'adjustment note',
      () =>
        send(
          'POST',
          '/admin/adjustments',
          { sku: SKU, warehouseCode: 'W1', delta: -1, reasonCode: 'DAMAGE', note: '\u0000' },
          'h-a',
        ),
    ],
    ['quarantine reason', () => send('POST', `/admin/lots/${SKU}/W1/L1/quarantine`, { reason: 'q\u009f' }, 'h-q')],
    ['warehouse region', () => send('PUT', '/admin/warehouses/H-W', { name: 'w', region: 'eu\u0000' })],
    ['half a position', () => send('PUT', '/admin/warehouses/H-W', { name: 'w', latitude: 1 })],
    [
      'a 32-bit overflow',
      () =>
        send(
          'POST',
          '/admin/receipts',
          { sku: SKU, warehouseCode: 'W1', quantity: 1, reason: 'r', expectedQuantity: 2 ** 31 },
          'h-o',
        ),
    ],
  ];
  for (const [what, call] of refused) {
    const before = await hash();
    const res = await call();
    if (res.statusCode !== 400) problems.push(`${what} with bad input → ${res.statusCode}, expected 400`);
    if ((await hash()) !== before) problems.push(`a refused ${what} changed state`);
  }
  // A transfer: bad receipts are refused at once, and a valid one afterwards still works.
  await app.inject({ method: 'PUT', url: '/admin/warehouses/W2', payload: { name: 'W2' }, headers: headers('w2') });
  const created = await send('POST', '/transfers', {
    transferId: 'h-transfer',
    sku: SKU,
    fromWarehouse: 'W1',
    toWarehouse: 'W2',
    quantity: 3,
  });
  const ship = await send('POST', '/transfers/h-transfer/ship', {});
  if (created.statusCode !== 201 || ship.statusCode !== 200)
    problems.push(`transfer setup → ${created.statusCode}/${ship.statusCode}`);
  for (const body of [{ receivedQuantity: 2, shortfallReason: 'lost\u0000' }, { receivedQuantity: 4 }]) {
    const res = await send('POST', '/transfers/h-transfer/receive', body);
    if (res.statusCode !== 400) problems.push(`receive ${JSON.stringify(body)} → ${res.statusCode}, expected 400`);
  }
  const received = await send('POST', '/transfers/h-transfer/receive', { receivedQuantity: 3 });
  if (received.statusCode !== 200 || received.json().stage !== 'RECEIVED')
    problems.push(`a valid receive after refused ones → ${received.statusCode} ${received.body}`);
  const del = await app.inject({ method: 'DELETE', url: '/orders/h-real' });
  if (del.statusCode !== 405 || !del.headers.allow)
    problems.push(`DELETE /orders/:id → ${del.statusCode}, expected 405 with Allow`);
  const long = await app.inject({ method: 'GET', url: `/orders/${'x'.repeat(150)}` });
  if (long.statusCode !== 400 || long.json().code !== 'VALIDATION_FAILED')
    problems.push(`a 150-character id → ${long.statusCode} ${long.body}`);
  return problems;
}
