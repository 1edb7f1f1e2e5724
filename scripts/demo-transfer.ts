/**
 * Puts the seed's demo transfer in flight through Temporal (request, then ship), the way an
 * operator would through the API, so it is a real workflow in the UI: its stock shows as
 * incoming at the destination until someone receives it. Idempotent by its transfer id.
 */
import type { Client } from '@temporalio/client';
import { createTransfer, runTransferStep } from '../use-cases/transfers';
import type { Config } from '../config';
import { demoTransfer } from '../prisma/seed';

export async function startDemoTransfer(client: Client, config: Config): Promise<string> {
  const requested = await createTransfer(client, config.temporal.taskQueue, {
    ...demoTransfer,
    receiveWithinSeconds: config.transferReceiveDeadlineSeconds,
  });
  if (requested.stage !== 'REQUESTED') return requested.stage;
  return (await runTransferStep(client, demoTransfer.transferId, 'ship')).stage;
}
