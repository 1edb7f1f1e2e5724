/**
 * Committed workflow histories (test/workflows/histories/*.json): written by
 * `npm run histories:capture`, replayed against the current workflow code by
 * test/workflows/replay.test.ts.
 *
 * A file is the fetched history's own JSON (`JSON.stringify(await handle.fetchHistory())`,
 * i.e. the proto's toJSON()), read back with the proto's fromObject. Files exported by the
 * Temporal CLI or UI (proto3 JSON: RFC 3339 times) are read with the SDK's historyFromJSON.
 * The capture does not write that format: `historyToJSON`/`historyFromJSON` throw "type must
 * be a Type" when @temporalio/common and @temporalio/proto resolve different protobufjs
 * copies, as they do in this install.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createMetrics } from '../../platform/metrics';
import { workerSinks } from '../../worker';

type History = temporal.api.history.v1.IHistory;

export const HISTORIES_DIR = path.join(__dirname, '../workflows/histories');

/** `<scenario>.<tag>.json`: the tag (capture date by default) keeps older captures beside newer ones. */
export function historyFileName(scenario: string, tag: string): string {
  return `${scenario}.${tag}.json`;
}

/** The JSON a history file holds. */
export function historyFileText(history: History): string {
  return `${JSON.stringify(temporal.api.history.v1.History.fromObject(history).toJSON(), null, 1)}\n`;
}

/** One committed history, with the workflow type its first event names. */
export interface CommittedHistory {
  readonly file: string;
  readonly workflowType: string;
  readonly history: History;
}

export function parseHistory(json: { events?: { eventTime?: unknown }[] }): History {
  if (typeof json.events?.[0]?.eventTime === 'string') return historyFromJSON(json);
  return temporal.api.history.v1.History.fromObject(json);
}

export function loadHistories(dir = HISTORIES_DIR): CommittedHistory[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const history = parseHistory(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      const workflowType = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      if (!workflowType) throw new Error(`${file}: the first event is not WorkflowExecutionStarted`);
      return { file, workflowType, history };
    });
}

/**
 * Replays every committed history on `code` (the workflow sources, or a prebuilt bundle);
 * returns how many replayed and the failures, one line each.
 */
export async function replayAll(
  code: { workflowsPath: string } | { workflowBundle: { codePath: string } },
): Promise<{ replayed: number; failures: string[]; total: number }> {
  const histories = loadHistories();
  const results = Worker.runReplayHistories(
    { ...code, sinks: workerSinks(createMetrics('worker')) },
    histories.map((h) => ({ workflowId: h.file, history: h.history })),
  );
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of results) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
  }
  return { replayed, failures, total: histories.length };
}
