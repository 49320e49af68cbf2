/**
 * processOrder on the time-skipping server, for the workflow tests: `useOrderWorkflowEnv()` starts
 * the server and bundles the workflows once per file; each order then runs with a worker on a fresh
 * task queue, over real activity code and simulated providers (test/helpers/order-worker). Effects
 * are read where they happen: the ledger's raw lines, the activity calls, the history.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, WorkflowBundleWithSourceMap, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Order } from '../../common/order';
import { workflowIdFor } from '../../common/order';
import type { OrderStatus, OrderView } from '../../common/status';
import { processOrder, statusQuery } from '../../workflows';
import { eventTypeNames, historyToFixture } from './history';
import { simulatedSetup } from './order-worker';
import { createTimeSkippingEnv } from './time-skipping';
import { gate, type Gate, uniqueId, waitUntil } from './wait';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
export const STEP_DELAY_MS = 2000;
/** Long enough that nothing passes a timer unless the test skips time (awaiting a result, or env.sleep). */
export const LONG_DELAY_MS = 60_000;
/** A cancel accepted after the charge: the charge is refunded, then the order ends CANCELLED. */
export const CANCELLED_AFTER_CHARGE = [
  'ACCEPTED',
  'VALIDATING',
  'VALIDATED',
  'CHARGING',
  'CHARGED',
  'REFUNDED',
  'CANCELLED',
];

export type Setup = ReturnType<typeof simulatedSetup>;
type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
export type OrderHandle = WorkflowHandle<typeof processOrder>;

export function order(overrides: Partial<Order> = {}): Order {
  return { orderId: uniqueId('t'), item: 'Mechanical Keyboard', price: 150, quantity: 1, ...overrides };
}

/** The real activity implementations behind the counted ones (to wrap one with a gate or a fault). */
export const realActivities = (setup: Setup) => createActivities(setup.providers, setup.statuses);

/** Holds the charge (or shipping) activity at a gate, before it reaches its provider; the real activity runs once opened. */
export function holdStep(setup: Setup, step: 'chargePayment' | 'shipOrder'): Gate {
  const held = gate();
  const run = realActivities(setup)[step] as (...args: unknown[]) => Promise<unknown>;
  (setup.activities[step] as jest.Mock).mockImplementation(async (...args: unknown[]) => {
    await held.wait();
    return run(...args);
  });
  return held;
}

/** With UPDATE_REPLAY_FIXTURES=1, writes the history as test/fixtures/<name>.history.json. */
export function recordFixture(name: string | undefined, history: History): void {
  if (!name || !process.env.UPDATE_REPLAY_FIXTURES) return;
  fs.mkdirSync(FIXTURES, { recursive: true });
  fs.writeFileSync(path.join(FIXTURES, `${name}.history.json`), historyToFixture(history));
}

export function failureOf(error: unknown): ApplicationFailure {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

export const statuses = (view: OrderView): string[] => view.steps.map((s) => s.status);

/** The kinds of the ledger's raw lines for one order (a repeated charge shows twice). */
export const ledgerKinds = (setup: Setup, orderId: string): string[] =>
  setup.ledger
    .lines()
    .filter((e) => e.orderId === orderId)
    .map((e) => e.kind);

/** Activities and timers in history order: activity type names, 'timer' for a fired timer, 'timer-cancelled'. */
export function steps(history: History): string[] {
  const types = eventTypeNames(history);
  const out: string[] = [];
  (history.events ?? []).forEach((e, i) => {
    if (types[i] === 'ACTIVITY_TASK_SCHEDULED') out.push(e.activityTaskScheduledEventAttributes!.activityType!.name!);
    if (types[i] === 'TIMER_FIRED') out.push('timer');
    if (types[i] === 'TIMER_CANCELED') out.push('timer-cancelled');
  });
  return out;
}

export async function statusReached(handle: OrderHandle, status: OrderStatus): Promise<OrderView> {
  return waitUntil(
    async () => {
      const view = await handle.query(statusQuery);
      return view.status === status ? view : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: `status ${status}` },
  );
}

export interface OrderWorkflowEnv {
  env(): TestWorkflowEnvironment;
  /** Runs `body` with a worker polling a fresh task queue, against a started order. */
  withOrder<T>(o: Order, setup: Setup, stepDelayMs: number, body: (handle: OrderHandle) => Promise<T>): Promise<T>;
  /** Runs an order to its end; the result or the error, and the history (recorded as `fixture` when asked). */
  run(
    o: Order,
    setup: Setup,
    fixture?: string,
    stepDelayMs?: number,
  ): Promise<{ view: OrderView | undefined; error: unknown; history: History }>;
  /** Skips time past the n-th durable timer, once the history shows it started. */
  skipTimer(handle: OrderHandle, n: number): Promise<void>;
  /** A worker for `setup` on `taskQueue` (not yet running): for tests that stop one and start another. */
  worker(setup: Setup, taskQueue: string, options?: Pick<WorkerOptions, 'maxCachedWorkflows'>): Promise<Worker>;
  /** Starts the order on `taskQueue` (whatever worker polls it). */
  start(o: Order, taskQueue: string, stepDelayMs: number): Promise<OrderHandle>;
}

/** Registers beforeAll/afterAll: the time-skipping server and the workflow bundle for this file. */
export function useOrderWorkflowEnv(): OrderWorkflowEnv {
  let env: TestWorkflowEnvironment | undefined;
  let workflowBundle: WorkflowBundleWithSourceMap | undefined;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') });
  });
  afterAll(async () => {
    await env?.teardown();
  });
  const ready = (): { env: TestWorkflowEnvironment; workflowBundle: WorkflowBundleWithSourceMap } => {
    if (!env || !workflowBundle) throw new Error('the time-skipping environment is set up in beforeAll');
    return { env, workflowBundle };
  };

  const worker: OrderWorkflowEnv['worker'] = (setup, taskQueue, options = {}) => {
    const { env, workflowBundle } = ready();
    return Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities: setup.activities,
      ...options,
    });
  };
  const start: OrderWorkflowEnv['start'] = (o, taskQueue, stepDelayMs) =>
    ready().env.client.workflow.start(processOrder, {
      taskQueue,
      workflowId: workflowIdFor({ orderId: o.orderId }),
      args: [{ order: o, stepDelayMs, statusEvents: 'plans' }],
    });

  const withOrder: OrderWorkflowEnv['withOrder'] = async (o, setup, stepDelayMs, body) => {
    const taskQueue = uniqueId('orders-test');
    return (await worker(setup, taskQueue)).runUntil(async () => body(await start(o, taskQueue, stepDelayMs)));
  };

  return {
    env: () => ready().env,
    withOrder,
    worker,
    start,
    run: (o, setup, fixture, stepDelayMs = STEP_DELAY_MS) =>
      withOrder(o, setup, stepDelayMs, async (handle) => {
        const outcome = await handle.result().then(
          (view) => ({ view, error: undefined }),
          (error: unknown) => ({ view: undefined, error }),
        );
        const history = await handle.fetchHistory();
        recordFixture(fixture, history);
        return { ...outcome, history };
      }),
    async skipTimer(handle, n) {
      await waitUntil(
        async () => eventTypeNames(await handle.fetchHistory()).filter((t) => t === 'TIMER_STARTED').length >= n,
        { timeoutMs: 20_000, intervalMs: 50, what: `timer ${n} to start` },
      );
      await ready().env.sleep(LONG_DELAY_MS);
    },
  };
}
