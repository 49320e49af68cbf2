/**
 * Start-up steps and how long each took, for the summary `npm start` prints once everything is up.
 * The launcher's parts (provisioning, server starts) record into `startupTimeline`; whoever prints it
 * decides when. Times are milliseconds since the timeline began (the process start by default).
 */
export interface Step {
  label: string;
  startMs: number;
  endMs: number;
}

export class Timeline {
  readonly steps: Step[] = [];

  constructor(readonly t0: number = Date.now() - process.uptime() * 1000) {}

  /** Records a step that ran from `startedAt` (epoch ms) until now. */
  record(label: string, startedAt: number, endedAt: number = Date.now()): void {
    this.steps.push({ label, startMs: startedAt - this.t0, endMs: endedAt - this.t0 });
  }

  /** Runs `work` and records it as one step (also when it fails, marked so). */
  async time<T>(label: string, work: () => Promise<T>): Promise<T> {
    const startedAt = Date.now();
    try {
      const result = await work();
      this.record(label, startedAt);
      return result;
    } catch (err) {
      this.record(`${label} (failed)`, startedAt);
      throw err;
    }
  }

  /** One line per step in the order they ended: when it started, how long it took, when it was done. */
  format(title: string): string {
    const s = (ms: number): string => `${(ms / 1000).toFixed(1)}s`.padStart(7);
    const rows = [...this.steps].sort((a, b) => a.endMs - b.endMs);
    const width = Math.max(...rows.map((r) => r.label.length), 4);
    return [
      title,
      `  ${'step'.padEnd(width)}   from   took   done`,
      ...rows.map((r) => `  ${r.label.padEnd(width)} ${s(r.startMs)}${s(r.endMs - r.startMs)}${s(r.endMs)}`),
    ].join('\n');
  }
}

/** The timeline of this process's start-up (npm start, npm run infra:up). */
export const startupTimeline = new Timeline();
