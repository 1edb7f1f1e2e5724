/** Transfer API: create (hold at the source), ship, receive, cancel, return, get. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError, ErrorCode, isErrorCode } from '../../../domain/errors';
import type { TransferState } from '../../../workflows/transfer-messages';
import { errors, Id, MAX_QUANTITY, refusals, ShortageSchema, Text } from '../../schemas';
import { Scope } from '../../../domain/api-keys';
import { withWorkflowDeadline } from '../../../platform/workflow-deadline';
import { createTransfer, getTransfer, runTransferStep, type TransferStep } from '../../../use-cases/transfers';

const TransferBody = Type.Object({
  transferId: Type.String(),
  sku: Type.String(),
  fromWarehouse: Type.String(),
  toWarehouse: Type.String(),
  quantity: Type.Integer(),
  stage: Type.String({
    description:
      'REQUESTED, SHIPPING, SHIPPED, RECEIVING, RECEIVED, CANCELLING, CANCELLED, RETURNING, RETURNED, REJECTED',
  }),
  deadlineAt: Type.Optional(Type.String({ format: 'date-time', description: 'receive by this time, else overdue' })),
  overdue: Type.Boolean(),
  receivedQuantity: Type.Optional(Type.Integer()),
  shortfallReason: Type.Optional(Type.String()),
  shippedLots: Type.Optional(
    Type.Array(
      Type.Object({
        lotCode: Type.String(),
        quantity: Type.Integer(),
        expiresAt: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
  ),
  shortages: Type.Optional(Type.Array(ShortageSchema)),
});
const Params = Type.Object({ transferId: Id });

function view(s: TransferState) {
  const { transferId, sku, fromWarehouse, toWarehouse, quantity } = s.request;
  return {
    transferId,
    sku,
    fromWarehouse,
    toWarehouse,
    quantity,
    stage: s.stage,
    deadlineAt: s.deadlineAt,
    overdue: s.overdue,
    receivedQuantity: s.receipt?.receivedQuantity,
    shortfallReason: s.receipt?.shortfallReason,
    shippedLots: s.shippedLots?.map(({ lotCode, quantity: q, expiresAt }) => ({ lotCode, quantity: q, expiresAt })),
    shortages: s.shortages ? [...s.shortages] : undefined,
  };
}

/** A refused request surfaces as its error: insufficient stock, or the activity's own code. */
function refusal(s: TransferState): DomainError | undefined {
  if (s.stage !== 'REJECTED') return undefined;
  if (s.error) {
    const code = isErrorCode(s.error.code) ? s.error.code : ErrorCode.INTERNAL;
    return new DomainError(code, s.error.message);
  }
  return new DomainError(ErrorCode.INSUFFICIENT_STOCK, 'not enough available at the source', {
    shortages: s.shortages,
  });
}

const transfers: FastifyPluginAsyncTypebox = async (app) => {
  const { temporal, config } = app.deps;
  // Every step waits on the transfer workflow: 504 WORKFLOW_TIMEOUT past WORKFLOW_WAIT_TIMEOUT_MS.
  const waitOn = <T>(work: () => Promise<T>) =>
    withWorkflowDeadline(temporal, config.workflowWaitTimeoutMs, 'the transfer workflow', work);

  app.post(
    '/transfers',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'Request a transfer: the quantity is held at the source (idempotent by transferId)',
        tags: ['transfers'],
        body: Type.Object(
          {
            transferId: Id,
            sku: Id,
            fromWarehouse: Id,
            toWarehouse: Id,
            quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }),
            receiveWithinHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 90 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: TransferBody,
          ...errors(404, 409, 503, 504),
          ...refusals({ 400: 'VALIDATION_FAILED when fromWarehouse equals toWarehouse' }),
        },
      },
    },
    async (request, reply) => {
      const { receiveWithinHours, ...rest } = request.body;
      const state = await waitOn(() =>
        createTransfer(temporal, config.temporal.taskQueue, {
          ...rest,
          receiveWithinSeconds: receiveWithinHours ? receiveWithinHours * 3600 : config.transferReceiveDeadlineSeconds,
        }),
      );
      const refused = refusal(state);
      if (refused) throw refused;
      return reply.code(201).send(view(state));
    },
  );

  app.get(
    '/transfers/:transferId',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'A transfer and its stage',
        tags: ['transfers'],
        params: Params,
        response: { 200: TransferBody, ...errors(400, 404, 503, 504) },
      },
    },
    async (request) => view(await waitOn(() => getTransfer(temporal, request.params.transferId))),
  );

  const stepSummaries: Record<Exclude<TransferStep, 'receive'>, string> = {
    ship: 'Ship: leaves the source on-hand, shows as incoming at the destination',
    cancel: 'Cancel before shipping: the hold at the source is released',
    return: 'Return a shipment that never arrived to its source',
  };
  for (const [step, summary] of Object.entries(stepSummaries) as [Exclude<TransferStep, 'receive'>, string][]) {
    app.post(
      `/transfers/:transferId/${step}`,
      {
        config: { access: Scope.ADMIN },
        schema: {
          summary,
          tags: ['transfers'],
          params: Params,
          response: { 200: TransferBody, ...errors(400, 404, 409, 503, 504) },
        },
      },
      async (request) => view(await waitOn(() => runTransferStep(temporal, request.params.transferId, step))),
    );
  }

  app.post(
    '/transfers/:transferId/receive',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'Receive at the destination; less than shipped books the shortfall as a loss',
        tags: ['transfers'],
        params: Params,
        body: Type.Object(
          {
            receivedQuantity: Type.Integer({ minimum: 0, maximum: MAX_QUANTITY }),
            shortfallReason: Type.Optional(Text({ maxLength: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: TransferBody,
          ...errors(404, 409, 503, 504),
          ...refusals({
            400: 'VALIDATION_FAILED when receivedQuantity is more than was shipped (the transfer stays SHIPPED)',
          }),
        },
      },
    },
    async (request) =>
      view(await waitOn(() => runTransferStep(temporal, request.params.transferId, 'receive', request.body))),
  );
};

export default transfers;
