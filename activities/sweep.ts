/**
 * The sweeper's work: release holds past expiry (plus a grace period) whose order workflow
 * is no longer running. A running workflow owns its hold and will release it itself — but
 * one still running past expiry + grace is stuck (a release retrying on lock timeouts, a
 * saga whose code no longer replays), so it is reported: a SAGA_PAST_EXPIRY alert (once per
 * hold, pushed by the alert webhook) and the `stockhold_sagas_past_expiry` gauge.
 *
 * A release PostgreSQL refuses for good (a data error: the level or a lot no longer satisfies
 * its CHECK) is reported too — a RELEASE_FAILED alert — and that hold skipped: retrying it
 * cannot help, and failing the sweep would fail it on the same oldest hold at every run, so
 * no hold behind it would ever be released again.
 *
 * Any other failure on one hold (Temporal unreachable for a describe or a start, a release
 * timing out on a lock) is counted, logged as an ALERT and left for the next sweep: the pass
 * goes on with the holds behind it.
 *
 * Order of reads, per hold: the saga_starts outbox first, Temporal second. The relay (or the
 * API) starts a saga and only then marks its row, so an unmarked row is started here (a start
 * is idempotent) and a marked one means Temporal knows the saga. Asked the other way round,
 * a saga started between the two reads looked absent to Temporal and started to the outbox,
 * and its hold was released under it.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Metrics } from '../platform/metrics';
import { startUnstartedSaga } from '../use-cases/order-sagas';
import { orderWorkflowId } from '../workflows/ids';
import type { SweepResult } from '../domain/reports';
import type { Db } from '../data/db';
import { AlertKind, raiseAlert } from '../data/alerts/stock-alerts';
import { findExpiredHolds } from '../data/orders/queries';
import { releaseStock } from '../data/orders/release';
import { asDataError } from '../data/data-errors';
import type { DomainError } from '../domain/errors';

const BATCH = 200;

type ExpiredHold = Awaited<ReturnType<typeof findExpiredHolds>>[number];

export async function sweepExpiredHolds(
  db: Db,
  temporal: Client,
  metrics: Metrics,
  taskQueue: string,
  graceSeconds: number,
): Promise<SweepResult> {
  let examined = 0;
  let released = 0;
  const running = new Set<string>();
  const started = new Set<string>();
  const failed = new Set<string>();
  const errored = new Map<string, string>();
  const passed = (id: string) => running.has(id) || started.has(id) || failed.has(id) || errored.has(id);
  for (;;) {
    const skipped = running.size + started.size + failed.size + errored.size;
    const holds = (await findExpiredHolds(db, graceSeconds, BATCH + skipped)).filter((h) => !passed(h.id));
    if (holds.length === 0) break;
    for (const hold of holds) {
      examined += 1;
      Context.current().heartbeat({ examined, released });
      try {
        const verdict = await sweepOne(db, temporal, metrics, taskQueue, graceSeconds, hold);
        if (verdict === 'released') released += 1;
        else if (verdict === 'running') running.add(hold.id);
        else if (verdict === 'started') started.add(hold.id);
        else if (verdict === 'refused') failed.add(hold.id);
      } catch (err) {
        // One hold's trouble is not the pass's: the next sweep tries it again.
        errored.set(hold.id, String(err).slice(0, 300));
      }
    }
    if (holds.length < BATCH) break;
  }
  // Set on every sweep, so the gauge falls back to 0 once the stuck sagas have closed.
  metrics.sagasPastExpiry.set(running.size);
  const result = {
    examined,
    released,
    runningPastExpiry: running.size,
    sagasStarted: started.size,
    ...(failed.size > 0 ? { releaseFailed: failed.size } : {}),
    ...(errored.size > 0 ? { itemErrors: errored.size } : {}),
  };
  const log = Context.current().log;
  if (errored.size > 0)
    log.error('ALERT expired holds the sweeper could not handle this pass', {
      ...result,
      errors: Object.fromEntries(errored),
    });
  if (failed.size > 0)
    log.error('ALERT expired holds PostgreSQL refused to release', { ...result, holds: [...failed] });
  if (running.size > 0)
    log.error('ALERT order sagas running past hold expiry + grace', { ...result, holds: [...running] });
  else log.info('sweep done', result);
  return result;
}

/** What the sweeper did with one hold. */
type Verdict = 'released' | 'running' | 'started' | 'refused' | 'gone';

async function sweepOne(
  db: Db,
  temporal: Client,
  metrics: Metrics,
  taskQueue: string,
  graceSeconds: number,
  hold: ExpiredHold,
): Promise<Verdict> {
  // The outbox first (see the header): a hold whose saga never started (the API died and the
  // relay could not start it yet) is started; the saga owns its hold and releases it at once,
  // settling any payment too.
  if (await startUnstartedSaga(db, temporal, taskQueue, hold.orderId)) return 'started';
  if (await workflowRunning(temporal, orderWorkflowId(hold.orderId))) {
    metrics.alertsRaised.inc(await reportRunningPastExpiry(db, hold, graceSeconds));
    return 'running';
  }
  try {
    const outcome = await releaseStock(db, hold.id, 'SWEEPER');
    return outcome.status === 'released' ? 'released' : 'gone';
  } catch (err) {
    const final = asDataError(err);
    if (!final) throw err;
    metrics.alertsRaised.inc(await reportReleaseFailed(db, hold, final));
    return 'refused';
  }
}

/** One alert per hold and kind, ever (unique kind + subject): a hold stuck for hours is not re-raised every sweep. */
function alertOnHold(db: Db, kind: AlertKind, hold: ExpiredHold, details: object): Promise<number> {
  const first = hold.lines[0];
  return raiseAlert(db, {
    kind,
    subject: hold.id,
    sku: first?.sku ?? '',
    warehouseCode: first?.warehouseCode ?? '',
    details: {
      reservationId: hold.id,
      orderId: hold.orderId,
      workflowId: orderWorkflowId(hold.orderId),
      expiresAt: hold.expiresAt.toISOString(),
      lines: hold.lines,
      ...details,
    },
  });
}

const reportRunningPastExpiry = (db: Db, hold: ExpiredHold, graceSeconds: number) =>
  alertOnHold(db, AlertKind.SAGA_PAST_EXPIRY, hold, { graceSeconds });

const reportReleaseFailed = (db: Db, hold: ExpiredHold, err: DomainError) =>
  alertOnHold(db, AlertKind.RELEASE_FAILED, hold, {
    code: err.code,
    error: err.message.slice(0, 500),
    ...(err.details as object),
  });

async function workflowRunning(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
