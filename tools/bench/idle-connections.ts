/**
 * Idle connections: many open, silent WebSocket connections against the bench's gateway, and the
 * gateway's RSS before and while they are held.
 */
import { performance } from 'node:perf_hooks';
import { BenchContext, startApps, stopApps } from './context';
import { httpGet } from '../infra/proc';
import { Sampler } from './sampler';
import { round } from './stats';
import type { IdleResult } from './types';
import { openConnections } from './ws-load';
import { sleep } from '../infra/proc';

export async function runIdleConnections(ctx: BenchContext, count: number, holdSeconds: number): Promise<IdleResult> {
  const { progress } = ctx;
  progress.log(`idle: starting the gateway, then opening ${count} idle WebSocket connections`);
  const apps = await startApps(ctx, 'idle', 0, ['gateway']);
  const gatewayPid = apps.gateway?.pid;
  const sockets: Awaited<ReturnType<typeof openConnections>> = [];
  let failed = 0;
  try {
    const sampler = new Sampler({ gateway: gatewayPid, bench: process.pid }, 250);
    await sleep(1_000);
    await sampler.start();
    const first = await sampler.stop();
    const baselineRssMb = first.procs.gateway?.peakRssMb ?? 0;
    const during = new Sampler({ gateway: gatewayPid, bench: process.pid }, 250);
    await during.start();
    progress.start('idle: connections open', count, 'conns');
    const t0 = performance.now();
    const url = `ws://127.0.0.1:${ctx.gatewayPort}`;
    const step = 100;
    for (let i = 0; i < count; i += step) {
      const n = Math.min(step, count - i);
      const opened = await Promise.allSettled(Array.from({ length: n }, () => openConnections(url, 1, 15_000)));
      for (const r of opened) {
        if (r.status === 'fulfilled') sockets.push(...r.value);
        else failed += 1;
      }
      progress.update(sockets.length);
    }
    const openSeconds = (performance.now() - t0) / 1000;
    progress.stop();
    progress.log(
      `idle: ${sockets.length} open (${failed} failed) in ${round(openSeconds, 1)}s; holding ${holdSeconds}s`,
    );
    await sleep(holdSeconds * 1000);
    const health = await httpGet(`http://127.0.0.1:${ctx.gatewayHealthPort}/healthz`);
    const usage = await during.stop();
    const peakRssMb = usage.procs.gateway?.peakRssMb ?? 0;
    let reported: number | undefined;
    try {
      reported = health ? (JSON.parse(health.body) as { connections?: number }).connections : undefined;
    } catch {
      reported = undefined;
    }
    return {
      connections: count,
      opened: sockets.length,
      failed,
      gatewayReportedConnections: reported,
      holdSeconds,
      baselineRssMb,
      peakRssMb,
      perConnectionKb: sockets.length ? round(((peakRssMb - baselineRssMb) * 1024) / sockets.length, 2) : 0,
      openSeconds: round(openSeconds, 2),
      usage,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await stopApps(apps);
  }
}
