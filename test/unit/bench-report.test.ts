/**
 * The bench's targets table (bench/report.ts) holds the keys issues 18 and 21 added to their
 * bounds from the same run, and the sustained phase's figures (bench/sustained.ts) count what
 * they say: holds over the stream, and only the payments sent while the orders still ran.
 */
import { targets, type Summary } from '../../bench/report';
import { sustainedFigures, type SustainedResult } from '../../bench/sustained';

const summary: Summary = {
  holdsPerSecond: 1000,
  rawHotRowUpdatesPerSecond: 2000,
  winnerP99Ms: 100,
  noopRouteP99Ms: 50,
  sellOutSeconds: 1,
  status503WhileRedisUp: 0,
  sagasPerSecond: 30,
  noopWorkflowsPerSecond: 80,
  rejectsPerSecond: 5000,
  noopRouteRps: 8000,
  plainHoldsPerSecond: 1100,
  plainRefusalP99Ms: 40,
  sagaStartLagP99Ms: 1000,
  allSagasClosedSeconds: 20,
  sustainedHoldsPerSecond: 999,
  sustainedWinnerP99Ms: 151,
  webhookP99Ms: 120,
  webhookP99Ratio: 2.4,
  webhookNon2xx: 0,
  eventsOverheadRatio: 0.9,
  eventLagP99Ms: 800,
  eventsDelivered: 10,
  eventsExpected: 10,
  winnerCpuMicros: 300,
  rejectCpuMicros: 110,
  noopCpuMicros: 50,
  rejectCpuRatio: 2.2,
  cpuBusyBefore: 0.05,
  loadAverageBefore: 0.3,
  loadAverageDuring: 2.5,
  noisy: false,
  checksPassed: true,
};

const verdicts = (s: Summary) =>
  Object.fromEntries(targets(s, { concurrency: 500, units: 1000 }).map((t) => [t.name, t.met]));

it('holds the new keys to their same-run bounds', () => {
  expect(verdicts(summary)).toMatchObject({
    sustainedHoldsPerSecond: false, // 999 < 0.5 × 2000
    sustainedWinnerP99Ms: false, // 151 > 3 × 50
    rejectCpuRatio: false, // 2.2 > 2
    eventsOverheadRatio: true, // ≥ 0.9
    webhookP99Ms: true,
  });
  expect(
    verdicts({
      ...summary,
      sustainedHoldsPerSecond: 1000,
      sustainedWinnerP99Ms: 150,
      rejectCpuRatio: 2,
      eventsOverheadRatio: 0.89,
    }),
  ).toMatchObject({
    sustainedHoldsPerSecond: true,
    sustainedWinnerP99Ms: true,
    rejectCpuRatio: true,
    eventsOverheadRatio: false,
  });
});

it("holds the plain refusal's p99 to twice the no-op route's, measured in the same run (issue 21)", () => {
  expect(verdicts({ ...summary, plainRefusalP99Ms: 100, noopRouteP99Ms: 50 }).plainRefusalP99Ms).toBe(true);
  expect(verdicts({ ...summary, plainRefusalP99Ms: 101, noopRouteP99Ms: 50 }).plainRefusalP99Ms).toBe(false);
  // A fast no-op route tightens it: 60 ms against a 20 ms no-op p99 is 3×.
  expect(verdicts({ ...summary, plainRefusalP99Ms: 60, noopRouteP99Ms: 20 }).plainRefusalP99Ms).toBe(false);
  const row = targets(summary, { concurrency: 500, units: 1000 }).find((t) => t.name === 'plainRefusalP99Ms');
  expect(row?.bound).toBe('≤ 2 × noopRouteP99Ms (100)');
});

it('counts the sustained holds over the stream and the webhooks sent while it ran', () => {
  const at = (sentAt: number, ms: number, outcome: string) => ({ outcome, ms, sentAt, answeredAt: sentAt + ms });
  const result: SustainedResult = {
    load: { samples: [at(0, 100, '201'), at(100, 100, '201'), at(1000, 1000, '201'), at(1500, 10, '503')], seconds: 2 },
    payments: [at(500, 40, 'pay 200'), at(1990, 300, 'pay 200'), at(2500, 900, 'pay 409 X')],
    winners: ['s-0', 's-1', 's-2'],
    paid: ['s-0', 's-1'],
    ordersEndedAt: 2000,
    apiCpuSeconds: 0.7,
  };
  const f = sustainedFigures(result);
  expect(f.holdsPerSecond).toBe(1.5); // 3 holds from 0 to 2,000 ms
  expect(f.webhooksUnderLoad).toBe(2); // the one sent at 2,500 ms came after the orders
  expect(f.webhookP99Ms).toBe(300);
  expect(f.webhookNon2xx).toBe(1);
  expect(f.requestsAnswered).toBe(7);
});
