/**
 * Readers of single environment variables, each validating as it reads, so a bad setting
 * stops the process at boot with the variable's name (ConfigError) instead of failing later.
 */
import { accessSync, constants as fsConstants } from 'node:fs';

/** Thrown at boot when a setting is missing or malformed; the process must not start. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export function str(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return fallback;
  return value;
}

export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

export function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const value = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `not a URL: "${value}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return value;
}

export function duration(env: Env, name: string, fallback: string): string {
  const value = str(env, name, fallback);
  if (!/^\d+(ms|s|m|h|d)$/.test(value)) {
    throw new ConfigError(name, `expected a duration like 30s, 5m or 1h, got "${value}"`);
  }
  return value;
}

/** Whole seconds in a validated duration (`72h`, `30m`, …), at least 1. */
export function durationSeconds(value: string): number {
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[
    value.replace(/^\d+/, '') as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Math.max(1, Math.round(parseInt(value, 10) * unit));
}

export function percent(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) > 100)
    throw new ConfigError(name, `expected a percentage 0-100, got "${raw}"`);
  return Number(raw);
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

/** A file the process must be able to read (certificates, keys); undefined when unset. */
export function readableFile(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  try {
    accessSync(value, fsConstants.R_OK);
  } catch {
    throw new ConfigError(name, `cannot read the file "${value}"`);
  }
  return value;
}

/** A client certificate and its key: both or neither. */
export function certPair(env: Env, certName: string, keyName: string): { certFile?: string; keyFile?: string } {
  const certFile = readableFile(env, certName);
  const keyFile = readableFile(env, keyName);
  if (certFile && !keyFile) throw new ConfigError(keyName, `required with ${certName} (a certificate needs its key)`);
  if (keyFile && !certFile) throw new ConfigError(certName, `required with ${keyName} (a key needs its certificate)`);
  return { certFile, keyFile };
}

export const isProduction = (env: Env) => env.NODE_ENV?.trim().toLowerCase() === 'production';
