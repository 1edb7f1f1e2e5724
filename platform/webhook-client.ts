/**
 * One webhook POST: a deadline, no redirect followed (a 3xx is a failure: a receiver that
 * moved says so by a new URL, not by sending the signed body elsewhere), and the parts of the
 * answer the retry policy needs (status, Retry-After). Never throws: a network error or a
 * timeout is an outcome too.
 */
export interface WebhookRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
}

export type WebhookResponse =
  | { readonly kind: 'answered'; readonly status: number; readonly retryAfterMs?: number; readonly ms: number }
  | { readonly kind: 'failed'; readonly error: string; readonly timedOut: boolean; readonly ms: number };

export type WebhookSender = (request: WebhookRequest) => Promise<WebhookResponse>;

/** Retry-After as milliseconds from `nowMs`: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,10}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export const sendWebhook: WebhookSender = async ({ url, body, headers, timeoutMs }) => {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'stockhold-webhooks/1', ...headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is not read beyond what it takes to free the connection.
    await res.body?.cancel().catch(() => undefined);
    return {
      kind: 'answered',
      status: res.status,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()),
      ms: performance.now() - started,
    };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return {
      kind: 'failed',
      error: timedOut ? `no answer in ${timeoutMs} ms` : `${String(err)}${cause}`,
      timedOut,
      ms: performance.now() - started,
    };
  }
};
