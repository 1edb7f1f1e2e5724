/**
 * The hostile request generator: malformed, oversized, mistyped and unauthenticated
 * variations of every route, admin routes with the token and control characters in every
 * free-text field, plus some valid ones so the property also sees 2xx. Shop requests carry
 * the key, or now and then none, a wrong one or a malformed one.
 * Valid payments only ever name `c-` orders, which are never placed: a background
 * confirmation would make the "nothing changed on a 4xx" check meaningless.
 */
import fc from 'fast-check';
import { signPayload } from '../../platform/webhook-signature';

export interface HostileRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  readonly url: string;
  readonly payload?: string;
  readonly headers: Record<string, string>;
}

const SKU = 'CHAOS-HOSTILE';
const validId = fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/);
const anyId = fc.oneof(
  validId,
  fc.string({ maxLength: 80 }),
  fc.constantFrom('', '..', '%00', 'x'.repeat(65), '../admin', 'ü', 'a:b'),
);
const junk = fc.oneof(
  fc.jsonValue(),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{', '[]', 'null', '{"__proto__":{"x":1}}', '\u0000'),
);
const quantity = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.double(),
  fc.string(),
  fc.constantFrom(0, 100_001, 1e12, null),
);
const line = fc.record(
  { sku: fc.oneof(fc.constant(SKU), anyId), warehouseCode: fc.oneof(fc.constant('W1'), anyId), quantity },
  { requiredKeys: [] },
);
const orderBody = fc.record(
  {
    orderId: anyId.map((id) => `h-${id}`),
    userId: anyId,
    lines: fc.oneof(fc.array(line, { maxLength: 3 }), junk),
    extra: junk,
  },
  { requiredKeys: ['orderId'] },
);
const json = { 'content-type': 'application/json' };
const segment = anyId.map((s) => encodeURIComponent(s));

/** The caller's key, mostly the real one: the other routes' checks must also see past the guard. */
const keyHeader = (token: string) =>
  fc
    .oneof(
      { weight: 8, arbitrary: fc.constant(`Bearer ${token}`) },
      fc.constantFrom(
        undefined,
        'Bearer sk_0123456789abcdef_notthesecretnotthesecretnotthesecret',
        `Bearer ${token}x`,
        token,
      ),
    )
    .map((auth): Record<string, string> => (auth === undefined ? {} : { authorization: auth }));

const placeOrder = fc
  .oneof(
    orderBody.map((b) => JSON.stringify(b)),
    junk.map((j) => (typeof j === 'string' ? j : JSON.stringify(j))),
  )
  .map((payload): HostileRequest => ({ method: 'POST', url: '/orders', payload, headers: json }));

/** Well-formed orders among the hostile ones: the property must also hold next to real changes. */
const validOrder = fc
  .record({ orderId: validId.map((id) => `h-${id}`), userId: validId, quantity: fc.integer({ min: 1, max: 3 }) })
  .map(({ orderId, userId, quantity }): HostileRequest => ({
    method: 'POST',
    url: '/orders',
    payload: JSON.stringify({ orderId, userId, lines: [{ sku: SKU, warehouseCode: 'W1', quantity }] }),
    headers: json,
  }));

const payment = fc.record({
  eventId: fc.oneof(validId, anyId),
  type: fc.oneof(fc.constant('payment.succeeded'), fc.string()),
  orderId: anyId.map((id) => `c-${id}`),
  paymentId: fc.oneof(validId, anyId),
  amountCents: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.string()),
});

/** Signature variants: none, wrong key, stale or future timestamp, another body's, or valid. */
function signatureHeaders(secret: string, variant: string, payload: string): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  const sign = (key: string, ts: number, body: string) => ({
    'x-signature-timestamp': String(ts),
    'x-signature': signPayload(key, ts, body),
  });
  switch (variant) {
    case 'none':
      return {};
    case 'wrong-key':
      return sign('not-the-secret', now, payload);
    case 'stale':
      return sign(secret, now - 3600, payload);
    case 'future':
      return sign(secret, now + 3600, payload);
    case 'other-body':
      return sign(secret, now, `${payload} `);
    default:
      return sign(secret, now, payload);
  }
}

