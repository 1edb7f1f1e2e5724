/**
 * Flash-sale campaigns on MariaDB (issue 22) through the real API, worker and Temporal dev
 * server, with the Redis gate: creating a campaign sets its quota aside once; the admin reads;
 * the gate rebuilt from MariaDB; campaign holds never past the pool nor the per-user limit
 * under concurrency (the saga's reserve and the request path's batch racing on one sale); the
 * end returns the unsold units once. Every test ends with the store's drifts and with each
 * level's reserved = its holds + its open flash sales' pools.
 */
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'mariadb';
import { createCampaign, endCampaign, reserveFromCampaign } from '../../data/campaigns/campaigns';
import { fulfilPreSale } from '../../data/campaigns/pre-sales';
import {
  campaignOrdersLastMinute,
  campaignPlacement,
  gateSnapshot,
  readCampaign,
  warmCampaignRead,
} from '../../data/campaigns/campaign-queries';
import type { Db } from '../../data/db';
import { syncGate, type Gate } from '../../data/gate';
import { holdBatchOnMariadb, type MariadbBatchItem } from '../../data/mariadb/hold-batch';
import { releaseOnMariadb } from '../../data/mariadb/holds';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import type { ReserveOutcome } from '../../domain/types';
import type { campaignWorkflow } from '../../workflows/campaign';
import { campaignWorkflowId } from '../../workflows/ids';
import { endCampaignSignal } from '../../workflows/messages';
import { useAppStack } from '../helpers/app';
import { describeMariadb, levelOf, mariadbPool, mariadbServiceDb, seedLevel } from '../helpers/mariadb';

const hour = 3600_000;
const TASK_QUEUE = 'mariadb-campaigns-test';

