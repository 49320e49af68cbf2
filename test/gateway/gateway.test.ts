// The gateway against real Kafka: what it accepts, what it refuses (and that refusals write nothing),
// and that it never claims acceptance when Kafka did not store the order.
import { Kafka, logLevel } from 'kafkajs';
import type { Order } from '../../common/order';
import { OrderProducer } from '../../gateway/order-producer';
import { Gateway, GatewayOptions, startGateway } from '../../gateway/server';
import { createTopic, deleteTopics, messagesIn, readAll, testKafka } from '../helpers/kafka';
import { gate, uniqueId, within } from '../helpers/wait';
import { Frame, TestClient } from '../helpers/ws-client';

const kafka = testKafka('test-gateway');
const topics: string[] = [];
const gateways: Gateway[] = [];
const producers: OrderProducer[] = [];
const clients: TestClient[] = [];

/** A gateway writing to a fresh topic of its own (so counts are never disturbed by another test). */
async function freshGateway(
  opts: Partial<GatewayOptions> = {},
  wrap?: (p: OrderProducer) => GatewayOptions['producer'],
) {
  const topic = await createTopic(kafka, 'order-placement-gw', 3);
  topics.push(topic);
  const producer = new OrderProducer(kafka, 5_000, topic);
  producers.push(producer);
  await producer.connect();
  const gateway = await startGateway({
    port: 0,
    producer: wrap ? wrap(producer) : producer,
    log: () => undefined,
    ...opts,
    limits: { rateLimit: { burst: 1000, perSecond: 1000 }, ...opts.limits },
  });
  gateways.push(gateway);
  const client = await TestClient.connect(`ws://127.0.0.1:${gateway.port}`);
  clients.push(client);
  return { topic, producer, gateway, client };
}

/** A round trip on the same connection: every frame the gateway sent before answering this one has arrived. */
async function roundTrip(client: TestClient): Promise<void> {
  const start = client.received.length;
  client.send({ event: 'roundTrip', data: {} });
  await client.waitFor((f) => client.received.indexOf(f) >= start && f.data.code === 'UNKNOWN_EVENT');
}

let shared: Awaited<ReturnType<typeof freshGateway>>;

beforeAll(async () => {
  shared = await freshGateway();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const g of gateways) await g.close();
  await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
  await deleteTopics(kafka, topics);
});

describe('gateway placeOrder', () => {
  test('a valid order is stored in Kafka, keyed by orderId, in the seed event shape, before it is accepted', async () => {
    // Kafka's acknowledgement is held back: until it comes, the client must hear nothing about the order.
    const held = gate();
    const { topic, client } = await freshGateway({}, (p) => ({
      publish: async (order: Order) => {
        await held.wait();
        return p.publish(order);
      },
    }));
    client.send({
      event: 'placeOrder',
      data: { orderId: 'gw-1', item: 'Mechanical Keyboard', price: 150, customerId: 'c-7' },
    });
    await held.reached;
    await roundTrip(client);
    expect(client.received.filter((f) => f.data.orderId === 'gw-1')).toEqual([]);
    expect(await messagesIn(kafka, topic)).toBe(0);

    held.open();
    const answer = await client.waitFor((f) => f.data.orderId === 'gw-1');
    expect(answer).toEqual({ event: 'orderAccepted', data: { orderId: 'gw-1', workflowId: 'order-gw-1' } });
    // Accepted means stored: the message is there the moment the answer arrives.
    expect(await messagesIn(kafka, topic)).toBe(1);
    const [msg] = await readAll(kafka, topic);
    expect(msg.key).toBe('gw-1');
    expect(JSON.parse(msg.value!)).toEqual({
      type: 'ORDER_PLACED',
      payload: {
        // No auth here: the customer id the client named is recorded as unverified, so no token can claim it later.
        order: {
          orderId: 'gw-1',
          item: 'Mechanical Keyboard',
          price: 150,
          quantity: 1,
          customerId: 'unverified:c-7',
        },
        timestamp: expect.any(Number),
      },
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      schemaVersion: 1,
    });
  });

  test('an order without orderId gets a UUID, returned in the acceptance', async () => {
    const answer = await shared.client.placeOrder({ item: 'Mouse', price: 20 });
    expect(answer.event).toBe('orderAccepted');
    expect(answer.data.orderId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.data.workflowId).toBe(`order-${answer.data.orderId}`);
  });
});

