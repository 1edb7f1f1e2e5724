/**
 * Payments on MariaDB (issue 22): the incident's first cause — a payment callback retried,
 * one after another or all at once, is stored once and deducts once — and the rest of a
 * payment's settlement with PostgreSQL's outcomes (test/workflows/payments.test.ts,
 * test/workflows/payment-delivery.test.ts, test/api/payment-life.test.ts): a confirm replayed
 * answers first, a second payment is a duplicate charge, a wrong amount is not confirmed, an
 * unknown order's payment is owed back, a late payment after a release re-reserves or is
 * refunded, the relay leases each delivery once across relays. Holds are made with the MariaDB
 * core (reserveOnMariadb); every test ends with the store's drifts.
 */
import type { Pool } from 'mariadb';
import type { Db } from '../../data/db';
import { releaseOnMariadb, reserveOnMariadb } from '../../data/mariadb/holds';
import { acceptPaymentOnMariadb } from '../../data/mariadb/payment-deliveries';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import { jsonValue } from '../../data/mariadb/tx';
import { asSystem } from '../../data/db';
import { upsertProduct } from '../../data/stock/catalog';
import { receiveStock } from '../../data/stock/stock-admin';
import { confirmPayment } from '../../data/orders/confirm';
import { withLateSettlements } from '../../data/orders/order-view';
import {
  acceptPayment,
  leaseDueDeliveries,
  openDeliveries,
  recordDelivered,
} from '../../data/payments/payment-deliveries';
import { countPaymentsByState, listPayments, PAYMENTS_KEY, PAYMENTS_LIST } from '../../data/payments/payment-list';
import { lifecycleEvents, recordFailedPayment, recordRefund } from '../../data/payments/payment-events';
import {
  findUnsettledPayments,
  orderKnown,
  readPayments,
  settlePaymentTx,
  settleUnknownOrder,
  undeliveredPaymentEvents,
} from '../../data/payments/payments';
import { decodeCursor, type KeyValue } from '../../domain/cursor';
import type { OrderState } from '../../domain/order-saga';
import type { OrderPayment } from '../../domain/payments';
import { signedPayment, useAppStack } from '../helpers/app';
import { describeMariadb, levelOf, mariadbPool, mariadbServiceDb, resetMariadb, seedLevel } from '../helpers/mariadb';

const SKU = 'PAY';
const inAnHour = () => new Date(Date.now() + 3_600_000);

