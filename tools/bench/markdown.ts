/** The Markdown the bench prints: results, resources, per-order cost, history, amendments, ratios, targets. */
import { amendMarkdown } from './amend-report';
import { costComparisonMarkdown, costMarkdown, historyMarkdown } from './cost';
import { enginesMarkdown } from './engines';
import { fanoutMarkdown } from './fanout-step';
import { orderHistoryMarkdown } from './history-run';
import type { BenchReport } from './report';
import type { Percentiles } from './stats';

const pct = (p: Percentiles | null | undefined, keys: Array<keyof Percentiles>): string =>
  p ? keys.map((k) => (p[k] >= 100 ? Math.round(p[k]) : p[k])).join(' / ') : '–';

const PROCS = ['gateway', 'bridge', 'worker', 'kafka', 'temporal', 'postgres', 'bench'];

export function markdown(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`### Order pipeline benchmark, ${report.startedAt}`);
  lines.push('');
  lines.push(
    `Machine: **${m.cores} cores** (${m.cpuModel}), ${m.totalMemGb} GB RAM, ${m.platform}, Node ${m.node}; load average at start ${m.loadAvgAtStart.join(' / ')}` +
      `${m.loadAvgAtEnd ? `, at end ${m.loadAvgAtEnd.join(' / ')}` : ''}. ` +
      `Git ${report.git.commit}${report.git.modified.length ? ` with ${report.git.modified.length} uncommitted file(s)` : ''}.`,
  );
  lines.push(`Command: \`${report.command}\``);
  lines.push('');
  if (report.results.length) {
    lines.push(
      '| configuration | server | load | done / sent | throughput (steady) | ack p50 / p95 / p99 / max (ms) | accepted→start p50 / p95 / p99 (ms) | end-to-end p50 / p95 / p99 (ms) | load avg start → end |',
    );
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of report.results) {
      const steady = r.steadyThroughput === undefined ? '' : ` (${r.steadyThroughput})`;
      const la = r.loadAvg ? `${r.loadAvg.start[0]} → ${r.loadAvg.end[0]}` : '–';
      lines.push(
        `| ${r.label} | ${r.temporalSettings ?? '–'} | ${r.load} | ${r.completed} / ${r.orders} | **${r.throughput}**${steady} ${r.throughputUnit} | ${pct(r.ackMs, ['p50', 'p95', 'p99', 'max'])} | ${pct(
          r.acceptToStartMs,
          ['p50', 'p95', 'p99'],
        )} | ${pct(r.e2eMs, ['p50', 'p95', 'p99'])} | ${la} |`,
      );
    }
    lines.push('');
    lines.push(
      '"ack": placeOrder→orderAccepted (pipeline), send→ack (raw Kafka), start request→response (Temporal ceilings, fire-and-forget). ' +
        'Throughput: completed per second from the first send to the last close; "steady": between the 10th and 90th percentile close. ' +
        'Load average: the 1-minute figure when the configuration started and ended.',
    );
    lines.push('');
    const loops = report.results.filter((r) => r.gatewayLoopDelayMs);
    if (loops.length) {
      lines.push(
        'Gateway event-loop delay while the orders were placed (perf_hooks.monitorEventLoopDelay, preloaded by the bench):',
      );
      lines.push('');
      lines.push('| configuration | p50 | p90 | p99 | max | mean (ms) |');
      lines.push('| --- | --- | --- | --- | --- | --- |');
      for (const r of loops) {
        const l = r.gatewayLoopDelayMs;
        if (l) lines.push(`| ${r.id} | ${l.p50} | ${l.p90} | ${l.p99} | ${l.max} | ${l.mean} |`);
      }
      lines.push('');
    }
    lines.push(
      'Resources per configuration: CPU seconds · mean CPU % (100 = one core) · peak RSS MB; "machine" is the busy share of all cores and the CPU seconds no measured process used; "wall": the whole configuration, start-up and clean-up included.',
    );
    lines.push('');
    lines.push(`| configuration | ${PROCS.join(' | ')} | machine | wall |`);
    lines.push(`| --- | ${PROCS.map(() => '---').join(' | ')} | --- | --- |`);
    for (const r of report.results) {
      const u = r.usage;
      const cells = PROCS.map((p) => {
        const x = u?.procs[p];
        return x ? `${x.cpuSeconds} s · ${Math.round(x.meanCpuPct)}% · ${Math.round(x.peakRssMb)} MB` : '–';
      });
      const machine = u ? `${Math.round(u.machine.busyPct)}% busy, other ${u.machine.otherCpuSeconds} s` : '–';
      lines.push(`| ${r.id} | ${cells.join(' | ')} | ${machine} | ${r.wallSeconds ?? '–'} s |`);
    }
    lines.push('');
    lines.push(...costMarkdown(report.costs));
    lines.push(...enginesMarkdown(report.results, report.costs));
    if (report.baseline) lines.push(...costComparisonMarkdown(report.baseline, report.costs));
    lines.push(...historyMarkdown(report.results));
    lines.push(...amendMarkdown(report.results, report.costs));
  }
  const ratios = report.ratios.filter((r) => r.value !== null);
  if (ratios.length) {
    lines.push('| ratio | value |');
    lines.push('| --- | --- |');
    for (const r of ratios) lines.push(`| ${r.name} | ${r.value} |`);
    lines.push('');
  }
  if (report.idle) {
    const i = report.idle;
    lines.push('| idle connections | opened | gateway says | baseline RSS | peak RSS | per connection | open time |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    lines.push(
      `| ${i.connections} | ${i.opened} (${i.failed} failed) | ${i.gatewayReportedConnections ?? '–'} | ${i.baselineRssMb} MB | **${i.peakRssMb} MB** | ${i.perConnectionKb} KB | ${i.openSeconds} s |`,
    );
    lines.push('');
  }
  lines.push(...orderHistoryMarkdown(report.history, report.costs));
  lines.push(...fanoutMarkdown(report.fanout));
  if (report.targets.length) {
    lines.push('| target | goal | measured | met |');
    lines.push('| --- | --- | --- | --- |');
    for (const t of report.targets)
      lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === null ? '–' : t.met ? 'yes' : '**no**'} |`);
    lines.push('');
  }
  const notes = [...report.notes, ...report.results.flatMap((r) => r.notes.map((n) => `${r.id}: ${n}`))];
  const errs = report.results
    .filter((r) => Object.keys(r.errors).length)
    .map((r) => `${r.id}: errors ${JSON.stringify(r.errors)}`);
  for (const n of [...notes, ...errs]) lines.push(`- ${n}`);
  return lines.join('\n');
}