const webhook = (secret: string) =>
  fc
    .tuple(
      fc.oneof(
        payment.map((p) => JSON.stringify(p)),
        junk.map((j) => JSON.stringify(j)),
      ),
      fc.constantFrom('none', 'wrong-key', 'stale', 'future', 'other-body', 'valid'),
    )
    .map(([payload, variant]): HostileRequest => ({
      method: 'POST',
      url: '/webhooks/payments',
      payload,
      headers: { ...json, ...signatureHeaders(secret, variant, payload) },
    }));

const reads = fc.oneof(
  segment.map((s): HostileRequest => ({ method: 'GET', url: `/orders/${s}`, headers: {} })),
  fc
    .oneof(fc.constant(SKU), anyId)
    .map((s): HostileRequest => ({ method: 'GET', url: `/inventory/${encodeURIComponent(s)}`, headers: {} })),
  fc.tuple(segment, fc.option(junk)).map(([s, body]): HostileRequest => ({
    method: 'POST',
    url: `/orders/c-${s}/cancel`,
    payload: body === null ? undefined : JSON.stringify(body),
    headers: json,
  })),
);

const admin = fc
  .tuple(
    fc.constantFrom('/admin/products/X', '/admin/warehouses/W9', '/admin/receipts', '/admin/cache/checks'),
    fc.constantFrom(undefined, 'Bearer wrong', 'Bearer ', 'Basic x'),
    junk,
  )
  .map(([url, auth, body]): HostileRequest => ({
    method: url === '/admin/cache/checks' ? 'GET' : url === '/admin/receipts' ? 'POST' : 'PUT',
    url,
    payload: url === '/admin/cache/checks' ? undefined : JSON.stringify(body),
    headers: { ...json, 'idempotency-key': 'hostile', ...(auth ? { authorization: auth } : {}) },
  }));

/** Text as hostile as JSON can carry: control characters (NUL first), lone surrogates, long runs. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\u0007bell',
    'tab\there',
    'new\nline',
    '\u007f',
    'c1\u0085',
    '\u009f',
    '\ud800',
    'ü漢',
    ' ',
    'x'.repeat(300),
  ),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.integer({ min: 0, max: 0x9f }), fc.string({ maxLength: 10 }))
    .map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`),
);
const count = fc.oneof(fc.integer({ min: -5, max: 20 }), fc.constantFrom(0, 2_147_483_648, 3e9, -1e12, 1.5, '5', null));
const coordinate = fc.oneof(fc.double({ min: -200, max: 200, noNaN: true }), fc.constant(null), fc.constant('10'));
const place = fc.record(
  { name: text, region: text, priority: count, latitude: coordinate, longitude: coordinate },
  { requiredKeys: ['name'] },
);
const key = fc.oneof(validId, fc.constantFrom('', 'k\u0000', 'x'.repeat(200)));

/**
 * Admin routes *with* the token: every free-text field gets control characters, every number
 * the edges of 32 bits, positions get half their coordinates. Bodies name only the hostile
 * SKU, unknown ones or warehouses W1/W2, so a 2xx is a synchronous change: no campaign whose
 * end would move stock later (a refused campaign names no product).
 */
