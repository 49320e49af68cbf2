/**
 * Erasing a customer (`npm run customer:erase`, ./erase): their running orders end through the
 * workflow's own cancel update (the saga refunds a charged order), then their data key is destroyed
 * (every payload of their scoped orders is unreadable from then on, everywhere), the orders of theirs
 * that ran under the deployment-wide key (global ids: no-auth and shared-token mode) are deleted from
 * Temporal, their rows leave the order history, and the action is logged and recorded for audit.
 * Nothing is destroyed while one of their orders still runs: a key destroyed under a running order
 * would leave that run unable to read its own history.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Kysely } from 'kysely';
import { customerSearchValue, type KeyStore, type Tombstone } from '../../common/codec';
import { customerRefOf, isScopedWorkflowId } from '../../common/order';
import { cancelUpdate } from '../../common/workflow-api';
import type { HistoryDb } from '../../history/store';

export interface ErasureOptions {
  client: Client;
  /** The key store the apps seal with; undefined when encryption is off (then every run of theirs is deleted). */
  keyStore: KeyStore | undefined;
  customerId: string;
  /** Who asked (the audit record's `by`). */
  by: string;
  /** How long to wait for the customer's running orders to close. */
  waitMs: number;
  /** The order history, or why it cannot be reached (its rows are then left, and the report says so). */
  history: { db: Kysely<HistoryDb> } | { unavailable: string };
  /** The audit trail: one JSON line per erasure, appended. */
  auditFile: string;
  progress: (line: string) => void;
}

export interface ErasureReport {
  /** The customer as every record of the erasure names them: the reference, never the id. */
  customerRef: string;
  orders: number;
  /** Running orders the cancel update ended, and those it could not cancel (shipping) that ended while waited for. */
  cancelled: number;
  endedWhileWaiting: number;
  /** Closed runs under the deployment-wide key, deleted from Temporal. */
  deletedRuns: number;
  /** Order history rows deleted; null when the history could not be reached. */
  historyRows: number | null;
  historyNote?: string;
  /** Undefined when encryption is off (no key to destroy). */
  tombstone: Tombstone | undefined;
}

/** Some of the customer's orders were still running when the wait ran out: nothing was destroyed. */
export class OrdersStillRunningError extends Error {
  override name = 'OrdersStillRunningError';
}

const quoted = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A run of the customer's, as Visibility lists it. */
interface Run {
  workflowId: string;
  runId: string;
  running: boolean;
}

const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;

/**
 * Every run of the customer: CustomerId holds the keyed hash (encryption on) or, for runs started
 * with encryption off, the id. Listed raw (the SDK's list decodes each run's memo, which fails for
 * a customer erased before: running the command again must work).
 */
async function runsOf(client: Client, values: string[]): Promise<Run[]> {
  const query = `CustomerId IN (${[...new Set(values)].map(quoted).join(', ')})`;
  const runs: Run[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const e of page.executions)
      runs.push({ workflowId: e.execution!.workflowId!, runId: e.execution!.runId!, running: e.status === RUNNING });
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return runs;
}

async function isRunning(client: Client, run: Run): Promise<boolean> {
  const { workflowExecutionInfo } = await client.workflowService.describeWorkflowExecution({
    namespace: client.options.namespace,
    execution: { workflowId: run.workflowId, runId: run.runId },
  });
  return workflowExecutionInfo?.status === RUNNING;
}

/** Asks each running order to cancel (the workflow's cancel update); an order past the point of cancelling is let finish. */
async function cancelAll(opts: ErasureOptions, running: Run[]): Promise<number> {
  let cancelled = 0;
  await Promise.all(
    running.map(async (run) => {
      try {
        // The update returns once the order is final: cancelled, its charge refunded by the saga.
        const view = await opts.client.workflow.getHandle(run.workflowId, run.runId).executeUpdate(cancelUpdate);
        cancelled++;
        opts.progress(`order ${run.workflowId}: cancelled, ended ${view.status}`);
      } catch (err) {
        opts.progress(`order ${run.workflowId}: not cancelled (${(err as Error).message}); waiting for it to end`);
      }
    }),
  );
  return cancelled;
}

/** Waits until none of `runs` is running, up to `waitMs`, with a line of progress every 2 s. */
async function untilClosed(opts: ErasureOptions, runs: Run[]): Promise<void> {
  const deadline = Date.now() + opts.waitMs;
  let lastLine = 0;
  for (;;) {
    const open: Run[] = [];
    for (const run of runs) if (await isRunning(opts.client, run)) open.push(run);
    if (open.length === 0) return;
    if (Date.now() >= deadline)
      throw new OrdersStillRunningError(
        `${open.length} order(s) still running after ${Math.round(opts.waitMs / 1000)} s ` +
          `(${open.map((r) => r.workflowId).join(', ')}): nothing was destroyed; run the command again, or with a longer --wait`,
      );
    if (Date.now() - lastLine >= 2_000) {
      opts.progress(`… ${runs.length - open.length} of ${runs.length} orders closed`);
      lastLine = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function eraseCustomer(opts: ErasureOptions): Promise<ErasureReport> {
  const customerRef = customerRefOf(opts.customerId);
  const searchValue = await customerSearchValue(opts.keyStore, opts.customerId);
  const runs = await runsOf(opts.client, [searchValue, opts.customerId]);
  const running = runs.filter((r) => r.running);
  opts.progress(`customer ${customerRef}: ${runs.length} order(s), ${running.length} running`);
  const cancelled = await cancelAll(opts, running);
  await untilClosed(opts, running);

  const tombstone = await opts.keyStore?.destroy({ kind: 'customer', ref: customerRef }, opts.by);
  if (tombstone)
    opts.progress(`customer ${customerRef}: data key destroyed (versions 1-${tombstone.destroyedThrough})`);

  // Runs under the deployment-wide key (or in clear) cannot be erased by a key: their histories go instead.
  let deletedRuns = 0;
  for (const run of runs.filter((r) => !tombstone || !isScopedWorkflowId(r.workflowId))) {
    await opts.client.workflowService.deleteWorkflowExecution({
      namespace: opts.client.options.namespace,
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
    });
    deletedRuns++;
  }

  let historyRows: number | null = null;
  let historyNote: string | undefined;
  if ('db' in opts.history) {
    const result = await opts.history.db
      .deleteFrom('orders')
      .where((eb) =>
        eb.or([
          eb('customer_id', '=', opts.customerId),
          // Rows a status event made before the placement was read carry no customer yet.
          ...(runs.length
            ? [
                eb(
                  'workflow_id',
                  'in',
                  runs.map((r) => r.workflowId),
                ),
              ]
            : []),
        ]),
      )
      .executeTakeFirst();
    historyRows = Number(result.numDeletedRows);
  } else {
    historyNote = opts.history.unavailable;
  }

  const report: ErasureReport = {
    customerRef,
    orders: runs.length,
    cancelled,
    endedWhileWaiting: running.length - cancelled,
    deletedRuns,
    historyRows,
    ...(historyNote ? { historyNote } : {}),
    tombstone,
  };
  appendAudit(opts.auditFile, { event: 'customer-erased', at: new Date().toISOString(), by: opts.by, ...report });
  return report;
}

/** Appends one record to the audit trail (owner-only file), written in one call so records never interleave. */
function appendAudit(file: string, record: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.appendFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}
