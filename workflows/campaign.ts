/**
 * A flash-sale campaign's lifecycle (id `campaign-<id>`): load the gate from PostgreSQL,
 * rebuild it when the campaign starts, keep comparing it with PostgreSQL while it runs
 * (a flushed or drifted gate is rebuilt), and at the end time — or on the endCampaign
 * signal — close the campaign and return its unsold units to normal stock.
 */
import { condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { endCampaign, syncGate } from './activities-proxy';
import { campaignPhaseQuery, endCampaignSignal, type CampaignPhase, type CampaignWorkflowInput } from './messages';

/** Keeps the history short on long campaigns: a fresh run carries on where this one was. */
const MAX_CHECKS_PER_RUN = 500;

export async function campaignWorkflow(
  input: CampaignWorkflowInput,
  carried?: { gateRebuilds: number },
): Promise<{ returned: number }> {
  let phase: CampaignPhase = 'SCHEDULED';
  let endRequested = false;
  let gateRebuilds = carried?.gateRebuilds ?? 0;
  setHandler(endCampaignSignal, () => {
    endRequested = true;
  });
  setHandler(campaignPhaseQuery, () => ({ phase, gateRebuilds }));
  const sync = async (force: boolean) => {
    if ((await syncGate(input.campaignId, force)) === 'rebuilt') gateRebuilds += 1;
  };
  const startsAt = Date.parse(input.startsAt);
  const endsAt = Date.parse(input.endsAt);

  if (!carried) {
    // Loaded now (the API usually did already), so the gate answers NOT_STARTED itself.
    await sync(false);
    if (Date.now() < startsAt) {
      await condition(() => endRequested, startsAt - Date.now());
      // Rebuilt from PostgreSQL at the start, while no order can be in flight.
      if (!endRequested) await sync(true);
    }
  }
  phase = 'RUNNING';
  for (let checks = 0; !endRequested && Date.now() < endsAt; checks += 1) {
    if (checks >= MAX_CHECKS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof campaignWorkflow>(input, { gateRebuilds });
    }
    await condition(() => endRequested, Math.min(input.gateCheckSeconds * 1000, endsAt - Date.now()));
    if (!endRequested && Date.now() < endsAt) await sync(false);
  }
  phase = 'ENDING';
  const result = await endCampaign(input.campaignId);
  await sync(true); // the gate now answers ENDED
  phase = 'ENDED';
  return result;
}
