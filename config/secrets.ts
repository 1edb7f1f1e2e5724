/**
 * Secrets (API bootstrap key, webhook and alert signing keys): required and strong in
 * production, where a placeholder copied from an example is refused; a fixed default in
 * development so the service starts with no setup.
 */
import { ConfigError, isProduction, type Env } from './parse';

/** Shortest secret accepted in production, in bytes (UTF-8). */
export const MIN_SECRET_BYTES = 32;

/**
 * Values known in public — this repository's development defaults, docker-compose's and the
 * tests' placeholders, the usual "change me" words — compared without case and punctuation.
 */
const PLACEHOLDER_SECRETS = new Set(
  [
    'dev-webhook-secret',
    'dev-admin-token',
    'dev-alert-secret',
    'test-webhook-secret',
    'test-admin-token',
    'e2e-secret',
    'change-me-webhook-secret',
    'change-me-admin-token',
    'secret',
    'password',
    'token',
    'admin',
    'default',
    'test',
    'dev',
  ].map((v) => v.replace(/[^a-z0-9]/gi, '').toLowerCase()),
);
const PLACEHOLDER_WORDS = /changeme|placeholder|replaceme|yoursecret|yourtoken|secrethere|tokenhere|example|notasecret|insecure/;

/** Why `value` is a placeholder rather than a secret, or undefined. */
export function placeholderReason(value: string): string | undefined {
  const squashed = value.replace(/[^a-z0-9]/gi, '').toLowerCase();
  if (PLACEHOLDER_SECRETS.has(squashed)) return 'is a development default or a well-known placeholder';
  const word = PLACEHOLDER_WORDS.exec(squashed);
  if (word) return `looks like a placeholder (contains "${word[0]}")`;
  if (new Set(value).size < 8) return 'repeats too few characters to be random';
  return undefined;
}

const SECRET_HINT = `generate one with: openssl rand -base64 ${MIN_SECRET_BYTES + 16}`;

/**
 * A secret setting. Outside production an unset (or blank) one takes the public development
 * default; in production a missing, blank, placeholder or short (< MIN_SECRET_BYTES) value
 * stops the boot, never falls back.
 */
export function secret(env: Env, name: string, devDefault: string): string {
  const raw = env[name];
  const value = raw?.trim() ?? '';
  if (!isProduction(env)) return value === '' ? devDefault : value;
  if (raw === undefined || raw === '') throw new ConfigError(name, `required in production (${SECRET_HINT})`);
  if (value === '') throw new ConfigError(name, `is only whitespace; a real secret is required in production (${SECRET_HINT})`);
  const placeholder = placeholderReason(value);
  if (placeholder) throw new ConfigError(name, `${placeholder}; refused in production (${SECRET_HINT})`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < MIN_SECRET_BYTES) throw new ConfigError(name, `is ${bytes} bytes; production needs at least ${MIN_SECRET_BYTES} (${SECRET_HINT})`);
  return value;
}