describeMariadb('payments on MariaDB', () => {
  let owner: Pool;
  let db: Db;

  const maria = () => db.mariadb!;
  const hold = async (orderId: string, quantity: number, amountCents?: number) => {
    const held = await reserveOnMariadb(maria(), {
      serial: orderId,
      // The late hold's own order id: the request path's saga outbox row is the order's (settle.ts reserves through the activity).
      orderId,
      userId: `u-${orderId}`,
      lines: [{ sku: SKU, warehouseCode: 'W1', quantity }],
      expiresAt: inAnHour(),
      saga: { orderId },
    });
    if (amountCents !== undefined)
      await owner.query('UPDATE reservations SET amount_cents = ? WHERE id = ?', [amountCents, orderId]);
    return held;
  };
  const paid = (orderId: string, paymentId: string, amountCents = 900, eventId = `ev-${paymentId}`): OrderPayment => ({
    orderId,
    paymentId,
    eventId,
    amountCents,
  });
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await owner.query<{ n: number }[]>(sql, params))[0].n);
  const fenceOf = async (serial: string, operation: string) => {
    const [row] = await owner.query<{ outcome: unknown }[]>(
      'SELECT outcome FROM operation_fences WHERE serial = ? AND operation = ?',
      [serial, operation],
    );
    return row ? jsonValue(row.outcome) : undefined;
  };
  const confirmMoves = (reference: string) =>
    count(`SELECT COUNT(*) AS n FROM stock_movements WHERE reason = 'CONFIRM' AND reference = ?`, [reference]);

  beforeAll(async () => {
    await resetMariadb();
    owner = mariadbPool(4);
    db = mariadbServiceDb(40);
    await seedLevel(owner, SKU, 'W1', 100);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await owner?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(owner)).toEqual([]);
  });

  test('a payment callback retried one after another and all at once is stored once and deducts once', async () => {
    await hold('o-retry', 2);
    const p = paid('o-retry', 'pay-retry');
    expect(await acceptPayment(db, p, 0)).toEqual({ kind: 'accepted', answer: 'ACCEPTED', deliver: true });
    expect(await acceptPayment(db, p, 0)).toEqual({ kind: 'duplicate', answer: 'ACCEPTED' });
    // The same event twenty times at once, and the same payment under ten new event ids.
    const again = await Promise.all([
      ...Array.from({ length: 20 }, () => acceptPayment(db, p, 0)),
      ...Array.from({ length: 10 }, (_, i) => acceptPayment(db, { ...p, eventId: `ev-retry-${i}` }, 0)),
    ]);
    expect(again.slice(0, 20).every((o) => o.kind === 'duplicate' && o.answer === 'ACCEPTED')).toBe(true);
    expect(again.slice(20).every((o) => o.kind === 'accepted' && o.answer === 'ACCEPTED')).toBe(true);
    expect(await count(`SELECT COUNT(*) AS n FROM payments WHERE order_id = 'o-retry'`)).toBe(1);
    expect(await count(`SELECT COUNT(*) AS n FROM payment_deliveries WHERE order_id = 'o-retry'`)).toBe(1);
    expect(await count(`SELECT COUNT(*) AS n FROM payment_events WHERE order_id = 'o-retry'`)).toBe(11);
    expect((await readPayments(db, 'o-retry'))[0]).toMatchObject({ eventId: 'ev-pay-retry', state: 'PENDING' });

    // The saga's confirm, delivered many times (signals, relay, backstop) and all at once.
    const settled = await Promise.all(Array.from({ length: 12 }, () => confirmPayment(db, 'o-retry', p)));
    for (const s of [...settled, await confirmPayment(db, 'o-retry', p)])
      expect(s).toEqual({ state: 'CONFIRMED', reservationId: 'o-retry' });
    expect(await levelOf(owner, SKU, 'W1')).toEqual({ onHand: 98, reserved: 0 });
    expect(await confirmMoves('o-retry')).toBe(1);
    // Once settled, the same payment reported again stays settled, and its delivery closes.
    expect(await acceptPayment(db, { ...p, eventId: 'ev-retry-late' }, 0)).toEqual({
      kind: 'accepted',
      answer: 'SETTLED',
      deliver: false,
    });
    await leaseDueDeliveries(db, { batch: 10, maxBackoffMs: 60_000 });
    expect(await count(`SELECT COUNT(*) AS n FROM payment_deliveries WHERE order_id = 'o-retry'`)).toBe(0);
  });

  test('a lot-tracked sale leaves its lots first-expiring-first, one ledger row per lot, and the lots still sum to on hand', async () => {
    const day = 86_400_000;
    const inDays = (d: number) => new Date(Date.now() + d * day).toISOString();
    await upsertProduct(db, 'LOTPAY', 'Lychees', { lotTracked: true });
    const receipt = (key: string, lotCode: string, quantity: number, expiresAt: string) =>
      receiveStock(db, {
        idempotencyKey: key,
        sku: 'LOTPAY',
        warehouseCode: 'W1',
        quantity,
        reason: 'delivery',
        lotCode,
        expiresAt,
      });
    await receipt('lp-late', 'LATE', 4, inDays(9));
    await receipt('lp-soon', 'SOON', 2, inDays(3));
    await reserveOnMariadb(maria(), {
      serial: 'o-lots',
      orderId: 'o-lots',
      userId: 'u-lots',
      lines: [{ sku: 'LOTPAY', warehouseCode: 'W1', quantity: 3 }],
      expiresAt: inAnHour(),
      saga: { orderId: 'o-lots' },
    });
    const settled = await asSystem('order-saga', () => confirmPayment(db, 'o-lots', paid('o-lots', 'pay-lots')));
    expect(settled?.state).toBe('CONFIRMED');
    // Replayed: the first answer, nothing taken twice.
    await asSystem('order-saga', () => confirmPayment(db, 'o-lots', paid('o-lots', 'pay-lots')));
    const lots = await owner.query<{ lot_code: string; quantity: number }[]>(
      "SELECT lot_code, quantity FROM stock_lots WHERE sku = 'LOTPAY' ORDER BY lot_code",
    );
    expect(lots.map((l) => [l.lot_code, l.quantity])).toEqual([
      ['LATE', 3],
      ['SOON', 0],
    ]);
    expect(await levelOf(owner, 'LOTPAY', 'W1')).toEqual({ onHand: 3, reserved: 0 });
    const moves = await owner.query<{ lot_code: string; on_hand_delta: number; actor: string }[]>(
      "SELECT lot_code, on_hand_delta, actor FROM stock_movements WHERE reason = 'CONFIRM' AND reference = 'o-lots' ORDER BY id",
    );
    expect(moves.map((m) => [m.lot_code, m.on_hand_delta, m.actor])).toEqual([
      ['SOON', -2, 'system:order-saga'],
      ['LATE', -1, 'system:order-saga'],
    ]);
    const [{ consumed }] = await owner.query<{ consumed: unknown }[]>(
      "SELECT consumed_lots AS consumed FROM reservations WHERE id = 'o-lots'",
    );
    expect(
      (jsonValue(consumed) as { lotCode: string; quantity: number }[]).map((l) => [l.lotCode, l.quantity]),
    ).toEqual([
      ['SOON', 2],
      ['LATE', 1],
    ]);
  });

  test("the webhook's transaction is one statement from the client, as PostgreSQL's one function call", async () => {
    const conn = await maria().getConnection();
    try {
      const questions = async () =>
        Number((await conn.query<{ Value: string }[]>("SHOW SESSION STATUS LIKE 'Questions'"))[0].Value);
      const before = await questions();
      const outcome = await acceptPaymentOnMariadb(conn as unknown as Pool, paid('o-trip', 'pay-trip'), 0);
      // Questions counts the client's statements (this SHOW included), not the procedure's own.
      expect((await questions()) - before).toBe(2);
      expect(outcome).toEqual({ kind: 'accepted', answer: 'ACCEPTED', deliver: true });
    } finally {
      await conn.release();
    }
    await settlePaymentTx(db, paid('o-trip', 'pay-trip'), { state: 'REFUND_REQUIRED', reason: 'test' });
  });

  test('an event id with other content, or a payment with another amount, is a conflict that leaves nothing', async () => {
    const p = paid('o-conflict', 'pay-conflict', 500);
    await acceptPayment(db, p, 0);
    expect(await acceptPayment(db, { ...p, amountCents: 1 }, 0)).toMatchObject({ kind: 'conflict' });
    expect(await acceptPayment(db, { ...p, orderId: 'o-other' }, 0)).toMatchObject({ kind: 'conflict' });
    expect(await acceptPayment(db, { ...p, eventId: 'ev-conflict-2', amountCents: 501 }, 0)).toMatchObject({
      kind: 'conflict',
      message: expect.stringContaining('another amount'),
    });
    expect(await acceptPayment(db, { ...p, eventId: 'ev-conflict-3', currency: 'EUR' }, 0)).toMatchObject({
      kind: 'conflict',
    });
    expect(await count(`SELECT COUNT(*) AS n FROM payment_events WHERE order_id IN ('o-conflict', 'o-other')`)).toBe(1);
    expect(await count(`SELECT COUNT(*) AS n FROM payments WHERE payment_id = 'pay-conflict'`)).toBe(1);
  });

  test('a confirm replayed answers first: a second payment is a duplicate charge; a wrong amount is refused, not fenced', async () => {
    await hold('o-paid', 1, 900);
    const wrong = await confirmPayment(db, 'o-paid', paid('o-paid', 'pay-short', 800));
    expect(wrong).toEqual({ state: 'AMOUNT_MISMATCH', reason: 'paid 800 cents, the order costs 900' });
    expect(await fenceOf('o-paid', 'CONFIRM')).toBeUndefined();
    const right = paid('o-paid', 'pay-right');
    expect(await confirmPayment(db, 'o-paid', right)).toEqual({ state: 'CONFIRMED', reservationId: 'o-paid' });
    expect(await confirmPayment(db, 'o-paid', right)).toEqual({ state: 'CONFIRMED', reservationId: 'o-paid' });
    expect(await confirmPayment(db, 'o-paid', paid('o-paid', 'pay-twice'))).toEqual({
      state: 'DUPLICATE_CHARGE',
      reason: 'order already paid by pay-right',
    });
    // A settled payment keeps its first settlement whatever comes after.
    expect(await settlePaymentTx(db, paid('o-paid', 'pay-short', 800), { state: 'CONFIRMED' })).toEqual(wrong);
    expect(await confirmMoves('o-paid')).toBe(1);
    expect((await readPayments(db, 'o-paid')).map((r) => [r.paymentId, r.state])).toEqual([
      ['pay-short', 'AMOUNT_MISMATCH'],
      ['pay-right', 'CONFIRMED'],
      ['pay-twice', 'DUPLICATE_CHARGE'],
    ]);
  });

  test("payments racing their holds' release: each either sells (CONFIRMED) or is left PENDING for the late path, never both", async () => {
    await seedLevel(owner, 'RACE', 'W1', 20);
    const serials = Array.from({ length: 20 }, (_, i) => `o-race-${i}`);
    for (const s of serials) {
      const held = await reserveOnMariadb(maria(), {
        serial: s,
        orderId: s,
        userId: 'u-race',
        lines: [{ sku: 'RACE', warehouseCode: 'W1', quantity: 1 }],
        expiresAt: inAnHour(),
      });
      expect(held.status).toBe('reserved');
      await acceptPayment(db, paid(s, `pay-${s}`), 60_000);
    }
    const results = await Promise.all(
      serials.flatMap((s) => [confirmPayment(db, s, paid(s, `pay-${s}`)), releaseOnMariadb(maria(), s, 'EXPIRED')]),
    );
    const settled = results.filter((_, i) => i % 2 === 0) as (Awaited<ReturnType<typeof confirmPayment>> | undefined)[];
    const confirmed = settled.filter((x) => x?.state === 'CONFIRMED').length;
    expect(settled.every((x) => x === undefined || x.state === 'CONFIRMED')).toBe(true);
    expect(await levelOf(owner, 'RACE', 'W1')).toEqual({ onHand: 20 - confirmed, reserved: 0 });
    const rows = await owner.query<{ status: string; state: string }[]>(
      `SELECT r.status, p.state FROM reservations r JOIN payments p ON p.order_id = r.id WHERE r.id LIKE 'o-race-%'`,
    );
    expect(rows).toHaveLength(20);
    for (const row of rows)
      expect([row.status, row.state]).toEqual(
        row.status === 'CONFIRMED' ? ['CONFIRMED', 'CONFIRMED'] : ['RELEASED', 'PENDING'],
      );
  });

  test('a payment for an order the store does not know is kept, then settled REFUND_REQUIRED (UNKNOWN_ORDER)', async () => {
    const ghost = paid('o-ghost', 'pay-ghost');
    await acceptPayment(db, ghost, 0);
    expect(await orderKnown(db, 'o-ghost')).toBe(false);
    const receivedAt = (await readPayments(db, 'o-ghost'))[0].receivedAt;
    expect(await settleUnknownOrder(db, { ...ghost, receivedAt })).toEqual({
      state: 'REFUND_REQUIRED',
      reason: 'UNKNOWN_ORDER',
    });
    expect((await readPayments(db, 'o-ghost'))[0]).toMatchObject({ state: 'REFUND_REQUIRED', reason: 'UNKNOWN_ORDER' });
    expect(await undeliveredPaymentEvents(db, 'o-ghost')).toEqual([
      { eventId: 'ev-pay-ghost', paymentId: 'pay-ghost', result: 'REFUND_REQUIRED' },
    ]);
    expect(await count(`SELECT COUNT(*) AS n FROM payment_deliveries WHERE order_id = 'o-ghost'`)).toBe(0);
    // An order whose hold committed meanwhile is known: its payment is left to its saga.
    await hold('o-late-hold', 1);
    const known = paid('o-late-hold', 'pay-known');
    await acceptPayment(db, known, 0);
    expect(await orderKnown(db, 'o-late-hold')).toBe(true);
    expect(await settleUnknownOrder(db, { ...known, receivedAt })).toBeUndefined();
    expect((await readPayments(db, 'o-late-hold'))[0].state).toBe('PENDING');
    await confirmPayment(db, 'o-late-hold', known);
  });

  test('a late payment after a release: not held (fenced), then re-reserved and confirmed, or refunded', async () => {
    const released = { orderId: 'o-expired', userId: 'u', lines: [], status: 'RELEASED' } as unknown as OrderState;
    await hold('o-expired', 1);
    expect(await releaseOnMariadb(maria(), 'o-expired', 'EXPIRED')).toMatchObject({ status: 'released' });
    const late = paid('o-expired', 'pay-late');
    await acceptPayment(db, late, 0);
    expect(await confirmPayment(db, 'o-expired', late)).toBeUndefined();
    expect((await readPayments(db, 'o-expired'))[0].state).toBe('PENDING');
    expect(await fenceOf('o-expired', 'CONFIRM')).toEqual({
      status: 'not_held',
      reservationStatus: 'RELEASED',
    });
    // settle.ts: re-reserve under `<orderId>:late` and confirm at once.
    expect(await hold('o-expired:late', 1)).toMatchObject({ status: 'reserved' });
    expect(await confirmPayment(db, 'o-expired:late', late)).toEqual({
      state: 'CONFIRMED',
      reservationId: 'o-expired:late',
    });
    expect(withLateSettlements(released, await readPayments(db, 'o-expired'))).toMatchObject({
      status: 'CONFIRMED',
      lateConfirmed: true,
      payment: { paymentId: 'pay-late' },
    });
    // Nothing could be re-reserved: REFUND_REQUIRED, and a settlement racing it cannot undo it.
    await hold('o-gone', 1);
    await releaseOnMariadb(maria(), 'o-gone', 'EXPIRED');
    const refused = paid('o-gone', 'pay-gone');
    await acceptPayment(db, refused, 0);
    expect(await confirmPayment(db, 'o-gone', refused)).toBeUndefined();
    const reason = 'late payment: stock could not be re-reserved (INSUFFICIENT_STOCK)';
    const both = await Promise.all([
      settlePaymentTx(db, refused, { state: 'REFUND_REQUIRED', reason }),
      settlePaymentTx(db, refused, { state: 'REFUND_REQUIRED', reason }),
    ]);
    expect(both).toEqual([
      { state: 'REFUND_REQUIRED', reason },
      { state: 'REFUND_REQUIRED', reason },
    ]);
    expect(await settlePaymentTx(db, refused, { state: 'CONFIRMED', reservationId: 'o-gone' })).toEqual({
      state: 'REFUND_REQUIRED',
      reason,
    });
    expect(withLateSettlements({ ...released, orderId: 'o-gone' }, await readPayments(db, 'o-gone'))).toMatchObject({
      status: 'REFUND_REQUIRED',
      refundReason: reason,
    });
    // A payment a saga settles that the webhook never stored is stored settled.
    expect(
      await settlePaymentTx(db, paid('o-hand', 'pay-hand'), { state: 'REFUND_REQUIRED', reason: 'by hand' }),
    ).toEqual({
      state: 'REFUND_REQUIRED',
      reason: 'by hand',
    });
  });

  test('the relay: two relays lease each due delivery exactly once; delivered rows wait for their re-check', async () => {
    await owner.query('DELETE FROM payment_deliveries');
    const payments = Array.from({ length: 30 }, (_, i) => paid(`o-relay-${i}`, `pay-relay-${i}`));
    await Promise.all(payments.map((p) => acceptPayment(db, p, 0)));
    const other = mariadbServiceDb(4);
    // A third relay in the middle of its lease holds five due rows: the others neither wait for
    // them nor take them (without the lease's locking read they would take them again; with a
    // plain FOR UPDATE they would wait out the lock timeout).
    const busy = await owner.getConnection();
    try {
      await busy.beginTransaction();
      const held = await busy.query<{ payment_id: string }[]>(
        `SELECT payment_id FROM payment_deliveries WHERE order_id IN ('o-relay-3', 'o-relay-7', 'o-relay-11', 'o-relay-19', 'o-relay-23') FOR UPDATE`,
      );
      expect(held).toHaveLength(5);
      const lease = { batch: 20, maxBackoffMs: 60_000 };
      const [a, b] = await Promise.all([leaseDueDeliveries(db, lease), leaseDueDeliveries(other, lease)]);
      const [c, d] = await Promise.all([leaseDueDeliveries(db, lease), leaseDueDeliveries(other, lease)]);
      const leased = [...a, ...b, ...c, ...d].map((x) => x.paymentId).sort();
      const lockedIds = held.map((h) => h.payment_id);
      expect(leased).toEqual(
        payments
          .map((p) => p.paymentId)
          .filter((id) => !lockedIds.includes(id))
          .sort(),
      );
      expect(a.length + b.length).toBeGreaterThanOrEqual(20);
      await busy.rollback();
      expect((await leaseDueDeliveries(other, lease)).map((x) => x.paymentId).sort()).toEqual([...lockedIds].sort());
      // Each lease pushed its row's next attempt out: nothing is due now, and each row was leased once.
      expect(await leaseDueDeliveries(other, lease)).toEqual([]);
      expect(await count('SELECT COUNT(*) AS n FROM payment_deliveries WHERE attempts <> 1')).toBe(0);
    } finally {
      await busy.release();
      await other.$disconnect();
    }
    for (const p of payments) await recordDelivered(db, p, 'DELIVERED', 60_000);
    expect(await undeliveredPaymentEvents(db, 'o-relay-0')).toEqual([]);
    // Due again (the re-check): a settled payment's row is closed, a PENDING one is leased as a re-check.
    await owner.query('UPDATE payment_deliveries SET next_attempt_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND');
    await settlePaymentTx(db, payments[0], { state: 'REFUND_REQUIRED', reason: 'test' });
    const recheck = await leaseDueDeliveries(db, { batch: 100, maxBackoffMs: 60_000 });
    expect(recheck).toHaveLength(29);
    expect(recheck.every((r) => r.deliveredAt !== undefined && r.receivedAt <= new Date().toISOString())).toBe(true);
    expect(await openDeliveries(db)).toBe(29);
    // The backstop's keyset pages see every PENDING payment once.
    const seen: string[] = [];
    let after;
    for (;;) {
      const page = await findUnsettledPayments(db, -1, { after, limit: 7 });
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.paymentId));
      after = page[page.length - 1];
    }
    expect(seen.filter((id) => id.startsWith('pay-relay-')).sort()).toEqual(
      payments
        .slice(1)
        .map((p) => p.paymentId)
        .sort(),
    );
    expect(new Set(seen).size).toBe(seen.length);
    for (const p of payments.slice(1)) await settlePaymentTx(db, p, { state: 'REFUND_REQUIRED', reason: 'test' });
  });

  test('the admin list: keyset pages newest first show each payment once; counts by state', async () => {
    const all = await owner.query<{ payment_id: string; state: string }[]>(
      'SELECT payment_id, state FROM payments ORDER BY received_at DESC, order_id DESC, payment_id DESC',
    );
    const seen: string[] = [];
    let after: KeyValue[] | undefined;
    for (;;) {
      const page = await listPayments(db, {}, 7, after);
      seen.push(...page.data.map((p) => p.paymentId));
      if (!page.nextCursor) break;
      after = decodeCursor(PAYMENTS_LIST, page.nextCursor, PAYMENTS_KEY);
    }
    expect(seen).toEqual(all.map((r) => r.payment_id));
    const counts = await countPaymentsByState(db);
    for (const state of new Set(all.map((r) => r.state)))
      expect(counts[state]).toBe(all.filter((r) => r.state === state).length);
    const refunds = await listPayments(db, { state: 'REFUND_REQUIRED' }, 500);
    expect(refunds.data).toHaveLength(counts.REFUND_REQUIRED);
    expect(refunds.data.every((p) => p.state === 'REFUND_REQUIRED' && p.settledAt !== null)).toBe(true);
    expect((await listPayments(db, { orderId: 'o-paid' }, 500)).data.map((p) => p.paymentId).sort()).toEqual([
      'pay-right',
      'pay-short',
      'pay-twice',
    ]);
  });

  test('payment.failed is recorded once; payment.refunded closes a payment owed back, records one on a sale', async () => {
    const failed = paid('o-paid', 'card-1', 900, 'ev-failed');
    expect(await recordFailedPayment(db, failed, 'payment.failed')).toEqual({ kind: 'answered', answer: 'RECORDED' });
    expect(await recordFailedPayment(db, failed, 'payment.failed')).toEqual({ kind: 'duplicate', answer: 'RECORDED' });
    expect(await recordFailedPayment(db, { ...failed, amountCents: 1 }, 'payment.failed')).toMatchObject({
      kind: 'conflict',
    });
    const refund = (paymentId: string, eventId: string) =>
      recordRefund(db, paid('o-paid', paymentId, 900, eventId), 'payment.refunded');
    expect(await refund('pay-twice', 'ev-refund-1')).toEqual({ kind: 'answered', answer: 'REFUNDED' });
    expect(await refund('pay-twice', 'ev-refund-1')).toEqual({ kind: 'duplicate', answer: 'REFUNDED' });
    expect(await refund('pay-twice', 'ev-refund-2')).toEqual({ kind: 'answered', answer: 'REFUNDED' });
    expect(await refund('pay-right', 'ev-refund-3')).toEqual({ kind: 'answered', answer: 'RECORDED' });
    expect(await refund('pay-none', 'ev-refund-4')).toEqual({ kind: 'answered', answer: 'NO_PAYMENT' });
    const twice = (await readPayments(db, 'o-paid', 'pay-twice'))[0];
    expect(twice).toMatchObject({
      state: 'REFUNDED',
      reason: 'order already paid by pay-right; refunded (event ev-refund-1)',
    });
    expect((await readPayments(db, 'o-paid', 'pay-right'))[0].state).toBe('CONFIRMED');
    expect((await lifecycleEvents(db, 'o-paid')).map((e) => [e.eventId, e.type, e.result])).toEqual([
      ['ev-failed', 'payment.failed', 'RECORDED'],
      ['ev-refund-1', 'payment.refunded', 'REFUNDED'],
      ['ev-refund-2', 'payment.refunded', 'REFUNDED'],
      ['ev-refund-3', 'payment.refunded', 'RECORDED'],
      ['ev-refund-4', 'payment.refunded', 'NO_PAYMENT'],
    ]);
  });
});