describeMariadb('flash-sale campaigns on MariaDB', () => {
  const stack = useAppStack('dev', TASK_QUEUE, {}, undefined, 'mariadb');
  let app: FastifyInstance;
  let db: Db;
  let gate: Gate;
  let owner: Pool;

  beforeAll(async () => {
    ({ app, db } = stack);
    gate = app.deps.gate;
    await app.deps.redis.flushdb();
    owner = mariadbPool(4);
    for (const sku of ['ADMIN', 'HTTP', 'GATE', 'SNAP', 'RUSH', 'MIX', 'END']) await seedLevel(owner, sku, 'W1', 50);
  });
  afterAll(async () => {
    await owner?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(owner)).toEqual([]);
    expect(await reservedApartFromHolds(owner)).toEqual([]);
  });

  const campaign = (id: string, sku: string, quota: number, perUserLimit = 2, startsIn = -hour) => ({
    id,
    kind: 'FLASH_SALE' as 'FLASH_SALE' | 'PRE_SALE',
    sku,
    warehouseCode: 'W1',
    startsAt: new Date(Date.now() + startsIn).toISOString(),
    endsAt: new Date(Date.now() + startsIn + 2 * hour).toISOString(),
    quota,
    perUserLimit,
  });
  const create = (body: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/admin/campaigns', payload: body });
  const flashOrder = (campaignId: string, sku: string, orderId: string, userId: string, quantity = 1) => ({
    reservationId: orderId,
    orderId,
    userId,
    campaignId,
    lines: [{ sku, warehouseCode: 'W1', quantity }],
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
  });
  const ledgerRows = async (sku: string) =>
    (
      await owner.query<{ reason: string; reserved_delta: number; actor: string | null }[]>(
        'SELECT reason, reserved_delta, actor FROM stock_movements WHERE sku = ? ORDER BY id',
        [sku],
      )
    ).map((r) => ({ ...r }));

  test('createCampaign sets the quota aside once, fenced; other settings, too little stock, an unknown SKU or a pre-sale in an unknown warehouse change nothing; a flash sale is no pre-sale to fulfil', async () => {
    const body = campaign('c-admin', 'ADMIN', 30);
    expect(await createCampaign(db, body, 'key-ops')).toEqual({ created: true });
    expect(await createCampaign(db, { ...body }, 'key-ops')).toEqual({ created: false });
    expect(await levelOf(owner, 'ADMIN', 'W1')).toEqual({ onHand: 50, reserved: 30 });
    expect(await ledgerRows('ADMIN')).toEqual([
      { reason: 'RECEIPT', reserved_delta: 0, actor: null },
      { reason: 'CAMPAIGN_SET_ASIDE', reserved_delta: 30, actor: 'key-ops' },
    ]);
    const outboxRows = await owner.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM cache_outbox WHERE sku = 'ADMIN'");
    expect(Number(outboxRows[0].n)).toBe(1);

    await expect(createCampaign(db, { ...body, quota: 31 })).rejects.toMatchObject({ code: 'CAMPAIGN_CONFLICT' });
    await expect(createCampaign(db, campaign('c-short', 'ADMIN', 21))).rejects.toMatchObject({
      code: 'INSUFFICIENT_STOCK',
    });
    await expect(createCampaign(db, campaign('c-unknown', 'NOPE', 1))).rejects.toMatchObject({
      code: 'UNKNOWN_PRODUCT',
    });
    await expect(
      createCampaign(db, {
        ...campaign('c-pre', 'ADMIN', 5),
        warehouseCode: 'NOWHERE',
        kind: 'PRE_SALE',
        expectedAt: new Date(Date.now() + 24 * hour).toISOString(),
      }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_WAREHOUSE' });
    await expect(fulfilPreSale(db, 'c-admin', 'k', 1)).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
    expect(await levelOf(owner, 'ADMIN', 'W1')).toEqual({ onHand: 50, reserved: 30 });
    expect(await ledgerRows('ADMIN')).toHaveLength(2);
    const ids = await owner.query<{ id: string }[]>('SELECT id FROM campaigns ORDER BY id');
    expect(ids.map((r) => r.id)).toEqual(['c-admin']);
  });

  test('POST /admin/campaigns: 201, the same key again 200, quota above available 409 INSUFFICIENT_STOCK, nothing changed', async () => {
    const body = campaign('c-http', 'HTTP', 30);
    const first = await create(body);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      id: 'c-http',
      status: 'OPEN',
      quota: 30,
      remaining: 30,
      held: 0,
      gate: { loaded: true, tokens: 30, ended: false },
    });
    const again = await create(body);
    expect([again.statusCode, again.json().remaining]).toEqual([200, 30]);
    const conflict = await create({ ...body, quota: 31 });
    expect([conflict.statusCode, conflict.json().code]).toEqual([409, 'CAMPAIGN_CONFLICT']);
    const short = await create(campaign('c-http-short', 'HTTP', 21));
    expect([short.statusCode, short.json().code]).toEqual([409, 'INSUFFICIENT_STOCK']);
    expect(await levelOf(owner, 'HTTP', 'W1')).toEqual({ onHand: 50, reserved: 30 });
    expect((await ledgerRows('HTTP')).map((r) => r.reason)).toEqual(['RECEIPT', 'CAMPAIGN_SET_ASIDE']);
    const ended = await app.inject({ method: 'POST', url: '/admin/campaigns/c-http/end' });
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toMatchObject({ status: 'ENDED', remaining: 0, gate: { ended: true } });
    expect(await levelOf(owner, 'HTTP', 'W1')).toEqual({ onHand: 50, reserved: 0 });
  });

  test('GET /admin/campaigns/:id and the list, one keyset page at a time', async () => {
    await createCampaign(db, campaign('c-list', 'ADMIN', 5));
    expect(await syncGate(db, gate, 'c-list', false)).toBe('rebuilt'); // as POST /admin/campaigns does
    const one = await app.inject({ method: 'GET', url: '/admin/campaigns/c-list' });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      id: 'c-list',
      sku: 'ADMIN',
      warehouseCode: 'W1',
      kind: 'FLASH_SALE',
      quota: 5,
      perUserLimit: 2,
      remaining: 5,
      held: 0,
      lateConfirmed: 0,
      paymentsToRefund: 0,
      gate: { loaded: true, tokens: 5, ended: false },
    });
    const missing = await app.inject({ method: 'GET', url: '/admin/campaigns/none' });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);

    const page1 = (await app.inject({ method: 'GET', url: '/admin/campaigns?status=OPEN&sku=ADMIN&limit=1' })).json();
    expect(page1.data.map((c: { id: string }) => c.id)).toEqual(['c-list']); // newest first
    expect(page1.hasMore).toBe(true);
    const page2 = (
      await app.inject({
        method: 'GET',
        url: `/admin/campaigns?status=OPEN&sku=ADMIN&limit=1&cursor=${page1.nextCursor}`,
      })
    ).json();
    expect(page2).toMatchObject({ data: [{ id: 'c-admin', remaining: 30, quota: 30 }], hasMore: false });
    const ended = (await app.inject({ method: 'GET', url: '/admin/campaigns?status=ENDED&sku=ADMIN' })).json();
    expect(ended.data).toEqual([]);
  });

  test('the gate is loaded from MariaDB (tokens = pool); a rebuild after holds keeps the receipts of held orders', async () => {
    await createCampaign(db, campaign('c-gate', 'GATE', 5, 3));
    expect((await gate.admit('c-gate', 'ann', 'kept', 1)).verdict).toBe('NOT_LOADED');
    expect(await syncGate(db, gate, 'c-gate', false)).toBe('rebuilt');
    expect(await gate.state('c-gate')).toEqual({ loaded: true, tokens: 5, ended: false });
    for (const [orderId, userId] of [
      ['kept', 'ann'],
      ['gone', 'bob'],
    ]) {
      expect((await gate.admit('c-gate', userId, orderId, 1)).verdict).toBe('ADMITTED');
      expect(await reserveFromCampaign(db, flashOrder('c-gate', 'GATE', orderId, userId))).toMatchObject({
        status: 'reserved',
      });
    }
    // 'gone' is released in MariaDB; the gate check runs before the saga gives its token back.
    expect(await releaseOnMariadb(db.mariadb!, 'gone', 'CANCELLED')).toMatchObject({ status: 'released' });
    expect(await gateSnapshot(db, 'c-gate')).toMatchObject({
      remaining: 4,
      users: { ann: 1 },
      orders: { kept: '1:ann' },
      ended: false,
    });
    expect(await syncGate(db, gate, 'c-gate', false)).toBe('rebuilt'); // 3 tokens < pool of 4
    expect(await gate.giveBack('c-gate', 'bob', 'gone')).toBe(false); // already in the pool
    expect(await gate.state('c-gate')).toEqual({ loaded: true, tokens: 4, ended: false });
    // The held order's receipt came back from MariaDB: a retry takes no second token, its
    // release gives its token back once.
    expect((await gate.admit('c-gate', 'ann', 'kept', 1)).verdict).toBe('READMITTED');
    await releaseOnMariadb(db.mariadb!, 'kept', 'EXPIRED');
    expect(await gate.giveBack('c-gate', 'ann', 'kept')).toBe(true);
    expect(await gate.state('c-gate')).toEqual({ loaded: true, tokens: 5, ended: false });
    expect((await gate.admit('c-gate', 'ann', 'again', 3)).verdict).toBe('ADMITTED'); // ann's count is 0 again
    // Flushed: rebuilt from MariaDB, user counts too.
    await app.deps.redis.flushdb();
    await reserveFromCampaign(db, flashOrder('c-gate', 'GATE', 'p1', 'cat', 2));
    expect(await syncGate(db, gate, 'c-gate', false)).toBe('rebuilt');
    expect(await gate.state('c-gate')).toEqual({ loaded: true, tokens: 3, ended: false });
    expect((await gate.admit('c-gate', 'cat', 'p2', 2)).verdict).toBe('LIMIT_REACHED'); // 2 + 2 > 3
    expect((await gate.admit('c-gate', 'cat', 'p1', 2)).verdict).toBe('READMITTED');
  });

  test('every gate snapshot is one consistent read: pool + receipts = quota and counts = receipts, while holds are released', async () => {
    await createCampaign(db, campaign('c-snap', 'SNAP', 40, 1));
    const items = Array.from({ length: 40 }, (_, i) => batchItem(`snap-${i}`, `s-${i}`, 'SNAP'));
    const taken = await holdBatchOnMariadb(db.mariadb!, { kind: 'campaign', campaignId: 'c-snap' }, items);
    expect(taken.every((o) => 'status' in o && o.status === 'reserved')).toBe(true);
    const releases = Promise.all(items.map((it) => releaseOnMariadb(db.mariadb!, it.serial, 'CANCELLED')));
    const snapshots = await Promise.all(Array.from({ length: 40 }, () => gateSnapshot(db, 'c-snap')));
    await releases;
    for (const s of snapshots) {
      const held = Object.values(s!.orders).reduce((sum, r) => sum + Number(r.split(':')[0]), 0);
      const counted = Object.values(s!.users).reduce((sum, q) => sum + q, 0);
      expect([s!.remaining + held, counted]).toEqual([40, held]);
    }
    expect(await gateSnapshot(db, 'c-snap')).toMatchObject({ remaining: 40, users: {}, orders: {} });
  });

  test("the flash path's small reads: placement, the warm-up read, the last minute's pace", async () => {
    await createCampaign(db, campaign('c-pace', 'SNAP', 5, 5));
    expect(await campaignPlacement(db, 'c-pace')).toEqual({ sku: 'SNAP', warehouseCode: 'W1', expectedAt: null });
    expect(await campaignPlacement(db, 'none')).toBeUndefined();
    await expect(warmCampaignRead(db)).resolves.toBeUndefined();
    await reserveFromCampaign(db, flashOrder('c-pace', 'SNAP', 'pace-1', 'u', 2));
    await reserveFromCampaign(db, flashOrder('c-pace', 'SNAP', 'pace-2', 'v', 1));
    await reserveFromCampaign(db, flashOrder('c-pace', 'SNAP', 'pace-3', 'w', 9)); // refused: nothing recorded
    expect(await campaignOrdersLastMinute(db, 'c-pace')).toBe(2);
    await owner.query("UPDATE reservations SET created_at = created_at - INTERVAL 2 MINUTE WHERE id = 'pace-1'");
    expect(await campaignOrdersLastMinute(db, 'c-pace')).toBe(1);
  });

  test('200 concurrent campaign reserves on a pool of 20: exactly 20 holds, no user above the limit; repeats replay', async () => {
    await createCampaign(db, campaign('c-rush', 'RUSH', 20, 3));
    // Through a pool of 10, as a service process has: every order queues for the campaign row.
    const ten = mariadbServiceDb(10);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        reserveFromCampaign(ten, flashOrder('c-rush', 'RUSH', `f-${i}`, i < 60 ? 'greedy' : `u-${i}`)),
      ),
    ).finally(() => ten.$disconnect());
    expect(results.filter((r) => r.status === 'reserved')).toHaveLength(20);
    expect(results.slice(0, 60).filter((r) => r.status === 'reserved').length).toBeLessThanOrEqual(3);
    const reasons = new Set(
      results.filter((r) => r.status === 'rejected').map((r) => (r as { reason: string }).reason),
    );
    expect([...reasons].every((r) => r === 'LIMIT_REACHED' || r === 'SOLD_OUT')).toBe(true);
    expect(await readCampaign(db, 'c-rush')).toMatchObject({ remaining: 0, held: 20, sold: 0 });
    expect(await levelOf(owner, 'RUSH', 'W1')).toEqual({ onHand: 50, reserved: 20 });
    const counts = await owner.query<{ quantity: number }[]>(
      "SELECT quantity FROM campaign_user_counts WHERE campaign_id = 'c-rush' AND user_id = 'greedy'",
    );
    expect(counts[0].quantity).toBeLessThanOrEqual(3);
    // Every outcome is fenced: a repeat gets the first answer, a win or a refusal.
    const repeats = await Promise.all(
      [0, 1, 2, 100, 199].map((i) =>
        reserveFromCampaign(db, flashOrder('c-rush', 'RUSH', `f-${i}`, i < 60 ? 'greedy' : `u-${i}`)),
      ),
    );
    expect(repeats).toEqual([0, 1, 2, 100, 199].map((i) => results[i]));
  });

  test("the saga's reserve, the request path's batch and releases racing on one sale: never past the pool or a user's limit, no deadlock", async () => {
    await createCampaign(db, campaign('c-mix', 'MIX', 40, 2));
    // Ten earlier holds, released while the race runs: their units go back to the pool.
    const earlier = Array.from({ length: 10 }, (_, i) => `pre-${i}`);
    for (const id of earlier) await reserveFromCampaign(db, flashOrder('c-mix', 'MIX', id, `p-${id}`));
    const users = Array.from({ length: 12 }, (_, u) => `m-${u}`);
    const ten = mariadbServiceDb(10);
    const singles = Array.from({ length: 48 }, (_, i) =>
      reserveFromCampaign(ten, flashOrder('c-mix', 'MIX', `s-${i}`, users[i % 12])),
    );
    const batches = Array.from({ length: 6 }, (_, b) =>
      holdBatchOnMariadb(
        db.mariadb!,
        { kind: 'campaign', campaignId: 'c-mix' },
        Array.from({ length: 8 }, (_, k) => batchItem(`b-${b}-${k}`, users[(b * 8 + k) % 12], 'MIX')),
      ),
    );
    const releases = earlier.map((id) => releaseOnMariadb(ten.mariadb!, id, 'CANCELLED'));
    const [single, batched, released] = await Promise.all([
      Promise.all(singles),
      Promise.all(batches),
      Promise.all(releases),
    ]).finally(() => ten.$disconnect());
    expect(released.every((r) => r.status === 'released')).toBe(true);
    const won =
      single.filter((r) => r.status === 'reserved').length +
      batched.flat().filter((o) => 'status' in o && o.status === 'reserved').length;
    // 12 users × a limit of 2 = 24 ≤ the 30 free before the releases: every user's limit is what binds.
    expect(won).toBe(24);
    const perUser = await owner.query<{ user_id: string; n: number }[]>(
      `SELECT r.user_id, CAST(SUM(l.quantity) AS SIGNED) AS n FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
        WHERE r.campaign_id = 'c-mix' AND r.status = 'RESERVED' GROUP BY r.user_id`,
    );
    expect(perUser.map((r) => Number(r.n))).toEqual(Array.from({ length: 12 }, () => 2));
    expect(await readCampaign(db, 'c-mix')).toMatchObject({ remaining: 16, held: 24 });
  });

  test('endCampaign returns the unsold units once; a hold released after the end goes back to normal stock', async () => {
    const settings = campaign('c-end', 'END', 10, 5);
    await createCampaign(db, settings);
    expect(await reserveFromCampaign(db, flashOrder('c-end', 'END', 'a', 'u', 2))).toMatchObject({
      status: 'reserved',
    });
    expect(await reserveFromCampaign(db, flashOrder('c-end', 'END', 'b', 'u', 3))).toMatchObject({
      status: 'reserved',
    });
    await releaseOnMariadb(db.mariadb!, 'a', 'CANCELLED');
    expect(await readCampaign(db, 'c-end')).toMatchObject({ remaining: 7, held: 3 });

    // The campaign's workflow, as POST /admin/campaigns starts it and /end signals it: the
    // worker loads the gate, then runs endCampaign and rebuilds the gate (ENDED) on MariaDB.
    const handle = await stack.env.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignWorkflowId('c-end'),
      taskQueue: TASK_QUEUE,
      args: [{ campaignId: 'c-end', startsAt: settings.startsAt, endsAt: settings.endsAt, gateCheckSeconds: 60 }],
    });
    await handle.signal(endCampaignSignal);
    expect(await handle.result()).toEqual({ returned: 7 });
    expect(await gate.state('c-end')).toEqual({ loaded: true, tokens: 0, ended: true });
    const view = await app.inject({ method: 'GET', url: '/admin/campaigns/c-end' });
    expect(view.json()).toMatchObject({ status: 'ENDED', remaining: 0, held: 3 });
    const endedList = (await app.inject({ method: 'GET', url: '/admin/campaigns?status=ENDED&sku=END' })).json();
    expect(endedList.data).toMatchObject([{ id: 'c-end', status: 'ENDED', remaining: 0, quota: 10 }]);
    expect(await endCampaign(db, 'c-end')).toEqual({ returned: 7 });
    expect(await endCampaign(db, 'c-end')).toEqual({ returned: 7 });
    expect(await levelOf(owner, 'END', 'W1')).toEqual({ onHand: 50, reserved: 3 });
    // One return, written by the campaign workflow's activity: the ledger names it.
    const returns = await owner.query<{ reserved_delta: number; actor: string }[]>(
      "SELECT reserved_delta, actor FROM stock_movements WHERE sku = 'END' AND reason = 'CAMPAIGN_RETURN'",
    );
    expect(returns.map((r) => ({ ...r }))).toEqual([{ reserved_delta: -7, actor: 'system:campaign' }]);
    expect(await reserveFromCampaign(db, flashOrder('c-end', 'END', 'late', 'v'))).toEqual({
      status: 'rejected',
      reason: 'ENDED',
    });
    await releaseOnMariadb(db.mariadb!, 'b', 'EXPIRED');
    expect(await levelOf(owner, 'END', 'W1')).toEqual({ onHand: 50, reserved: 0 });
    expect(await readCampaign(db, 'c-end')).toMatchObject({ remaining: 0, held: 0 });
  });

  test('window and fences: NOT_STARTED before the start; a release recorded first refuses the reserve; no campaign is 404', async () => {
    await createCampaign(db, campaign('c-later', 'ADMIN', 2, 2, hour));
    expect(await reserveFromCampaign(db, flashOrder('c-later', 'ADMIN', 'early', 'u'))).toEqual({
      status: 'rejected',
      reason: 'NOT_STARTED',
    });
    expect(await releaseOnMariadb(db.mariadb!, 'cancelled-first', 'CANCELLED')).toEqual({ status: 'released_empty' });
    expect(await reserveFromCampaign(db, flashOrder('c-admin', 'ADMIN', 'cancelled-first', 'u'))).toEqual({
      status: 'rejected',
      reason: 'ALREADY_RELEASED',
    });
    await expect(reserveFromCampaign(db, flashOrder('nope', 'ADMIN', 'x', 'u'))).rejects.toMatchObject({
      code: 'CAMPAIGN_NOT_FOUND',
    });
    expect(await readCampaign(db, 'c-admin')).toMatchObject({ remaining: 30, held: 0 });
  });
});

