/**
 * A deadline on the calls that wait on a workflow (a transfer step is an Update answered by
 * the worker, ending a campaign and a pre-sale fulfilment wait for a result): with the worker
 * gone or Temporal slow they would otherwise hold the request — and a connection — for as long
 * as the caller waits. Past WORKFLOW_WAIT_TIMEOUT_MS the answer is 504 WORKFLOW_TIMEOUT (the
 * step may still complete: each is idempotent, repeat it or read the state); Temporal
 * unreachable is 503 SERVICE_UNAVAILABLE.
 */
import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { DomainError, ErrorCode } from '../domain/errors';

const GRPC_UNAVAILABLE = 14;

function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && e.code === GRPC_UNAVAILABLE) return true;
  }
  return false;
}

function timedOut(what: string, timeoutMs: number): DomainError {
  return new DomainError(
    ErrorCode.WORKFLOW_TIMEOUT,
    `${what} did not answer within ${timeoutMs} ms; it may still complete: repeat the request (it is idempotent) or read the state`,
    { timeoutMs },
  );
}

/**
 * Runs `work` (Temporal calls through `temporal`) with a gRPC deadline `timeoutMs` away, and
 * a timer just past it in case a call ignores it; failures past the deadline become
 * WORKFLOW_TIMEOUT, an unreachable Temporal SERVICE_UNAVAILABLE, anything else is rethrown.
 */
export async function withWorkflowDeadline<T>(
  temporal: Client,
  timeoutMs: number,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const backstop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(what, timeoutMs)), timeoutMs + 250);
  });
  try {
    return await Promise.race([temporal.withDeadline(Date.now() + timeoutMs, work), backstop]);
  } catch (err) {
    if (err instanceof DomainError) throw err;
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err))
      throw timedOut(what, timeoutMs);
    if (isUnavailable(err))
      throw new DomainError(
        ErrorCode.SERVICE_UNAVAILABLE,
        `Temporal is unreachable: ${what} cannot run now; retry later`,
      );
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
