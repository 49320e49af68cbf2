/** Small test utilities shared by every file: polling with a deadline, unique ids, gates. */
import * as crypto from 'node:crypto';
import { sleep } from '../../tools/infra/proc';

export { sleep }; // the tools' one, for the tests that import their helpers from here

/** A fresh id with a readable prefix, e.g. "dup-1a2b3c4d". */
export function uniqueId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
  /** More to say in the timeout error (e.g. a process's log), read when the wait times out. */
  context?: () => string;
}

/**
 * Calls `check` until it returns something truthy and returns that; throws (naming `what` and the
 * last value seen) when the deadline passes. Exceptions thrown by `check` end the wait at once.
 */
export async function waitUntil<T>(check: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 30_000, intervalMs = 100, what = 'a condition', context } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})` +
          (context ? `\n${context()}` : ''),
      );
    await sleep(intervalMs);
  }
}

/**
 * A gate: code under test awaits `passed` and is held there until the test calls `open()`.
 * `reached` resolves when the first waiter arrives, so the test knows the held step has begun.
 */
export interface Gate {
  open(): void;
  /** Resolves once open() was called. */
  passed: Promise<void>;
  /** Resolves when something first waits at the gate. */
  reached: Promise<void>;
  /** Called by the code under test: marks the gate reached and waits for it to open. */
  wait(): Promise<void>;
  waiters: number;
}

/** Gates not yet opened: opened after each test (test/helpers/open-gates.ts), so a failing test never leaves work held. */
const unopened = new Set<() => void>();

export function openAllGates(): void {
  for (const open of [...unopened]) open();
}

export function gate(): Gate {
  let open!: () => void;
  let arrive!: () => void;
  const passed = new Promise<void>((r) => (open = r));
  unopened.add(open);
  void passed.then(() => unopened.delete(open));
  const reached = new Promise<void>((r) => (arrive = r));
  const g: Gate = {
    open: () => open(),
    passed,
    reached,
    waiters: 0,
    wait: () => {
      g.waiters += 1;
      arrive();
      return passed;
    },
  };
  return g;
}

/** Resolves like `p`, or rejects naming `what` when `p` has not settled within `ms` (so a broken guard fails fast). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
