/**
 * The stock history a shop reads (GET /admin/movements): the ledger's page, each row with who
 * did it by name as well as by id (a key's name; `bootstrap`, the ADMIN_TOKEN; `system:<writer>`,
 * the service itself: the sweeper, the order saga, the expiry check…).
 */
import { BOOTSTRAP_ACTOR } from '../domain/api-keys';
import type { KeyValue, Page } from '../domain/cursor';
import type { Db } from '../data/db';
import { keyNames } from '../data/keys/api-keys';
import { listMovements, type MovementFilter, type MovementView } from '../data/stock/movements';

export type HistoryRow = MovementView & { readonly actorName: string | null };

export async function readHistory(
  db: Db,
  filter: MovementFilter,
  limit: number,
  after?: KeyValue[],
): Promise<Page<HistoryRow>> {
  const page = await listMovements(db, filter, limit, after);
  const keyIds = [
    ...new Set(
      page.data.flatMap((m) =>
        m.actor && !m.actor.startsWith('system:') && m.actor !== BOOTSTRAP_ACTOR ? [m.actor] : [],
      ),
    ),
  ];
  const names = await keyNames(db, keyIds);
  return { ...page, data: page.data.map((m) => ({ ...m, actorName: nameOf(m.actor, names) })) };
}

function nameOf(actor: string | null, names: ReadonlyMap<string, string>): string | null {
  if (!actor) return null;
  if (actor === BOOTSTRAP_ACTOR) return 'bootstrap key (ADMIN_TOKEN)';
  if (actor.startsWith('system:')) return actor;
  return names.get(actor) ?? null;
}
