-- admin_audit_append_only: the admin audit trail's guard (trigger admin_audit_no_update_delete,
-- BEFORE UPDATE OR DELETE, created by migration 20261130120000_api_keys). Like the ledger, the
-- audit is never rewritten; prisma/roles.ts keys on the *append_only* name (keep it).
--
-- Inputs:      the trigger's row (none read).
-- Outcome:     never returns.
-- Error codes: 23001 restrict_violation, always.
-- Lock order:  none.
CREATE OR REPLACE FUNCTION "admin_audit_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'admin_audit is append-only (% refused)', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
