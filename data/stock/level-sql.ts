/**
 * The two pieces of SQL every statement on `inventory_levels` shares, written once. They
 * name the table (AVAILABLE passes its row) and its columns unqualified: use them where
 * `inventory_levels` is the only (or an unaliased) table of the statement.
 */
import { Prisma } from '../../generated/prisma/client';

/**
 * Units of a level that may still be promised: on hand, less what is held, less the safety
 * stock, less what is damaged or in quality control, less the lots that may not be sold
 * (quarantined or past removal). Defined once, in
 * SQL: the function stockhold_available (prisma/functions/stockhold_available.sql), which
 * stockhold_hold_batch uses too and the planner inlines (no cost over the expression written
 * out). Not clamped: below 0 means more is held than may be sold (the guard's overdrawn check,
 * reconciliation). The API shows it clamped at 0 (domain/stock.ts availableUnits).
 */
export const AVAILABLE = Prisma.sql`stockhold_available(inventory_levels)`;

/**
 * What every write to a level row sets besides its quantities: the version, which the cache
 * compares to refuse an older fill (data/cache/lua/fill-1.lua), and the time of the change.
 * Every UPDATE of a level must include it, even one that changes no quantity (a quarantine
 * bumps the level so readers and the guard see the change; data/stock/guard.ts).
 */
export const BUMP_VERSION = Prisma.sql`version = version + 1, updated_at = now()`;
