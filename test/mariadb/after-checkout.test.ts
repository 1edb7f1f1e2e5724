/**
 * After checkout on MySQL/MariaDB (issue 22), on the real API and worker over the MariaDB test
 * database and a Temporal dev server (holds expire in seconds). Mirrors the PostgreSQL tests
 * test/api/hold-extension.test.ts, test/api/after-checkout.test.ts ("order edit") and
 * test/api/returns.test.ts for outcomes and codes: an extended hold is released at its new
 * expiry, not the old one; payment.pending extends once; the caps and the fence hold; an edit
 * asking for more than is available is 409 and changes nothing, two edits racing for the last
 * units never oversell; a return replayed counts once, never more than was sold comes back, a
 * lot-tracked SKU goes back into its lot. Each test ends with the store's drifts (ledger vs
 * levels, lots vs on hand, holds vs reserved).
 */
import { confirmStockOnMariadb } from '../../data/mariadb/confirm-payment';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'mariadb';
import type { Db } from '../../data/db';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import { jsonValue } from '../../data/mariadb/tx';
import { editOrder } from '../../data/orders/edit';
import { extendHold } from '../../data/orders/extend';
import { releaseStock } from '../../data/orders/release';
import { reserveStock } from '../../data/orders/reservations';
import type { OrderState } from '../../domain/order-saga';
import { orderWorkflowId } from '../../workflows/ids';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { describeMariadb, levelOf, mariadbPool, seedCampaign, seedLevel } from '../helpers/mariadb';

const SECRET = 'test-webhook-secret';
const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

