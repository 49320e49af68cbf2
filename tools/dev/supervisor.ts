/**
 * Keeps a set of units (app processes, servers) running for `npm start`: a unit that dies on its own
 * is started again after a backoff, with one log line naming it, how it died and when it comes back.
 * `stop()` ends supervision first (so nothing is restarted while stopping) and then stops every unit.
 *
 * Backoff: 1 s after the first death, doubling per consecutive death up to 30 s; a unit that stayed up
 * for a minute before dying starts over at 1 s (a crash loop slows down, a rare crash does not wait).
 */
import { within } from '../infra/proc';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running instance of a unit. */
export interface Running {
  pid: number;
  /** Resolves when this instance exits (for whatever reason). */
  exited: Promise<Exit>;
}

export interface Unit {
  name: string;
  /** Starts an instance; rejects when it cannot be started (that counts as a death). */
  start(): Promise<Running>;
  /** Stops the running instance (draining); resolves once it is gone. */
  stop(running: Running): Promise<void>;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** An instance that ran at least this long resets the backoff. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, stableMs: 60_000 };

/** The wait before restart number `consecutive` (1-based) of a unit that keeps dying. */
export function restartDelay(consecutive: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(opts.maxMs, opts.initialMs * 2 ** Math.max(0, consecutive - 1));
}

/** "exit code 1", "signal SIGKILL", or the start-up error's first line. */
export function describeExit(exit: Exit | Error): string {
  if (exit instanceof Error) return `failed to start: ${exit.message.split('\n')[0]}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code}`;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;

interface Slot {
  unit: Unit;
  running?: Running;
  consecutive: number;
  restarts: number;
  loop: Promise<void>;
}

export class Supervisor {
  private readonly slots: Slot[] = [];
  private stopping = false;
  private stopRun?: Promise<void>;
  private wake: () => void = () => undefined;
  private readonly stopped: Promise<void>;

  constructor(
    private readonly log: (line: string) => void,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    this.stopped = new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** The instances running now, by unit name (what a forced stop kills). */
  running(): Array<{ name: string; pid: number }> {
    return this.slots.flatMap((s) => (s.running ? [{ name: s.unit.name, pid: s.running.pid }] : []));
  }

  /** How many times each unit was started again, by name. */
  get restarts(): Record<string, number> {
    return Object.fromEntries(this.slots.map((s) => [s.unit.name, s.restarts]));
  }

  /**
   * Supervises a unit: starts it (or adopts `running`, an instance already started) and restarts it
   * whenever it dies until stop(). Resolves once the first instance is started (or failed to start).
   */
  async add(unit: Unit, running?: Running): Promise<void> {
    if (this.stopping) throw new Error(`supervisor is stopping; not starting ${unit.name}`);
    const slot: Slot = { unit, consecutive: 0, restarts: 0, loop: Promise.resolve() };
    this.slots.push(slot);
    let first: () => void = () => undefined;
    const firstStarted = new Promise<void>((resolve) => (first = resolve));
    slot.loop = this.keep(slot, running, first);
    await firstStarted;
  }

  private async keep(slot: Slot, adopted: Running | undefined, firstStarted: () => void): Promise<void> {
    let instance = adopted;
    for (;;) {
      const since = Date.now();
      let end: Exit | Error;
      try {
        instance ??= await slot.unit.start();
        slot.running = instance;
        firstStarted();
        end = await Promise.race([instance.exited, this.stopped.then(() => undefined)]).then(
          (e) => e ?? { code: null, signal: null },
        );
        if (this.stopping) return;
      } catch (err) {
        firstStarted();
        if (this.stopping) return;
        end = err instanceof Error ? err : new Error(String(err));
      }
      slot.running = undefined;
      instance = undefined;
      slot.consecutive = Date.now() - since >= this.backoff.stableMs ? 1 : slot.consecutive + 1;
      const delay = restartDelay(slot.consecutive, this.backoff);
      slot.restarts += 1;
      this.log(
        `${slot.unit.name} ${end instanceof Error ? describeExit(end) : `died (${describeExit(end)}) after ${secs(Date.now() - since)} up`}; starting it again in ${secs(delay)} (restart ${slot.restarts})`,
      );
      await within(this.stopped, delay);
      if (this.stopping) return;
    }
  }

  /**
   * Ends supervision, then stops the units in groups: each group's units in parallel, the groups in
   * order (e.g. the apps first so they drain, then the servers they use). Units not named are stopped last.
   */
  stop(order: string[][] = []): Promise<void> {
    // A second call (a stop already under way) waits for the first.
    this.stopRun ??= this.stopAll(order);
    return this.stopRun;
  }

  private async stopAll(order: string[][]): Promise<void> {
    this.stopping = true;
    this.wake();
    await Promise.all(this.slots.map((s) => s.loop));
    const named = new Set(order.flat());
    const groups = [...order, this.slots.map((s) => s.unit.name).filter((n) => !named.has(n))];
    for (const group of groups) {
      await Promise.all(
        this.slots
          .filter((s) => group.includes(s.unit.name) && s.running)
          .map(async (s) => {
            await s.unit.stop(s.running as Running);
            s.running = undefined;
          }),
      );
    }
  }
}
