/**
 * The Redis TLS path, locally: a private redis-server listening only on a TLS port with a
 * certificate signed by a throw-away CA (openssl, generated here). The service's own clients —
 * the cache's and the flash-sale gate's, built from REDIS_URL=rediss://… and REDIS_TLS_CA_FILE
 * exactly as the processes build them — connect and work; without the CA, or with a
 * certificate for another host, they refuse the server.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type Redis from 'ioredis';
import { createStockCache } from '../../data/cache';
import { createGate } from '../../data/gate';
import { createGateRedis, createRedis } from '../../platform/redis';
import { freePort } from '../../platform/processes';
import { eventually } from '../helpers/app';
import { testConfig } from '../helpers/env';

const run = promisify(execFile);

let dir: string;
let server: ChildProcess;
let port: number;
let files: { ca: string; otherCa: string; clientCert: string; clientKey: string };

/** A CA, and a certificate it signs for `cn` with these subject alternative names. */
async function issue(
  name: string,
  ca: { crt: string; key: string },
  san: string,
): Promise<{ crt: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const crt = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${san}\n`);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.crt,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    crt,
    '-days',
    '1',
    '-extfile',
    ext,
  ]);
  return { crt, key };
}

async function makeCa(name: string): Promise<{ crt: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const crt = path.join(dir, `${name}.crt`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    crt,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
  ]);
  return { crt, key };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-redis-tls-'));
  const ca = await makeCa('test-ca');
  const otherCa = await makeCa('other-ca');
  const serverCert = await issue('redis-server', ca, 'IP:127.0.0.1,DNS:localhost');
  const client = await issue('stockhold-client', ca, 'DNS:stockhold');
  files = { ca: ca.crt, otherCa: otherCa.crt, clientCert: client.crt, clientKey: client.key };
  port = await freePort();
  // TLS only (no plain port); clients must present a certificate signed by the CA (mTLS).
  server = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '127.0.0.2',
      '--tls-cert-file',
      serverCert.crt,
      '--tls-key-file',
      serverCert.key,
      '--tls-ca-cert-file',
      ca.crt,
      '--tls-auth-clients',
      'yes',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Whether a client reaches PING within a few seconds, and the last connection error. */
async function pings(redis: Redis): Promise<{ ok: boolean; error?: string }> {
  let error: string | undefined;
  redis.on('error', (err: Error) => (error = err.message));
  try {
    const probe = async () =>
      await redis.ping().catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)));
    const answer = await eventually(probe, (a) => a === 'PONG', 3_000).catch(() => undefined);
    return answer === 'PONG' ? { ok: true } : { ok: false, error };
  } finally {
    // A refused handshake can still report (a TLS alert) after the disconnect, on a socket the
    // client has let go of: it must not surface as an error of whichever test runs then.
    (redis as unknown as { stream?: NodeJS.EventEmitter }).stream?.on('error', () => undefined);
    redis.disconnect();
  }
}

it('the cache and the gate, built from REDIS_URL=rediss://… as the processes build them, work over TLS with the CA and a client certificate', async () => {
  const config = testConfig({
    REDIS_URL: `rediss://127.0.0.1:${port}/0`,
    REDIS_TLS_CA_FILE: files.ca,
    REDIS_TLS_CERT_FILE: files.clientCert,
    REDIS_TLS_KEY_FILE: files.clientKey,
  });
  const cache = createStockCache(config);
  try {
    await eventually(
      async () => cache.redis.ping().catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))),
      (a) => a === 'PONG',
      10_000,
    );
    await cache.redis.set('tls-probe', 'over tls');
    expect(await cache.redis.get('tls-probe')).toBe('over tls');
    expect((cache.redis.options as { tls?: unknown }).tls).toMatchObject({ rejectUnauthorized: true });
  } finally {
    cache.redis.disconnect();
  }
  // The gate runs its Lua scripts over its own TLS connection.
  const gate = createGate(createGateRedis(config));
  try {
    expect(
      await eventually(
        async () => gate.ready(),
        (up) => up,
        10_000,
      ),
    ).toBe(true);
  } finally {
    gate.disconnect();
  }
});

it('refuses a server its CA did not sign (the system CAs, or another CA), and a server whose certificate names another host', async () => {
  const options = { connectTimeoutMs: 1_000, commandTimeoutMs: 1_000 };
  const client = { certFile: files.clientCert, keyFile: files.clientKey };
  const withoutCa = await pings(createRedis(`rediss://127.0.0.1:${port}/0`, { ...options, tls: client }));
  expect(withoutCa.ok).toBe(false);
  expect(withoutCa.error).toMatch(/self[- ]signed|unable to (get|verify)|certificate/i);
  const otherCa = await pings(
    createRedis(`rediss://127.0.0.1:${port}/0`, { ...options, tls: { ...client, caFile: files.otherCa } }),
  );
  expect(otherCa.ok).toBe(false);
  // The right CA, but the URL names a host the certificate is not for.
  const wrongHost = await pings(
    createRedis(`rediss://127.0.0.2:${port}/0`, { ...options, tls: { ...client, caFile: files.ca } }),
  );
  expect(wrongHost.ok).toBe(false);
  expect(wrongHost.error).toMatch(/altnames|does not match/i);
  // And the control: the same client with the right CA and host.
  expect(
    await pings(createRedis(`rediss://127.0.0.1:${port}/0`, { ...options, tls: { ...client, caFile: files.ca } })),
  ).toEqual({ ok: true });
});

it('a client without its certificate is refused by a Redis that requires one (tls-auth-clients yes)', async () => {
  const result = await pings(
    createRedis(`rediss://127.0.0.1:${port}/0`, {
      connectTimeoutMs: 1_000,
      commandTimeoutMs: 1_000,
      tls: { caFile: files.ca },
    }),
  );
  expect(result.ok).toBe(false);
});
