/**
 * The raw Kafka ceiling: kafkajs producing the gateway's ORDER_PLACED events to a fresh topic with
 * the gateway's producer settings, one message per send (gateway-shaped) or many per send.
 */
import { performance } from 'node:perf_hooks';
import { BenchContext, cpuLine, makeOrders, onFreshTopic, serverTargets } from './context';
import { eventMessage } from './kafka-util';
import { Sampler } from './sampler';
import { percentiles, pool, round } from './stats';
import type { ConfigResult } from './types';
import type { BenchOrder } from './ws-load';

/** batchSize 1 = exactly what the gateway does (one send per order, M at a time). */
export async function runRawKafka(
  ctx: BenchContext,
  id: string,
  orderCount: number,
  batchSize: number,
): Promise<ConfigResult> {
  // Same producer settings as gateway/order-producer.ts.
  const producerConfig = {
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  };
  return onFreshTopic(ctx, id, orderCount, producerConfig, async ({ topic, orders, producer }) => {
    const { progress } = ctx;
    // Warm-up (not measured): metadata, producer id and the first write to each partition.
    await producer.send({ topic, acks: -1, messages: makeOrders(`${ctx.runId}-${id}-warm-`, 12).map(eventMessage) });
    const batches: BenchOrder[][] = [];
    for (let i = 0; i < orders.length; i += batchSize) batches.push(orders.slice(i, i + batchSize));
    const sampler = new Sampler(serverTargets(ctx), ctx.sampleMs);
    await sampler.start();
    const ack: number[] = [];
    const errors: Record<string, number> = {};
    let acked = 0;
    progress.start(`${id}: acked`, orderCount, 'messages');
    const t0 = performance.now();
    await pool(batches.length, ctx.connections, Date.now() + ctx.drainTimeoutMs, async (b) => {
      const batch = batches[b];
      const p0 = performance.now();
      try {
        await producer.send({ topic, acks: -1, messages: batch.map(eventMessage) });
        const ms = performance.now() - p0;
        for (let k = 0; k < batch.length; k += 1) ack.push(ms);
        acked += batch.length;
        progress.update(acked);
      } catch (err) {
        const key = (err as Error).name || 'Error';
        errors[key] = (errors[key] ?? 0) + batch.length;
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    progress.stop();
    const usage = await sampler.stop();
    const result: ConfigResult = {
      id,
      kind: 'raw-kafka',
      label: batchSize === 1 ? 'raw Kafka ceiling, 1 msg/send (gateway-shaped)' : `raw Kafka, ${batchSize} msgs/send`,
      load: `${ctx.connections} concurrent sends`,
      orders: orderCount,
      completed: acked,
      failed: orderCount - acked,
      errors,
      throughput: round(acked / seconds),
      throughputUnit: 'msgs/s',
      seconds: round(seconds, 2),
      ackMs: percentiles(ack),
      usage,
      notes: [],
    };
    progress.log(
      `${id}: ${acked} messages in ${round(seconds, 2)}s = ${result.throughput} msgs/s; CPU ${cpuLine(usage)}`,
    );
    return result;
  });
}
