// Kafka is real: the production group is moved past the bench's own orders (a JWT customer's too) and never past anyone else's.
import { Consumer, Kafka, Producer } from 'kafkajs';
import { OrderProducer } from '../../gateway/order-producer';
import { makeOrders } from '../../tools/bench/context';
import { eventMessage } from '../../tools/bench/kafka-util';
import { advanceGroupPastOwnOrders } from '../../tools/bench/leftover-orders';
import { createTopic, deleteTopics, testKafka, withAdmin } from '../helpers/kafka';
import { uniqueId } from '../helpers/wait';

const kafka: Kafka = testKafka('test-bench-leftovers');
const prefix = `${uniqueId('bench')}-`;
const benchOrders = (config: string, n: number) => makeOrders(`${prefix}${config}-`, n);
const devOrder = (orderId: string) => ({ orderId, item: 'Dev widget', price: 12, quantity: 1 });

/** The group's committed offset per partition (-1: none). */
async function committed(groupId: string, topic: string): Promise<Record<number, number>> {
  const [offsets] = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return Object.fromEntries(offsets.partitions.map((p) => [p.partition, Number(p.offset)]));
}

describe('bench leftovers for the production consumer group', () => {
  let topic: string;
  let groupId: string;
  let producer: Producer;
  const consumers: Consumer[] = [];

  beforeEach(async () => {
    groupId = uniqueId('test-leftovers-group');
    producer = kafka.producer();
    await producer.connect();
  });

  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.disconnect();
    await producer.disconnect();
    await deleteTopics(kafka, [topic]);
  });

  test('the group advances over the bench orders up to the first foreign order, not past it', async () => {
    topic = await createTopic(kafka, 'test-leftovers', 1);
    // Written by the gateway's own producer, so the bench's orders are recognised as the gateway writes them.
    const gateway = new OrderProducer(kafka, 10_000, topic);
    await gateway.connect();
    try {
      const place = async (orders: Array<ReturnType<typeof devOrder>>) => {
        for (const o of orders) await gateway.publish(o);
      };
      await place([devOrder('dev-1'), devOrder('dev-2')]); // offsets 0-1: consumed by the group already
      await place(benchOrders('pipe-full-d0-postgres', 3)); // 2-4
      await place([devOrder('dev-3')]); // 5: placed by someone else while the bench ran
      await place(benchOrders('tracing-on', 2)); // 6-7
      // Another bench run's order is as foreign as a dev order.
      await place([devOrder(`${uniqueId('bench')}-pipe-full-d0-postgres-0`)]); // 8
    } finally {
      await gateway.disconnect();
    }
    await withAdmin(kafka, (admin) =>
      admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] }),
    );

    const advance = await advanceGroupPastOwnOrders(kafka, { groupId, topic, orderIdPrefix: prefix });

    expect(advance).toEqual({
      activeMembers: 0,
      advanced: [{ partition: 0, from: 2, to: 5 }],
      stopped: [{ partition: 0, offset: 5, left: 4 }],
      problem: undefined,
    });
    expect(await committed(groupId, topic)).toEqual({ 0: 5 });
    // Already at a foreign order: a second pass moves nothing.
    await advanceGroupPastOwnOrders(kafka, { groupId, topic, orderIdPrefix: prefix });
    expect(await committed(groupId, topic)).toEqual({ 0: 5 });
  });

  test("a JWT customer's bench orders, keyed by their scoped workflow id, are the bench's too", async () => {
    topic = await createTopic(kafka, 'test-leftovers', 1);
    // As the gateway writes an order of a token's customer (gateway/place-order.ts): customer id scope.
    const scoped = (o: ReturnType<typeof devOrder>) => ({
      ...o,
      customerId: 'bench-lister',
      idScope: 'customer' as const,
    });
    const gateway = new OrderProducer(kafka, 10_000, topic);
    await gateway.connect();
    try {
      for (const o of benchOrders('history-listed', 3)) await gateway.publish(scoped(o)); // 0-2
      await gateway.publish(scoped(devOrder('dev-1'))); // 3: the same customer's order, not the bench's
      await gateway.publish(scoped(benchOrders('history-listed', 5)[4])); // 4
    } finally {
      await gateway.disconnect();
    }

    const advance = await advanceGroupPastOwnOrders(kafka, { groupId, topic, orderIdPrefix: prefix });

    expect(advance.advanced).toEqual([{ partition: 0, from: 0, to: 3 }]);
    expect(advance.stopped).toEqual([{ partition: 0, offset: 3, left: 2 }]);
    expect(await committed(groupId, topic)).toEqual({ 0: 3 });
  });

  test('a partition of only bench orders advances to its end; one without an offset that starts foreign keeps none', async () => {
    topic = await createTopic(kafka, 'test-leftovers', 3);
    const own = benchOrders('pipe-full-d0-postgres', 7);
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...own.slice(0, 4).map((o) => ({ ...eventMessage(o), partition: 0 })), // committed at 1: 1-3 are left
        ...own.slice(4).map((o) => ({ ...eventMessage(o), partition: 1 })), // no offset: read from the earliest
        { ...eventMessage(devOrder('dev-1')), partition: 2 }, // no offset, a dev order first
        { ...eventMessage(own[0]), partition: 2 },
      ],
    });
    await withAdmin(kafka, (admin) =>
      admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] }),
    );

    const advance = await advanceGroupPastOwnOrders(kafka, { groupId, topic, orderIdPrefix: prefix });

    expect(advance.advanced).toEqual([
      { partition: 0, from: 1, to: 4 },
      { partition: 1, from: 0, to: 3 },
    ]);
    expect(advance.stopped).toEqual([{ partition: 2, offset: 0, left: 2 }]);
    expect(await committed(groupId, topic)).toEqual({ 0: 4, 1: 3, 2: -1 });
  });

  test('a message keyed like a bench order that is not an ORDER_PLACED event stops the advance', async () => {
    topic = await createTopic(kafka, 'test-leftovers', 1);
    const [a, b, c] = benchOrders('pipe-full-d0-postgres', 3);
    await producer.send({
      topic,
      acks: -1,
      messages: [
        eventMessage(a),
        { key: b.orderId, value: JSON.stringify({ note: 'not an order event' }) },
        eventMessage(c),
      ],
    });

    const advance = await advanceGroupPastOwnOrders(kafka, { groupId, topic, orderIdPrefix: prefix });

    expect(advance.stopped).toEqual([{ partition: 0, offset: 1, left: 2 }]);
    expect(await committed(groupId, topic)).toEqual({ 0: 1 });
  });

  test('a group with an active member (a running bridge) is left alone', async () => {
    topic = await createTopic(kafka, 'test-leftovers', 2);
    await producer.send({
      topic,
      acks: -1,
      messages: benchOrders('tracing-on', 4).map((o, i) => ({ ...eventMessage(o), partition: i % 2 })),
    });
    // A member that reads without committing, so any offset change could only come from the advance.
    const bridge = kafka.consumer({ groupId });
    consumers.push(bridge);
    await bridge.connect();
    await bridge.subscribe({ topic, fromBeginning: true });
    const joined = new Promise<void>((resolve) => bridge.on(bridge.events.GROUP_JOIN, () => resolve()));
    await bridge.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;

    const advance = await advanceGroupPastOwnOrders(kafka, { groupId, topic, orderIdPrefix: prefix });

    expect(advance).toEqual({ activeMembers: 1, advanced: [], stopped: [] });
    expect(await committed(groupId, topic)).toEqual({ 0: -1, 1: -1 });
  });
});