describe('bad frames get an error naming the problem, write nothing, and keep the connection open', () => {
  const cases: Array<[string, unknown, string, string | undefined]> = [
    ['not JSON', '{"event": "placeOrder", "data": {', 'BAD_JSON', undefined],
    ['not an envelope', [1, 2, 3], 'BAD_FRAME', undefined],
    ['extra envelope field', { event: 'placeOrder', data: {}, extra: { deep: { deeper: 1 } } }, 'BAD_FRAME', undefined],
    ['unknown event', { event: 'launchRocket', data: {} }, 'UNKNOWN_EVENT', undefined],
    ['missing item', { event: 'placeOrder', data: { orderId: 'b1', price: 10 } }, 'INVALID_ORDER', 'item'],
    [
      'price is a string',
      { event: 'placeOrder', data: { orderId: 'b2', item: 'x', price: '10' } },
      'INVALID_ORDER',
      'price',
    ],
    [
      'negative price',
      { event: 'placeOrder', data: { orderId: 'b3', item: 'x', price: -1 } },
      'INVALID_ORDER',
      'price',
    ],
    [
      'absurd price',
      { event: 'placeOrder', data: { orderId: 'b4', item: 'x', price: 1e300 } },
      'INVALID_ORDER',
      'price',
    ],
    [
      'fractional quantity',
      { event: 'placeOrder', data: { orderId: 'b5', item: 'x', price: 1, quantity: 1.5 } },
      'INVALID_ORDER',
      'quantity',
    ],
    [
      'over-long item',
      { event: 'placeOrder', data: { orderId: 'b6', item: 'x'.repeat(201), price: 1 } },
      'INVALID_ORDER',
      'item',
    ],
    [
      'nested object as item',
      { event: 'placeOrder', data: { orderId: 'b7', item: { name: 'x' }, price: 1 } },
      'INVALID_ORDER',
      'item',
    ],
    [
      'unknown order field',
      { event: 'placeOrder', data: { orderId: 'b8', item: 'x', price: 1, discount: 99 } },
      'INVALID_ORDER',
      undefined,
    ],
    [
      '__proto__ key',
      '{"event":"placeOrder","data":{"orderId":"b9","item":"x","price":1,"__proto__":{"admin":true}}}',
      'INVALID_ORDER',
      undefined,
    ],
    [
      'orderId with spaces',
      { event: 'placeOrder', data: { orderId: 'has space', item: 'x', price: 1 } },
      'INVALID_ORDER',
      'orderId',
    ],
  ];

  test.each(cases)('%s', async (_name, frame, code, field) => {
    const { client, topic } = shared;
    const before = await messagesIn(kafka, topic);
    const start = client.received.length;
    client.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    const answer = await client.waitFor((f) => client.received.indexOf(f) >= start);
    expect(answer.event).toBe('error');
    expect(answer.data.code).toBe(code);
    expect(typeof answer.data.message).toBe('string');
    if (field) expect(answer.data.field).toBe(field);
    expect(await messagesIn(kafka, topic)).toBe(before);
    expect(client.closed).toBeUndefined();
  });
});

describe('gateway limits and health', () => {
  test('a frame above maxPayload closes the connection with 1009', async () => {
    const c = await TestClient.connect(`ws://127.0.0.1:${shared.gateway.port}`);
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    c.send(JSON.stringify({ event: 'placeOrder', data: { item: 'x'.repeat(70 * 1024), price: 1 } }));
    expect(await within(closed, 30_000, 'the close')).toBe(1009);
  });
});

