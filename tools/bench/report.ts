/** The bench's result as written to bench-results/<timestamp>.json, and the machine it ran on. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CostRow } from './cost';
import type { FanoutResult } from './fanout-run';
import type { HistoryResult } from './history-run';
import { round } from './stats';
import type { ConfigResult, IdleResult } from './types';
import type { Ratio, Target } from './verdicts';

export interface Machine {
  cores: number;
  cpuModel: string;
  totalMemGb: number;
  platform: string;
  node: string;
  loadAvgAtStart: number[];
  loadAvgAtEnd?: number[];
}

export interface BenchReport {
  runId: string;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: Machine;
  git: { commit: string; modified: string[] };
  options: Record<string, unknown>;
  serverPids: Record<string, { pid?: number; how: string }>;
  results: ConfigResult[];
  /** CPU ms per completed order by process, per Temporal-backed configuration. */
  costs: CostRow[];
  /** --baseline: an earlier run's cost table, printed before/after beside this one. */
  baseline?: { file: string; commit: string; startedAt: string; costs: CostRow[] };
  ratios: Ratio[];
  targets: Target[];
  idle?: IdleResult;
  /** The status fan-out over several gateways (kind `fanout`). */
  fanout?: FanoutResult[];
  /** The order history: listOrders latency and the projection's cost (kind `history`). */
  history?: HistoryResult;
  notes: string[];
}

export function machineInfo(): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemGb: round(os.totalmem() / 1024 ** 3, 1),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    loadAvgAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

export function writeJson(dir: string, name: string, report: BenchReport): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}

/** An earlier run's JSON, for a before/after cost table (its cost table is recomputed from its results). */
export function readBaseline(file: string, toCosts: (results: ConfigResult[]) => CostRow[]): BenchReport['baseline'] {
  const old = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<BenchReport>;
  return {
    file,
    commit: old.git?.commit ?? 'unknown',
    startedAt: old.startedAt ?? 'unknown',
    costs: toCosts(old.results ?? []),
  };
}