describeMariadb('after checkout on MariaDB through the API and the worker', () => {
  const stack = useAppStack(
    'dev',
    'mariadb-after-checkout-test',
    {
      RESERVATION_TTL_SECONDS: '2',
      HOLD_EXTENSION_MAX_SECONDS: '5',
      HOLD_EXTENSION_MAX_TOTAL_SECONDS: '6',
      HOLD_EXTENSION_MAX_COUNT: '2',
      PAYMENT_PENDING_EXTENSION_SECONDS: '3',
      ORDER_RATE_LIMIT_PER_MINUTE: '100000',
    },
    undefined,
    'mariadb',
  );
  let app: FastifyInstance;
  let db: Db;
  let owner: Pool;
  beforeAll(async () => {
    ({ app, db } = stack);
    owner = mariadbPool(4);
    await seedLevel(owner, 'FIG', 'W1', 100);
  });
  afterAll(async () => {
    await owner?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(owner)).toEqual([]);
  });

  /** Places an order through the API; its hold lasts RESERVATION_TTL_SECONDS (2 s) unless `holdSeconds` says otherwise. */
  const place = async (
    orderId: string,
    sku = 'FIG',
    quantity = 1,
    amountCents?: number,
    holdSeconds?: number,
  ): Promise<number> => {
    const res = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        orderId,
        userId: `u-${orderId}`,
        lines: [{ sku, warehouseCode: 'W1', quantity }],
        ...(amountCents ? { amountCents } : {}),
        ...(holdSeconds ? { holdSeconds } : {}),
      },
    });
    expect(res.statusCode).toBe(201);
    return Date.parse(res.json().expiresAt);
  };
  const extend = (orderId: string, extensionId: string, seconds: number) =>
    app.inject({
      method: 'POST',
      url: `/orders/${orderId}/extend`,
      payload: { extensionId, seconds, reason: '3-D Secure challenge' },
    });
  const webhook = (orderId: string, type: string, eventId = `ev-${type}-${orderId}`, amountCents = 700) => {
    const signed = signedPayment(SECRET, { eventId, type, orderId, paymentId: `pay-${orderId}`, amountCents });
    return app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
  };
  const cancel = async (orderId: string) =>
    expect((await app.inject({ method: 'POST', url: `/orders/${orderId}/cancel` })).statusCode).toBe(202);
  const saga = (orderId: string) => stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
  const sagaResult = async (orderId: string): Promise<OrderState> => {
    await eventually(
      () =>
        saga(orderId)
          .describe()
          .then(
            () => true,
            () => false,
          ),
      (exists) => exists,
      10_000,
    );
    return saga(orderId).result();
  };
  const hold = async (id: string) =>
    (
      await owner.query<
        {
          status: string;
          release_reason: string | null;
          expires_at: Date;
          extension_count: number;
          extended_seconds: number;
          version: number;
          amount_cents: number | null;
        }[]
      >(
        'SELECT status, release_reason, expires_at, extension_count, extended_seconds, version, amount_cents FROM reservations WHERE id = ?',
        [id],
      )
    )[0];
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await owner.query<{ n: number }[]>(sql, params))[0].n);

  describe('hold extensions (POST /orders/:id/extend, payment.pending)', () => {
    test('extended at T−1 s: still held at the original expiry, released (EXPIRED) by the saga at the new one', async () => {
      const expiresAt = await place('ext-late');
      await sleepUntil(expiresAt - 1000);
      const res = await extend('ext-late', 'x1', 3);
      const extendedTo = expiresAt + 3000;
      expect([res.statusCode, res.json()]).toEqual([
        200,
        {
          orderId: 'ext-late',
          extensionId: 'x1',
          status: 'EXTENDED',
          expiresAt: new Date(extendedTo).toISOString(),
          extensionCount: 1,
          extendedSeconds: 3,
        },
      ]);
      await sleepUntil(expiresAt + 800);
      expect(await hold('ext-late')).toMatchObject({ status: 'RESERVED', expires_at: new Date(extendedTo) });
      const attrs = (await saga('ext-late').describe()).typedSearchAttributes;
      expect(attrs.getAll().find((p) => p.key.name === 'ReservationExpiresAt')?.value).toEqual(new Date(extendedTo));
      const ended = await sagaResult('ext-late');
      expect(ended).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
      expect(Date.parse(ended.releasedAt!)).toBeGreaterThanOrEqual(extendedTo);
      expect(await hold('ext-late')).toMatchObject({ status: 'RELEASED', release_reason: 'EXPIRED' });
    });

    test('extended after its expiry: 409 HOLD_EXPIRED (MariaDB decides), the expiry unmoved, the hold released', async () => {
      const expiresAt = await place('ext-expired');
      await sleepUntil(expiresAt + 300);
      const res = await extend('ext-expired', 'x1', 3);
      expect([res.statusCode, res.json().code]).toEqual([409, 'HOLD_EXPIRED']);
      expect(await sagaResult('ext-expired')).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
      expect((await hold('ext-expired')).expires_at.getTime()).toBe(expiresAt);
      // The refusal is recorded as the extension's answer: a repeat is the same 409.
      expect((await extend('ext-expired', 'x1', 3)).json().code).toBe('HOLD_EXPIRED');
      const unknown = await extend('ext-nope', 'x1', 3);
      expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'ORDER_NOT_FOUND']);
    });

    test('payment.pending extends once per payment; payment.succeeded after the original TTL confirms the hold', async () => {
      const expiresAt = await place('ext-3ds', 'FIG', 1, 700);
      const pending = await webhook('ext-3ds', 'payment.pending');
      expect([pending.statusCode, pending.json()]).toEqual([
        200,
        {
          eventId: 'ev-payment.pending-ext-3ds',
          orderId: 'ext-3ds',
          result: 'EXTENDED',
          expiresAt: new Date(expiresAt + 3000).toISOString(),
        },
      ]);
      // The same event again: its first answer. Another event for the same payment: the
      // extension's first answer (its id is the payment's). Neither extends again.
      const again = await Promise.all([
        webhook('ext-3ds', 'payment.pending'),
        webhook('ext-3ds', 'payment.pending'),
        webhook('ext-3ds', 'payment.pending', 'ev-pending-again'),
      ]);
      expect(again.map((r) => [r.statusCode, r.json().result])).toEqual(Array(3).fill([200, 'EXTENDED']));
      expect(await hold('ext-3ds')).toMatchObject({ extension_count: 1, extended_seconds: 3 });
      expect(await count(`SELECT COUNT(*) AS n FROM hold_extensions WHERE order_id = 'ext-3ds'`)).toBe(1);
      // The event's id with other content is a conflict and changes nothing.
      const conflict = await webhook('ext-3ds', 'payment.pending', 'ev-payment.pending-ext-3ds', 1);
      expect([conflict.statusCode, conflict.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
      await sleepUntil(expiresAt + 600);
      expect((await webhook('ext-3ds', 'payment.succeeded')).json()).toMatchObject({ result: 'ACCEPTED' });
      const ended = await sagaResult('ext-3ds');
      expect(ended).toMatchObject({ status: 'CONFIRMED', payments: [expect.objectContaining({ state: 'CONFIRMED' })] });
      expect(ended.lateConfirmed).toBeUndefined();
      expect(await hold('ext-3ds')).toMatchObject({ status: 'CONFIRMED' });
    });

    test('caps hold (seconds per extension, in all, number); a repeated extensionId is its first answer, with other seconds 409', async () => {
      await place('ext-caps');
      const refused = async (id: string, seconds: number) => {
        const res = await extend('ext-caps', id, seconds);
        expect([res.statusCode, res.json().code]).toEqual([409, 'EXTENSION_LIMIT_REACHED']);
      };
      await refused('too-long', 6); // HOLD_EXTENSION_MAX_SECONDS 5
      const first = await extend('ext-caps', 'a', 4);
      expect(first.statusCode).toBe(200);
      await refused('past-total', 3); // 4 + 3 > HOLD_EXTENSION_MAX_TOTAL_SECONDS 6
      // Ten repeats of one extension id at once: the first answer each time, one extension.
      const repeats = await Promise.all(Array.from({ length: 10 }, () => extend('ext-caps', 'b', 2)));
      expect(new Set(repeats.map((r) => r.payload)).size).toBe(1);
      expect(repeats[0].json()).toMatchObject({ status: 'EXTENDED', extensionCount: 2, extendedSeconds: 6 });
      expect((await extend('ext-caps', 'a', 4)).json()).toEqual(first.json());
      const other = await extend('ext-caps', 'a', 3);
      expect([other.statusCode, other.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
      await refused('third', 1); // HOLD_EXTENSION_MAX_COUNT 2 (and the total)
      expect(await hold('ext-caps')).toMatchObject({ extension_count: 2, extended_seconds: 6 });
      await cancel('ext-caps');
      expect(await sagaResult('ext-caps')).toMatchObject({ status: 'RELEASED', releaseReason: 'CANCELLED' });
    });

    test('an extension the saga never heard of still stands: MariaDB refuses the EXPIRED release until the new expiry', async () => {
      const expiresAt = await place('ext-unheard');
      // Granted in MariaDB, no signal sent (as if it was lost with a crash after the commit).
      const { outcome } = await extendHold(
        db,
        { orderId: 'ext-unheard', extensionId: 'x1', seconds: 2, reason: 'lost signal', source: 'API' },
        { maxSeconds: 5, maxTotalSeconds: 6, maxCount: 2 },
      );
      expect(outcome).toMatchObject({ status: 'EXTENDED' });
      await sleepUntil(expiresAt + 800);
      expect((await hold('ext-unheard')).status).toBe('RESERVED');
      const ended = await sagaResult('ext-unheard');
      expect(ended).toMatchObject({
        status: 'RELEASED',
        releaseReason: 'EXPIRED',
        expiresAt: new Date(expiresAt + 2000).toISOString(),
      });
      expect(Date.parse(ended.releasedAt!)).toBeGreaterThanOrEqual(expiresAt + 2000);
    });

    test('a flash-sale order is not extended unless its campaign allows it (allow_hold_extension)', async () => {
      await seedLevel(owner, 'FIG-FS', 'W1', 10);
      await seedCampaign(owner, 'fair-sale', 'FIG-FS', 'W1', 2, 1);
      await seedCampaign(owner, 'lenient-sale', 'FIG-FS', 'W1', 2, 1);
      await owner.query(`UPDATE campaigns SET allow_hold_extension = TRUE WHERE id = 'lenient-sale'`);
      for (const id of ['fair-sale', 'lenient-sale']) {
        const held = await app.inject({
          method: 'POST',
          url: `/campaigns/${id}/orders`,
          payload: { orderId: `${id}-o`, userId: 'u-flash', quantity: 1 },
        });
        expect(held.statusCode).toBe(201);
      }
      const refused = await extend('fair-sale-o', 'x1', 3);
      expect([refused.statusCode, refused.json().code]).toEqual([409, 'NOT_EXTENDABLE']);
      expect((await extend('lenient-sale-o', 'x1', 3)).json()).toMatchObject({ status: 'EXTENDED', extensionCount: 1 });
      for (const id of ['fair-sale-o', 'lenient-sale-o']) {
        await cancel(id);
        await sagaResult(id);
      }
    });
  });

  describe('order edit (POST /orders/:id/edit)', () => {
    const edit = (orderId: string, body: object) =>
      app.inject({ method: 'POST', url: `/orders/${orderId}/edit`, payload: body });
    const line = (quantity: number, sku = 'EDIT') => [{ sku, warehouseCode: 'W1', quantity }];
    const editRows = (orderId: string) =>
      owner.query<{ reason: string; reserved_delta: number; actor: string | null }[]>(
        `SELECT reason, reserved_delta, actor FROM stock_movements WHERE reference = ? AND reason LIKE '%:EDIT' ORDER BY id`,
        [orderId],
      );
    const linesOf = (orderId: string) =>
      owner.query<{ quantity: number }[]>('SELECT quantity FROM reservation_lines WHERE reservation_id = ?', [orderId]);

    test('+2 with 1 available → 409 and nothing changed; −3 → exactly 3 released; the saga learns the lines; a retry is the first answer', async () => {
      await seedLevel(owner, 'EDIT', 'W1', 5);
      await place('e-1', 'EDIT', 4, undefined, 300);
      const short = await edit('e-1', { editId: 'ed-1', lines: line(6) });
      expect([short.statusCode, short.json()]).toEqual([
        409,
        {
          code: 'INSUFFICIENT_STOCK',
          message: expect.any(String),
          details: { shortages: [{ sku: 'EDIT', warehouseCode: 'W1', requested: 2, available: 1 }] },
        },
      ]);
      expect(await levelOf(owner, 'EDIT', 'W1')).toEqual({ onHand: 5, reserved: 4 });
      expect(await linesOf('e-1')).toEqual([{ quantity: 4 }]);
      expect(await editRows('e-1')).toEqual([]);
      expect(await hold('e-1')).toMatchObject({ version: 0 });
      expect(await count(`SELECT COUNT(*) AS n FROM operation_fences WHERE serial = 'e-1:edit:ed-1'`)).toBe(0);

      const less = await edit('e-1', { editId: 'ed-2', lines: line(1), expectedVersion: 0 });
      expect([less.statusCode, less.json()]).toEqual([
        200,
        {
          orderId: 'e-1',
          editId: 'ed-2',
          version: 1,
          lines: line(1),
          amountCents: null,
          moved: [{ sku: 'EDIT', warehouseCode: 'W1', delta: -3 }],
          replayed: false,
        },
      ]);
      expect(await levelOf(owner, 'EDIT', 'W1')).toEqual({ onHand: 5, reserved: 1 });
      expect((await editRows('e-1')).map((m) => [m.reason, m.reserved_delta, m.actor])).toEqual([
        ['RELEASE:EDIT', -3, 'bootstrap'],
      ]);
      await eventually(
        async () => (await app.inject({ method: 'GET', url: '/orders/e-1' })).json(),
        (o: { source: string; lines: { quantity: number }[] }) =>
          o.source === 'saga' && o.lines.length === 1 && o.lines[0]!.quantity === 1,
      );
      const retried = await Promise.all(
        Array.from({ length: 5 }, () => edit('e-1', { editId: 'ed-2', lines: line(1), expectedVersion: 0 })),
      );
      expect(retried.map((r) => [r.statusCode, r.json().version, r.json().replayed])).toEqual(
        Array(5).fill([200, 1, true]),
      );
      expect((await edit('e-1', { editId: 'ed-2', lines: line(2), expectedVersion: 0 })).json().code).toBe(
        'IDEMPOTENCY_CONFLICT',
      );
      expect(await levelOf(owner, 'EDIT', 'W1')).toEqual({ onHand: 5, reserved: 1 });
      expect(await editRows('e-1')).toHaveLength(1);
    });

    test('a price-only edit writes no ledger row; a stale version, an unknown SKU, a campaign order, a missing order are refused', async () => {
      const price = await edit('e-1', { editId: 'ed-3', lines: line(1), amountCents: 1234, expectedVersion: 1 });
      expect([price.statusCode, price.json()]).toEqual([
        200,
        expect.objectContaining({ version: 2, amountCents: 1234, moved: [] }),
      ]);
      expect(await hold('e-1')).toMatchObject({ version: 2, amount_cents: 1234 });
      expect(await editRows('e-1')).toHaveLength(1);
      const stale = await edit('e-1', { editId: 'ed-4', lines: line(2), expectedVersion: 1 });
      expect([stale.statusCode, stale.json().code, stale.json().details]).toEqual([
        409,
        'STALE_VERSION',
        { expected: 1, actual: 2 },
      ]);
      expect(await levelOf(owner, 'EDIT', 'W1')).toEqual({ onHand: 5, reserved: 1 });
      const unknown = await edit('e-1', { editId: 'ed-5', lines: [{ sku: 'NOPE', warehouseCode: 'W1', quantity: 1 }] });
      expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'UNKNOWN_PRODUCT']);
      await seedLevel(owner, 'EDIT-FS', 'W1', 2);
      await seedCampaign(owner, 'edit-fs', 'EDIT-FS', 'W1', 1, 1);
      await owner.query(`UPDATE reservations SET campaign_id = 'edit-fs' WHERE id = 'e-1'`);
      const campaign = await edit('e-1', { editId: 'ed-7', lines: line(1), amountCents: 1 });
      expect([campaign.statusCode, campaign.json().code]).toEqual([409, 'NOT_EDITABLE']);
      await owner.query(`UPDATE reservations SET campaign_id = NULL WHERE id = 'e-1'`);
      const none = await edit('missing', { editId: 'ed-6', lines: line(1) });
      expect([none.statusCode, none.json().code]).toEqual([404, 'ORDER_NOT_FOUND']);
      await cancel('e-1');
      await sagaResult('e-1');
      const released = await edit('e-1', { editId: 'ed-8', lines: line(2) });
      expect([released.statusCode, released.json().code]).toEqual([409, 'NOT_EDITABLE']);
      expect(await levelOf(owner, 'EDIT', 'W1')).toEqual({ onHand: 5, reserved: 0 });
    });

    test('two edits racing for the last units: the guarded update lets one take them, the other is 409; never oversold', async () => {
      await seedLevel(owner, 'EDIT-R', 'W1', 5);
      await place('e-a', 'EDIT-R', 1, undefined, 300);
      await place('e-b', 'EDIT-R', 1, undefined, 300);
      const answers = await Promise.all([
        edit('e-a', { editId: 'grow', lines: line(4, 'EDIT-R') }),
        edit('e-b', { editId: 'grow', lines: line(4, 'EDIT-R') }),
      ]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
      expect(answers.find((a) => a.statusCode === 409)!.json().code).toBe('INSUFFICIENT_STOCK');
      expect(await levelOf(owner, 'EDIT-R', 'W1')).toEqual({ onHand: 5, reserved: 5 });
      await cancel('e-a');
      await cancel('e-b');
      await sagaResult('e-a');
      await sagaResult('e-b');
    });

    test('after a payment no edit goes through: the payment and the edit take the same slot', async () => {
      await seedLevel(owner, 'EDIT-P', 'W1', 5);
      await place('e-paid', 'EDIT-P', 1, 700, 300);
      expect((await webhook('e-paid', 'payment.succeeded')).json()).toMatchObject({ result: 'ACCEPTED' });
      const late = await edit('e-paid', { editId: 'ed-late', lines: line(3, 'EDIT-P') });
      expect([late.statusCode, late.json().code]).toEqual([409, 'NOT_EDITABLE']);
      expect(await sagaResult('e-paid')).toMatchObject({ status: 'CONFIRMED' });
      expect(await levelOf(owner, 'EDIT-P', 'W1')).toEqual({ onHand: 4, reserved: 0 });
    });

    test('an edit racing a payment: the order slot orders them, one wins cleanly', async () => {
      await seedLevel(owner, 'EDIT-Q', 'W1', 5);
      await place('e-race', 'EDIT-Q', 1, 990, 300);
      const [paid, edited] = await Promise.all([
        webhook('e-race', 'payment.succeeded', 'ev-race', 990),
        edit('e-race', { editId: 'ed-race', lines: line(2, 'EDIT-Q'), amountCents: 1980 }),
      ]);
      expect(paid.statusCode).toBe(200);
      const lines = await linesOf('e-race');
      if (edited.statusCode === 200) {
        // The edit committed first: the payment (for the old amount) came after it.
        expect(await hold('e-race')).toMatchObject({ amount_cents: 1980, version: 1 });
        expect(lines).toEqual([{ quantity: 2 }]);
      } else {
        // The payment committed first: the edit was refused, nothing of it applied.
        expect([edited.statusCode, edited.json().code]).toEqual([409, 'NOT_EDITABLE']);
        expect(await hold('e-race')).toMatchObject({ amount_cents: 990, version: 0 });
        expect(lines).toEqual([{ quantity: 1 }]);
        expect(await editRows('e-race')).toEqual([]);
      }
      const late = await edit('e-race', { editId: 'ed-late', lines: line(3, 'EDIT-Q') });
      expect([late.statusCode, late.json().code]).toEqual([409, 'NOT_EDITABLE']);
    });

    test('a saga whose start is still in the outbox starts from the edited order (its saga_starts row rewritten)', async () => {
      await seedLevel(owner, 'EDIT-O', 'W1', 5);
      const held = await reserveStock(db, {
        reservationId: 'e-outbox',
        orderId: 'e-outbox',
        userId: 'u-outbox',
        lines: line(1, 'EDIT-O'),
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      expect(held.status).toBe('reserved');
      await owner.query('INSERT INTO saga_starts (order_id, input) VALUES (?, ?)', [
        'e-outbox',
        JSON.stringify({ order: { orderId: 'e-outbox', lines: line(1, 'EDIT-O') }, reservation: held }),
      ]);
      await editOrder(db, { orderId: 'e-outbox', editId: 'ed-o', lines: line(3, 'EDIT-O'), amountCents: 300 });
      const [row] = await owner.query<{ input: unknown }[]>(
        `SELECT input FROM saga_starts WHERE order_id = 'e-outbox'`,
      );
      expect(jsonValue(row.input)).toMatchObject({
        order: { lines: line(3, 'EDIT-O'), amountCents: 300 },
        reservation: { status: 'reserved', lines: line(3, 'EDIT-O') },
      });
      expect(await levelOf(owner, 'EDIT-O', 'W1')).toEqual({ onHand: 5, reserved: 3 });
      await owner.query(`DELETE FROM saga_starts WHERE order_id = 'e-outbox'`);
      expect(await releaseStock(db, 'e-outbox', 'CANCELLED')).toMatchObject({ status: 'released' });
    });
  });

  describe('returns (POST /admin/returns)', () => {
    const giveBack = (body: object) => app.inject({ method: 'POST', url: '/admin/returns', payload: body });
    const sell = async (orderId: string, sku: string, quantity: number, confirm = true) => {
      const held = await reserveStock(db, {
        reservationId: orderId,
        orderId,
        userId: 'u1',
        lines: [{ sku, warehouseCode: 'W1', quantity }],
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      expect(held.status).toBe('reserved');
      if (confirm)
        expect(await confirmStockOnMariadb(db.mariadb!, orderId, `pay-${orderId}`)).toMatchObject({
          status: 'confirmed',
        });
    };
    const buckets = async (sku: string, wh: string) =>
      (
        await owner.query<{ on_hand: number; damaged: number; quality_control: number }[]>(
          'SELECT on_hand, damaged, quality_control FROM inventory_levels WHERE sku = ? AND warehouse_code = ?',
          [sku, wh],
        )
      )[0];

    test('RESTOCK 2 → on hand +2 with its ledger row; replayed (ten at once) → once; another body → 409; DAMAGED, QC_HOLD into their buckets', async () => {
      await seedLevel(owner, 'APPLE', 'W1', 10);
      await sell('o-apple', 'APPLE', 5);
      const body = {
        returnId: 'ret-1',
        orderId: 'o-apple',
        lines: [{ sku: 'APPLE', warehouseCode: 'W1', quantity: 2, disposition: 'RESTOCK' }],
      };
      const first = await giveBack(body);
      expect([first.statusCode, first.json()]).toEqual([
        201,
        {
          returnId: 'ret-1',
          orderId: 'o-apple',
          lines: body.lines,
          levels: [
            { sku: 'APPLE', warehouseCode: 'W1', onHand: 7, reserved: 0, damaged: 0, qualityControl: 0, available: 7 },
          ],
          replayed: false,
        },
      ]);
      const again = await Promise.all(Array.from({ length: 10 }, () => giveBack(body)));
      expect(again.map((r) => [r.statusCode, r.json().replayed])).toEqual(Array(10).fill([201, true]));
      expect(await buckets('APPLE', 'W1')).toEqual({ on_hand: 7, damaged: 0, quality_control: 0 });
      expect(
        await owner.query(
          `SELECT reason, on_hand_delta, actor FROM stock_movements WHERE reference = 'o-apple' AND reason LIKE 'RETURN:%'`,
        ),
      ).toEqual([{ reason: 'RETURN:RESTOCK', on_hand_delta: 2, actor: 'bootstrap' }]);
      expect(await count(`SELECT COUNT(*) AS n FROM return_lines WHERE return_id = 'ret-1'`)).toBe(1);
      // What came back is append-only for the service user (SELECT, INSERT): no return can be undone by rewriting it.
      await expect(db.mariadb!.query(`UPDATE return_lines SET quantity = 1`)).rejects.toMatchObject({ errno: 1142 });
      await expect(db.mariadb!.query(`DELETE FROM return_lines`)).rejects.toMatchObject({ errno: 1142 });
      const other = await giveBack({ ...body, lines: [{ ...body.lines[0], quantity: 1 }] });
      expect([other.statusCode, other.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
      const damaged = await giveBack({
        returnId: 'ret-2',
        orderId: 'o-apple',
        lines: [
          { sku: 'APPLE', warehouseCode: 'W1', quantity: 1, disposition: 'DAMAGED' },
          { sku: 'APPLE', warehouseCode: 'W1', quantity: 1, disposition: 'QC_HOLD' },
        ],
      });
      expect(damaged.statusCode).toBe(201);
      expect(await buckets('APPLE', 'W1')).toEqual({ on_hand: 9, damaged: 1, quality_control: 1 });
      expect(damaged.json().levels).toEqual([
        { sku: 'APPLE', warehouseCode: 'W1', onHand: 9, reserved: 0, damaged: 1, qualityControl: 1, available: 7 },
      ]);
    });

    test('more than sold minus returned → 409 RETURN_EXCEEDS_SALE, nothing changed; any warehouse may take the last one, written off where none is stocked', async () => {
      const before = await buckets('APPLE', 'W1');
      const tooMany = await giveBack({
        returnId: 'ret-3',
        orderId: 'o-apple',
        lines: [{ sku: 'APPLE', warehouseCode: 'W1', quantity: 2, disposition: 'RESTOCK' }],
      });
      expect([tooMany.statusCode, tooMany.json().code, tooMany.json().details]).toEqual([
        409,
        'RETURN_EXCEEDS_SALE',
        { sku: 'APPLE', requested: 2, sold: 5, returned: 4 },
      ]);
      expect(await buckets('APPLE', 'W1')).toEqual(before);
      expect(await count(`SELECT COUNT(*) AS n FROM return_lines WHERE return_id = 'ret-3'`)).toBe(0);
      await owner.query(`INSERT INTO warehouses (code, name) VALUES ('W2', 'W2'), ('W3', 'W3')`);
      const elsewhere = await giveBack({
        returnId: 'ret-4',
        orderId: 'o-apple',
        lines: [{ sku: 'APPLE', warehouseCode: 'W2', quantity: 1, disposition: 'RESTOCK' }],
      });
      expect([elsewhere.statusCode, elsewhere.json().levels]).toEqual([
        201,
        [{ sku: 'APPLE', warehouseCode: 'W2', onHand: 1, reserved: 0, damaged: 0, qualityControl: 0, available: 1 }],
      ]);
      const more = await giveBack({
        returnId: 'ret-5',
        orderId: 'o-apple',
        lines: [{ sku: 'APPLE', warehouseCode: 'W3', quantity: 1, disposition: 'WRITE_OFF' }],
      });
      expect([more.statusCode, more.json().code]).toEqual([409, 'RETURN_EXCEEDS_SALE']);
      await sell('o-apple-2', 'APPLE', 1);
      const writeOff = await giveBack({
        returnId: 'ret-6',
        orderId: 'o-apple-2',
        lines: [{ sku: 'APPLE', warehouseCode: 'W3', quantity: 1, disposition: 'WRITE_OFF' }],
      });
      expect(writeOff.statusCode).toBe(201);
      expect(
        await owner.query(
          `SELECT warehouse_code, on_hand_delta, on_hand_after FROM stock_movements WHERE reason = 'RETURN:WRITE_OFF' AND reference = 'o-apple-2'`,
        ),
      ).toEqual([{ warehouse_code: 'W3', on_hand_delta: 0, on_hand_after: null }]);
    });

    test('two returns of one order racing for the same units: one takes them, the other is refused', async () => {
      await seedLevel(owner, 'QUINCE', 'W1', 4);
      await sell('o-race', 'QUINCE', 3);
      const line = { sku: 'QUINCE', warehouseCode: 'W1', quantity: 2, disposition: 'RESTOCK' };
      const answers = await Promise.all(
        ['ret-r1', 'ret-r2', 'ret-r3'].map((returnId) => giveBack({ returnId, orderId: 'o-race', lines: [line] })),
      );
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409]);
      expect(await levelOf(owner, 'QUINCE', 'W1')).toEqual({ onHand: 3, reserved: 0 });
    });

    test('only a confirmed order: a hold not yet paid → 409 ORDER_NOT_CONFIRMED; an unknown order → 404', async () => {
      await seedLevel(owner, 'PEAR', 'W1', 5);
      await sell('o-held', 'PEAR', 1, false);
      const line = { sku: 'PEAR', warehouseCode: 'W1', quantity: 1, disposition: 'RESTOCK' };
      const held = await giveBack({ returnId: 'ret-h', orderId: 'o-held', lines: [line] });
      expect([held.statusCode, held.json().code]).toEqual([409, 'ORDER_NOT_CONFIRMED']);
      const unknown = await giveBack({ returnId: 'ret-u', orderId: 'o-nope', lines: [line] });
      expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'ORDER_NOT_FOUND']);
      expect(await releaseStock(db, 'o-held', 'CANCELLED')).toMatchObject({ status: 'released' });
    });

    test('a lot-tracked SKU returns into the lot it was sold from (lots = on hand asserted); past its removal date only as a write-off', async () => {
      // A sale of 3 from lot L1, written as a FEFO confirm leaves it (FEFO confirm is not on MariaDB yet).
      const expiresAt = new Date(Date.now() + 10 * 86_400_000);
      await owner.query(
        `INSERT INTO products (sku, name, lot_tracked, alert_days_before_expiry, removal_days_before_expiry) VALUES ('BERRY', 'BERRY', TRUE, 3, 1)`,
      );
      await owner.query(`INSERT INTO inventory_levels (sku, warehouse_code, on_hand) VALUES ('BERRY', 'W1', 3)`);
      await owner.query(
        `INSERT INTO stock_lots (sku, warehouse_code, lot_code, quantity, expires_at, remove_at) VALUES ('BERRY', 'W1', 'L1', 3, ?, ?)`,
        [expiresAt, new Date(expiresAt.getTime() - 86_400_000)],
      );
      await owner.query(
        `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, lot_code)
         VALUES ('BERRY', 'W1', 'RECEIPT', 'seed', 6, 0, 'L1'), ('BERRY', 'W1', 'CONFIRM', 'o-berry', -3, 0, 'L1')`,
      );
      await owner.query(
        `INSERT INTO reservations (id, order_id, user_id, status, expires_at, consumed_lots)
         VALUES ('o-berry', 'o-berry', 'u1', 'CONFIRMED', UTC_TIMESTAMP(3), ?)`,
        [
          JSON.stringify([
            {
              sku: 'BERRY',
              warehouseCode: 'W1',
              lotCode: 'L1',
              quantity: 3,
              expiresAt: expiresAt.toISOString(),
              sellable: true,
            },
          ]),
        ],
      );
      await owner.query(
        `INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity) VALUES ('o-berry', 'BERRY', 'W1', 3)`,
      );
      const berry = (returnId: string, disposition = 'RESTOCK') =>
        giveBack({
          returnId,
          orderId: 'o-berry',
          lines: [{ sku: 'BERRY', warehouseCode: 'W1', quantity: 1, disposition }],
        });
      const lot = async () =>
        Number(
          (
            await owner.query<{ q: number }[]>(
              `SELECT quantity AS q FROM stock_lots WHERE sku = 'BERRY' AND lot_code = 'L1'`,
            )
          )[0].q,
        );
      const back = await berry('ret-b1');
      expect([back.statusCode, back.json().lines]).toEqual([
        201,
        [{ sku: 'BERRY', warehouseCode: 'W1', quantity: 1, disposition: 'RESTOCK', lotCode: 'L1' }],
      ]);
      expect(await lot()).toBe(4);
      expect(await levelOf(owner, 'BERRY', 'W1')).toEqual({ onHand: 4, reserved: 0 });
      expect(await mariadbDrifts(owner)).toEqual([]);
      await owner.query(
        `UPDATE stock_lots SET remove_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR WHERE sku = 'BERRY' AND lot_code = 'L1'`,
      );
      const late = await berry('ret-b2');
      expect([late.statusCode, late.json().code]).toEqual([409, 'LOT_PAST_REMOVAL']);
      const off = await berry('ret-b3', 'WRITE_OFF');
      expect(off.statusCode).toBe(201);
      expect(await lot()).toBe(4);
      expect(
        await owner.query(
          `SELECT on_hand_delta, lot_code FROM stock_movements WHERE reason = 'RETURN:WRITE_OFF' AND reference = 'o-berry'`,
        ),
      ).toEqual([{ on_hand_delta: 0, lot_code: null }]);
    });
  });
});
