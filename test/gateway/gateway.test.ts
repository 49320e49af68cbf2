// The gateway against real Kafka: what it accepts, what it refuses (and that refusals write nothing),
// and that it never claims acceptance when Kafka did not store the order.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../common/config';
import { kafkaReady } from '../../common/health';
import { OrderProducer } from '../../gateway/order-producer';
import { Gateway, startGateway } from '../../gateway/server';
import { TestClient } from '../helpers/ws-client';

const config = loadConfig();
const kafka = new Kafka({ clientId: 'test-gateway', brokers: config.kafkaBrokers, logLevel: logLevel.ERROR });
const topic = `order-placement-gw-${crypto.randomUUID().slice(0, 8)}`;
let admin: Admin;
let producer: OrderProducer;
let gateway: Gateway;
let client: TestClient;

async function messagesInTopic(): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

async function readTopic(count: number): Promise<Array<{ key: string | null; value: Record<string, unknown> }>> {
  const consumer = kafka.consumer({ groupId: `gw-reader-${crypto.randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: Array<{ key: string | null; value: Record<string, unknown> }> = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        out.push({ key: message.key?.toString() ?? null, value: JSON.parse(message.value!.toString()) });
        if (out.length === count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return out;
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
  producer = new OrderProducer(kafka, 5_000, topic);
  await producer.connect();
  gateway = await startGateway({ port: 0, producer, kafkaHealthy: () => kafkaReady(config.kafkaBrokers), log: () => undefined, rateLimit: { burst: 1000, perSecond: 1000 } });
  client = await TestClient.connect(`ws://127.0.0.1:${gateway.port}`);
});

afterAll(async () => {
  await client?.close();
  await gateway?.close();
  await producer?.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

test('a valid order is stored in Kafka, keyed by orderId, in the seed event shape, before it is accepted', async () => {
  const before = await messagesInTopic();
  const answer = await client.placeOrder({ orderId: 'gw-1', item: 'Mechanical Keyboard', price: 150, customerId: 'c-7' });
  expect(answer).toEqual({ event: 'orderAccepted', data: { orderId: 'gw-1', workflowId: 'order-gw-1' } });
  // Accepted means stored: the message is there the moment the answer arrives.
  expect(await messagesInTopic()).toBe(before + 1);
  const [msg] = (await readTopic(before + 1)).filter((m) => m.key === 'gw-1');
  expect(msg.value).toEqual({
    type: 'ORDER_PLACED',
    payload: { order: { orderId: 'gw-1', item: 'Mechanical Keyboard', price: 150, quantity: 1, customerId: 'c-7' }, timestamp: expect.any(Number) },
    eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    schemaVersion: 1,
  });
});

test('an order without orderId gets a UUID, returned in the acceptance', async () => {
  const answer = await client.placeOrder({ item: 'Mouse', price: 20 });
  expect(answer.event).toBe('orderAccepted');
  expect(answer.data.orderId).toMatch(/^[0-9a-f-]{36}$/);
  expect(answer.data.workflowId).toBe(`order-${answer.data.orderId}`);
});

describe('bad frames get an error naming the problem, write nothing, and keep the connection open', () => {
  const cases: Array<[string, unknown, string, string | undefined]> = [
    ['not JSON', '{"event": "placeOrder", "data": {', 'BAD_JSON', undefined],
    ['not an envelope', [1, 2, 3], 'BAD_FRAME', undefined],
    ['extra envelope field', { event: 'placeOrder', data: {}, extra: { deep: { deeper: 1 } } }, 'BAD_FRAME', undefined],
    ['unknown event', { event: 'launchRocket', data: {} }, 'UNKNOWN_EVENT', undefined],
    ['missing item', { event: 'placeOrder', data: { orderId: 'b1', price: 10 } }, 'INVALID_ORDER', 'item'],
    ['price is a string', { event: 'placeOrder', data: { orderId: 'b2', item: 'x', price: '10' } }, 'INVALID_ORDER', 'price'],
    ['negative price', { event: 'placeOrder', data: { orderId: 'b3', item: 'x', price: -1 } }, 'INVALID_ORDER', 'price'],
    ['absurd price', { event: 'placeOrder', data: { orderId: 'b4', item: 'x', price: 1e300 } }, 'INVALID_ORDER', 'price'],
    ['fractional quantity', { event: 'placeOrder', data: { orderId: 'b5', item: 'x', price: 1, quantity: 1.5 } }, 'INVALID_ORDER', 'quantity'],
    ['over-long item', { event: 'placeOrder', data: { orderId: 'b6', item: 'x'.repeat(201), price: 1 } }, 'INVALID_ORDER', 'item'],
    ['nested object as item', { event: 'placeOrder', data: { orderId: 'b7', item: { name: 'x' }, price: 1 } }, 'INVALID_ORDER', 'item'],
    ['unknown order field', { event: 'placeOrder', data: { orderId: 'b8', item: 'x', price: 1, discount: 99 } }, 'INVALID_ORDER', undefined],
    ['__proto__ key', '{"event":"placeOrder","data":{"orderId":"b9","item":"x","price":1,"__proto__":{"admin":true}}}', 'INVALID_ORDER', undefined],
    ['orderId with spaces', { event: 'placeOrder', data: { orderId: 'has space', item: 'x', price: 1 } }, 'INVALID_ORDER', 'orderId'],
  ];

  test.each(cases)('%s', async (_name, frame, code, field) => {
    const before = await messagesInTopic();
    const start = client.received.length;
    client.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    const answer = await client.waitFor((f) => client.received.indexOf(f) >= start);
    expect(answer.event).toBe('error');
    expect(answer.data.code).toBe(code);
    expect(typeof answer.data.message).toBe('string');
    if (field) expect(answer.data.field).toBe(field);
    expect(await messagesInTopic()).toBe(before);
    expect(client.closed).toBeUndefined();
  });
});

test('a frame above maxPayload closes the connection with 1009', async () => {
  const c = await TestClient.connect(`ws://127.0.0.1:${gateway.port}`);
  const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
  c.send(JSON.stringify({ event: 'placeOrder', data: { item: 'x'.repeat(70 * 1024), price: 1 } }));
  expect(await closed).toBe(1009);
});

test('GET /healthz reports Kafka as up', async () => {
  const body = await new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    http.get(`http://127.0.0.1:${gateway.port}/healthz`, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) }));
    }).on('error', reject);
  });
  expect(body.status).toBe(200);
  expect(body.json).toMatchObject({ status: 'ok', kafka: 'up' });
});

test('when Kafka cannot store the order the client gets KAFKA_UNAVAILABLE, never an acceptance', async () => {
  // A gateway whose Kafka address refuses connections (the broker-restart case is in the chaos suite).
  const deadKafka = new Kafka({ clientId: 'dead', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING, connectionTimeout: 200, retry: { retries: 1, initialRetryTime: 50 } });
  const deadProducer = new OrderProducer(deadKafka, 2_000, topic);
  const gw = await startGateway({ port: 0, producer: deadProducer, kafkaHealthy: () => kafkaReady(['127.0.0.1:1']), log: () => undefined });
  const c = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
  try {
    const answer = await c.placeOrder({ orderId: 'no-kafka-1', item: 'x', price: 1 });
    expect(answer.event).toBe('error');
    expect(answer.data).toMatchObject({ code: 'KAFKA_UNAVAILABLE', orderId: 'no-kafka-1' });
    expect(c.received.some((f) => f.event === 'orderAccepted')).toBe(false);
  } finally {
    await c.close();
    await gw.close();
  }
});
