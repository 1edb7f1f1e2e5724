/**
 * The console's one template helper: a tagged template that escapes every interpolated value
 * for HTML text and attribute values alike (& < > " ' and backtick), so data from the store
 * (a reason, a user id, an alert's details) can never become markup or script. Only an `Html`
 * value — built by this tag, or by `trusted` for a constant the code owns — goes in as is;
 * arrays are joined, null, undefined and false render nothing.
 */

/** Markup already escaped (or owned by the code): interpolated as is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** `value` as HTML text, safe in element content and in quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/** A value interpolated into `html`: Html as is, everything else escaped. */
export type Interpolated = Html | string | number | bigint | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** The template tag: `html\`<td>${row.reason}</td>\`` escapes the reason. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup the code owns (never data): passed through unescaped. */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** A URL for an href: only http(s) and same-site paths, anything else becomes "#". */
export function safeHref(url: string): string {
  return /^(https?:\/\/|\/(?!\/))/i.test(url) ? url : '#';
}
