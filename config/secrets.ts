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
    'dev-console-session-secret',
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
const PLACEHOLDER_WORDS =
  /changeme|placeholder|replaceme|yoursecret|yourtoken|secrethere|tokenhere|example|notasecret|insecure/;

/** Why `value` is a placeholder rather than a secret, or undefined. */
export function placeholderReason(value: string): string | undefined {
  const squashed = value.replace(/[^a-z0-9]/gi, '').toLowerCase();
  if (PLACEHOLDER_SECRETS.has(squashed)) return 'is a development default or a well-known placeholder';
  const word = PLACEHOLDER_WORDS.exec(squashed);
  if (word) return `looks like a placeholder (contains "${word[0]}")`;
  if (new Set(value).size < 8) return 'repeats too few characters to be random';
  return undefined;
}

/** Why `raw` is refused as a production secret (without the hint), or undefined. */
function productionProblem(raw: string | undefined): string | undefined {
  const value = raw?.trim() ?? '';
  if (raw === undefined || raw === '') return 'required in production';
  if (value === '') return 'is only whitespace; a real secret is required in production';
  const placeholder = placeholderReason(value);
  if (placeholder) return `${placeholder}; refused in production`;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < MIN_SECRET_BYTES) return `is ${bytes} bytes; production needs at least ${MIN_SECRET_BYTES}`;
  return undefined;
}

/**
 * Secret settings (`{ NAME: devDefault }`). Outside production an unset (or blank) one takes
 * the public development default; in production a missing, blank, placeholder or short
 * (< MIN_SECRET_BYTES) value stops the boot, never falls back. A refused production boot
 * names every bad one in one message, so an operator fixes them in one pass, not one per boot.
 * One bad secret reads `NAME: why (hint)`; several, `A: why; B: why (hint)`.
 */
export function secrets<K extends string>(env: Env, defaults: Readonly<Record<K, string>>): Record<K, string> {
  const names = Object.keys(defaults) as K[];
  const values = {} as Record<K, string>;
  if (!isProduction(env)) {
    for (const name of names) values[name] = env[name]?.trim() || defaults[name];
    return values;
  }
  const problems: [K, string][] = [];
  for (const name of names) {
    const problem = productionProblem(env[name]);
    if (problem) problems.push([name, problem]);
    else values[name] = (env[name] ?? '').trim();
  }
  if (problems.length === 0) return values;
  const [[first, why], ...rest] = problems;
  const more = rest.map(([name, reason]) => `; ${name}: ${reason}`).join('');
  throw new ConfigError(
    first,
    `${why}${more} (${rest.length ? 'generate each' : 'generate one'} with: openssl rand -base64 ${MIN_SECRET_BYTES + 16})`,
  );
}
