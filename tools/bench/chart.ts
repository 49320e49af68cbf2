/**
 * docs/bench.png: throughput (top) and latency percentiles (bottom) per configuration, drawn with
 * ECharts' server-side SVG renderer and rasterised with resvg.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as echarts from 'echarts';
import { Resvg } from '@resvg/resvg-js';
import type { BenchReport } from './report';
import type { Kind } from './types';

const COLORS: Record<Kind, string> = {
  pipeline: '#3b6fd4',
  'raw-temporal': '#2e9d6a',
  'bare-engine': '#7b52c4',
  'raw-kafka': '#e08a1e',
  seed: '#c0392b',
};

/** Log axes cannot show 0 or missing values. */
const positive = (x: number | undefined): number | null => (x !== undefined && x > 0 ? x : null);

export function renderChart(report: BenchReport, file: string, width = 1400, height = 900): void {
  const results = report.results;
  const names = results.map((r) => r.id);
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'DejaVu Sans, Liberation Sans, sans-serif' },
    title: [
      {
        text: `Order pipeline benchmark: ${report.machine.cores} cores, ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
        subtext: `throughput per configuration (steady rate at step delays > 0; log scale; blue pipeline, purple bare engine, green raw Temporal processOrder, orange raw Kafka msgs/s, red seed-style consumer)`,
        left: 'center',
        top: 8,
      },
      {
        text: 'latency percentiles (ms, log scale): end-to-end p50 / p95 / p99 and ack p99',
        left: 'center',
        top: height / 2 + 10,
        textStyle: { fontSize: 14 },
      },
    ],
    legend: { top: height / 2 + 36, data: ['e2e p50', 'e2e p95', 'e2e p99', 'ack p99'] },
    grid: [
      { left: 80, right: 40, top: 80, height: height / 2 - 150 },
      { left: 80, right: 40, top: height / 2 + 70, bottom: 90 },
    ],
    xAxis: [
      { type: 'category', gridIndex: 0, data: names, axisLabel: { interval: 0, rotate: 20, fontSize: 11 } },
      { type: 'category', gridIndex: 1, data: names, axisLabel: { interval: 0, rotate: 20, fontSize: 11 } },
    ],
    yAxis: [
      { type: 'log', gridIndex: 0, name: 'per second', logBase: 10 },
      { type: 'log', gridIndex: 1, name: 'ms', logBase: 10 },
    ],
    series: [
      {
        name: 'throughput',
        type: 'bar',
        xAxisIndex: 0,
        yAxisIndex: 0,
        data: results.map((r) => ({
          value: positive(r.stepDelayMs && r.steadyThroughput ? r.steadyThroughput : r.throughput),
          itemStyle: { color: COLORS[r.kind] },
        })),
        label: {
          show: true,
          position: 'top',
          fontSize: 11,
          formatter: (p: { value: unknown }) => (p.value === null ? '' : String(p.value)),
        },
      },
      ...(['p50', 'p95', 'p99'] as const).map((k, i) => ({
        name: `e2e ${k}`,
        type: 'bar',
        xAxisIndex: 1,
        yAxisIndex: 1,
        itemStyle: { color: ['#9ec5fe', '#4c8df6', '#1a4fa8'][i] },
        data: results.map((r) => positive(r.e2eMs?.[k])),
      })),
      {
        name: 'ack p99',
        type: 'scatter',
        xAxisIndex: 1,
        yAxisIndex: 1,
        symbolSize: 12,
        itemStyle: { color: '#e08a1e' },
        data: results.map((r) => positive(r.ackMs?.p99)),
      },
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  const png = new Resvg(svg, {
    background: '#ffffff',
    fitTo: { mode: 'width', value: width },
    font: { loadSystemFonts: true },
  })
    .render()
    .asPng();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, png);
}