/** One single-unit item of a campaign batch, as the request path queues it. */
function batchItem(serial: string, userId: string, sku: string): MariadbBatchItem {
  const expiresAt = new Date(Date.now() + 600_000).toISOString();
  const line = { sku, warehouseCode: 'W1', quantity: 1 };
  const reserved: ReserveOutcome = {
    status: 'reserved',
    reservationId: serial,
    lines: [line],
    allocations: [],
    expiresAt,
  };
  return { serial, orderId: serial, userId, quantity: 1, expiresAt, reserved, saga: { orderId: serial, userId } };
}

/**
 * Levels whose reserved is not their live holds plus their open flash sales' pools (PostgreSQL's
 * RESERVED_VS_HOLDS): what a set-aside, a return at the end or a release after it would break.
 */
async function reservedApartFromHolds(pool: Pool): Promise<string[]> {
  const rows = await pool.query<{ subject: string }[]>(
    `SELECT CONCAT(il.sku, '@', il.warehouse_code) AS subject FROM inventory_levels il
      WHERE il.reserved <> (
        SELECT COALESCE(SUM(l.quantity), 0) FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
         WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code AND r.status = 'RESERVED')
      + (SELECT COALESCE(SUM(c.remaining), 0) FROM campaigns c
          WHERE c.sku = il.sku AND c.warehouse_code = il.warehouse_code AND c.status = 'OPEN' AND c.kind = 'FLASH_SALE')`,
  );
  return rows.map((r) => r.subject);
}
