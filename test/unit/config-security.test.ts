/**
 * Boot-time checks of docs/security.md: weak secrets in production, transport settings
 * (PostgreSQL sslmode, rediss://, Temporal mTLS / API key) validated before anything connects,
 * and a real API and worker process refusing to start with a weak production secret.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, loadDatabaseConfig, MIN_SECRET_BYTES } from '../../config';
import { pgConfig } from '../../platform/postgres';
import { redisTlsOptions } from '../../platform/redis';
import { temporalConnectionOptions } from '../../platform/temporal';

const ROOT = path.resolve(__dirname, '../..');
const strong = () => randomBytes(36).toString('base64'); // 48 characters
const prod = (extra: Record<string, string | undefined> = {}) => ({
  NODE_ENV: 'production',
  WEBHOOK_SECRET: strong(),
  ADMIN_TOKEN: strong(),
  CONSOLE_SESSION_SECRET: strong(),
  ...extra,
});

let dir: string;
let file: (name: string) => string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-config-'));
  file = (name) => {
    const p = path.join(dir, name);
    writeFileSync(p, `-----BEGIN ${name}-----\n`);
    return p;
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ConfigError message loadConfig throws for `env`, or undefined. */
function refusal(env: Record<string, string | undefined>): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}

describe('secrets in production', () => {
  const weak: [string, string | undefined, RegExp][] = [
    ['missing', undefined, /required in production/],
    ['empty', '', /required in production/],
    ['whitespace only', '   \t ', /only whitespace/],
    ['the development default', 'dev-webhook-secret', /development default or a well-known placeholder/],
    ["docker-compose's placeholder", 'change-me-webhook-secret', /development default or a well-known placeholder/],
    ['a long placeholder', 'CHANGEME-CHANGEME-CHANGEME-CHANGEME-42', /placeholder \(contains "changeme"\)/],
    ['a "replace me" text', '<replace-me-with-the-real-secret-please>', /placeholder/],
    ['one character repeated', 'x'.repeat(64), /repeats too few characters/],
    ['short', 'Zq8!kP2@rT5#', /12 bytes; production needs at least 32/],
    [
      'one byte short',
      randomBytes(48)
        .toString('base64')
        .slice(0, MIN_SECRET_BYTES - 1),
      /31 bytes/,
    ],
  ];

  for (const variable of ['WEBHOOK_SECRET', 'ADMIN_TOKEN', 'CONSOLE_SESSION_SECRET']) {
    it.each(weak)(`${variable} %s: the boot stops, naming it`, (_case, value, reason) => {
      const message = refusal(prod({ [variable]: value }));
      expect(message).toMatch(new RegExp(`^${variable}: `));
      expect(message).toMatch(reason);
      expect(message).toContain('openssl rand');
    });
  }

  it.each(weak)('ALERT_WEBHOOK_SECRET %s (with ALERT_WEBHOOK_URL): the boot stops', (_case, value, reason) => {
    expect(refusal(prod({ ALERT_WEBHOOK_URL: 'https://ops.example.com/hook', ALERT_WEBHOOK_SECRET: value }))).toMatch(
      reason,
    );
  });

  it('names every bad secret in one refusal, not only the first, each with its reason', () => {
    const message = refusal({
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'dev-admin-token',
      ALERT_WEBHOOK_URL: 'https://ops.example.com/hook',
      ALERT_WEBHOOK_SECRET: 'Zq8!kP2@rT5#',
    });
    expect(message).toMatch(/^WEBHOOK_SECRET: required in production; /);
    expect(message).toContain('; ADMIN_TOKEN: is a development default or a well-known placeholder');
    expect(message).toContain('; ALERT_WEBHOOK_SECRET: is 12 bytes; production needs at least 32');
    expect(message).toMatch(/generate each with: openssl rand/);
    // One bad secret among good ones: only that one is named.
    expect(refusal(prod({ ADMIN_TOKEN: 'dev-admin-token' }))).not.toMatch(/WEBHOOK_SECRET/);
  });

  it('accepts random secrets of 32 bytes and more, trimmed of surrounding whitespace', () => {
    const webhook = randomBytes(24).toString('base64'); // exactly 32 characters
    const config = loadConfig(
      prod({
        WEBHOOK_SECRET: ` ${webhook}\n`,
        ALERT_WEBHOOK_URL: 'https://ops.example.com/hook',
        ALERT_WEBHOOK_SECRET: strong(),
      }),
    );
    expect(config.webhookSecret).toBe(webhook);
    expect(config.alertWebhook?.secret).toHaveLength(48);
  });

  it('outside production, unset or blank secrets take the development defaults (npm start, the README examples)', () => {
    expect(loadConfig({ WEBHOOK_SECRET: '  ', ADMIN_TOKEN: '' })).toMatchObject({
      webhookSecret: 'dev-webhook-secret',
      adminToken: 'dev-admin-token',
    });
    expect(loadConfig({ NODE_ENV: 'development', WEBHOOK_SECRET: 'short' }).webhookSecret).toBe('short');
  });

  it("the console's session secret: a development default, required in production, not needed with CONSOLE_ENABLED=false", () => {
    expect(loadConfig({}).console?.sessionSecret).toBe('dev-console-session-secret');
    expect(refusal(prod({ CONSOLE_SESSION_SECRET: undefined }))).toMatch(
      /^CONSOLE_SESSION_SECRET: required in production/,
    );
    const off = loadConfig(prod({ CONSOLE_SESSION_SECRET: undefined, CONSOLE_ENABLED: 'false' }));
    expect(off.console).toBeUndefined();
  });

  it('the bootstrap key: limited to admin in production, and switched off by ADMIN_TOKEN_ENABLED=false (then not required)', () => {
    expect(loadConfig(prod()).bootstrapKey).toEqual({ enabled: true, adminOnly: true });
    expect(loadConfig({}).bootstrapKey).toEqual({ enabled: true, adminOnly: false });
    const off = loadConfig(prod({ ADMIN_TOKEN: undefined, ADMIN_TOKEN_ENABLED: 'false' }));
    expect([off.bootstrapKey, off.adminToken]).toEqual([{ enabled: false, adminOnly: true }, '']);
  });

  it('TEMPORAL_API_KEY that is only whitespace is refused rather than sent', () => {
    expect(refusal({ TEMPORAL_API_KEY: '  ' })).toMatch(/^TEMPORAL_API_KEY: is only whitespace/);
  });
});

