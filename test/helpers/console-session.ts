/**
 * A console visitor over app.inject(): keeps the cookies the console sets (session, CSRF
 * secret) and the CSRF token of the last page it read, as a browser would.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export class ConsoleVisitor {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page read (its forms' hidden _csrf field). */
  csrf = '';

  constructor(private readonly app: FastifyInstance) {}

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      const gone = c.value === '' || (c.expires !== undefined && c.expires.getTime() <= Date.now()) || c.maxAge === 0;
      if (gone) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    if (token) this.csrf = token;
    return res;
  }

  private get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    // No API key: the console authenticates by its session only (authorization: undefined sends none).
    return this.keep(
      await this.app.inject({
        method: 'GET',
        url,
        headers: { cookie: this.cookieHeader, authorization: undefined, ...headers },
      }),
    );
  }

  /** A form POST; `_csrf` is the last page's token unless `form` says otherwise (null: none). */
  async post(url: string, form: Record<string, string | null> = {}): Promise<LightMyRequestResponse> {
    const fields: Record<string, string> = {};
    const withToken = { _csrf: this.csrf, ...form };
    for (const [k, v] of Object.entries(withToken)) if (v !== null) fields[k] = v;
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        headers: {
          cookie: this.cookieHeader,
          'content-type': 'application/x-www-form-urlencoded',
          authorization: undefined,
        },
        payload: new URLSearchParams(fields).toString(),
      }),
    );
  }

  /** Signs in with `key`; the answer of the sign-in POST. */
  async signIn(key: string): Promise<LightMyRequestResponse> {
    await this.get('/console/sign-in');
    return this.post('/console/sign-in', { key });
  }
}

/** The text of the element `data-figure="<id>"` (an overview tile's number), as a number. */
export function figure(body: string, id: string): number {
  const m = new RegExp(`data-figure="${id}">([0-9,]+)<`).exec(body);
  if (!m) throw new Error(`no figure ${id} on the page`);
  return Number(m[1].replace(/,/g, ''));
}