const adminWithToken = (token: string) => {
  const headers = (k: string) => ({ ...json, authorization: `Bearer ${token}`, 'idempotency-key': k });
  const sku = fc.oneof(fc.constant(SKU), anyId);
  const wh = fc.oneof(fc.constantFrom('W1', 'W2'), anyId);
  const send = (method: HostileRequest['method'], url: fc.Arbitrary<string>, body: fc.Arbitrary<unknown>) =>
    fc
      .tuple(url, body, key)
      .map(([u, b, k]): HostileRequest => ({ method, url: u, payload: JSON.stringify(b), headers: headers(k) }));
  return fc.oneof(
    send(
      'PUT',
      segment.map((s) => `/admin/products/hx-${s}`),
      fc.record(
        { name: text, lotTracked: fc.boolean(), alertDaysBeforeExpiry: count, removalDaysBeforeExpiry: count },
        { requiredKeys: ['name'] },
      ),
    ),
    send(
      'PUT',
      segment.map((s) => `/admin/warehouses/hx-${s}`),
      place,
    ),
    send(
      'POST',
      fc.constant('/admin/receipts'),
      fc.record(
        {
          sku,
          warehouseCode: wh,
          quantity: count,
          reason: text,
          lotCode: anyId,
          expiresAt: fc.constantFrom('2999-01-01T00:00:00Z', 'yesterday', '\u0000'),
          expectedQuantity: count,
        },
        { requiredKeys: ['sku', 'warehouseCode', 'quantity', 'reason'] },
      ),
    ),
    send(
      'POST',
      fc.constant('/admin/adjustments'),
      fc.record(
        {
          sku,
          warehouseCode: wh,
          delta: count,
          reasonCode: fc.constantFrom('COUNT', 'DAMAGE', 'FOUND', 'NOPE'),
          note: text,
          lotCode: anyId,
          expectedQuantity: count,
        },
        { requiredKeys: ['sku', 'warehouseCode', 'delta', 'reasonCode'] },
      ),
    ),
    send(
      'PUT',
      fc.tuple(sku, wh).map(([s, w]) => `/admin/levels/${encodeURIComponent(s)}/${encodeURIComponent(w)}/safety-stock`),
      fc.record({ safetyStock: count, expectedQuantity: count }, { requiredKeys: ['safetyStock'] }),
    ),
    send(
      'POST',
      fc
        .tuple(sku, segment, fc.constantFrom('quarantine', 'release'))
        .map(([s, l, a]) => `/admin/lots/${encodeURIComponent(s)}/W1/${l}/${a}`),
      fc.record({ reason: text, expectedQuantity: count }),
    ),
    send(
      'POST',
      fc.constant('/transfers'),
      fc.record({
        transferId: anyId.map((id) => `hx-${id}`),
        sku: anyId,
        fromWarehouse: wh,
        toWarehouse: wh,
        quantity: count,
      }),
    ),
    send(
      'POST',
      segment.map((s) => `/transfers/hx-${s}/receive`),
      fc.record({ receivedQuantity: count, shortfallReason: text }),
    ),
    send(
      'POST',
      fc.constant('/admin/campaigns'),
      fc.record({
        id: anyId,
        sku: anyId.map((id) => `none-${id}`),
        warehouseCode: wh,
        kind: fc.constantFrom('FLASH_SALE', 'PRE_SALE', 'X'),
        startsAt: fc.constantFrom('2000-01-01T00:00:00Z', 'now'),
        endsAt: fc.constantFrom('1999-01-01T00:00:00Z', '2999-01-01T00:00:00Z'),
        quota: count,
        perUserLimit: count,
      }),
    ),
    fc
      .tuple(
        fc.constantFrom('/admin/cache/checks', '/alerts'),
        fc.oneof(fc.string({ maxLength: 12 }), count.map(String)),
      )
      .map(([u, limit]): HostileRequest => ({
        method: 'GET',
        url: `${u}?limit=${encodeURIComponent(limit)}`,
        headers: headers('q'),
      })),
    fc.tuple(segment, text).map(([s, reason]): HostileRequest => ({
      method: 'POST',
      url: `/orders/c-${s}/cancel`,
      payload: JSON.stringify({ reason }),
      headers: json,
    })),
  );
};

const anything = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') as fc.Arbitrary<HostileRequest['method']>,
    fc.webPath(),
    junk,
    fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
  )
  .map(([method, path, body, type]): HostileRequest => ({
    method,
    url: path.startsWith('/') ? path : `/${path}`,
    payload: method === 'GET' ? undefined : JSON.stringify(body),
    headers: { 'content-type': type },
  }));

/** `token`: the shop's key (the bootstrap key), sent (or not, or wrong) with the shop's requests. */
export function hostileRequest(secret: string, token: string): fc.Arbitrary<HostileRequest> {
  const keyed = (requests: fc.Arbitrary<HostileRequest>) =>
    fc
      .tuple(requests, keyHeader(token))
      .map(([r, key]): HostileRequest => ({ ...r, headers: { ...r.headers, ...key } }));
  return fc.oneof(
    keyed(placeOrder),
    keyed(validOrder),
    webhook(secret),
    keyed(reads),
    admin,
    adminWithToken(token),
    keyed(anything),
  );
}
