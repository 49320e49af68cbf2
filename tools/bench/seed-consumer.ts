/**
 * The seed-style baseline: what a naive consumer does, one kafkajs eachMessage handler validating,
 * charging and shipping each order in-process with a sleep between steps, one message at a time.
 */
import * as path from 'node:path';
import { simulatedProviders } from '../../activities/simulated';
import type { Order } from '../../common/order';
import { BenchContext, onFreshTopic, PARTITIONS, serverTargets } from './context';
import { eventMessage } from './kafka-util';
import { Sampler } from './sampler';
import { percentiles, round } from './stats';
import type { ConfigResult } from './types';
import { sleep } from '../infra/proc';

export async function runSeedBaseline(
  ctx: BenchContext,
  id: string,
  orderCount: number,
  stepDelayMs: number,
  capMs: number,
): Promise<ConfigResult> {
  const providers = simulatedProviders({
    cardLimit: 5000,
    transientFailureRate: 0,
    latencyMs: 0,
    ledgerFile: path.join(ctx.logDir, `${id}-ledger.jsonl`),
  });
  const producedAt = new Map<string, number>();
  const done = new Map<string, number>();
  let failed = 0;
  let stopping = false;
  const delay = (ms: number): Promise<void> => (ms > 0 ? sleep(ms) : Promise.resolve());

  // What a naive consumer does: one message at a time, every step in-process, setTimeout between steps.
  return onFreshTopic(
    ctx,
    id,
    orderCount,
    { idempotent: true, maxInFlightRequests: 1 },
    async ({ topic, orders, producer }) => {
      const { progress } = ctx;
      const consumer = ctx.kafka.consumer({ groupId: topic });
      await consumer.connect();
      try {
        const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            if (stopping || !message.value) return;
            const order = (JSON.parse(message.value.toString()) as { payload: { order: Order } }).payload.order;
            const check = await providers.inventory.check(order);
            if (!check.ok) {
              failed += 1;
              return;
            }
            await delay(stepDelayMs);
            const charge = await providers.payment.charge({
              idempotencyKey: `seed-${order.orderId}:charge`,
              orderId: order.orderId,
              amount: Math.round(order.price * order.quantity * 100) / 100,
            });
            if (charge.status !== 'charged') {
              failed += 1;
              return;
            }
            await delay(stepDelayMs);
            await providers.shipping.ship({ idempotencyKey: `seed-${order.orderId}:ship`, order });
            done.set(order.orderId, Date.now());
            progress.update(done.size);
          },
        });
        await Promise.race([joined, sleep(30_000)]);

        const sampler = new Sampler(serverTargets(ctx), ctx.sampleMs);
        await sampler.start();
        progress.start(`${id}: processed`, orderCount, 'orders');
        const t0 = Date.now();
        for (let i = 0; i < orders.length; i += 500) {
          const chunk = orders.slice(i, i + 500);
          const at = Date.now();
          for (const o of chunk) producedAt.set(o.orderId, at);
          await producer.send({ topic, acks: -1, messages: chunk.map(eventMessage) });
        }
        const deadline = t0 + capMs;
        while (done.size + failed < orderCount && Date.now() < deadline) await sleep(100);
        stopping = true;
        progress.stop();
        const usage = await sampler.stop();
        const e2e: number[] = [];
        let last = t0;
        for (const [orderId, at] of done) {
          e2e.push(at - (producedAt.get(orderId) ?? t0));
          last = Math.max(last, at);
        }
        const capped = done.size + failed < orderCount;
        // First produce to the last order done: the consumer is sequential, so this is the time the done ones took
        // (when capped, the order in progress at the cap is left out of both). Nothing done: the whole window.
        const seconds = done.size ? Math.max(0.001, (last - t0) / 1000) : (Date.now() - t0) / 1000;
        const throughput = done.size / seconds;
        const notes: string[] = [];
        if (capped) {
          notes.push(
            `capped at ${capMs / 1000}s: ${done.size}/${orderCount} processed; at this rate all ${orderCount} would take ` +
              `${throughput > 0 ? Math.round(orderCount / throughput) : '∞'}s; latency covers only the processed ones`,
          );
        }
        const result: ConfigResult = {
          id,
          kind: 'seed',
          label: `seed-style consumer, delay ${stepDelayMs} ms`,
          stepDelayMs,
          load: `${orderCount} events on ${PARTITIONS} partitions`,
          orders: orderCount,
          completed: done.size,
          failed,
          errors: {},
          throughput: round(throughput, 3),
          throughputUnit: 'orders/s',
          seconds: round(seconds, 2),
          e2eMs: percentiles(e2e),
          usage,
          notes,
        };
        progress.log(
          `${id}: ${done.size}/${orderCount} processed, ${result.throughput} orders/s${capped ? ' (capped)' : ''}`,
        );
        return result;
      } finally {
        stopping = true;
        await consumer.disconnect().catch(() => undefined);
      }
    },
  );
}
