/**
 * Issue 18 item 3: what the webhooks sign verifies with the npm `standardwebhooks` package
 * (a tampered body, a stale timestamp and a retired secret do not); the SSRF address check;
 * the retry verdicts (backoff with jitter, Retry-After, 410, 3xx).
 */
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../config';
import { DEFAULT_RETRY_SCHEDULE_MS, judgeAttempt, typeSelected } from '../../domain/event-subscriptions';
import { isPrivateAddress, outboundRefusal } from '../../platform/outbound-address';
import { newWebhookSecret, webhookHeaders } from '../../platform/standard-webhooks';
import { parseRetryAfter } from '../../platform/webhook-client';

const body = JSON.stringify({ specversion: '1.0', id: 'e-1', type: 'stock.changed', data: { sku: 'A' } });
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('Standard Webhooks signatures', () => {
  it('verify with the standardwebhooks package; a tampered body or a stale timestamp does not', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const headers = webhookHeaders([secret], 'e-1', nowSeconds(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ id: 'e-1' });
    // The package's own signature is the same bytes.
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('e-1', new Date(nowSeconds() * 1000), body));
    expect(() => new Webhook(secret).verify(body.replace('"A"', '"B"'), headers)).toThrow(/No matching signature/);
    const stale = webhookHeaders([secret], 'e-1', nowSeconds() - 600, body);
    expect(() => new Webhook(secret).verify(body, stale)).toThrow(/too old/);
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
  });

  it('during a rotation both secrets verify; after it the new one alone does', () => {
    const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
    const overlap = webhookHeaders([newSecret, oldSecret], 'e-2', nowSeconds(), body);
    expect(overlap['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(newSecret).verify(body, overlap)).toBeTruthy();
    expect(new Webhook(oldSecret).verify(body, overlap)).toBeTruthy();
    const after = webhookHeaders([newSecret], 'e-2', nowSeconds(), body);
    expect(new Webhook(newSecret).verify(body, after)).toBeTruthy();
    expect(() => new Webhook(oldSecret).verify(body, after)).toThrow(/No matching signature/);
  });
});

describe('the SSRF address check', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    'nonsense',
  ])('%s is private', (address) => expect(isPrivateAddress(address)).toBe(true));
  it.each(['93.184.216.34', '8.8.8.8', '2606:2800:220:1:248:1893:25c8:1946', '172.32.0.1'])('%s is public', (address) =>
    expect(isPrivateAddress(address)).toBe(false),
  );

  const production = { refusePrivate: true, allowedHosts: ['hooks.internal'] };
  const resolveTo = (addresses: string[]) => async () => addresses;
  it('refuses in production a URL that resolves to a private address, unless its host is allowed', async () => {
    expect(await outboundRefusal('http://127.0.0.1:8080/x', production)).toMatch(/private address \(127.0.0.1\)/);
    expect(await outboundRefusal('http://[::1]/x', production)).toMatch(/private address/);
    expect(
      await outboundRefusal('https://shop.example/hook', production, resolveTo(['93.184.216.34', '10.0.0.5'])),
    ).toMatch(/10.0.0.5/);
    expect(
      await outboundRefusal('https://shop.example/hook', production, resolveTo(['93.184.216.34'])),
    ).toBeUndefined();
    expect(await outboundRefusal('http://hooks.internal/x', production, resolveTo(['10.0.0.5']))).toBeUndefined();
    expect(await outboundRefusal('ftp://shop.example/x', production)).toMatch(/only http/);
    expect(await outboundRefusal('https://u:p@shop.example/x', production)).toMatch(/credentials/);
    // Outside production a loopback receiver is fine (tests, local development).
    expect(
      await outboundRefusal('http://127.0.0.1:8080/x', { refusePrivate: false, allowedHosts: [] }),
    ).toBeUndefined();
  });
});

describe('retry verdicts', () => {
  const answered = (status: number, retryAfterMs?: number) => ({ kind: 'answered' as const, status, retryAfterMs });
  it('backs off with ±20 % jitter over about a day, then gives up', () => {
    const total = DEFAULT_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    expect(total / 3600_000).toBeGreaterThan(20);
    expect(total / 3600_000).toBeLessThan(30);
    expect(judgeAttempt(answered(500), 1, DEFAULT_RETRY_SCHEDULE_MS, () => 0)).toEqual({
      next: 'retry',
      outcome: 'http_error',
      delayMs: 4_000,
    });
    expect(judgeAttempt(answered(500), 2, DEFAULT_RETRY_SCHEDULE_MS, () => 1)).toEqual({
      next: 'retry',
      outcome: 'http_error',
      delayMs: 360_000,
    });
    expect(
      judgeAttempt(answered(500), DEFAULT_RETRY_SCHEDULE_MS.length + 1, DEFAULT_RETRY_SCHEDULE_MS, Math.random),
    ).toEqual({
      next: 'dead',
      outcome: 'http_error',
    });
  });
  it('honours Retry-After on 429 and 503, stops at 410, counts a 3xx as a failure', () => {
    expect(judgeAttempt(answered(429, 120_000), 1, [5_000], Math.random)).toEqual({
      next: 'retry',
      outcome: 'throttled',
      delayMs: 120_000,
    });
    expect(judgeAttempt(answered(503, 7_000), 1, [5_000], Math.random)).toEqual({
      next: 'retry',
      outcome: 'throttled',
      delayMs: 7_000,
    });
    expect(judgeAttempt(answered(410), 1, [5_000], Math.random)).toEqual({ next: 'gone', outcome: 'gone' });
    expect(judgeAttempt(answered(302), 1, [5_000], () => 0.5)).toEqual({
      next: 'retry',
      outcome: 'redirect',
      delayMs: 5_000,
    });
    expect(judgeAttempt(answered(204), 3, [5_000], Math.random)).toEqual({ next: 'done', outcome: 'delivered' });
    expect(judgeAttempt({ kind: 'failed', timedOut: true }, 1, [5_000], () => 0.5)).toMatchObject({
      outcome: 'timeout',
    });
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
  it('selects types exactly or by family', () => {
    expect(typeSelected([], 'order.held')).toBe(true);
    expect(typeSelected(['stock.*'], 'stock.out_of_stock')).toBe(true);
    expect(typeSelected(['stock.*'], 'order.held')).toBe(false);
    expect(typeSelected(['order.held'], 'order.held')).toBe(true);
  });
});

describe('the event webhook settings', () => {
  it('default to about a day of retries, refuse a schedule that is not durations, refuse private addresses in production only', () => {
    const dev = loadConfig({}).eventWebhooks;
    expect(dev).toMatchObject({
      timeoutMs: 10_000,
      retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS,
      secretOverlapSeconds: 86_400,
      refusePrivate: false,
      allowedHosts: [],
    });
    expect(
      loadConfig({ WEBHOOK_RETRY_SCHEDULE: '500ms, 2s', WEBHOOK_ALLOWED_HOSTS: 'Hooks.Internal, ' }).eventWebhooks,
    ).toMatchObject({
      retryScheduleMs: [500, 2_000],
      allowedHosts: ['hooks.internal'],
    });
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
  });
});
