/**
 * The supervisor behind `npm start` (tools/dev/supervisor.ts), on in-memory units: a unit that dies
 * is started again after a backoff with one log line saying why; stop() restarts nothing and stops
 * the units in the order given. (test/tools/start-supervision.test.ts runs it on the real system.)
 */
import {
  DEFAULT_BACKOFF,
  describeExit,
  Exit,
  restartDelay,
  Running,
  Supervisor,
  Unit,
} from '../../tools/dev/supervisor';
import { waitUntil } from '../helpers/wait';

/** A unit whose instances the test ends at will; records starts and stops. */
class FakeUnit implements Unit {
  instances: Array<{ pid: number; end: (e: Exit) => void }> = [];
  stops: number[] = [];
  failStarts = 0;

  constructor(
    readonly name: string,
    private readonly events: string[] = [],
  ) {}

  start(): Promise<Running> {
    if (this.failStarts > 0) {
      this.failStarts -= 1;
      return Promise.reject(new Error('port 3000 in use\nmore detail'));
    }
    const pid = 1000 + this.instances.length;
    let end: (e: Exit) => void = () => undefined;
    const exited = new Promise<Exit>((resolve) => (end = resolve));
    this.instances.push({ pid, end });
    this.events.push(`start ${this.name}`);
    return Promise.resolve({ pid, exited });
  }

  async stop(running: Running): Promise<void> {
    this.events.push(`stop ${this.name}`);
    this.stops.push(running.pid);
    await new Promise((r) => setTimeout(r, 5));
    this.instances.find((i) => i.pid === running.pid)?.end({ code: 0, signal: null });
  }

  get current(): { pid: number; end: (e: Exit) => void } {
    return this.instances[this.instances.length - 1];
  }
}

const FAST = { initialMs: 20, maxMs: 80, stableMs: 10_000 };

describe('restartDelay', () => {
  test('doubles per consecutive death from 1 s, capped at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => restartDelay(n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
    expect(DEFAULT_BACKOFF.stableMs).toBe(60_000);
  });
});

describe('describeExit', () => {
  test('names the signal, the exit code, or the start-up error', () => {
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('killed by SIGKILL');
    expect(describeExit({ code: 1, signal: null })).toBe('exit code 1');
    expect(describeExit(new Error('port in use\nstack'))).toBe('failed to start: port in use');
  });
});

describe('Supervisor', () => {
  test('a unit that dies is started again, with one log line naming it, how it died and the wait', async () => {
    const lines: string[] = [];
    const sup = new Supervisor((l) => lines.push(l), FAST);
    const worker = new FakeUnit('worker');
    await sup.add(worker);
    expect(worker.instances).toHaveLength(1);

    worker.current.end({ code: null, signal: 'SIGKILL' });
    await waitUntil(() => worker.instances.length === 2, { timeoutMs: 2_000 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^worker died \(killed by SIGKILL\) after .* up; starting it again in 0\.0s \(restart 1\)$/,
    );

    worker.current.end({ code: 1, signal: null });
    await waitUntil(() => worker.instances.length === 3, { timeoutMs: 2_000 });
    expect(lines[1]).toMatch(/^worker died \(exit code 1\) .*\(restart 2\)$/);
    expect(sup.restarts).toEqual({ worker: 2 });
    await sup.stop();
  });

  test('consecutive deaths back off (doubling, capped); a start that fails counts as one', async () => {
    const lines: string[] = [];
    const sup = new Supervisor((l) => lines.push(l), FAST);
    const unit = new FakeUnit('bridge');
    await sup.add(unit);
    unit.failStarts = 3;
    const diedAt = Date.now();
    unit.current.end({ code: 1, signal: null });
    // Waits of 20, 40, 80 and 80 ms (cap) before the fourth attempt succeeds.
    await waitUntil(() => unit.instances.length === 2, { timeoutMs: 3_000 });
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(20 + 40 + 80 + 80 - 5);
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).every((l) => l.startsWith('bridge failed to start: port 3000 in use;'))).toBe(true);
    await sup.stop();
  });

  test('an adopted instance is watched like a started one', async () => {
    const lines: string[] = [];
    const sup = new Supervisor((l) => lines.push(l), FAST);
    const kafka = new FakeUnit('kafka');
    let end: (e: Exit) => void = () => undefined;
    await sup.add(kafka, { pid: 42, exited: new Promise<Exit>((r) => (end = r)) });
    expect(kafka.instances).toHaveLength(0);
    end({ code: null, signal: 'SIGKILL' });
    await waitUntil(() => kafka.instances.length === 1, { timeoutMs: 2_000 });
    expect(lines[0]).toMatch(/^kafka died \(killed by SIGKILL\)/);
    await sup.stop();
  });

  test('stop() restarts nothing and stops the groups in order: the apps drain before the servers stop', async () => {
    const events: string[] = [];
    const lines: string[] = [];
    const sup = new Supervisor((l) => lines.push(l), FAST);
    const units = ['gateway', 'worker', 'kafka', 'temporal'].map((n) => new FakeUnit(n, events));
    for (const u of units) await sup.add(u);
    events.length = 0;
    await sup.stop([
      ['gateway', 'worker'],
      ['kafka', 'temporal'],
    ]);
    expect(events.slice(0, 2).sort()).toEqual(['stop gateway', 'stop worker']);
    expect(events.slice(2).sort()).toEqual(['stop kafka', 'stop temporal']);
    await new Promise((r) => setTimeout(r, 3 * FAST.initialMs));
    expect(units.map((u) => u.instances.length)).toEqual([1, 1, 1, 1]);
    expect(lines).toEqual([]);
  });

  test('a unit waiting out its backoff when stop() comes is not started again', async () => {
    const lines: string[] = [];
    const sup = new Supervisor((l) => lines.push(l), { initialMs: 200, maxMs: 200, stableMs: 10_000 });
    const unit = new FakeUnit('gateway');
    await sup.add(unit);
    unit.current.end({ code: 1, signal: null });
    await waitUntil(() => lines.length === 1, { timeoutMs: 2_000 });
    await sup.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(unit.instances).toHaveLength(1);
    expect(unit.stops).toEqual([]);
  });

  test('a second stop() (a stop already under way) waits for the first and stops nothing twice', async () => {
    const sup = new Supervisor(() => undefined, FAST);
    const unit = new FakeUnit('worker');
    await sup.add(unit);
    const first = sup.stop();
    const second = sup.stop([['worker']]);
    await Promise.all([first, second]);
    expect(unit.stops).toEqual([unit.current.pid]);
    expect(sup.running()).toEqual([]);
  });
});
