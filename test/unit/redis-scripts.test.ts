/**
 * One naming rule and one loader for every Redis Lua script (platform/redis-scripts.ts): each
 * lives in a `lua/` folder as `<step>-<number of keys>.lua`, and the key count in the name is
 * the number of KEYS the script reads. Reads files only (the scripts run on the real Redis in
 * test/cache and test/db/campaigns).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { commandName } from '../../platform/redis-scripts';

const ROOT = path.join(__dirname, '../..');

function luaFiles(dir = '.'): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = dir === '.' ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory())
      return ['node_modules', '.git', '.tools', 'dist', 'generated'].includes(e.name) ? [] : luaFiles(rel);
    return e.name.endsWith('.lua') ? [rel] : [];
  });
}

it('names a command from its file: prefix + the step in camel case', () => {
  expect(commandName('stockholdGate', 'give-back-4.lua')).toBe('stockholdGateGiveBack');
  expect(commandName('stock', 'invalidate.lua')).toBe('stockInvalidate');
  expect(() => commandName('x', 'Admit.lua')).toThrow(/<step>-<number of keys>\.lua/);
  expect(() => commandName('x', 'admit_4.lua')).toThrow();
});

it('every Lua script is in a lua/ folder, named by the rule, and reads exactly the keys its name says', () => {
  const files = luaFiles();
  expect(files.length).toBeGreaterThanOrEqual(7);
  const wrong = files.flatMap((file) => {
    const name = path.basename(file);
    if (path.basename(path.dirname(file)) !== 'lua') return [`${file}: not in a lua/ folder`];
    try {
      commandName('x', name);
    } catch (err) {
      return [`${file}: ${(err as Error).message}`];
    }
    const declared = /-(\d+)\.lua$/.exec(name)?.[1];
    if (declared === undefined) return []; // the caller passes the key count
    const used = Math.max(
      0,
      ...[...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])),
    );
    return used === Number(declared) ? [] : [`${file}: named for ${declared} keys, reads KEYS[${used}]`];
  });
  expect(wrong).toEqual([]);
});
