/**
 * The replay gate behind `npm run deploy:check`: the histories of the orders running now and of the
 * recent ones, fetched from Temporal, replayed against the workflow bundle about to ship. A run
 * whose history the new code does not reproduce command for command is named, with the first event
 * where they part (from the SDK's DeterminismViolationError).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

type History = temporal.api.history.v1.IHistory;

/** Which runs the gate replays. */
export interface RunSelection {
  client: Client;
  taskQueue: string;
  workflowType: string;
  /** At most this many histories in all, running ones first. */
  maxCount: number;
  /** Closed runs count when they closed at most this long ago; running runs count whatever their age. */
  maxAgeMs: number;
  now?: Date;
}

export interface GateOptions extends RunSelection {
  /** The workflow code about to ship (a prebuilt bundle, or code bundled from a workflows module). */
  workflowBundle: NonNullable<ReplayWorkerOptions['workflowBundle']>;
}

export interface CheckedRun {
  workflowId: string;
  runId: string;
  running: boolean;
}

export interface ReplayFailure extends CheckedRun {
  /** True for a determinism violation; false for any other replay error (e.g. the workflow type is missing). */
  nondeterminism: boolean;
  /** The first event the new code does not reproduce, when the SDK names it. */
  event?: { id: number; type: string };
  /** The SDK's explanation, without its generic preamble. */
  reason: string;
}

export interface GateResult {
  checked: CheckedRun[];
  failures: ReplayFailure[];
  /** Runs of erased customers (customer:erase): their payloads no longer decode, so they are not judged. */
  erased: CheckedRun[];
}

/** EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES -> UpsertWorkflowSearchAttributes (how the SDK and the UI name events). */
export function eventTypeName(eventType: number | null | undefined): string {
  const name = temporal.api.enums.v1.EventType[eventType ?? 0] ?? `EventType${eventType}`;
  return name
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

/**
 * The first diverging event named in a determinism violation's message ("…does not handle this
 * event: HistoryEvent(id: 5, UpsertWorkflowSearchAttributes)"), its type read from the history
 * itself when the history has that event.
 */
export function divergingEventOf(message: string, history?: History): { id: number; type: string } | undefined {
  const named = /HistoryEvent\(id: (\d+), (?:Some\()?([A-Za-z]+)/.exec(message);
  if (!named) return undefined;
  const id = Number(named[1]);
  const event = history?.events?.find((e) => Number(e.eventId) === id);
  return { id, type: event ? eventTypeName(event.eventType) : named[2]! };
}

/** The part of a replay error that explains it: the core's nondeterminism message, else the whole message. */
export function reasonOf(message: string): string {
  const core = /Nondeterminism error: ([^"\\]+)/.exec(message);
  return core ? core[1]!.trim() : message;
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The runs to check: every running one (newest first), then the ones closed within maxAgeMs, up to maxCount in all. */
export async function runsToCheck(opts: RunSelection): Promise<CheckedRun[]> {
  const scope = `WorkflowType = ${quote(opts.workflowType)} AND TaskQueue = ${quote(opts.taskQueue)}`;
  const since = new Date((opts.now ?? new Date()).getTime() - opts.maxAgeMs).toISOString();
  const runs: CheckedRun[] = [];
  const queries: Array<[string, boolean]> = [
    [`${scope} AND ExecutionStatus = 'Running'`, true],
    [`${scope} AND ExecutionStatus != 'Running' AND CloseTime > ${quote(since)}`, false],
  ];
  for (const [query, running] of queries) {
    if (runs.length >= opts.maxCount) break;
    // Listed raw: the SDK's list decodes each run's memo, which fails for an erased customer's run.
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await opts.client.workflowService.listWorkflowExecutions({
        namespace: opts.client.options.namespace,
        query,
        pageSize: Math.min(opts.maxCount, 1000),
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      for (const e of page.executions) {
        if (runs.length >= opts.maxCount) break;
        runs.push({ workflowId: e.execution!.workflowId!, runId: e.execution!.runId!, running });
      }
      nextPageToken = page.nextPageToken?.length && runs.length < opts.maxCount ? page.nextPageToken : undefined;
    } while (nextPageToken);
  }
  return runs;
}

/** Fetches each run's history (a running one's as far as it got) and replays them all against the bundle. */
export async function runReplayGate(opts: GateOptions): Promise<GateResult> {
  const checked = await runsToCheck(opts);
  const histories = new Map<string, History>();
  const byRun = new Map(checked.map((r) => [r.runId, r]));
  async function* fetched() {
    for (const run of checked) {
      const history = await opts.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      histories.set(run.runId, history);
      yield { workflowId: run.workflowId, history };
    }
  }
  const failures: ReplayFailure[] = [];
  const erased: CheckedRun[] = [];
  // The app's data converter: the histories' payloads are sealed by its codec.
  const replayOptions = { workflowBundle: opts.workflowBundle, dataConverter: opts.client.options.dataConverter };
  for await (const result of Worker.runReplayHistories(replayOptions, fetched())) {
    if (!result.error) continue;
    const run = byRun.get(result.runId) ?? { workflowId: result.workflowId, runId: result.runId, running: false };
    const message = result.error instanceof Error ? result.error.message : String(result.error);
    // An erased customer's run can never be read again: no code change is at fault.
    if (message.includes('key destroyed for customer')) {
      erased.push(run);
      continue;
    }
    const event = divergingEventOf(message, histories.get(result.runId));
    failures.push({
      ...run,
      nondeterminism: result.error instanceof DeterminismViolationError,
      ...(event ? { event } : {}),
      reason: reasonOf(message),
    });
  }
  return { checked, failures, erased };
}

/** One line per failure, for the command's output and the tests. */
export function describeFailure(f: ReplayFailure): string {
  const where = f.event ? `first diverging event ${f.event.id} ${f.event.type}` : 'no event named by the SDK';
  const kind = f.nondeterminism ? 'nondeterminism' : 'replay error';
  return `${f.workflowId} (run ${f.runId}, ${f.running ? 'running' : 'closed'}): ${kind}, ${where}: ${f.reason}`;
}
