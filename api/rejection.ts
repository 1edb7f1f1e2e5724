/** A refused reserve as the API error the table maps to an HTTP status. */
import { DomainError, ErrorCode } from '../domain/errors';
import type { ReserveOutcome } from '../domain/types';

export const refusalMessage = {
  SOLD_OUT: 'the campaign is sold out',
  LIMIT_REACHED: 'this user has reached the campaign limit',
  NOT_STARTED: 'the campaign has not started',
  ENDED: 'the campaign has ended',
} as const;

const messages = {
  ...refusalMessage,
  INSUFFICIENT_STOCK: 'not enough stock for every line',
  ALREADY_RELEASED: 'this order was cancelled before its stock was held',
  RESERVE_FAILED:
    'stock could not be reserved before the deadline and the attempt was given up; nothing is held; place the order again under a new orderId',
} as const;

export function rejection(outcome: Exclude<ReserveOutcome, { status: 'reserved' }>): DomainError {
  const details = outcome.reason === 'INSUFFICIENT_STOCK' ? { shortages: outcome.shortages } : undefined;
  return new DomainError(ErrorCode[outcome.reason], messages[outcome.reason], details);
}