describe('PostgreSQL: the owner and the service role, sslmode, session settings', () => {
  it('locally the service connects as stockhold_app and migrations run as postgres; DATABASE_URL alone is both (as before)', () => {
    expect(loadDatabaseConfig({})).toMatchObject({
      databaseUrl: 'postgresql://stockhold_app@127.0.0.1:5432/stockhold',
      migrationDatabaseUrl: 'postgresql://postgres@127.0.0.1:5432/stockhold',
    });
    const one = 'postgresql://app:pw@db.internal:5432/shop';
    expect(loadDatabaseConfig({ DATABASE_URL: one })).toMatchObject({ databaseUrl: one, migrationDatabaseUrl: one });
    const owner = 'postgresql://owner:pw@db.internal:5432/shop';
    expect(loadDatabaseConfig({ DATABASE_URL: one, MIGRATION_DATABASE_URL: owner })).toMatchObject({
      databaseUrl: one,
      migrationDatabaseUrl: owner,
    });
    expect(loadDatabaseConfig({}).database).toEqual({
      ssl: { mode: 'disable', caFile: undefined, certFile: undefined, keyFile: undefined },
      poolMax: 10,
      holdPoolMax: 4,
      connectTimeoutMs: 5_000,
      statementTimeoutMs: 30_000,
      idleInTransactionTimeoutMs: 60_000,
      keepAliveIdleSeconds: 30,
    });
    expect(loadDatabaseConfig({}).migration).toEqual({ lockTimeoutMs: 10_000, statementTimeoutMs: 600_000 });
  });

  it.each([
    [
      { DATABASE_SSL_MODE: 'sometimes' },
      /^DATABASE_SSL_MODE: expected one of disable, require, verify-ca, verify-full/,
    ],
    [{ DATABASE_URL: 'postgresql://a@h/d?sslmode=prefer' }, /^DATABASE_URL: sslmode=prefer is not supported/],
    [{ MIGRATION_DATABASE_URL: 'postgresql://a@h/d?sslmode=allow' }, /^MIGRATION_DATABASE_URL: sslmode=allow/],
    [{ DATABASE_SSL_MODE: 'verify-ca' }, /verify-ca needs a CA file/],
    [
      { DATABASE_URL: 'postgresql://a@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem' },
      /^DATABASE_URL: sslrootcert: cannot read the file/,
    ],
    [
      { DATABASE_SSL_CA_FILE: '/nonexistent/ca.pem' },
      /^DATABASE_SSL_CA_FILE: cannot read the file "\/nonexistent\/ca.pem"/,
    ],
    [{ DB_POOL_MAX: '0' }, /^DB_POOL_MAX/],
    [{ DB_STATEMENT_TIMEOUT_MS: 'soon' }, /^DB_STATEMENT_TIMEOUT_MS/],
  ])('refuses %j', (env, message) => {
    expect(refusal(env)).toMatch(message);
  });

  it('refuses a client certificate without its key, and the reverse', () => {
    expect(refusal({ DATABASE_SSL_CERT_FILE: file('pg-client.crt') })).toMatch(
      /^DATABASE_SSL_KEY_FILE: required with DATABASE_SSL_CERT_FILE/,
    );
    expect(refusal({ DATABASE_SSL_KEY_FILE: file('pg-client.key') })).toMatch(
      /^DATABASE_SSL_CERT_FILE: required with DATABASE_SSL_KEY_FILE/,
    );
  });

  it("maps sslmode to node-postgres with libpq's meaning, the URL's own parameters winning, and strips them from the URL", () => {
    const ca = file('pg-ca.pem');
    const base = { ssl: { mode: 'verify-full' as const, caFile: ca } };
    const full = pgConfig('postgresql://app@db.internal/shop?application_name=api', base);
    expect(full.connectionString).toBe('postgresql://app@db.internal/shop?application_name=api');
    expect(full.ssl).toEqual({ ca: expect.stringContaining('BEGIN pg-ca.pem'), rejectUnauthorized: true });
    const require = pgConfig('postgresql://app@db.internal/shop?sslmode=require', base);
    expect(require.connectionString).toBe('postgresql://app@db.internal/shop');
    // require with a CA is verify-ca (libpq): the chain is checked, the host name is not.
    expect(require.ssl).toMatchObject({ rejectUnauthorized: true, checkServerIdentity: expect.any(Function) });
    expect(pgConfig('postgresql://app@db.internal/shop?sslmode=require', {}).ssl).toEqual({
      rejectUnauthorized: false,
    });
    expect(pgConfig('postgresql://app@db.internal/shop?sslmode=disable', base).ssl).toBe(false);
    expect(pgConfig('postgresql://app@db.internal/shop', {}).ssl).toBe(false);
  });

  it('sets statement_timeout, idle_in_transaction_session_timeout and TCP keepalive (both ends) on every session', () => {
    const config = pgConfig(
      'postgresql://app@db/shop',
      loadDatabaseConfig({ DB_STATEMENT_TIMEOUT_MS: '5000', DB_TCP_KEEPALIVE_IDLE_SECONDS: '15' }).database,
      7,
    );
    expect(config).toMatchObject({
      max: 7,
      statement_timeout: 5000,
      idle_in_transaction_session_timeout: 60_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 15_000,
      options: '-c tcp_keepalives_idle=15 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
    });
    // 0: PostgreSQL's own default (none).
    expect(pgConfig('postgresql://app@db/shop', { statementTimeoutMs: 0 })).not.toHaveProperty('statement_timeout');
  });
});

