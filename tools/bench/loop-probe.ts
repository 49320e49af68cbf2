/**
 * Preloaded into the bench's gateway process (node --import) to measure its event-loop delay
 * with perf_hooks.monitorEventLoopDelay, without touching the gateway's code. On SIGUSR2 it writes
 * the histogram since the previous SIGUSR2 (or since start) to BENCH_LOOP_PROBE_FILE and resets,
 * so the bench can bracket a load phase with two signals.
 */
import * as fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelay {
  count: number;
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** Seconds the histogram covers. */
  seconds: number;
}

const file = process.env.BENCH_LOOP_PROBE_FILE;
if (file) {
  const resolutionMs = 10;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let since = Date.now();
  // The histogram holds the interval between two ticks of a 10 ms timer: the delay is the excess.
  const ms = (ns: number): number => Math.max(0, Math.round(ns / 1e4 - resolutionMs * 100) / 100);
  process.on('SIGUSR2', () => {
    const snapshot: LoopDelay = {
      count: histogram.count,
      p50: ms(histogram.percentile(50)),
      p90: ms(histogram.percentile(90)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      mean: ms(histogram.mean),
      seconds: (Date.now() - since) / 1000,
    };
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(snapshot));
    fs.renameSync(`${file}.tmp`, file);
    histogram.reset();
    since = Date.now();
  });
}
