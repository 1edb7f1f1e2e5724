/**
 * The admin audit log (`admin_audit`, append-only): one row per admin request, written before it
 * runs. On MySQL/MariaDB: data/mariadb/keys.ts, append-only there by grants and triggers.
 */
import type { Prisma } from '../../generated/prisma/client';
import type { AdminRequest } from '../../domain/api-keys';
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import { recordAdminRequestOnMariadb } from '../mariadb/keys';

export type { AdminRequest } from '../../domain/api-keys';

export async function recordAdminRequest(db: Db, r: AdminRequest): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) return recordAdminRequestOnMariadb(maria, r);
  await db.adminAudit.create({ data: { ...r, body: (r.body ?? undefined) as Prisma.InputJsonValue | undefined } });
}
