-- stock_movements_append_only: the ledger's guard (trigger stock_movements_no_update_delete,
-- BEFORE UPDATE OR DELETE, created by migration 20261125080000_init). History is evidence, so
-- the database refuses to rewrite it; prisma/roles.ts also gives the service role no UPDATE or
-- DELETE on tables with an *append_only* trigger (keep the name).
--
-- Inputs:      the trigger's row (none read).
-- Outcome:     never returns.
-- Error codes: 23001 restrict_violation, always.
-- Lock order:  none.
CREATE OR REPLACE FUNCTION "stock_movements_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'stock_movements is append-only (% refused)', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
