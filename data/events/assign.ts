/**
 * Positions: the feed's order. Writers' triggers insert events without a position (a
 * bigserial would be assigned before commit, and a reader paging past a position could
 * miss a transaction that committed later with a smaller one). stockhold_events_assign
 * (prisma/migrations/20261208200000_event_outbox) gives the next positions, 1, 2, 3… with no
 * hole, to the committed events not yet positioned, under one advisory lock, and writes each
 * envelope once. Any number of processes may call it at once: they take turns.
 */
import type { Db } from '../db';
import { assignMariadbPositions } from '../mariadb/events';
import { mariadbOf } from '../mariadb/db';
import { EVENT_SOURCE } from './types';

/** Events one pass positions at most: a pass is one statement, keep it short. */
export const ASSIGN_BATCH = 1000;

/** One positioning pass; returns how many events it positioned (0: none were waiting). */
export async function assignPositions(db: Db, limit = ASSIGN_BATCH): Promise<number> {
  const maria = mariadbOf(db);
  if (maria) return assignMariadbPositions(maria, limit, EVENT_SOURCE);
  const [row] = await db.$queryRaw<
    { n: number }[]
  >`SELECT stockhold_events_assign(${limit}::int, ${EVENT_SOURCE}) AS n`;
  return row.n;
}

/** Positions until nothing committed is left unpositioned (a caught-up feed). */
export async function assignAll(db: Db, limit = ASSIGN_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await assignPositions(db, limit);
    total += n;
    if (n < limit) return total;
  }
}