describe('Redis over TLS and Temporal with mTLS or an API key', () => {
  it('REDIS_TLS_* files need a rediss:// URL and must exist; rediss:// always verifies the server', () => {
    expect(refusal({ REDIS_TLS_CA_FILE: file('redis-ca.pem') })).toMatch(
      /^REDIS_URL: REDIS_TLS_\* files are set: use a rediss:\/\/ URL/,
    );
    expect(refusal({ REDIS_URL: 'rediss://cache:6380/0', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' })).toMatch(
      /^REDIS_TLS_CA_FILE: cannot read/,
    );
    expect(refusal({ REDIS_URL: 'rediss://cache:6380/0', REDIS_TLS_CERT_FILE: file('redis.crt') })).toMatch(
      /^REDIS_TLS_KEY_FILE: required/,
    );
    const ca = file('redis-ca2.pem');
    const config = loadConfig({ REDIS_URL: 'rediss://cache:6380/0', REDIS_TLS_CA_FILE: ca });
    expect(config.redisTls).toEqual({ caFile: ca, certFile: undefined, keyFile: undefined });
    expect(redisTlsOptions(config.redisUrl, config.redisTls)).toEqual({
      rejectUnauthorized: true,
      ca: expect.stringContaining('BEGIN redis-ca2.pem'),
    });
    expect(redisTlsOptions('rediss://cache:6380/0')).toEqual({ rejectUnauthorized: true });
    expect(redisTlsOptions('redis://cache:6379/0')).toBeUndefined();
  });

  it('Temporal: certificate and key together, files that exist, an API key only over TLS', () => {
    expect(refusal({ TEMPORAL_TLS_CERT_FILE: file('t.crt') })).toMatch(
      /^TEMPORAL_TLS_KEY_FILE: required with TEMPORAL_TLS_CERT_FILE/,
    );
    expect(refusal({ TEMPORAL_TLS_CA_FILE: '/nonexistent/ca.pem' })).toMatch(/^TEMPORAL_TLS_CA_FILE: cannot read/);
    expect(refusal({ TEMPORAL_API_KEY: 'key', TEMPORAL_TLS: 'false' })).toMatch(
      /^TEMPORAL_TLS: is false but TEMPORAL_API_KEY is set/,
    );
    expect(refusal({ TEMPORAL_TLS: 'maybe' })).toMatch(/^TEMPORAL_TLS: expected true or false/);
    expect(loadConfig({}).temporal.tls).toBeUndefined();

    // Temporal Cloud with mTLS: certificate pair (and a private CA when given).
    const crt = file('client.crt');
    const key = file('client.key');
    const mtls = loadConfig({
      TEMPORAL_ADDRESS: 'shop.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'shop.a1b2c',
      TEMPORAL_TLS_CERT_FILE: crt,
      TEMPORAL_TLS_KEY_FILE: key,
    });
    expect(mtls.temporal).toMatchObject({ namespace: 'shop.a1b2c', tls: { certFile: crt, keyFile: key } });
    const options = temporalConnectionOptions(mtls.temporal);
    expect(options.address).toBe('shop.a1b2c.tmprl.cloud:7233');
    expect(options.tls).toEqual({ clientCertPair: { crt: expect.any(Buffer), key: expect.any(Buffer) } });
    expect(options).not.toHaveProperty('apiKey');

    // Temporal Cloud with an API key: TLS with the system's CAs, the key as a bearer token.
    const keyed = loadConfig({
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
      TEMPORAL_API_KEY: 'eyJhbGciOi.secret',
    });
    expect(temporalConnectionOptions(keyed.temporal)).toEqual({
      address: 'us-east-1.aws.api.temporal.io:7233',
      tls: true,
      apiKey: 'eyJhbGciOi.secret',
    });
    expect(temporalConnectionOptions(loadConfig({}).temporal)).toEqual({ address: '127.0.0.1:7233' });
  });
});

describe('a real process with a weak production secret', () => {
  function boot(
    script: string,
    env: Record<string, string>,
  ): Promise<{ code: number | null; out: string; ms: number }> {
    const started = Date.now();
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, script)],
        { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
        (_err, stdout, stderr) => resolve({ code: child.exitCode, out: stdout + stderr, ms: Date.now() - started }),
      );
    });
  }

  it.each([
    [
      'api/server.ts',
      { WEBHOOK_SECRET: '   ', ADMIN_TOKEN: strong() },
      '[api] configuration refused: WEBHOOK_SECRET: is only whitespace',
    ],
    [
      'api/server.ts',
      { WEBHOOK_SECRET: strong(), ADMIN_TOKEN: 'dev-admin-token' },
      '[api] configuration refused: ADMIN_TOKEN: is a development default',
    ],
    [
      'worker.ts',
      { WEBHOOK_SECRET: 'too-short-for-production', ADMIN_TOKEN: strong() },
      '[worker] configuration refused: WEBHOOK_SECRET: is 24 bytes; production needs at least 32',
    ],
    [
      'worker.ts',
      { WEBHOOK_SECRET: '', ADMIN_TOKEN: 'change-me-admin-token' },
      '[worker] configuration refused: WEBHOOK_SECRET: required in production; ADMIN_TOKEN: is a development default',
    ],
    [
      'api/server.ts',
      {
        WEBHOOK_SECRET: strong(),
        ADMIN_TOKEN: strong(),
        CONSOLE_SESSION_SECRET: strong(),
        REDIS_URL: 'rediss://127.0.0.1:6390/0',
        REDIS_TLS_CA_FILE: '/nonexistent/ca.pem',
      },
      '[api] configuration refused: REDIS_TLS_CA_FILE: cannot read',
    ],
  ])(
    '%s with %j does not start: exit 1 and the reason, before connecting to anything',
    async (script, env, message) => {
      // Addresses where nothing listens: had the process got past its configuration, it would hang or fail otherwise.
      const run = await boot(script, {
        NODE_ENV: 'production',
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
        ...env,
      });
      expect(run.code).toBe(1);
      expect(run.out).toContain(message);
      expect(run.out).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
    },
  );
});
