/** The bench's outputs: ratios to the ceilings, target verdicts, the Markdown tables, the JSON file. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Percentiles } from './stats';
import { round } from './stats';
import type { ConfigResult, IdleResult } from './types';

export interface Machine {
  cores: number;
  cpuModel: string;
  totalMemGb: number;
  platform: string;
  node: string;
  loadAvgAtStart: number[];
}

export interface Ratio {
  name: string;
  numerator: string;
  denominator: string;
  value: number | null;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean | null;
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
  ratios: Ratio[];
  targets: Target[];
  idle?: IdleResult;
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

const byId = (results: ConfigResult[], id: string): ConfigResult | undefined => results.find((r) => r.id === id);

function ratio(results: ConfigResult[], name: string, numerator: string, denominator: string): Ratio {
  const a = byId(results, numerator);
  const b = byId(results, denominator);
  const value = a && b && b.throughput > 0 ? round(a.throughput / b.throughput, 3) : null;
  return { name, numerator, denominator, value };
}

export function computeRatios(results: ConfigResult[], delays: number[], rate: number): Ratio[] {
  const out: Ratio[] = [];
  for (const d of delays) {
    out.push(ratio(results, `pipeline full speed / raw Temporal, delay ${d} ms`, `pipe-full-d${d}`, `temporal-d${d}`));
  }
  for (const d of delays) {
    out.push(ratio(results, `pipeline ${rate}/s / raw Temporal, delay ${d} ms`, `pipe-r${rate}-d${d}`, `temporal-d${d}`));
  }
  // The gateway's acceptance rate against what Kafka takes from a gateway-shaped producer.
  const gw = byId(results, `pipe-full-d${delays[0]}`);
  const kafka = byId(results, 'kafka-1msg');
  out.push({
    name: 'gateway accepted/s (full speed) / raw Kafka 1 msg/send',
    numerator: `pipe-full-d${delays[0]} (accepted/s)`,
    denominator: 'kafka-1msg',
    value: gw?.acceptedPerSecond && kafka?.throughput ? round(gw.acceptedPerSecond / kafka.throughput, 3) : null,
  });
  out.push(ratio(results, 'raw Kafka 1 msg/send / 100 msgs/send', 'kafka-1msg', 'kafka-batch100'));
  for (const d of delays) {
    out.push(ratio(results, `pipeline full speed / seed-style consumer, delay ${d} ms`, `pipe-full-d${d}`, `seed-d${d}`));
  }
  return out;
}

export function computeTargets(results: ConfigResult[], rate: number, idle?: IdleResult): Target[] {
  const targets: Target[] = [];
  const p0 = byId(results, 'pipe-full-d0');
  const t0 = byId(results, 'temporal-d0');
  if (p0 && t0) {
    const r = t0.throughput > 0 ? p0.throughput / t0.throughput : 0;
    targets.push({
      name: 'end-to-end throughput at step delay 0 vs raw-Temporal ceiling',
      goal: '>= 80%',
      measured: `${p0.throughput} / ${t0.throughput} orders/s = ${round(r * 100)}%`,
      met: r >= 0.8,
    });
  }
  const rated = byId(results, `pipe-r${rate}-d0`) ?? results.find((r) => r.id.startsWith(`pipe-r${rate}-`));
  if (rated?.ackMs) {
    targets.push({
      name: `accept latency p99 at an offered ${rate} orders/s (${rated.id})`,
      goal: '< 25 ms',
      measured: `p99 ${rated.ackMs.p99} ms (p50 ${rated.ackMs.p50}, max ${rated.ackMs.max}); offered ${rated.offeredPerSecond}/s`,
      met: rated.ackMs.p99 < 25,
    });
  }
  const p1 = byId(results, 'pipe-full-d1000');
  const s1 = byId(results, 'seed-d1000');
  if (p1 && s1) {
    const r = s1.throughput > 0 ? p1.throughput / s1.throughput : Infinity;
    targets.push({
      name: 'throughput at 1 s step delay vs seed-style consumer',
      goal: '>= 50x',
      measured: `${p1.throughput} / ${s1.throughput} orders/s = ${round(r, 1)}x`,
      met: r >= 50,
    });
  }
  if (idle) {
    targets.push({
      name: `gateway RSS with ${idle.connections} idle connections`,
      goal: '< 300 MB',
      measured: `peak ${idle.peakRssMb} MB (${idle.opened} open, baseline ${idle.baselineRssMb} MB, ${idle.perConnectionKb} KB/conn)`,
      met: idle.opened === idle.connections && idle.peakRssMb < 300,
    });
  }
  return targets;
}

const pct = (p: Percentiles | null | undefined, keys: Array<keyof Percentiles>): string =>
  p ? keys.map((k) => (p[k] >= 100 ? Math.round(p[k]) : p[k])).join(' / ') : '–';

const PROCS = ['gateway', 'bridge', 'worker', 'kafka', 'temporal', 'bench'];

export function markdown(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`### Order pipeline benchmark, ${report.startedAt}`);
  lines.push('');
  lines.push(
    `Machine: **${m.cores} cores** (${m.cpuModel}), ${m.totalMemGb} GB RAM, ${m.platform}, Node ${m.node}; load average at start ${m.loadAvgAtStart.join(' / ')}. ` +
      `Git ${report.git.commit}${report.git.modified.length ? ` with ${report.git.modified.length} uncommitted file(s)` : ''}.`,
  );
  lines.push(`Command: \`${report.command}\``);
  lines.push('');
  if (report.results.length) {
    lines.push('| configuration | load | done / sent | throughput | ack p50 / p95 / p99 / max (ms) | accepted→start p50 / p95 / p99 (ms) | end-to-end p50 / p95 / p99 (ms) |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of report.results) {
      lines.push(
        `| ${r.label} | ${r.load} | ${r.completed} / ${r.orders} | **${r.throughput}** ${r.throughputUnit} | ${pct(r.ackMs, ['p50', 'p95', 'p99', 'max'])} | ${pct(
          r.acceptToStartMs,
          ['p50', 'p95', 'p99'],
        )} | ${pct(r.e2eMs, ['p50', 'p95', 'p99'])} |`,
      );
    }
    lines.push('');
    lines.push('"ack": placeOrder→orderAccepted (pipeline), send→ack (raw Kafka), start→response (raw Temporal). Throughput: completed per second from the first send to the last close.');
    lines.push('');
    lines.push('Resources per configuration: CPU seconds · mean CPU % (100 = one core) · peak RSS MB; "machine" is the busy share of all cores and the CPU seconds no measured process used.');
    lines.push('');
    lines.push(`| configuration | ${PROCS.join(' | ')} | machine |`);
    lines.push(`| --- | ${PROCS.map(() => '---').join(' | ')} | --- |`);
    for (const r of report.results) {
      const u = r.usage;
      const cells = PROCS.map((p) => {
        const x = u?.procs[p];
        return x ? `${x.cpuSeconds} s · ${Math.round(x.meanCpuPct)}% · ${Math.round(x.peakRssMb)} MB` : '–';
      });
      lines.push(`| ${r.id} | ${cells.join(' | ')} | ${u ? `${Math.round(u.machine.busyPct)}% busy, other ${u.machine.otherCpuSeconds} s` : '–'} |`);
    }
    lines.push('');
  }
  if (report.ratios.length) {
    lines.push('| ratio | value |');
    lines.push('| --- | --- |');
    for (const r of report.ratios) lines.push(`| ${r.name} | ${r.value === null ? '–' : r.value} |`);
    lines.push('');
  }
  if (report.idle) {
    const i = report.idle;
    lines.push('| idle connections | opened | gateway says | baseline RSS | peak RSS | per connection | open time |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    lines.push(`| ${i.connections} | ${i.opened} (${i.failed} failed) | ${i.gatewayReportedConnections ?? '–'} | ${i.baselineRssMb} MB | **${i.peakRssMb} MB** | ${i.perConnectionKb} KB | ${i.openSeconds} s |`);
    lines.push('');
  }
  if (report.targets.length) {
    lines.push('| target | goal | measured | met |');
    lines.push('| --- | --- | --- | --- |');
    for (const t of report.targets) lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === null ? '–' : t.met ? 'yes' : '**no**'} |`);
    lines.push('');
  }
  const notes = [...report.notes, ...report.results.flatMap((r) => r.notes.map((n) => `${r.id}: ${n}`))];
  const errs = report.results.filter((r) => Object.keys(r.errors).length).map((r) => `${r.id}: errors ${JSON.stringify(r.errors)}`);
  for (const n of [...notes, ...errs]) lines.push(`- ${n}`);
  return lines.join('\n');
}

export function writeJson(dir: string, name: string, report: BenchReport): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}
