/** Admin lifecycle of flash sales (bearer token): create, inspect, end early. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { syncGate } from '../../../activities/gate';
import { readCampaign } from '../../../activities/store/campaign-queries';
import { createCampaign } from '../../../activities/store/campaigns';
import { DomainError, ErrorCode } from '../../../domain/errors';
import type { campaignWorkflow } from '../../../workflows/campaign';
import { campaignWorkflowId } from '../../../workflows/ids';
import { endCampaignSignal } from '../../../workflows/messages';
import { requireAdmin } from '../../plugins/admin-auth';
import { errors, Id } from '../../schemas';

const CampaignBody = Type.Object({
  id: Type.String(),
  sku: Type.String(),
  warehouseCode: Type.String(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  quota: Type.Integer(),
  perUserLimit: Type.Integer(),
  status: Type.String({ description: 'OPEN or ENDED' }),
  remaining: Type.Integer({ description: 'unsold units in the pool' }),
  held: Type.Integer({ description: 'units held by orders awaiting payment' }),
  sold: Type.Integer({ description: 'units paid for' }),
  gate: Type.Optional(Type.Object({ loaded: Type.Boolean(), tokens: Type.Integer(), ended: Type.Boolean() })),
});
const security = [{ adminToken: [] }];

const campaignAdmin: FastifyPluginAsyncTypebox = async (app) => {
  const { db, gate, temporal, config } = app.deps;
  app.addHook('onRequest', requireAdmin(config.adminToken));

  app.post(
    '/admin/campaigns',
    {
      schema: {
        summary: 'Create a flash sale: sets its quota aside from normal stock (idempotent by id)',
        tags: ['admin', 'campaigns'],
        security,
        body: Type.Object(
          {
            id: Id,
            sku: Id,
            warehouseCode: Id,
            startsAt: Type.String({ format: 'date-time' }),
            endsAt: Type.String({ format: 'date-time' }),
            quota: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
            perUserLimit: Type.Integer({ minimum: 1, maximum: 10_000 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: CampaignBody, 200: CampaignBody, ...errors(400, 401, 409) },
      },
    },
    async (request, reply) => {
      const input = { ...request.body, startsAt: new Date(request.body.startsAt).toISOString(), endsAt: new Date(request.body.endsAt).toISOString() };
      if (Date.parse(input.endsAt) <= Date.parse(input.startsAt)) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'endsAt must be after startsAt');
      if (Date.parse(input.endsAt) <= Date.now()) throw new DomainError(ErrorCode.VALIDATION_FAILED, 'endsAt is in the past');
      const { created } = await createCampaign(db, input);
      await startLifecycle(input.id, input.startsAt, input.endsAt);
      // Load the gate now rather than wait for the workflow: the sale may start any second.
      await syncGate(db, gate, input.id, false).catch((err) => request.log.warn({ err }, 'gate not loaded yet'));
      return reply.code(created ? 201 : 200).send(await view(input.id));
    },
  );

  app.get(
    '/admin/campaigns/:campaignId',
    { schema: { summary: 'A campaign: pool, holds, sales, and the gate', tags: ['admin', 'campaigns'], security, params: Type.Object({ campaignId: Id }), response: { 200: CampaignBody, ...errors(400, 401, 404) } } },
    async (request) => view(request.params.campaignId),
  );

  app.post(
    '/admin/campaigns/:campaignId/end',
    { schema: { summary: 'End a campaign now; unsold units return to normal stock', tags: ['admin', 'campaigns'], security, params: Type.Object({ campaignId: Id }), response: { 200: CampaignBody, ...errors(400, 401, 404) } } },
    async (request) => {
      const { campaignId } = request.params;
      await view(campaignId);
      const handle = temporal.workflow.getHandle<typeof campaignWorkflow>(campaignWorkflowId(campaignId));
      try {
        await handle.signal(endCampaignSignal);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // already ended: nothing to do
      }
      await handle.result();
      return view(campaignId);
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
