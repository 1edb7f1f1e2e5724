/** The console's page shell: navigation, who is signed in, sign out, and the served CSS and scripts. */
import type { Principal } from '../../../../domain/api-keys';
import { html, type Html, type Interpolated } from '../html';

/** The pages, in the navigation's order. */
export const PAGES = [
  { path: '/console', name: 'Overview' },
  { path: '/console/stock', name: 'Stock' },
  { path: '/console/sales', name: 'Sales' },
  { path: '/console/holds', name: 'Holds' },
  { path: '/console/payments', name: 'Payments' },
  { path: '/console/alerts', name: 'Alerts' },
  { path: '/console/history', name: 'History' },
  { path: '/console/reconciliation', name: 'Reconciliation' },
] as const;

/** What every signed-in page knows besides its own content. */
export interface PageContext {
  readonly principal: Principal;
  /** The CSRF token every form on the page sends back. */
  readonly csrf: string;
  /** A one-line result of the action that led here (?done=…, ?failed=…). */
  readonly notice?: { readonly ok: boolean; readonly text: string };
}

/** The head every page shares (no inline script or style: CSP script-src 'self'). */
function head(title: string): Html {
  return html`<head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false}' />
    <title>${title} · stockhold console</title>
    <link rel="stylesheet" href="/console/assets/console.css" />
    <script src="/console/assets/htmx.min.js" defer></script>
    <script src="/console/assets/console.js" defer></script>
  </head>`;
}

export function page(title: string, active: string, ctx: PageContext, body: Html): Html {
  const { principal, csrf, notice } = ctx;
  const scopes = [...principal.scopes].sort().join(', ');
  return html`<!doctype html>
    <html lang="en">
      ${head(title)}
      <body>
        <header class="top">
          <a class="brand" href="/console">stockhold</a>
          <nav>
            ${PAGES.map((p) => html`<a href="${p.path}" ${p.path === active ? html` aria-current="page"` : ''}>${p.name}</a>`)}
          </nav>
          <form class="who" method="post" action="/console/sign-out">
            <span title="scopes: ${scopes}">key <code>${principal.keyId}</code></span>
            <input type="hidden" name="_csrf" value="${csrf}" />
            <button type="submit" class="link">Sign out</button>
          </form>
        </header>
        <main>
          <h1>${title}</h1>
          ${notice ? html`<p class="notice ${notice.ok ? 'ok' : 'bad'}" role="status">${notice.text}</p>` : ''} ${body}
        </main>
      </body>
    </html>`;
}

/** A page without a session: the sign-in, or an error before one exists. */
export function bare(title: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      ${head(title)}
      <body class="bare">
        <main>${body}</main>
      </body>
    </html>`;
}

/** A number, right-aligned by its cell's class. */
export const num = (n: number | null | undefined, cls = ''): Html =>
  html`<td class="num ${cls}">${n === null || n === undefined ? '–' : n.toLocaleString('en-US')}</td>`;

/** An instant as the browser's reader sees it (UTC, to the second), with the ISO value for machines. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">–</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

/** "in 4m 12s" / "12s ago", ticking in the browser (console.js) and right at render time. */
export function countdown(iso: string, now = Date.now()): Html {
  return html`<span class="countdown" data-until="${iso}">${relative(Date.parse(iso) - now)}</span>`;
}

export function relative(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const text =
    s >= 3600
      ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m ${s % 60}s`
        : `${s}s`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** A state badge, coloured as Grafana colours states: ok green, warn yellow, bad red, info blue. */
export const badge = (text: Interpolated, tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'): Html =>
  html`<span class="badge ${tone}">${text}</span>`;

/** A table, or what to do when it is empty. */
export function table(headers: Html, rows: readonly Html[], empty: Interpolated): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="scroll">
    <table>
      <thead>
        <tr>
          ${headers}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

/** The hidden CSRF field every form carries. */
export const csrfField = (token: string): Html => html`<input type="hidden" name="_csrf" value="${token}" />`;

/** "Next page" for a keyset list: the same query with the next cursor. */
export function nextPage(path: string, query: Record<string, string | undefined>, nextCursor: string | null): Html {
  if (!nextCursor) return html``;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '' && k !== 'cursor') params.set(k, v);
  params.set('cursor', nextCursor);
  return html`<p class="pager"><a href="${path}?${params.toString()}">Next page →</a></p>`;
}
