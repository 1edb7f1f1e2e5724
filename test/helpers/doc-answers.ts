/**
 * The answers the docs show under their curl examples (`# 201 {"orderId":"o-1",…}`), read as
 * JSON with elisions and compared with what the API answered (test/e2e/readme-examples.test.ts).
 *
 * What a shown answer says:
 * - an object names some of the keys, each of which must be there with a matching value (keys
 *   not shown are not checked; `…` among the members says so to the reader);
 * - an array without `…` has exactly the elements shown, in order; with `…`, the elements
 *   shown appear in that order among others;
 * - `…` as a value, `"…"`, `{…}` and `[…]` accept anything; a string with `…` inside is a
 *   pattern (`"sk_…"`); an ISO timestamp accepts any ISO timestamp (the docs cannot know when
 *   the reader runs them);
 * - text after the value (`(nothing changed)`) is for the reader only.
 */

const ELLIPSIS = Symbol('…');
type Shown = string | number | boolean | null | typeof ELLIPSIS | ShownArray | ShownObject;
interface ShownArray {
  readonly kind: 'array';
  readonly items: Shown[];
}
interface ShownObject {
  readonly kind: 'object';
  readonly members: [string, Shown][];
}

/** Thrown when the text ends inside a value: the answer continues on the next comment line. */
export class Unfinished extends Error {}

/** The value at the start of `text` (what follows it is ignored). */
export function parseShown(text: string): Shown {
  let i = 0;
  const space = () => {
    while (i < text.length && /\s/.test(text[i])) i += 1;
  };
  const fail = (what: string): never => {
    if (i >= text.length) throw new Unfinished(`the answer ends inside a value: ${text}`);
    throw new Error(`${what} at ${i} of: ${text}`);
  };
  const ellipsis = () => {
    space();
    if (text.startsWith('…', i)) return ((i += 1), true);
    if (text.startsWith('...', i)) return ((i += 3), true);
    return false;
  };
  const string = (): string => {
    let out = '';
    i += 1;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i];
      i += 1;
      if (c === '"') return out;
      if (c === '\\') {
        out += JSON.parse(`"\\${text[i]}"`) as string;
        i += 1;
      } else out += c;
    }
  };
  const value = (): Shown => {
    space();
    if (ellipsis()) return ELLIPSIS;
    const c = text[i];
    if (c === '{') {
      i += 1;
      const members: [string, Shown][] = [];
      for (;;) {
        space();
        if (text[i] === '}') return ((i += 1), { kind: 'object', members });
        if (!ellipsis()) {
          if (text[i] !== '"') fail('expected a key');
          const key = string();
          space();
          if (text[i] !== ':') fail('expected ":"');
          i += 1;
          members.push([key, value()]);
        }
        space();
        if (text[i] === ',') i += 1;
        else if (text[i] !== '}') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i += 1;
      const items: Shown[] = [];
      for (;;) {
        space();
        if (text[i] === ']') return ((i += 1), { kind: 'array', items });
        items.push(value());
        space();
        if (text[i] === ',') i += 1;
        else if (text[i] !== ']') fail('expected "," or "]"');
      }
    }
    if (c === '"') {
      const s = string();
      return s === '…' ? ELLIPSIS : s;
    }
    const literal = /^(-?\d+(?:\.\d+)?|true|false|null)/.exec(text.slice(i));
    if (!literal) return fail('expected a value');
    i += literal[0].length;
    return JSON.parse(literal[0]) as Shown;
  };
  return value();
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Where `actual` differs from `shown` (paths like `$.lines[0].sku`); empty when it matches. */
export function differences(shown: Shown, actual: unknown, at = '$'): string[] {
  if (shown === ELLIPSIS) return [];
  const got = JSON.stringify(actual);
  if (typeof shown === 'string') {
    if (typeof actual !== 'string') return [`${at}: shown "${shown}", answered ${got}`];
    if (ISO.test(shown)) return ISO.test(actual) ? [] : [`${at}: shown a timestamp, answered ${got}`];
    if (shown.includes('…')) {
      const pattern = new RegExp(`^${shown.split('…').map(escape).join('[\\s\\S]*')}$`);
      return pattern.test(actual) ? [] : [`${at}: shown "${shown}", answered ${got}`];
    }
    return shown === actual ? [] : [`${at}: shown "${shown}", answered ${got}`];
  }
  if (shown === null || typeof shown !== 'object')
    return shown === actual ? [] : [`${at}: shown ${JSON.stringify(shown)}, answered ${got}`];
  if (shown.kind === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return [`${at}: shown an object, answered ${got}`];
    return shown.members.flatMap(([key, value]) =>
      key in actual
        ? differences(value, (actual as Record<string, unknown>)[key], `${at}.${key}`)
        : [`${at}.${key}: shown, not answered`],
    );
  }
  if (!Array.isArray(actual)) return [`${at}: shown an array, answered ${got}`];
  const open = shown.items.includes(ELLIPSIS);
  const items = shown.items.filter((item) => item !== ELLIPSIS);
  if (!open) {
    if (items.length !== actual.length)
      return [`${at}: shown ${items.length} elements, answered ${actual.length}: ${got}`];
    return items.flatMap((item, k) => differences(item, actual[k], `${at}[${k}]`));
  }
  // Open: the shown elements appear in order among the answered ones.
  let from = 0;
  for (const [k, item] of items.entries()) {
    const found = actual.findIndex((candidate, j) => j >= from && differences(item, candidate).length === 0);
    if (found < 0)
      return [
        `${at}: shown element ${k} (${JSON.stringify(item, (_key, v: unknown) => (v === ELLIPSIS ? '…' : v))}) not found in order in ${got}`,
      ];
    from = found + 1;
  }
  return [];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
