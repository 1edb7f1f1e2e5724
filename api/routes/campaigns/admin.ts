/** Admin lifecycle of flash sales and pre-sales (bearer token): create, inspect, end early, fulfil. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { syncGate } from '../../../data/gate';
import { readCampaign } from '../../../data/campaigns/campaign-queries';
import { CAMPAIGNS_KEY, CAMPAIGNS_LIST, listCampaigns } from '../../../data/campaigns/campaign-list';
import { createCampaign } from '../../../data/campaigns/campaigns';
import { DomainError, ErrorCode } from '../../../domain/errors';
import type { campaignWorkflow } from '../../../workflows/campaign';
import { campaignWorkflowId, fulfilmentWorkflowId } from '../../../workflows/ids';
import type { preSaleFulfilmentWorkflow } from '../../../workflows/pre-sale';
import { endCampaignSignal } from '../../../workflows/messages';
import { errors, Id, MAX_QUANTITY, PageOf, pageOf, PageQuery, refusals } from '../../schemas';
import { Scope } from '../../../domain/api-keys';
import { withWorkflowDeadline } from '../../../platform/workflow-deadline';

const CampaignRow = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  status: Type.String(),
  sku: Type.String(),
  warehouseCode: Type.String(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  quota: Type.Integer(),
  perUserLimit: Type.Integer(),
  remaining: Type.Integer(),
  expectedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const CampaignBody = Type.Object({
  id: Type.String(),
  sku: Type.String(),
  warehouseCode: Type.String(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  quota: Type.Integer(),
  perUserLimit: Type.Integer(),
  kind: Type.String({ description: 'FLASH_SALE or PRE_SALE' }),
  expectedAt: Type.Optional(Type.String({ format: 'date-time' })),
  status: Type.String({ description: 'OPEN, ENDED, or FULFILLED (pre-sale goods allocated)' }),
  remaining: Type.Integer({ description: 'unsold units in the pool' }),
  held: Type.Integer({ description: 'units held by orders awaiting payment' }),
  sold: Type.Integer({ description: 'units paid for (pre-sales: and allocated)' }),
  backordered: Type.Integer({ description: 'pre-sales: units paid for, waiting for the goods' }),
  refundRequired: Type.Integer({ description: 'pre-sales: units the received goods could not cover' }),
  lateConfirmed: Type.Integer({
    description: 'payments that arrived after their hold was released and were sold a unit after all',
  }),
  paymentsToRefund: Type.Integer({
    description:
      "payments on this campaign's orders the shop must refund (REFUND_REQUIRED, DUPLICATE_CHARGE, AMOUNT_MISMATCH)",
  }),
  gate: Type.Optional(Type.Object({ loaded: Type.Boolean(), tokens: Type.Integer(), ended: Type.Boolean() })),
});

const campaignAdmin: FastifyPluginAsyncTypebox = async (app) => {
  const { db, gate, temporal, config } = app.deps;

  app.get(
    '/admin/campaigns',
    {
      config: { access: Scope.CAMPAIGNS },
      schema: {
        summary: 'Flash sales and pre-sales, newest first (GET /admin/campaigns/:campaignId adds held and sold)',
        tags: ['admin', 'campaigns'],
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Union([Type.Literal('OPEN'), Type.Literal('ENDED'), Type.Literal('FULFILLED')])),
            kind: Type.Optional(Type.Union([Type.Literal('FLASH_SALE'), Type.Literal('PRE_SALE')])),
            sku: Type.Optional(Id),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: PageOf(CampaignRow, 'a page of campaigns'), ...errors(400) },
      },
    },
    async (request) => {
      const { status, kind, sku } = request.query;
      const { limit, after } = pageOf(CAMPAIGNS_LIST, CAMPAIGNS_KEY, request.query);
      return listCampaigns(db, { status, kind, sku }, limit, after);
    },
  );

  app.post(
    '/admin/campaigns',
    {
      config: { access: Scope.CAMPAIGNS },
      schema: {
        summary: 'Create a flash sale: sets its quota aside from normal stock (idempotent by id)',
        tags: ['admin', 'campaigns'],
        body: Type.Object(
          {
            id: Id,
            kind: Type.Optional(Type.Union([Type.Literal('FLASH_SALE'), Type.Literal('PRE_SALE')])),
            expectedAt: Type.Optional(
              Type.String({
                format: 'date-time',
                description: 'PRE_SALE only: when the goods are expected (the ship date shoppers see)',
              }),
            ),
            sku: Id,
            warehouseCode: Id,
            startsAt: Type.String({ format: 'date-time' }),
            endsAt: Type.String({ format: 'date-time', description: 'after startsAt, and in the future' }),
            quota: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }),
            perUserLimit: Type.Integer({ minimum: 1, maximum: 10_000 }),
            allowHoldExtension: Type.Optional(
              Type.Boolean({
                description:
                  'FLASH_SALE: may its holds be extended (POST /orders/:id/extend, payment.pending)? Default false, for fairness',
              }),
            ),
          },
          {
            additionalProperties: false,
            // A pre-sale names when its goods arrive; a flash sale sells what is there.
            anyOf: [
              { required: ['kind', 'expectedAt'], properties: { kind: { enum: ['PRE_SALE'] } } },
              { not: { required: ['expectedAt'] }, properties: { kind: { enum: ['FLASH_SALE'] } } },
            ],
          },
        ),
        response: {
          201: CampaignBody,
          200: CampaignBody,
          ...errors(404, 409, 503, 504),
          ...refusals({
            400: 'VALIDATION_FAILED when endsAt is not after startsAt or is past, or a PRE_SALE is for a lot-tracked product',
          }),
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const kind = b.kind ?? 'FLASH_SALE';
      const iso = (d: string) => new Date(d).toISOString();
      const input = {
        ...b,
        kind,
        startsAt: iso(b.startsAt),
        endsAt: iso(b.endsAt),
        ...(b.expectedAt ? { expectedAt: iso(b.expectedAt) } : {}),
      };
      if (Date.parse(input.endsAt) <= Date.parse(input.startsAt))
        throw new DomainError(ErrorCode.VALIDATION_FAILED, 'endsAt must be after startsAt');
      if (Date.parse(input.endsAt) <= Date.now())
        throw new DomainError(ErrorCode.VALIDATION_FAILED, 'endsAt is in the past');
      const { created } = await createCampaign(db, input, request.principal?.keyId);
      // A 503/504 here leaves the campaign without its workflow: repeating the request starts it.
      await withWorkflowDeadline(
        temporal,
        config.workflowWaitTimeoutMs,
        `starting the campaign workflow of ${input.id}`,
        () => startLifecycle(input.id, input.startsAt, input.endsAt),
      );
      // Load the gate now rather than wait for the workflow: the sale may start any second.
      await syncGate(db, gate, input.id, false).catch((err) => request.log.warn({ err }, 'gate not loaded yet'));
      return reply.code(created ? 201 : 200).send(await view(input.id));
    },
  );

  app.get(
    '/admin/campaigns/:campaignId',
    {
      config: { access: Scope.CAMPAIGNS },
      schema: {
        summary: 'A campaign: pool, holds, sales, and the gate',
        tags: ['admin', 'campaigns'],
        params: Type.Object({ campaignId: Id }),
        response: { 200: CampaignBody, ...errors(400, 404) },
      },
    },
    async (request) => view(request.params.campaignId),
  );

  app.post(
    '/admin/campaigns/:campaignId/end',
    {
      config: { access: Scope.CAMPAIGNS },
      schema: {
        summary: 'End a campaign now; unsold units return to normal stock',
        tags: ['admin', 'campaigns'],
        params: Type.Object({ campaignId: Id }),
        response: { 200: CampaignBody, ...errors(400, 404, 503, 504) },
      },
    },
    async (request) => {
      const { campaignId } = request.params;
      await view(campaignId);
      const handle = temporal.workflow.getHandle<typeof campaignWorkflow>(campaignWorkflowId(campaignId));
      await withWorkflowDeadline(
        temporal,
        config.workflowWaitTimeoutMs,
        `the campaign workflow of ${campaignId}`,
        async () => {
          try {
            await handle.signal(endCampaignSignal);
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err; // already ended: nothing to do
          }
          await handle.result();
        },
      );
      return view(campaignId);
    },
  );

  app.post(
    '/admin/campaigns/:campaignId/fulfil',
    {
      config: { access: Scope.CAMPAIGNS },
      schema: {
        summary: 'Pre-sale: receive the goods and allocate them to paid backorders, first paid first served',
        description: 'Once per pre-sale (Idempotency-Key). Backorders the goods cannot cover end REFUND_REQUIRED.',
        tags: ['admin', 'campaigns'],
        params: Type.Object({ campaignId: Id }),
        headers: Type.Object({ 'idempotency-key': Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }) }),
        body: Type.Object(
          { quantity: Type.Integer({ minimum: 0, maximum: MAX_QUANTITY }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            idempotencyKey: Type.String(),
            received: Type.Integer(),
            allocated: Type.Array(Type.String()),
            refundRequired: Type.Array(Type.String()),
          }),
          ...errors(404, 409, 503, 504),
          ...refusals({ 400: 'VALIDATION_FAILED when the campaign is not a PRE_SALE' }),
        },
      },
    },
    async (request) => {
      const { campaignId } = request.params;
      const campaign = await view(campaignId);
      if (campaign.kind !== 'PRE_SALE')
        throw new DomainError(ErrorCode.VALIDATION_FAILED, `${campaignId} is not a pre-sale`);
      const key = request.headers['idempotency-key'];
      const args = [{ campaignId, idempotencyKey: key, quantity: request.body.quantity }] as const;
      const workflowId = fulfilmentWorkflowId(campaignId);
      const result = await withWorkflowDeadline(
        temporal,
        config.workflowWaitTimeoutMs,
        `the fulfilment of ${campaignId}`,
        async () => {
          await temporal.workflow
            .start<typeof preSaleFulfilmentWorkflow>('preSaleFulfilmentWorkflow', {
              workflowId,
              taskQueue: config.temporal.taskQueue,
              args: [...args],
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
            })
            .catch((err) => {
              if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            });
          return temporal.workflow.getHandle<typeof preSaleFulfilmentWorkflow>(workflowId).result();
        },
      );
      if (result.idempotencyKey !== key || result.received !== request.body.quantity) {
        throw new DomainError(
          ErrorCode.IDEMPOTENCY_CONFLICT,
          `pre-sale ${campaignId} was fulfilled under key ${result.idempotencyKey}`,
        );
      }
      return result;
    },
  );

  async function startLifecycle(campaignId: string, startsAt: string, endsAt: string): Promise<void> {
    try {
      await temporal.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        workflowId: campaignWorkflowId(campaignId),
        taskQueue: config.temporal.taskQueue,
        args: [{ campaignId, startsAt, endsAt, gateCheckSeconds: config.campaigns.gateCheckSeconds }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  async function view(campaignId: string) {
    const campaign = await readCampaign(db, campaignId);
    if (!campaign) throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no campaign ${campaignId}`);
    const gateState = await gate.state(campaignId).catch(() => undefined);
    return { ...campaign, gate: gateState };
  }
};

export default campaignAdmin;
