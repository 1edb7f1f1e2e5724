/**
 * Custom search attributes, so an operator can find orders in the Temporal UI, e.g.
 *   ReservationStatus = "AWAITING_PAYMENT" AND ReservationExpiresAt < "2026-11-25T10:00:00Z"
 * Every server the service talks to must have them registered (scripts do it at start).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The order's business id. */
export const OrderIdAttr = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
/** The SKUs the order holds. */
export const OrderSkusAttr = defineSearchAttributeKey('OrderSkus', SearchAttributeType.KEYWORD_LIST);
/**
 * The order's status (OrderStatus values), as GET /orders/:id reads it: the saga's current
 * stage; on a late-payment workflow SETTLING_LATE_PAYMENT, then the order's status once the
 * payment is settled. Never a payment's state (those are in PostgreSQL, `payments`).
 */
export const ReservationStatusAttr = defineSearchAttributeKey('ReservationStatus', SearchAttributeType.KEYWORD);
/** When the hold expires unless paid. */
export const ReservationExpiresAtAttr = defineSearchAttributeKey('ReservationExpiresAt', SearchAttributeType.DATETIME);

/** All of them, for registration. */
export const searchAttributeKeys = [OrderIdAttr, OrderSkusAttr, ReservationStatusAttr, ReservationExpiresAtAttr];
