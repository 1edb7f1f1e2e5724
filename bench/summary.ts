/** The run's figures as the report holds them: the summary (bench/report.ts) and each scenario's detail. */
import type { EventLag } from './event-subscriber';
import { byOutcome, percentiles, round, serverErrors, type LoadResult } from './load';
import type { MachineLoad } from './machine';
import type { Baselines, Scenario } from './phases';
import type { Summary } from './report';
import { sustainedFigures, type SustainedResult } from './sustained';

export function buildSummary(
  b: Baselines,
  flash: Scenario,
  plain: Scenario,
  rejects: LoadResult,
  noopRoute: { rps: number; p99: number },
  sustained: SustainedResult,
  failures: string[],
  load: MachineLoad,
  cpu: { winner: number; reject: number; noop: number },
  /** The subscriber's figures (bench/event-subscriber.ts), on either store. */
  events: EventLag,
): Summary {
  const sus = sustainedFigures(sustained);
  const { out } = flash;
  const closedAt = Math.max(flash.sagas.lastCloseAt, flash.sagas.lastSettledAt ?? 0);
  const plainRefusals = plain.sale.result.load.samples.filter(
    (s) => s.outcome === '409 INSUFFICIENT_STOCK' && plain.out && s.sentAt >= plain.out.soldOutAt,
  );
  return {
    holdsPerSecond: out ? round(out.holds / out.seconds) : 0,
    rawHotRowUpdatesPerSecond: round(b.rawHotRow),
    winnerP99Ms: percentiles(flash.sale.result.load.samples.filter((s) => s.outcome === '201').map((s) => s.ms)).p99,
    noopRouteP99Ms: round(noopRoute.p99),
    sellOutSeconds: out ? round(out.seconds, 3) : 0,
    status503WhileRedisUp: [...flash.sale.result.load.samples, ...flash.sale.result.payments].filter((s) =>
      /^(pay )?503/.test(s.outcome),
    ).length,
    sagasPerSecond: flash.sagas.sagasPerSecond,
    noopWorkflowsPerSecond: round(b.noopWorkflows),
    rejectsPerSecond: round(rejects.samples.filter((s) => s.outcome === '409 SOLD_OUT').length / rejects.seconds),
    noopRouteRps: round(noopRoute.rps),
    plainHoldsPerSecond: plain.out ? round(plain.out.holds / plain.out.seconds) : 0,
    plainRefusalP99Ms: percentiles(plainRefusals.map((s) => s.ms)).p99,
    sagaStartLagP99Ms: flash.sagas.startLagMs.p99,
    allSagasClosedSeconds: out ? round((closedAt - out.soldOutAt) / 1000, 2) : 0,
    sustainedHoldsPerSecond: sus.holdsPerSecond,
    sustainedWinnerP99Ms: sus.winnerP99Ms,
    webhookP99Ms: sus.webhookP99Ms,
    webhookP99Ratio: noopRoute.p99 > 0 ? round(sus.webhookP99Ms / noopRoute.p99, 3) : 0,
    webhookNon2xx: sus.webhookNon2xx,
    eventsOverheadRatio: b.events.campaign.ratio,
    eventLagP99Ms: events.lagMs.p99,
    eventsDelivered: events.eventsDelivered,
    eventsExpected: events.eventsExpected,
    winnerCpuMicros: round(cpu.winner, 1),
    rejectCpuMicros: round(cpu.reject, 1),
    noopCpuMicros: round(cpu.noop, 1),
    rejectCpuRatio: cpu.noop > 0 ? round(cpu.reject / cpu.noop, 3) : 0,
    cpuBusyBefore: load.busyBefore,
    loadAverageBefore: load.loadAverageBefore[0],
    loadAverageDuring: load.loadAverageDuringMax,
    noisy: load.noisy,
    checksPassed: failures.length === 0,
  };
}

/** A scenario's detail in the report: sell-out, batches, latency, 5xx messages, sagas, CPU. */
export function phaseDetail(p: Scenario, attempts: number) {
  const samples = [...p.sale.result.load.samples, ...p.sale.result.payments];
  return {
    attempts,
    attemptsPerSecond: round(p.sale.result.load.samples.length / p.sale.result.load.seconds),
    winners: p.sale.result.winners.length,
    paid: p.sale.result.paid.length,
    sellOut: p.out && {
      holds: p.out.holds,
      seconds: round(p.out.seconds, 3),
      firstAdmission: new Date(p.out.firstAdmission).toISOString(),
      soldOutAt: new Date(p.out.soldOutAt).toISOString(),
    },
    batches: p.batches,
    latencyMs: byOutcome(samples),
    serverErrors: serverErrors(samples),
    /** The API's CPU time over the orders (and the payments answered meanwhile) / those requests. */
    apiCpuMicrosPerRequest: round((p.sale.apiCpuSeconds * 1e6) / samples.length, 1),
    sagas: p.sagas,
    cpuCores: {
      orders: p.sale.cores,
      ordersSeconds: p.sale.seconds,
      closing: p.closing.cores,
      closingSeconds: p.closing.seconds,
    },
    cpuCoresByThread: { orders: p.sale.threads, closing: p.closing.threads },
  };
}
