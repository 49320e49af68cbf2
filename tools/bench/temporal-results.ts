/**
 * Reading results back from Temporal without adding load while a configuration runs: a visibility
 * count once a second to know when every run of the configuration has closed, then one paged
 * visibility listing for start and close times, and a few sample histories to count events.
 */
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { percentiles, Percentiles, round } from './stats';
import { sleep } from '../infra/proc';

export interface Execution {
  workflowId: string;
  startMs: number;
  closeMs?: number;
  status: string;
}

/** Visibility query for every run whose workflow id starts with the prefix. */
export function prefixQuery(workflowIdPrefix: string): string {
  return `WorkflowId STARTS_WITH "${workflowIdPrefix}"`;
}

/**
 * Polls the number of closed runs until it reaches `expected`, the timeout passes, or the count
 * has not moved for `stallMs` (a stuck configuration should not hold the whole run).
 */
export async function waitForClosed(
  client: Client,
  workflowIdPrefix: string,
  expected: number,
  timeoutMs: number,
  stallMs: number,
  onProgress?: (closed: number) => void,
  pollMs = 1_000,
): Promise<{ closed: number; timedOut: boolean; stalled: boolean }> {
  const query = `${prefixQuery(workflowIdPrefix)} AND ExecutionStatus != "Running"`;
  const deadline = Date.now() + timeoutMs;
  let closed = 0;
  let lastChange = Date.now();
  for (;;) {
    try {
      const n = (await client.workflow.count(query)).count;
      if (n !== closed) lastChange = Date.now();
      closed = n;
    } catch {
      // visibility hiccup: try again next round
    }
    onProgress?.(closed);
    if (closed >= expected) return { closed, timedOut: false, stalled: false };
    if (Date.now() - lastChange > stallMs) return { closed, timedOut: true, stalled: true };
    if (Date.now() > deadline) return { closed, timedOut: true, stalled: false };
    await sleep(pollMs);
  }
}

/** Terminates the bench's own runs that are still open (after a timeout), so they do not load later configurations. */
export async function terminateRunning(
  client: Client,
  workflowIdPrefix: string,
  reason: string,
  limit = 20_000,
): Promise<number> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({
    query: `${prefixQuery(workflowIdPrefix)} AND ExecutionStatus = "Running"`,
    pageSize: 1000,
  })) {
    ids.push(wf.workflowId);
    if (ids.length >= limit) break;
  }
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.min(20, ids.length) }, async () => {
      while (next < ids.length) {
        const id = ids[next];
        next += 1;
        try {
          await client.workflow.getHandle(id).terminate(reason);
          done += 1;
        } catch {
          // closed meanwhile
        }
      }
    }),
  );
  return done;
}

export async function listExecutions(client: Client, workflowIdPrefix: string): Promise<Map<string, Execution>> {
  const out = new Map<string, Execution>();
  for await (const wf of client.workflow.list({ query: prefixQuery(workflowIdPrefix), pageSize: 1000 })) {
    out.set(wf.workflowId, {
      workflowId: wf.workflowId,
      startMs: wf.startTime.getTime(),
      closeMs: wf.closeTime?.getTime(),
      status: wf.status.name,
    });
  }
  return out;
}

/** The key of historyProfile's figures that holds the history's size in bytes, not an event type. */
export const HISTORY_BYTES = 'BYTES';

/**
 * Event counts of one run's history, by event type (e.g. WORKFLOW_TASK_COMPLETED: 6), and its size
 * (HISTORY_BYTES: the history as Temporal stores and serves it, protobuf-encoded, payloads as sealed).
 * Each workflow task and activity task is a poll/complete round trip between the worker and the server.
 */
export async function historyProfile(client: Client, workflowId: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const counts: Record<string, number> = {
    TOTAL: 0,
    [HISTORY_BYTES]: temporal.api.history.v1.History.encode(history).finish().length,
  };
  for (const e of history.events ?? []) {
    const name = e.eventType == null ? undefined : temporal.api.enums.v1.EventType[e.eventType];
    const type = String(name ?? e.eventType ?? 'UNKNOWN').replace(/^EVENT_TYPE_/, '');
    counts[type] = (counts[type] ?? 0) + 1;
    counts.TOTAL += 1;
  }
  return counts;
}

/** Mean events per run by type over a few completed runs (the runs' histories are fetched). */
export async function historyPerRun(
  client: Client,
  execs: Map<string, Execution>,
  sample = 5,
): Promise<Record<string, number> | undefined> {
  const ids = [...execs.values()].filter((e) => e.status === 'COMPLETED').map((e) => e.workflowId);
  if (!ids.length) return undefined;
  // Spread over the run (the first ones may have met a cold worker).
  const picked = Array.from(
    { length: Math.min(sample, ids.length) },
    (_, i) => ids[Math.floor(((i + 0.5) * ids.length) / Math.min(sample, ids.length))],
  );
  const profiles = await Promise.all(picked.map((id) => historyProfile(client, id)));
  const sum: Record<string, number> = {};
  for (const p of profiles) for (const [k, v] of Object.entries(p)) sum[k] = (sum[k] ?? 0) + v;
  return Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, round(v / profiles.length, 1)]));
}

export interface RunSummary {
  completed: number;
  failed: number;
  /** Requested (or placed) -> closed, ms, of the completed runs. */
  e2e: Percentiles | null;
  firstClose: number;
  lastClose: number;
  /** Completions per second between the 10th and the 90th percentile close (no ramp-up or tail). */
  steadyPerSecond?: number;
}

/** Outcome of the runs the bench asked for (workflow id -> epoch ms it was requested or placed). */
export function summarizeRuns(requestedAt: Map<string, number>, execs: Map<string, Execution>): RunSummary {
  const e2e: number[] = [];
  const closes: number[] = [];
  let failed = 0;
  for (const [wfId, at] of requestedAt) {
    const exec = execs.get(wfId);
    if (!exec) continue;
    if (exec.status === 'COMPLETED' && exec.closeMs !== undefined) {
      e2e.push(exec.closeMs - at);
      closes.push(exec.closeMs);
    } else if (exec.status !== 'RUNNING') failed += 1;
  }
  closes.sort((a, b) => a - b);
  const n = closes.length;
  let steadyPerSecond: number | undefined;
  if (n >= 20) {
    const lo = Math.floor(n * 0.1);
    const hi = Math.ceil(n * 0.9) - 1;
    const span = (closes[hi] - closes[lo]) / 1000;
    if (span > 0) steadyPerSecond = round((hi - lo) / span);
  }
  return {
    completed: n,
    failed,
    e2e: percentiles(e2e),
    firstClose: closes[0] ?? 0,
    lastClose: closes[n - 1] ?? 0,
    steadyPerSecond,
  };
}
