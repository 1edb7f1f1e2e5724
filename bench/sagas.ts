/**
 * What became of a scenario's order sagas, from Temporal visibility (start, close, status,
 * history length of every order workflow) and PostgreSQL (when each hold committed, when each
 * payment was settled). No sampling: every saga of the scenario is listed.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Db } from '../data/db';
import { mariadbOf } from '../data/mariadb/db';
import { orderWorkflowId } from '../workflows/ids';
import { percentiles, round, type Percentiles } from './load';
import { holdTimesOnMariadb } from './mariadb-store';

export interface SagaStats {
  readonly sagas: number;
  readonly closed: number;
  readonly running: number;
  readonly byStatus: Record<string, number>;
  /** Closed sagas / (last CloseTime − first StartTime), seconds from visibility. */
  readonly sagasPerSecond: number;
  /** The same over the paid sagas only (they wait for no timer). */
  readonly paidSagasPerSecond: number;
  readonly firstStartAt: number;
  readonly lastCloseAt: number;
  /** Saga StartTime (visibility) − hold created_at (PostgreSQL; the hold transaction's start). */
  readonly startLagMs: Percentiles;
  /** History events per closed saga, paid and not paid (visibility's HistoryLength). */
  readonly historyEvents: { readonly paid: number; readonly unpaid: number };
  /** The event types of one paid and one unpaid saga's history, in order (where the events go). */
  readonly historyShape: { readonly paid: string[]; readonly unpaid: string[] };
  /** When the last payment of these orders was settled (epoch ms), if any. */
  readonly lastSettledAt: number | undefined;
}

interface Listed {
  readonly startTime: Date;
  readonly closeTime?: Date;
  readonly status: string;
  readonly historyLength: number;
}

export async function sagaStats(client: Client, db: Db, winners: string[], paid: string[]): Promise<SagaStats> {
  const wanted = new Set(winners.map(orderWorkflowId));
  const listed = new Map<string, Listed>();
  for await (const w of client.workflow.list({ query: `WorkflowType = 'orderWorkflow'` })) {
    if (wanted.has(w.workflowId))
      listed.set(w.workflowId, {
        startTime: w.startTime,
        closeTime: w.closeTime,
        status: w.status.name,
        historyLength: w.historyLength,
      });
  }
  const all = [...listed.values()];
  const closed = all.filter((w) => w.closeTime);
  const paidIds = new Set(paid.map(orderWorkflowId));
  const paidClosed = [...listed].filter(([id, w]) => paidIds.has(id) && w.closeTime).map(([, w]) => w);
  const rate = (ws: Listed[]) => {
    if (ws.length === 0) return 0;
    const first = Math.min(...ws.map((w) => w.startTime.getTime()));
    const last = Math.max(...ws.map((w) => w.closeTime!.getTime()));
    return last > first ? ws.length / ((last - first) / 1000) : 0;
  };
  const mean = (ws: Listed[]) => (ws.length ? round(ws.reduce((s, w) => s + w.historyLength, 0) / ws.length, 1) : 0);

  const { created, settled } = await holdTimes(db, winners);
  const lags = created.flatMap((r) => {
    const w = listed.get(orderWorkflowId(r.id));
    return w ? [w.startTime.getTime() - r.created_at.getTime()] : [];
  });
  const unpaidId = [...listed.keys()].find((id) => !paidIds.has(id) && listed.get(id)!.closeTime);
  const paidId = [...listed.keys()].find((id) => paidIds.has(id) && listed.get(id)!.closeTime);
  const historyShape = { paid: await eventTypes(client, paidId), unpaid: await eventTypes(client, unpaidId) };
  const byStatus: Record<string, number> = {};
  for (const w of all) byStatus[w.status] = (byStatus[w.status] ?? 0) + 1;
  return {
    sagas: all.length,
    closed: closed.length,
    running: all.length - closed.length,
    byStatus,
    sagasPerSecond: round(rate(closed)),
    paidSagasPerSecond: round(rate(paidClosed)),
    firstStartAt: Math.min(...all.map((w) => w.startTime.getTime())),
    lastCloseAt: Math.max(0, ...closed.map((w) => w.closeTime!.getTime())),
    startLagMs: percentiles(lags),
    historyEvents: { paid: mean(paidClosed), unpaid: mean(closed.filter((w) => !paidClosed.includes(w))) },
    historyShape,
    lastSettledAt: settled[0]?.at?.getTime(),
  };
}

/** When each hold committed, and when the last of their payments was settled, on either store. */
async function holdTimes(
  db: Db,
  winners: string[],
): Promise<{ created: { id: string; created_at: Date }[]; settled: { at: Date | null }[] }> {
  const maria = mariadbOf(db);
  if (maria) {
    const times = await holdTimesOnMariadb(maria, winners);
    return { created: times.created, settled: [{ at: times.lastSettledAt }] };
  }
  const created = await db.$queryRaw<
    { id: string; created_at: Date }[]
  >`SELECT id, created_at FROM reservations WHERE id = ANY(${winners}::text[])`;
  const settled = await db.$queryRaw<
    { at: Date | null }[]
  >`SELECT max(settled_at) AS at FROM payments WHERE order_id = ANY(${winners}::text[])`;
  return { created, settled };
}

async function eventTypes(client: Client, workflowId: string | undefined): Promise<string[]> {
  if (!workflowId) return [];
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).map((e) => {
    const type = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
    return `${type}${eventDetail(e)}`;
  });
}

/** Which local activity a marker records, which activity is scheduled, which attributes an upsert sets. */
function eventDetail(e: temporal.api.history.v1.IHistoryEvent): string {
  const marker = e.markerRecordedEventAttributes;
  if (marker) {
    const data = (marker.details?.data ?? marker.details?.patch_data)?.payloads?.[0]?.data;
    try {
      const detail = data
        ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activityType?: string; id?: string })
        : undefined;
      return `(${detail?.activityType ?? (detail?.id ? `patch ${detail.id}` : marker.markerName)})`;
    } catch {
      return `(${marker.markerName})`;
    }
  }
  const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
  if (activity) return `(${activity})`;
  const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
  return fields ? `(${Object.keys(fields).join(',')})` : '';
}
