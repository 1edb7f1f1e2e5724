/** Pure units: line merging, webhook signatures, configuration validation, error table. */
import { verifySignature, signPayload } from '../../platform/webhook-signature';
import { ConfigError, loadConfig } from '../../config';
import { formatKey, parseKey, parseLifetime, parseScopes } from '../../domain/api-keys';
import { ErrorCode, httpStatusOf } from '../../domain/errors';
import { compareBytes } from '../../domain/byte-order';
import { mergeLines, sameOrder } from '../../domain/lines';

describe('mergeLines', () => {
  it('sums lines of one SKU × warehouse and sorts them in lock order', () => {
    expect(
      mergeLines([
        { sku: 'B', warehouseCode: 'W1', quantity: 1 },
        { sku: 'A', warehouseCode: 'W2', quantity: 2 },
        { sku: 'B', warehouseCode: 'W1', quantity: 4 },
        { sku: 'A', warehouseCode: 'W1', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'A', warehouseCode: 'W1', quantity: 3 },
      { sku: 'A', warehouseCode: 'W2', quantity: 2 },
      { sku: 'B', warehouseCode: 'W1', quantity: 5 },
    ]);
  });

  it('sameOrder ignores line order and splitting, not quantities or users', () => {
    const a = { userId: 'u', lines: [{ sku: 'A', warehouseCode: 'W', quantity: 2 }] };
    expect(
      sameOrder(a, {
        userId: 'u',
        lines: [
          { sku: 'A', warehouseCode: 'W', quantity: 1 },
          { sku: 'A', warehouseCode: 'W', quantity: 1 },
        ],
      }),
    ).toBe(true);
    expect(sameOrder(a, { userId: 'u', lines: [{ sku: 'A', warehouseCode: 'W', quantity: 3 }] })).toBe(false);
    expect(sameOrder(a, { ...a, userId: 'v' })).toBe(false);
  });

  it('sameOrder tells apart the amount and the campaign (issue 16: the saga would run with the other body)', () => {
    const a = {
      userId: 'u',
      lines: [{ sku: 'A', warehouseCode: 'W', quantity: 2 }],
      amountCents: 500,
      campaignId: 'c1',
    };
    expect(sameOrder(a, { ...a })).toBe(true);
    expect(sameOrder(a, { ...a, amountCents: 1 })).toBe(false);
    expect(sameOrder(a, { ...a, amountCents: undefined })).toBe(false);
    expect(sameOrder(a, { ...a, campaignId: 'c2' })).toBe(false);
    expect(sameOrder(a, { ...a, campaignId: undefined })).toBe(false);
  });
});

describe('compareBytes (the lock order)', () => {
  const bytes = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

  it('is UTF-8 byte order, as PostgreSQL COLLATE "C": uppercase before lowercase, "-" before "." before "_"', () => {
    const ids = ['sku_a', 'sku-B', 'b', 'C', 'a-1', 'A_2', 'x.1', 'x_1', 'x-1', 'x', 'WH-b', 'wh_A'];
    expect([...ids].sort(compareBytes)).toEqual([
      'A_2',
      'C',
      'WH-b',
      'a-1',
      'b',
      'sku-B',
      'sku_a',
      'wh_A',
      'x',
      'x-1',
      'x.1',
      'x_1',
    ]);
  });

  it('agrees with byte order where UTF-16 code units do not: astral characters after U+E000–FFFF', () => {
    const pairs: [string, string][] = [
      ['\u{1F600}', '\uFF21'],
      ['a\u{10000}', 'a\uE000'],
      ['é', 'e\u0301'],
      ['ab', 'a'],
      ['same', 'same'],
    ];
    for (const [a, b] of pairs) {
      expect(Math.sign(compareBytes(a, b))).toBe(bytes(a, b));
      expect(Math.sign(compareBytes(b, a))).toBe(bytes(b, a));
    }
    expect('\u{1F600}' < '\uFF21').toBe(true); // why `<` is not enough
  });

  it('mergeLines sorts by it', () => {
    const lines = [
      { sku: 'sku_a', warehouseCode: 'W', quantity: 1 },
      { sku: 'sku-B', warehouseCode: 'W', quantity: 1 },
    ];
    expect(mergeLines(lines).map((l) => l.sku)).toEqual(['sku-B', 'sku_a']);
  });
});

describe('webhook signature', () => {
  const body = '{"eventId":"e1"}';
  const now = 1_800_000_000;
  const sig = signPayload('s3cret', now, body);

  it('accepts a fresh, correctly signed body', () => {
    expect(verifySignature('s3cret', 300, now + 10, { signature: sig, timestamp: String(now) }, body)).toEqual({
      ok: true,
    });
  });

  it.each([
    ['another secret', 's3cret-2', now, sig, body],
    ['a changed body', 's3cret', now, sig, body.replace('e1', 'e2')],
    ['a replayed old timestamp', 's3cret', now + 301, sig, body],
    ['a timestamp from the future', 's3cret', now - 301, sig, body],
  ])('refuses %s', (_name, secret, clock, signature, payload) => {
    expect(verifySignature(secret, 300, clock, { signature, timestamp: String(now) }, payload).ok).toBe(false);
  });

  it('refuses missing or malformed headers', () => {
    expect(verifySignature('s3cret', 300, now, { timestamp: String(now) }, body).ok).toBe(false);
    expect(verifySignature('s3cret', 300, now, { signature: sig, timestamp: '12abc' }, body).ok).toBe(false);
  });
});

describe('loadConfig', () => {
  it('has defaults that work on this machine', () => {
    const c = loadConfig({});
    expect(c.reservationTtlSeconds).toBe(1800);
    expect(c.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'stockhold-orders' });
    expect(c.sweeperInterval).toBe('5m');
    expect([c.expiryCheckInterval, c.reconcileInterval, c.alertWebhook, c.transferReceiveDeadlineSeconds]).toEqual([
      '1h',
      '1h',
      undefined,
      72 * 3600,
    ]);
    expect(loadConfig({ ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/x' }).alertWebhook).toEqual({
      url: 'http://127.0.0.1:9/x',
      secret: 'dev-alert-secret',
    });
    expect(c.cache).toMatchObject({ checkInterval: '10m', checkDriftPercent: 1, checkHotPercent: 10 });
    expect(loadConfig({ CACHE_CHECK_DRIFT_PERCENT: '0.5' }).cache.checkDriftPercent).toBe(0.5);
  });

  it.each([
    ['RESERVATION_TTL_SECONDS', 'soon'],
    ['RESERVATION_TTL_SECONDS', '0'],
    ['DATABASE_URL', 'oracle://x/y'],
    ['REDIS_URL', 'not a url'],
    ['TEMPORAL_ADDRESS', 'no-port'],
    ['SWEEPER_INTERVAL', 'often'],
    ['PORT', '70000'],
    ['EXPIRY_CHECK_INTERVAL', 'hourly'],
    ['ALERT_WEBHOOK_URL', 'ftp://x/y'],
    ['TRANSFER_RECEIVE_DEADLINE', '3 days'],
    ['CACHE_CHECK_INTERVAL', 'hourly'],
    ['CACHE_CHECK_DRIFT_PERCENT', '150'],
    ['REDIS_COMMAND_TIMEOUT_MS', '5'],
    ['ORDER_RATE_LIMIT_PER_MINUTE', '0'],
    ['KEY_RATE_LIMIT_PER_MINUTE', '0'],
    ['API_KEY_CACHE_SECONDS', '301'],
    ['OPS_PORT', 'ops'],
    ['WORKER_METRICS_PORT', '-1'],
  ])('refuses a bad %s (%s), naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('reads the ops port and the worker address', () => {
    expect(loadConfig({}).api).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(loadConfig({ HOST: '0.0.0.0', OPS_PORT: '9100' }).api).toEqual({
      host: '0.0.0.0',
      port: 3000,
      ops: { host: '0.0.0.0', port: 9100 },
    });
    expect(loadConfig({ OPS_PORT: '9100', OPS_HOST: '10.0.0.5' }).api.ops).toEqual({ host: '10.0.0.5', port: 9100 });
    expect(loadConfig({}).workerHttp).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({ WORKER_METRICS_HOST: '0.0.0.0' }).workerHttp.host).toBe('0.0.0.0');
  });

  it('demands real secrets in production (the cases: test/unit/config-security.test.ts)', () => {
    const strong = (c: string) => `${c}${'kq7Zp2Lx9Vt4Rb8Nw3Jm6Hs1Gd5Fc0Ya'}`;
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow('WEBHOOK_SECRET');
    expect(() => loadConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: strong('w'), ADMIN_TOKEN: strong('a') })).toThrow(
      'CONSOLE_SESSION_SECRET',
    );
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        WEBHOOK_SECRET: strong('w'),
        ADMIN_TOKEN: strong('a'),
        CONSOLE_SESSION_SECRET: strong('c'),
      }),
    ).not.toThrow();
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        WEBHOOK_SECRET: strong('w'),
        ADMIN_TOKEN: strong('a'),
        CONSOLE_SESSION_SECRET: strong('c'),
        ALERT_WEBHOOK_URL: 'https://ops/x',
      }),
    ).toThrow('ALERT_WEBHOOK_SECRET');
  });
});

