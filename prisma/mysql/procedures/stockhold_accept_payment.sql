-- stockhold_accept_payment: the payment webhook's transaction on MySQL/MariaDB, the form of
-- prisma/functions/stockhold_accept_payment.sql for InnoDB. One CALL, one round trip (no
-- interactive transaction holding a pooled connection while a burst of callbacks waits); it
-- runs its own READ COMMITTED transaction, so it is never called inside another.
-- Called by data/mariadb/payment-deliveries.ts acceptPaymentOnMariadb.
--
-- Inputs:      p_event_id, p_order_id, p_payment_id, p_amount (cents), p_relay_grace_ms,
--              p_currency (ISO 4217, or NULL when the provider did not say).
-- Outcome:     one result set of one row (kind, answer, message), as PostgreSQL's:
--                'accepted',  'ACCEPTED' — the event is new; the payment is stored PENDING (or
--                                          was already) and its payment_deliveries row is open
--                                          (the relay takes it after p_relay_grace_ms);
--                'accepted',  'SETTLED'  — the event is new but its payment was already settled;
--                'duplicate', <answer>   — the event id was answered before with the same
--                                          content: its first answer, nothing changes;
--                'conflict',  NULL, why  — the event id was seen with other content (or as
--                                          another type), or the payment id with another amount
--                                          or currency: the transaction is rolled back, so
--                                          nothing is left changed (409 IDEMPOTENCY_CONFLICT).
-- Error codes: none of its own; InnoDB's 1205 (lock wait timeout), 1213 (deadlock) and 4025
--              (a CHECK: a negative amount) pass through after the ROLLBACK.
-- Lock order:  the order's serial slot (stockhold_key_locks, the lock every step of the order
--              takes: a payment and a confirm of one order run one after the other), then the
--              event's key (the claim: an INSERT, its duplicate key — error 1062, after waiting
--              for the other transaction's commit — is the answer "seen before", mechanism 4;
--              an event id reused for another order waits here, not on the slot), then the
--              payment's key, then the delivery's key.
-- Isolation:   READ COMMITTED: the event and payment read after a duplicate key are the rows
--              the other transaction committed while this one waited.
-- An event stored before answers existed (answer NULL: its handling stopped half-way) is taken
-- as new.
CREATE OR REPLACE PROCEDURE stockhold_accept_payment(IN p_event_id VARCHAR(255), IN p_order_id VARCHAR(255),
  IN p_payment_id VARCHAR(255), IN p_amount INT, IN p_relay_grace_ms INT, IN p_currency VARCHAR(3))
MODIFIES SQL DATA SQL SECURITY DEFINER
proc: BEGIN
  DECLARE dup, v_slot INT DEFAULT 0;
  DECLARE s_order, s_payment, s_type VARCHAR(255) DEFAULT NULL;
  DECLARE s_amount INT DEFAULT NULL;
  DECLARE s_currency VARCHAR(3) DEFAULT NULL;
  DECLARE s_answer, v_state, v_answer VARCHAR(64) DEFAULT NULL;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

  SET time_zone = '+00:00';
  SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
  START TRANSACTION;
  -- The transaction's id for the event triggers (migration 0080_events).
  SET @stockhold_txid = UUID_SHORT();
  SELECT slot INTO v_slot FROM stockhold_key_locks WHERE slot = CRC32(p_order_id) % 65536 FOR UPDATE;

  BEGIN
    DECLARE CONTINUE HANDLER FOR 1062 SET dup = 1;
    INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, currency, result)
    VALUES (p_event_id, p_order_id, p_payment_id, p_amount, p_currency, 'RECEIVED');
  END;
  IF dup = 1 THEN
    SELECT order_id, payment_id, amount_cents, currency, type, answer
      INTO s_order, s_payment, s_amount, s_currency, s_type, s_answer
      FROM payment_events WHERE event_id = p_event_id FOR UPDATE;
    IF s_order <> p_order_id OR s_payment <> p_payment_id OR s_amount <> p_amount
       OR s_type <> 'payment.succeeded' OR NOT (s_currency <=> p_currency) THEN
      ROLLBACK;
      SELECT 'conflict' AS kind, NULL AS answer, CONCAT('event ', p_event_id, ' was delivered with other content') AS message;
      LEAVE proc;
    END IF;
    IF s_answer IS NOT NULL THEN
      ROLLBACK;
      SELECT 'duplicate' AS kind, s_answer AS answer, NULL AS message;
      LEAVE proc;
    END IF;
  END IF;

  -- The payment is a fact before any saga hears of it. Its key is the claim; the row read after
  -- it is the first report's (this call's, or one committed while it waited).
  SET dup = 0;
  BEGIN
    DECLARE CONTINUE HANDLER FOR 1062 SET dup = 1;
    INSERT INTO payments (order_id, payment_id, event_id, amount_cents, currency)
    VALUES (p_order_id, p_payment_id, p_event_id, p_amount, p_currency);
  END;
  SELECT amount_cents, currency, state INTO s_amount, s_currency, v_state
    FROM payments WHERE order_id = p_order_id AND payment_id = p_payment_id;
  IF s_amount <> p_amount OR NOT (s_currency <=> p_currency) THEN
    -- The rollback takes this call's event row with it: a refused event leaves no trace.
    ROLLBACK;
    SELECT 'conflict' AS kind, NULL AS answer,
           CONCAT('payment ', p_payment_id, ' was reported with another amount or currency') AS message;
    LEAVE proc;
  END IF;

  IF v_state = 'PENDING' THEN
    BEGIN
      DECLARE CONTINUE HANDLER FOR 1062 BEGIN END;
      INSERT INTO payment_deliveries (order_id, payment_id, event_id, amount_cents, next_attempt_at)
      VALUES (p_order_id, p_payment_id, p_event_id, p_amount,
              UTC_TIMESTAMP(3) + INTERVAL p_relay_grace_ms * 1000 MICROSECOND);
    END;
    SET v_answer = 'ACCEPTED';
  ELSE
    -- Reported again under another event id after it was settled: it stays as settled.
    SET v_answer = 'SETTLED';
  END IF;
  UPDATE payment_events
     SET answer = v_answer, delivered_at = UTC_TIMESTAMP(3),
         result = CASE WHEN v_answer = 'SETTLED' THEN 'SETTLED' ELSE result END
   WHERE event_id = p_event_id;
  COMMIT;
  SELECT 'accepted' AS kind, v_answer AS answer, NULL AS message;
END
