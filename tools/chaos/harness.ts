/**
 * Runs one crash-matrix scenario (see ./scenarios): starts what it needs (./fleet), places a stream of
 * orders (./client), strikes partway, waits for every acknowledged order to finish and checks the
 * outcome (./audit). This is the chaos harness's public module: `npm run chaos` (./run) and the jest
 * crash matrix use it.
 */
import * as crypto from 'node:crypto';
import { workflowIdFor } from '../../common/order';
import type { AppProcess } from '../infra/app-process';
import { sleep } from '../infra/proc';
import { ordersInKafka, passed, ScenarioResult, verify } from './audit';
import { listRuns, type RunInfo } from './runs';
import { OrderRecord, OrderSpec, placeOrders } from './resending-clients';
import { Fleet } from './fleet';
import { DEFS } from './scenarios';
import { secs, third, type Ctx, type KafkaCtx, type ScenarioName, type ScenarioOptions } from './scenario-kit';

export { passed } from './audit';
export type { ScenarioResult } from './audit';
export { Fleet } from './fleet';
export { formatTable } from './report';
export { ALL_SCENARIOS, COMBINED_SCENARIOS, DEFAULT_OPTIONS, SCENARIOS } from './scenario-kit';
export type { ScenarioName, ScenarioOptions } from './scenario-kit';

function orderSpecs(prefix: string, n: number): OrderSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const orderId = `${prefix}-${String(i).padStart(5, '0')}`;
    // One order in ten is unshippable: charged, refused by the carrier, refunded (the saga path).
    return i % 10 === 9
      ? { orderId, item: 'Unshippable piano', price: 40, quantity: 1, expect: 'REFUNDED' as const }
      : { orderId, item: 'USB cable', price: 9.5, quantity: 2, expect: 'COMPLETED' as const };
  });
}

