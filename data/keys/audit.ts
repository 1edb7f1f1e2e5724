/** The admin audit log (`admin_audit`, append-only): one row per admin request, written before it runs. */
import type { Prisma } from '../../generated/prisma/client';
import type { Db } from '../db';

export interface AdminRequest {
  /** Key id, or `bootstrap`. */
  readonly actor: string;
  readonly method: string;
  /** The route pattern, e.g. /transfers/:transferId/ship. */
  readonly route: string;
  readonly url: string;
  readonly body?: unknown;
}

export async function recordAdminRequest(db: Db, r: AdminRequest): Promise<void> {
  await db.adminAudit.create({ data: { ...r, body: (r.body ?? undefined) as Prisma.InputJsonValue | undefined } });
}
