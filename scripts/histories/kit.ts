/** What the capture scenarios (scenarios.ts) run on, and the steps they share: API calls, a signed payment, waiting for a run to close. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { signedPayment } from '../../test/helpers/app';
import { orderWorkflowId } from '../../workflows/ids';

/** What a scenario runs on: the dev server, its worker's task queue, the API twice (TTL 30 min and 1 s). */
export interface CaptureStack {
  readonly env: TestWorkflowEnvironment;
  readonly db: Db;
  readonly taskQueue: string;
  /** Orders held for the default 30 minutes: paid or cancelled before they expire. */
  readonly app: FastifyInstance;
  /** Orders held for 1 second: they expire. */
  readonly fastApp: FastifyInstance;
}

/** A closed run to record: the history file's scenario name and the workflow id. */
export interface Recorded {
  readonly name: string;
  readonly workflowId: string;
}

export interface Scenario {
  readonly name: string;
  run(stack: CaptureStack): Promise<Recorded[]>;
}

export const WEBHOOK_SECRET = 'capture-webhook-secret';
export const ADMIN_TOKEN = 'capture-admin-token';
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

export const WH = 'W1';

export async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  payload?: object,
  headers: Record<string, string> = {},
) {
  const res = await app.inject({ method, url, payload, headers });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

export const placeOrder = (app: FastifyInstance, orderId: string, sku: string, quantity = 1) =>
  app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId, userId: 'capture', lines: [{ sku, warehouseCode: WH, quantity }] },
  });

export async function pay(app: FastifyInstance, orderId: string): Promise<string> {
  const signed = signedPayment(WEBHOOK_SECRET, {
    eventId: `ev-${orderId}`,
    type: 'payment.succeeded',
    orderId,
    paymentId: `pay-${orderId}`,
    amountCents: 1000,
  });
  return (await call(app, 'POST', '/webhooks/payments', JSON.parse(signed.payload), signed.headers)).result;
}

/** Waits (up to 30 s) for a workflow to exist: a payment is delivered after the webhook's answer. */
export async function started(stack: CaptureStack, workflowId: string): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (
      await stack.env.client.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          () => true,
          () => false,
        )
    )
      return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export const orderStatus = async (app: FastifyInstance, orderId: string) =>
  (await call(app, 'GET', `/orders/${orderId}`)).status as string;

/** Waits for a run to close (the recorder then reads its final history). */
export async function closed(stack: CaptureStack, workflowId: string): Promise<unknown> {
  return stack.env.client.workflow.getHandle(workflowId).result();
}

export const order = (name: string, orderId: string): Recorded => ({ name, workflowId: orderWorkflowId(orderId) });
