/** The explicit checks of scenario 8: signatures, replays, requests without a key, per-user rate limit. */
import type { FastifyInstance } from 'fastify';
import { signedPayment } from '../../test/helpers/app';
import { CHAOS_ADMIN_TOKEN, CHAOS_SECRET, type Stack } from '../stack';

/** Orders per minute per user on the hostile app. */
export const RATE_LIMIT = 20;
const SKU = 'CHAOS-HOSTILE';

const order = (orderId: string, userId: string) => ({ orderId, userId, lines: [{ sku: SKU, warehouseCode: 'W1', quantity: 1 }] });
const KEY = { authorization: `Bearer ${CHAOS_ADMIN_TOKEN}` };

export async function explicitChecks(app: FastifyInstance, stack: Stack, hash: () => Promise<string>): Promise<string[]> {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const placed = await app.inject({ method: 'POST', url: '/orders', payload: order('h-real', 'real-user'), headers: KEY });
  expect(placed.statusCode === 201, `a valid order got ${placed.statusCode}`);
  const event = { eventId: 'ev-h-real', type: 'payment.succeeded', orderId: 'h-real', paymentId: 'pay-h-real', amountCents: 100 };
  const before = await hash();
  for (const [what, signed] of [
    ['bad signature', signedPayment('wrong-secret', event)],
    ['replayed timestamp', signedPayment(CHAOS_SECRET, event, Math.floor(Date.now() / 1000) - 24 * 3600)],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
    expect(res.statusCode === 401, `${what} → ${res.statusCode}, expected 401`);
  }
  for (const url of ['/admin/receipts', '/admin/cache/checks', '/orders']) {
    const res = await app.inject({ method: url === '/admin/cache/checks' ? 'GET' : 'POST', url, payload: url === '/admin/cache/checks' ? undefined : {} });
    expect(res.statusCode === 401, `${url} without a key → ${res.statusCode}, expected 401`);
  }
  expect((await hash()) === before, 'a refused webhook or admin call changed state');
  expect((await stack.db.reservation.findUnique({ where: { id: 'h-real' } }))?.status === 'RESERVED', 'the order was confirmed by a refused payment');

  const statuses: number[] = [];
  for (let i = 0; i < RATE_LIMIT + 5; i += 1) {
    statuses.push((await app.inject({ method: 'POST', url: '/orders', payload: order(`h-rate-${i}`, 'greedy-user'), headers: KEY })).statusCode);
  }
  const afterLimit = await hash();
  const refused = await app.inject({ method: 'POST', url: '/orders', payload: order('h-rate-extra', 'greedy-user'), headers: KEY });
  expect(refused.statusCode === 429 && refused.json().code === 'RATE_LIMITED', `order past the limit → ${refused.statusCode}`);
  expect((await hash()) === afterLimit, 'a rate-limited order changed state');
  expect(statuses.filter((s) => s === 201).length === RATE_LIMIT, `${statuses.filter((s) => s === 201).length} orders accepted, limit ${RATE_LIMIT}`);
  const other = await app.inject({ method: 'POST', url: '/orders', payload: order('h-rate-other', 'modest-user'), headers: KEY });
  expect(other.statusCode === 201, `another user was limited too (${other.statusCode})`);
  return problems;
}
