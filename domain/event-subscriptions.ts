/**
 * Webhook subscriptions' pure rules: the type filter's patterns, and what one delivery
 * attempt's answer means for the next (docs/events.md "Webhooks"). Standard Webhooks'
 * retry advice: exponential backoff with jitter over about a day, Retry-After honoured, a
 * 410 ends the subscription, a redirect is a failure.
 */

/** A subscription's `types` entry: an event type, or a family `stock.*`. */
export const TYPE_FILTER_PATTERN = '^(stock|campaign|order|payment|alert)\\.([a-z_]+|\\*)$';

/** Whether `type` is selected by `filters` (empty: every type). */
export function typeSelected(filters: readonly string[], type: string): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => (f.endsWith('.*') ? type.startsWith(f.slice(0, -1)) : f === type));
}

/** The waits after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (8 attempts over ~27.6 h). */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];

/** A Retry-After longer than this is cut to it. */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/** What one attempt's answer is called in metrics and in the delivery record. */
export const DeliveryOutcome = {
  DELIVERED: 'delivered',
  /** 410 Gone: the receiver asks to be forgotten; the subscription is disabled. */
  GONE: 'gone',
  /** 3xx: never followed. */
  REDIRECT: 'redirect',
  /** 429 or 503 (with or without Retry-After). */
  THROTTLED: 'throttled',
  HTTP_ERROR: 'http_error',
  TIMEOUT: 'timeout',
  NETWORK_ERROR: 'network_error',
  /** The URL is not allowed (a private address in production). */
  REFUSED: 'refused',
} as const;
export type DeliveryOutcome = (typeof DeliveryOutcome)[keyof typeof DeliveryOutcome];

/** One attempt's answer, as the HTTP client saw it. */
export type AttemptAnswer =
  | { readonly kind: 'answered'; readonly status: number; readonly retryAfterMs?: number }
  | { readonly kind: 'failed'; readonly timedOut: boolean }
  | { readonly kind: 'refused' };

export type Verdict =
  | { readonly next: 'done'; readonly outcome: typeof DeliveryOutcome.DELIVERED }
  | { readonly next: 'retry'; readonly outcome: DeliveryOutcome; readonly delayMs: number }
  /** Retries exhausted: the event is DEAD and the subscription, failing this long, disabled. */
  | { readonly next: 'dead'; readonly outcome: DeliveryOutcome }
  /** 410: DEAD, and the subscription disabled at once. */
  | { readonly next: 'gone'; readonly outcome: typeof DeliveryOutcome.GONE };

export function outcomeOf(answer: AttemptAnswer): DeliveryOutcome {
  if (answer.kind === 'refused') return DeliveryOutcome.REFUSED;
  if (answer.kind === 'failed') return answer.timedOut ? DeliveryOutcome.TIMEOUT : DeliveryOutcome.NETWORK_ERROR;
  const { status } = answer;
  if (status >= 200 && status < 300) return DeliveryOutcome.DELIVERED;
  if (status === 410) return DeliveryOutcome.GONE;
  if (status >= 300 && status < 400) return DeliveryOutcome.REDIRECT;
  if (status === 429 || status === 503) return DeliveryOutcome.THROTTLED;
  return DeliveryOutcome.HTTP_ERROR;
}

/**
 * What follows attempt number `attempt` (1 = the first) of an event: done, a retry after a
 * jittered backoff (±20 %) or exactly the receiver's Retry-After (429/503, at most a day),
 * or the end. `random` is Math.random in production, fixed in tests.
 */
export function judgeAttempt(
  answer: AttemptAnswer,
  attempt: number,
  scheduleMs: readonly number[],
  random: () => number,
): Verdict {
  const outcome = outcomeOf(answer);
  if (outcome === DeliveryOutcome.DELIVERED) return { next: 'done', outcome };
  if (outcome === DeliveryOutcome.GONE) return { next: 'gone', outcome };
  if (attempt > scheduleMs.length) return { next: 'dead', outcome };
  const retryAfter =
    answer.kind === 'answered' && outcome === DeliveryOutcome.THROTTLED ? answer.retryAfterMs : undefined;
  const delayMs =
    retryAfter !== undefined
      ? Math.min(retryAfter, MAX_RETRY_AFTER_MS)
      : Math.round(scheduleMs[attempt - 1] * (0.8 + 0.4 * random()));
  return { next: 'retry', outcome, delayMs };
}
