/**
 * The one loader of the service's Redis Lua scripts (BullMQ's layout: one commented file per
 * atomic step). The naming rule: a module's scripts live in its `lua/` folder, each named
 * `<step>-<number of keys>.lua` (`give-back-4.lua` takes KEYS[1..4]), or `<step>.lua` when the
 * caller passes the key count with each call (a variable number of keys: `admit.lua`). Each is
 * defined on the connection with ioredis `defineCommand` as `<prefix><Step>` (`stockholdGate` +
 * `give-back-4.lua` → `stockholdGateGiveBack`), once per connection; ioredis sends EVALSHA and
 * falls back to EVAL.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';

/** A script's file name: its step (kebab-case) and, unless the caller passes it, its key count. */
const SCRIPT_FILE = /^([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)(?:-(\d+))?\.lua$/;

/** The command name of a script file: `give-back-4.lua` with prefix `stockholdGate` → `stockholdGateGiveBack`. */
export function commandName(prefix: string, file: string): string {
  const match = SCRIPT_FILE.exec(file);
  if (!match) throw new Error(`${file}: a Lua script is named <step>-<number of keys>.lua or <step>.lua`);
  return prefix + match[1].replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());
}

/**
 * Defines every script of `dir` (a module's `lua/` folder) on the connection and returns the
 * connection typed with its commands. Idempotent: a command already defined is left as it is.
 */
export function defineScripts<Commands>(redis: Redis, dir: string, prefix: string): Redis & Commands {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.lua'))) {
    const name = commandName(prefix, file);
    if (name in redis) continue;
    const keys = SCRIPT_FILE.exec(file)![2];
    redis.defineCommand(name, {
      lua: readFileSync(path.join(dir, file), 'utf8'),
      ...(keys !== undefined ? { numberOfKeys: Number(keys) } : {}),
    });
  }
  return redis as Redis & Commands;
}