it('maps every error code to a status, and bad input never to a 5xx', () => {
  for (const code of Object.values(ErrorCode)) expect(httpStatusOf[code]).toBeGreaterThanOrEqual(400);
  for (const code of [ErrorCode.VALIDATION_FAILED, ErrorCode.INSUFFICIENT_STOCK, ErrorCode.INVALID_SIGNATURE]) {
    expect(httpStatusOf[code]).toBeLessThan(500);
  }
});

describe('API keys', () => {
  it('parses keys, scopes and lifetimes; refuses anything else', () => {
    const key = formatKey('0123456789abcdef', 'A'.repeat(32));
    expect(parseKey(key)).toEqual({ id: '0123456789abcdef', secret: 'A'.repeat(32) });
    for (const bad of [
      '',
      'sk_0123456789abcdef',
      'sk_0123456789ABCDEF_' + 'A'.repeat(32),
      'pk_0123456789abcdef_' + 'A'.repeat(32),
      key + ' ',
    ])
      expect(parseKey(bad)).toBeUndefined();
    expect(parseScopes('orders, inventory:read,orders')).toEqual(['orders', 'inventory:read']);
    expect(() => parseScopes('orders,root')).toThrow('unknown scope root');
    expect(() => parseScopes(' , ')).toThrow('at least one scope');
    expect(parseLifetime('30d')).toBe(30 * 86_400_000);
    expect(parseLifetime('90m')).toBe(90 * 60_000);
    for (const bad of ['0d', '30', '1y', '-1d']) expect(() => parseLifetime(bad)).toThrow();
  });
});
