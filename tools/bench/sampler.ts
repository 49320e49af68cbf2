/**
 * Samples CPU time and RSS of named processes with pidusage while a configuration runs, plus the
 * machine's total CPU use (os.cpus() counters), so the CPU that none of the measured processes
 * used (other work on the machine) shows up as "other".
 */
import * as os from 'node:os';
import pidusage from 'pidusage';
import { treeUsage } from './proc-tree';
import { round } from './stats';

export interface ProcUsage {
  pid: number;
  /** CPU seconds (user + system) used during the sampled window. */
  cpuSeconds: number;
  /** Mean CPU % over the window (100 = one core busy). */
  meanCpuPct: number;
  /** Highest CPU % between two consecutive samples. */
  peakCpuPct: number;
  peakRssMb: number;
  /** CPU % per sample interval, for finding who saturates when. */
  cpuSeries: number[];
}

export interface MachineUsage {
  cores: number;
  /** Mean busy % of all cores together over the window (100 = every core busy). */
  busyPct: number;
  peakBusyPct: number;
  busyCpuSeconds: number;
  /** Busy CPU seconds not used by any measured process (other work on the machine). */
  otherCpuSeconds: number;
}

export interface UsageSummary {
  windowSeconds: number;
  intervalMs: number;
  procs: Record<string, ProcUsage>;
  machine: MachineUsage;
}

interface Point {
  ctime: number;
  at: number;
}

function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    const b = t.user + t.nice + t.sys + t.irq;
    busy += b;
    total += b + t.idle;
  }
  return { busy, total };
}

export class Sampler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly first = new Map<string, Point>();
  private readonly prev = new Map<string, Point>();
  private readonly peakRss = new Map<string, number>();
  private readonly series = new Map<string, number[]>();
  private machineStart = machineTimes();
  private machinePrev = machineTimes();
  private peakBusy = 0;
  private startedAt = 0;

  constructor(
    private readonly targets: Record<string, number | undefined>,
    private readonly intervalMs = 500,
    /** Targets sampled as a whole process tree (e.g. PostgreSQL's postmaster and its backends). */
    private readonly trees: ReadonlySet<string> = new Set(),
  ) {}

  async start(): Promise<void> {
    this.startedAt = Date.now();
    this.machineStart = this.machinePrev = machineTimes();
    await this.sample();
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sample().finally(() => (this.running = undefined));
    }, this.intervalMs);
  }

  /** One sample of every target; never rejects (a process that is gone is skipped). */
  private async sample(): Promise<void> {
    const entries = Object.entries(this.targets).filter((e): e is [string, number] => typeof e[1] === 'number');
    const stats = await Promise.allSettled(
      entries.map(([name, pid]) => {
        if (!this.trees.has(name)) return pidusage(pid);
        const tree = treeUsage(pid);
        return tree ? Promise.resolve(tree) : Promise.reject(new Error(`pid ${pid} is gone`));
      }),
    );
    const now = Date.now();
    entries.forEach(([name], i) => {
      const r = stats[i];
      if (r.status !== 'fulfilled') return;
      const point = { ctime: r.value.ctime, at: now };
      if (!this.first.has(name)) this.first.set(name, point);
      const before = this.prev.get(name);
      if (before && now > before.at) {
        const pct = ((point.ctime - before.ctime) / (now - before.at)) * 100;
        const list = this.series.get(name) ?? [];
        list.push(round(Math.max(0, pct)));
        this.series.set(name, list);
      }
      this.prev.set(name, point);
      this.peakRss.set(name, Math.max(this.peakRss.get(name) ?? 0, r.value.memory));
    });
    const m = machineTimes();
    if (m.total > this.machinePrev.total) {
      this.peakBusy = Math.max(
        this.peakBusy,
        ((m.busy - this.machinePrev.busy) / (m.total - this.machinePrev.total)) * 100,
      );
    }
    this.machinePrev = m;
  }

  async stop(): Promise<UsageSummary> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.sample();
    const windowSeconds = (Date.now() - this.startedAt) / 1000;
    const procs: Record<string, ProcUsage> = {};
    let measured = 0;
    for (const [name, pid] of Object.entries(this.targets)) {
      if (pid === undefined) continue;
      const a = this.first.get(name);
      const b = this.prev.get(name);
      const cpuSeconds = a && b ? (b.ctime - a.ctime) / 1000 : 0;
      const span = a && b ? (b.at - a.at) / 1000 : 0;
      measured += cpuSeconds;
      const series = this.series.get(name) ?? [];
      procs[name] = {
        pid,
        cpuSeconds: round(cpuSeconds, 2),
        meanCpuPct: span > 0 ? round((cpuSeconds / span) * 100) : 0,
        peakCpuPct: series.length ? Math.max(...series) : 0,
        peakRssMb: round((this.peakRss.get(name) ?? 0) / 1024 / 1024),
        cpuSeries: series,
      };
    }
    const m = machineTimes();
    const cores = os.cpus().length;
    const busyCpuSeconds = (m.busy - this.machineStart.busy) / 1000;
    const totalCpuSeconds = (m.total - this.machineStart.total) / 1000;
    pidusage.clear();
    return {
      windowSeconds: round(windowSeconds, 2),
      intervalMs: this.intervalMs,
      procs,
      machine: {
        cores,
        busyPct: totalCpuSeconds > 0 ? round((busyCpuSeconds / totalCpuSeconds) * 100) : 0,
        peakBusyPct: round(this.peakBusy),
        busyCpuSeconds: round(busyCpuSeconds, 2),
        otherCpuSeconds: round(Math.max(0, busyCpuSeconds - measured), 2),
      },
    };
  }
}
