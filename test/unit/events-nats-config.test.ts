/**
 * The NATS channel's settings (issue 18, item 5): off unless EVENTS_NATS_URL is set; a
 * duplicate window shorter than the publisher's retry horizon is refused (a republished event
 * would be stored twice); subjects and stream names the server would reject are refused.
 */
import { ConfigError, loadConfig } from '../../config';

const base = { NODE_ENV: 'test' };

it('no EVENTS_NATS_URL: no NATS channel; retention has its defaults', () => {
  const config = loadConfig(base);
  expect(config.eventsNats).toBeUndefined();
  expect(config.eventRetention).toEqual({ days: 7, intervalMs: 600_000 });
});

it('EVENTS_NATS_URL set: the defaults', () => {
  expect(loadConfig({ ...base, EVENTS_NATS_URL: 'nats://127.0.0.1:4223' }).eventsNats).toEqual({
    url: 'nats://127.0.0.1:4223',
    stream: 'STOCKHOLD_EVENTS',
    subjectPrefix: 'stockhold.events',
    duplicateWindowSeconds: 600,
    publishTimeoutMs: 5_000,
    maxBackoffMs: 5_000,
  });
});

it.each([
  [{ EVENTS_NATS_URL: 'http://127.0.0.1:4223' }, 'EVENTS_NATS_URL'],
  [
    { EVENTS_NATS_URL: 'nats://127.0.0.1:4223', EVENTS_NATS_DUPLICATE_WINDOW_SECONDS: '60' },
    'EVENTS_NATS_DUPLICATE_WINDOW_SECONDS',
  ],
  [
    { EVENTS_NATS_URL: 'nats://127.0.0.1:4223', EVENTS_NATS_PUBLISH_TIMEOUT_MS: '60000' },
    'EVENTS_NATS_DUPLICATE_WINDOW_SECONDS',
  ],
  [{ EVENTS_NATS_URL: 'nats://127.0.0.1:4223', EVENTS_NATS_SUBJECT_PREFIX: 'a.*' }, 'EVENTS_NATS_SUBJECT_PREFIX'],
  [{ EVENTS_NATS_URL: 'nats://127.0.0.1:4223', EVENTS_NATS_STREAM: 'a.b' }, 'EVENTS_NATS_STREAM'],
  [{ EVENT_RETENTION_DAYS: '0' }, 'EVENT_RETENTION_DAYS'],
])('refuses %j (names %s)', (env, name) => {
  expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
  expect(() => loadConfig({ ...base, ...env })).toThrow(name);
});
