/**
 * The scheduled perishables check and reconciliation on the dev server (the time-skipping
 * server has no schedules; the workflows are executed directly, as the schedule would):
 * alerts raised once per lot and kind and pushed, signed, to a local receiver; expired lots
 * written off through the ledger; drift planted by hand found and reported, never fixed.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ensureSchedules } from '../../use-cases/schedules';
import type { ExpiryCheckResult } from '../../workflows/expiry';
import { EXPIRY_SCHEDULE_ID, RECONCILIATION_SCHEDULE_ID } from '../../workflows/ids';
import type { ReconcileResult } from '../../workflows/reconcile';
import { useAppStack } from '../helpers/app';
import { invariantViolations, level, perishable, receiveLot, stock } from '../helpers/db';
import { useAlertReceiver } from '../helpers/alert-receiver';
import { TEST_DATABASE_URL, testConfig } from '../helpers/env';

const TASK_QUEUE = 'perishables-test';
const SECRET = 'alert-test-secret';
const alerts = useAlertReceiver<{ kind: string; lotCode: string }>(SECRET);
const received = alerts.received;

const stack = useAppStack('dev', TASK_QUEUE, {}, () => ({ alertWebhook: { url: alerts.url, secret: SECRET } }));
let app: FastifyInstance;
beforeAll(() => {
  ({ app } = stack);
});

/** Runs scripts/reconcile.ts (what `npm run reconcile` runs) against the test database. */
function runReconcileScript(): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '../../scripts/reconcile.ts')],
      { env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL } },
      (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout }),
    );
  });
}

const run = <T>(workflowType: string, id: string) =>
  stack.env.client.workflow.execute(workflowType, { taskQueue: TASK_QUEUE, workflowId: id, args: [] }) as Promise<T>;

describe('perishables check', () => {
  it('raises each alert once, writes off lots past removal, pushes signed alerts', async () => {
    const { db } = stack;
    await perishable(db, 'BERRY', 3, 1); // alert 3 days before use-by, removal 1 day before
    await receiveLot(db, 'BERRY', 'W1', 'NEAR', 4, 2); // alert date passed, sellable
    await receiveLot(db, 'BERRY', 'W1', 'GONE', 5, 0.5); // removal date passed
    await receiveLot(db, 'BERRY', 'W1', 'FRESH', 6, 20);

    const first = await run<ExpiryCheckResult>('expiryWorkflow', 'expiry-1');
    expect(first).toEqual({ alertsRaised: 2, lotsWrittenOff: 1, unitsWrittenOff: 5, alertsDelivered: 2 });
    expect(await level(db, 'BERRY', 'W1')).toEqual({ onHand: 10, reserved: 0 });
    expect(
      await db.stockLot.findUnique({
        where: { sku_warehouseCode_lotCode: { sku: 'BERRY', warehouseCode: 'W1', lotCode: 'GONE' } },
      }),
    ).toMatchObject({
      quantity: 0,
    });
    expect(await db.stockMovement.findFirst({ where: { reason: 'WRITE_OFF:EXPIRED' } })).toMatchObject({
      lotCode: 'GONE',
      onHandDelta: -5,
      onHandBefore: 15,
      onHandAfter: 10,
    });

    const second = await run<ExpiryCheckResult>('expiryWorkflow', 'expiry-2');
    expect(second).toEqual({ alertsRaised: 0, lotsWrittenOff: 0, unitsWrittenOff: 0, alertsDelivered: 0 });
    expect(received.map((r) => [r.body.kind, r.body.lotCode, r.verified]).sort()).toEqual([
      ['EXPIRED', 'GONE', true],
      ['NEAR_EXPIRY', 'NEAR', true],
    ]);
    const listed = (await app.inject({ method: 'GET', url: '/alerts?sku=BERRY' })).json();
    expect(listed.alerts).toEqual([
      expect.objectContaining({
        kind: expect.any(String),
        lotCode: expect.any(String),
        deliveredAt: expect.any(String),
      }),
      expect.objectContaining({ deliveredAt: expect.any(String) }),
    ]);
    expect((await app.inject({ method: 'GET', url: '/alerts?kind=EXPIRED' })).json().alerts).toEqual([
      expect.objectContaining({ lotCode: 'GONE' }),
    ]);
    expect(await invariantViolations(db)).toEqual([]);
  });
});

describe('reconciliation', () => {
  const ADMIN = { authorization: 'Bearer test-admin-token' };

  it('reports clean, then finds a drift planted by direct SQL and leaves it as it is', async () => {
    const { db } = stack;
    await stock(db, 'PLAIN', 'W1', 7);
    expect(await run<ReconcileResult>('reconciliationWorkflow', 'rec-1')).toMatchObject({ clean: true, drifts: 0 });

    await db.$executeRawUnsafe(`UPDATE inventory_levels SET on_hand = 9 WHERE sku = 'PLAIN'`);
    expect(await run<ReconcileResult>('reconciliationWorkflow', 'rec-2')).toMatchObject({ clean: false, drifts: 1 });
    const latest = (await app.inject({ method: 'GET', url: '/admin/reconciliation', headers: ADMIN })).json();
    expect(latest).toMatchObject({
      clean: false,
      drifts: [
        { check: 'ON_HAND_VS_LEDGER', sku: 'PLAIN', warehouseCode: 'W1', lotCode: null, recorded: 9, expected: 7 },
      ],
    });
    expect(await stack.worker.metrics.registry.getSingleMetricAsString('stockhold_reconciliation_drifts')).toMatch(
      / 1$/m,
    );
    expect(await level(db, 'PLAIN', 'W1')).toEqual({ onHand: 9, reserved: 0 }); // reported, not fixed

    // `npm run reconcile` sees the same, and says so with its exit code.
    const script = await runReconcileScript();
    expect(script.code).toBe(1);
    expect(JSON.parse(script.stdout)).toMatchObject({
      clean: false,
      drifts: [{ check: 'ON_HAND_VS_LEDGER', sku: 'PLAIN', recorded: 9, expected: 7 }],
    });

    await db.$executeRawUnsafe(`UPDATE inventory_levels SET on_hand = 7 WHERE sku = 'PLAIN'`);
    const now = await app.inject({ method: 'POST', url: '/admin/reconciliation', headers: ADMIN });
    expect([now.statusCode, now.json().clean]).toEqual([201, true]);
  });
});

it('the worker keeps the perishables and reconciliation schedules in line with the config', async () => {
  const config = testConfig({
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    EXPIRY_CHECK_INTERVAL: '1h',
    RECONCILE_INTERVAL: '30m',
  });
  await ensureSchedules(stack.env.client, config);
  await ensureSchedules(stack.env.client, { ...config, expiryCheckInterval: '15m' });
  const expiry = await stack.env.client.schedule.getHandle(EXPIRY_SCHEDULE_ID).describe();
  expect(expiry.spec.intervals?.map((i) => i.every)).toEqual([15 * 60_000]);
  expect(expiry.action).toMatchObject({ type: 'startWorkflow', workflowType: 'expiryWorkflow', taskQueue: TASK_QUEUE });
  const rec = await stack.env.client.schedule.getHandle(RECONCILIATION_SCHEDULE_ID).describe();
  expect(rec.spec.intervals?.map((i) => i.every)).toEqual([30 * 60_000]);
});