export async function runScenario(fleet: Fleet, name: ScenarioName, options: ScenarioOptions): Promise<ScenarioResult> {
  const stack = fleet.stack;
  const def = DEFS[name];
  const opts = { ...options, rate: def.rate ?? options.rate };
  const started = Date.now();
  const tag = crypto.randomBytes(3).toString('hex');
  const prefix = `${name.replace(/[^a-z]/g, '').slice(0, 8)}${tag}`;
  const ledgerFile = fleet.ledgerFile;
  const log = opts.log;
  const notes: string[] = [];
  const failures: string[] = [];
  const stepDelayMs = def.stepDelayMs ?? opts.stepDelayMs;
  const killedOnPurpose = new Set<AppProcess>();

  let records: OrderRecord[] = [];
  let ackedCount = 0;
  const t0 = Date.now();
  const { gateway, gateways, bridges, worker, workers } = await fleet.ensure({
    bridges: def.bridges,
    gateways: def.gateways,
    workers: def.workers,
    stepDelayMs,
    latencyMs: def.latencyMs ?? 0,
  });
  const procs = [...gateways, ...bridges, ...workers];
  log(
    `[${name}] ${procs.map((p) => `${p.name} pid ${p.pid}`).join(', ')} ready in ${secs(Date.now() - t0)}; placing ${opts.orders} orders (prefix ${prefix})`,
  );
  const ctx: Ctx = {
    stack,
    opts,
    prefix,
    gateway,
    gateways,
    bridges,
    worker,
    workers,
    acked: () => ackedCount,
    notes,
    failures,
    killedOnPurpose,
    portOf: (p) => fleet.portOf(p),
    healthPortOf: (p) => fleet.healthPortOf(p),
    ledgerFile,
  };
  // With several gateways, order i goes through gateway i mod G (connections and rate split evenly).
  const specs = orderSpecs(prefix, opts.orders);
  const deadline = Date.now() + opts.placementTimeoutMs;
  const placing = Promise.all(
    gateways.map((g, gi) =>
      placeOrders(
        specs.filter((_, i) => i % gateways.length === gi),
        {
          url: `ws://127.0.0.1:${fleet.portOf(g)}`,
          connections: Math.max(1, Math.round(opts.connections / gateways.length)),
          rate: opts.rate / gateways.length,
          deadline,
          onAccepted: () => void (ackedCount += 1),
        },
      ),
    ),
  ).then((placed) => ({ records: placed.flatMap((p) => p.records) }));
  let placingDoneAt: number | undefined;
  void placing.then(
    () => (placingDoneAt = Date.now()),
    () => (placingDoneAt = Date.now()),
  );

  // Strike partway: when the trigger says so (it may wait for runs to reach a step after placing
  // is over), or, failing that within 30 s of the last acknowledgement, anyway (noted).
  const trigger = def.trigger ?? third;
  const triggerDeadline = Date.now() + opts.placementTimeoutMs;
  let fired = false;
  while (Date.now() < triggerDeadline && (placingDoneAt === undefined || Date.now() - placingDoneAt < 30_000)) {
    if (await trigger(ctx)) {
      fired = true;
      break;
    }
    await sleep(200);
  }
  if (!fired) {
    notes.push('trigger condition never met; struck late');
    failures.push('the strike did not happen at the intended moment (trigger condition never met)');
  }
  const strikeAt = Date.now();
  await def.strike(ctx);
  log(`[${name}] strike done in ${secs(Date.now() - strikeAt)}: ${notes.join('; ')}`);

  records = (await placing).records;
  const acknowledged = records.filter((r) => r.acceptedAt !== undefined);
  const resent = records.filter((r) => r.attempts.length > 1);
  const errorCodes = new Map<string, number>();
  for (const r of records)
    for (const a of r.attempts)
      if (a.outcome !== 'accepted') errorCodes.set(a.code ?? a.outcome, (errorCodes.get(a.code ?? a.outcome) ?? 0) + 1);
  log(
    `[${name}] placed ${records.length}, acknowledged ${acknowledged.length}; ${resent.length} resent (${[...errorCodes].map(([k, v]) => `${k} x${v}`).join(', ') || 'no errors'})`,
  );
  if (resent.length)
    notes.push(`${resent.length} orders resent (${[...errorCodes].map(([k, v]) => `${k} x${v}`).join(', ')})`);
  for (const r of records) if (r.gaveUp) failures.push(`order ${r.spec.orderId} never acknowledged: ${r.gaveUp}`);

  // Wait (bounded) until every acknowledged order's run is closed.
  const want = new Set(acknowledged.map((r) => workflowIdFor({ orderId: r.spec.orderId })));
  const waitStart = Date.now();
  let runs: RunInfo[] = [];
  let lastLog = Date.now();
  for (;;) {
    try {
      runs = await listRuns(stack, prefix);
    } catch {
      // Temporal may still be coming back
    }
    const closed = new Set(runs.filter((r) => r.status !== 'RUNNING').map((r) => r.workflowId));
    const open = [...want].filter((id) => !closed.has(id));
    if (open.length === 0) break;
    if (Date.now() - waitStart > opts.completionTimeoutMs) {
      failures.push(
        `${open.length} acknowledged orders not finished within ${secs(opts.completionTimeoutMs)} (e.g. ${open.slice(0, 3).join(', ')})`,
      );
      break;
    }
    if (Date.now() - lastLog > 15_000) {
      log(`[${name}] waiting: ${open.length} of ${want.size} acknowledged orders not finished yet`);
      lastLog = Date.now();
    }
    await sleep(1_000);
  }
  notes.push(`all finished ${secs(Date.now() - waitStart)} after placing`);
  for (const p of procs) {
    if (!p.running() && !killedOnPurpose.has(p))
      failures.push(`${p.name} exited on its own (${JSON.stringify(p.exits.at(-1))}); last lines:\n${p.tail(8)}`);
  }
  // Let visibility settle, then take the final picture.
  await sleep(1_000);
  runs = await listRuns(stack, prefix);
  const result = verify(name, records, runs, await ordersInKafka(stack, prefix), ledgerFile, prefix, {
    notes,
    failures,
    started,
    killedAt: ctx.killedAt,
    outage: (ctx as KafkaCtx).outage,
  });
  if (!passed(result)) {
    log(`[${name}] failed: restarting every process so the next scenario starts clean`);
    await fleet.recycle();
  }
  return result;
}
