// A draining gateway on real Kafka: once close() has begun, a new placement is refused with
// SHUTTING_DOWN and written nowhere, while the placement already in flight is stored and accepted.
// No race: the in-flight write is held at a gate until the refusal has been seen.
import * as crypto from 'node:crypto';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../common/config';
import { kafkaReady } from '../../common/health';
import type { Order } from '../../common/order';
import { OrderProducer } from '../../gateway/order-producer';
import { startGateway } from '../../gateway/server';
import { TestClient } from '../helpers/ws-client';

const config = loadConfig();
const kafka = new Kafka({ clientId: 'test-draining', brokers: config.kafkaBrokers, logLevel: logLevel.ERROR });
const topic = `order-placement-drain-${crypto.randomUUID().slice(0, 8)}`;
let admin: Admin;
let producer: OrderProducer;

async function messagesInTopic(): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
  producer = new OrderProducer(kafka, 5_000, topic);
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

test('while draining, a new placement gets SHUTTING_DOWN and is not written; the one in flight is stored and accepted', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const publishing: string[] = [];
  // The real producer, behind a gate: the first write stays in flight until the test opens it.
  const gated = {
    publish: async (order: Order) => {
      publishing.push(order.orderId);
      await gate;
      return producer.publish(order);
    },
  };
  const gw = await startGateway({
    port: 0,
    producer: gated,
    kafkaHealthy: () => kafkaReady(config.kafkaBrokers),
    log: () => undefined,
  });
  const client = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
  const closeCode = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));

  let closing: Promise<void> | undefined;
  try {
    client.send({ event: 'placeOrder', data: { orderId: 'drain-in-flight', item: 'Mouse', price: 10 } });
    const deadline = Date.now() + 10_000;
    while (publishing.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(publishing).toEqual(['drain-in-flight']);

    closing = gw.close();
    client.send({ event: 'placeOrder', data: { orderId: 'drain-late', item: 'Mouse', price: 10 } });
    const late = await client.waitFor((f) => f.data.orderId === 'drain-late');
    expect(late.event).toBe('error');
    expect(late.data.code).toBe('SHUTTING_DOWN');

    release();
    const inFlight = await client.waitFor((f) => f.data.orderId === 'drain-in-flight');
    expect(inFlight.event).toBe('orderAccepted');
    await closing;
    expect(await closeCode).toBe(1001);
    expect(publishing).toEqual(['drain-in-flight']);
    expect(await messagesInTopic()).toBe(1);
  } finally {
    // Whatever failed above: open the gate and finish the drain, so nothing is left running.
    release();
    await (closing ?? gw.close());
  }
});