describe('gateway when Kafka cannot store the order', () => {
  test('when Kafka cannot store the order the client gets KAFKA_UNAVAILABLE, never an acceptance', async () => {
    // A gateway whose Kafka address refuses connections (the broker-restart case is in the chaos suite).
    const deadKafka = new Kafka({
      clientId: 'dead',
      brokers: ['127.0.0.1:1'],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 200,
      retry: { retries: 1, initialRetryTime: 50 },
    });
    const deadProducer = new OrderProducer(deadKafka, 2_000, 'unused');
    const gw = await startGateway({
      port: 0,
      producer: deadProducer,
      log: () => undefined,
    });
    gateways.push(gw);
    const c = await TestClient.connect(`ws://127.0.0.1:${gw.port}`);
    clients.push(c);
    const answer = await c.placeOrder({ orderId: 'no-kafka-1', item: 'x', price: 1 });
    expect(answer.event).toBe('error');
    expect(answer.data).toMatchObject({ code: 'KAFKA_UNAVAILABLE', orderId: 'no-kafka-1' });
    expect(c.received.some((f: Frame) => f.event === 'orderAccepted')).toBe(false);
    // The placement followed its order while it waited for Kafka; refused, it follows nothing.
    expect(gw.subscriptionCount()).toBe(0);
  });

  test('a refused placement leaves no subscription behind, while an accepted one on the same connection keeps its own', async () => {
    let failNext = false;
    const { gateway, client } = await freshGateway({}, (p) => ({
      publish: async (order: Order) => {
        if (failNext) throw new Error('broker not reachable (test)');
        return p.publish(order);
      },
    }));
    const kept = uniqueId('kept');
    expect((await client.placeOrder({ orderId: kept, item: 'x', price: 1 })).event).toBe('orderAccepted');
    expect(gateway.subscriptionCount()).toBe(1);
    failNext = true;
    const refused = await client.placeOrder({ orderId: uniqueId('refused'), item: 'x', price: 1 });
    expect(refused.data.code).toBe('KAFKA_UNAVAILABLE');
    expect(gateway.subscriptionCount()).toBe(1);
    // A failed resend of an order the connection already follows does not drop that subscription.
    expect((await client.placeOrder({ orderId: kept, item: 'x', price: 1 })).data.code).toBe('KAFKA_UNAVAILABLE');
    expect(gateway.subscriptionCount()).toBe(1);
    gateway.deliverStatus({ orderId: kept, status: 'ACCEPTED', seq: 1, at: 1 });
    await client.waitFor((f) => f.event === 'orderStatus' && f.data.orderId === kept);
  });
});

describe('gateway shutdown', () => {
  test('close() answers the order in flight with its acceptance, refuses later ones SHUTTING_DOWN (writing nothing), then closes with 1001', async () => {
    const held = gate();
    const first = uniqueId('in-flight');
    const later = uniqueId('too-late');
    const { topic, gateway, client } = await freshGateway({}, (p) => ({
      publish: async (order: Order) => {
        if (order.orderId === first) await held.wait();
        return p.publish(order);
      },
    }));
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    client.send({ event: 'placeOrder', data: { orderId: first, item: 'Mouse', price: 10 } });
    await held.reached;
    const closing = gateway.close();
    client.send({ event: 'placeOrder', data: { orderId: later, item: 'Mouse', price: 10 } });
    const refusal = await client.waitFor((f) => f.data.orderId === later);
    expect(refusal).toMatchObject({ event: 'error', data: { code: 'SHUTTING_DOWN', orderId: later } });
    held.open();
    expect((await client.waitFor((f) => f.data.orderId === first)).event).toBe('orderAccepted');
    expect(await closed).toBe(1001);
    await closing;
    expect((await readAll(kafka, topic)).map((m) => m.key)).toEqual([first]);
  });
});