describeMariadb('POST /webhooks/payments on MariaDB (the real API, worker and Temporal dev server)', () => {
  const SECRET = 'test-webhook-secret';
  const stack = useAppStack('dev', 'payments-mariadb-test', {}, undefined, 'mariadb');
  let owner: Pool;

  const webhook = (body: Record<string, unknown>) => {
    const signed = signedPayment(SECRET, body);
    return stack.app.inject({
      method: 'POST',
      url: '/webhooks/payments',
      payload: signed.payload,
      headers: signed.headers,
    });
  };
  const event = (eventId: string, type = 'payment.succeeded', amountCents = 700) => ({
    eventId,
    type,
    orderId: 'o-web',
    paymentId: 'pay-web',
    amountCents,
  });

  beforeAll(async () => {
    owner = mariadbPool(2);
  });
  afterAll(async () => {
    await owner?.end();
  });

  test('a signed payment is stored once however often and however concurrently it is delivered; the first answer stands', async () => {
    const first = await webhook(event('ev-web-1'));
    expect([first.statusCode, first.json()]).toEqual([
      200,
      { eventId: 'ev-web-1', orderId: 'o-web', result: 'ACCEPTED' },
    ]);
    const again = await Promise.all([
      ...Array.from({ length: 8 }, () => webhook(event('ev-web-1'))),
      ...Array.from({ length: 4 }, (_, i) => webhook(event(`ev-web-retry-${i}`))),
    ]);
    expect(again.map((r) => [r.statusCode, r.json().result])).toEqual(Array(12).fill([200, 'ACCEPTED']));
    const conflict = await webhook(event('ev-web-1', 'payment.succeeded', 1));
    expect([conflict.statusCode, conflict.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
    const [{ n }] = await owner.query<{ n: number }[]>(`SELECT COUNT(*) AS n FROM payments WHERE order_id = 'o-web'`);
    expect(Number(n)).toBe(1);
    const failed = await webhook(event('ev-web-failed', 'payment.failed'));
    expect([failed.statusCode, failed.json().result]).toEqual([200, 'RECORDED']);
    const refunded = await webhook(event('ev-web-refund', 'payment.refunded'));
    expect([refunded.statusCode, refunded.json().result]).toEqual([200, 'RECORDED']);
    // payment.pending for an order with no hold: stored with its answer NO_HOLD, nothing extended
    // (test/mariadb/after-checkout.test.ts has the extensions themselves).
    const pending = await webhook(event('ev-web-pending', 'payment.pending'));
    expect([pending.statusCode, pending.json()]).toEqual([
      200,
      { eventId: 'ev-web-pending', orderId: 'o-web', result: 'NO_HOLD' },
    ]);
    const [{ e }] = await owner.query<{ e: number }[]>(
      `SELECT COUNT(*) AS e FROM payment_events WHERE order_id = 'o-web'`,
    );
    expect(Number(e)).toBe(8);
  });
});
