/**
 * 8. Hostile input: property-based requests (fast-check) against the real API, admin routes
 * with the token and control characters in every text field included → never a 5xx, and
 * nothing changed by any 4xx; a bad signature or a replayed timestamp on the webhook → 401;
 * routes without a key → 401; per-user rate limiting on orders; a transfer receive refused
 * for bad input leaves the transfer receivable; 405 and long ids in the error shape.
 */
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { buildApp } from '../../api/app';
import { closeDeps, createDeps } from '../../api/server';
import type { AppDeps } from '../../api/deps';
import { stock } from '../../test/helpers/db';
import { testConfig } from '../../test/helpers/env';
import { closeScenario, type Scenario } from '../scenario';
import { CHAOS_ADMIN_TOKEN, CHAOS_SECRET, CHAOS_TASK_QUEUE, type Stack } from '../stack';
import { explicitChecks, RATE_LIMIT } from './hostile-checks';
import { hostileRequest } from './hostile-requests';

export const HOSTILE_SKU = 'CHAOS-HOSTILE';

/** Everything a request could change, in one cheap row, read in the stack's store (chaos/store-probe.ts). */
export const stateHash = (stack: Stack): Promise<string> => stack.probe.stateHash();

async function hostileApp(stack: Stack): Promise<{ app: FastifyInstance; deps: AppDeps }> {
  // On the stack's store: PostgreSQL's test database, or MariaDB's as the service user.
  const config = testConfig({
    ...stack.appDatabase,
    REDIS_URL: stack.redis.url,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: CHAOS_TASK_QUEUE,
    WEBHOOK_SECRET: CHAOS_SECRET,
    ADMIN_TOKEN: CHAOS_ADMIN_TOKEN,
    RESERVATION_TTL_SECONDS: '3600',
    ORDER_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
  });
  const deps = await createDeps(config);
  return { app: await buildApp(deps, { logger: false }), deps };
}

export const hostileInput: Scenario = {
  name: '8 hostile input',
  async run(stack, size) {
    await stock(stack.db, HOSTILE_SKU, 'W1', 1_000_000);
    const { app, deps } = await hostileApp(stack);
    const counts: Record<string, number> = {};
    const problems: string[] = [];
    let placed = 0;
    try {
      let before = await stateHash(stack);
      await fc
        .assert(
          fc.asyncProperty(hostileRequest(CHAOS_SECRET, CHAOS_ADMIN_TOKEN), async (req) => {
            const res = await app.inject(req);
            const klass = `${Math.floor(res.statusCode / 100)}xx`;
            counts[klass] = (counts[klass] ?? 0) + 1;
            if (req.url === '/orders' && res.statusCode === 201) placed += 1;
            const after = await stateHash(stack);
            if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${req.method} ${req.url}: ${res.body}`);
            if (res.statusCode >= 400 && after !== before)
              throw new Error(`${res.statusCode} changed state for ${req.method} ${req.url}`);
            before = after;
          }),
          { numRuns: size.hostileRequests, endOnFailure: true },
        )
        // fast-check keeps the property's own error (the status and body that failed it) as the cause.
        .catch((err: Error) =>
          problems.push(
            [err.message.split('\n').slice(0, 3).join(' '), (err.cause as Error | undefined)?.message]
              .filter(Boolean)
              .join(' → '),
          ),
        );
      problems.push(...(await explicitChecks(app, stack, () => stateHash(stack))));
    } finally {
      await app.close();
      await closeDeps(deps);
    }
    const row = await closeScenario(stack, {
      scenario: this.name,
      base: stack.api,
      orderIds: [],
      paid: new Set(),
      recoverFrom: Date.now(),
      problems,
    });
    return {
      ...row,
      orders: placed,
      outcomes: counts,
      notes: `${size.hostileRequests} property-based requests; 401s, rate limit, admin control characters, transfer receives checked`,
    };
  },
};
