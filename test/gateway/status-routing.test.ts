// Partition routing on real Kafka and Temporal (docs/SCALING.md, GATEWAY_STATUS_PARTITION): two gateways on
// one pipeline, B with home partition 1 (the stack's gateway), A with home partition 0 (its own feed and
// routing, wired as gateway/main.ts does). A fetches nothing of the orders placed through B while none
// of its clients follows one; once a client of A subscribes to such an order, A fetches B's partition
// and the client gets every status to the end; after that A pauses the partition again.
import { OrderLookup } from '../../gateway/order-lookup';
import { OrderProducer } from '../../gateway/order-producer';
import { Gateway, startGateway } from '../../gateway/server';
import { StatusFeed } from '../../gateway/status-feed';
import { checkStatusPartition, keyPartition, StatusRouting } from '../../gateway/status-routing';
import { holdOrderAt, startStack, Stack } from '../helpers/in-process-pipeline';
import { HAPPY_PATH } from '../helpers/statuses';
import { uniqueId, waitUntil } from '../helpers/wait';
import { Frame, TestClient } from '../helpers/ws-client';

const HOME_A = 0;
const HOME_B = 1;
const PARTITIONS = 3; // the stack's status topic

let stack: Stack;
let gatewayA: Gateway;
let feedA: StatusFeed;
let routingA: StatusRouting;
let producerA: OrderProducer;
const clients: TestClient[] = [];

beforeAll(async () => {
  // Gateway B: the stack's gateway (its feed reads every partition); its orders carry partition 1.
  stack = await startStack({
    stepDelayMs: 300,
    gateway: { routing: { home: HOME_B, follow: () => undefined, unfollow: () => undefined } },
  });
  producerA = new OrderProducer(stack.kafka, 5_000, stack.topic);
  await producerA.connect();
  const orders = new OrderLookup(stack.client);
  feedA = new StatusFeed(stack.kafka, { topic: stack.statusTopic, log: () => undefined, partitions: [HOME_A] });
  routingA = new StatusRouting({
    home: HOME_A,
    partitionCount: PARTITIONS,
    fetcher: feedA,
    lookup: (orderId) => orders.routed(orderId),
  });
  gatewayA = await startGateway({
    port: 0,
    producer: producerA,
    orders,
    routing: routingA,
    log: () => undefined,
  });
  await feedA.start(gatewayA);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await gatewayA?.close();
  await feedA?.stop();
  await producerA?.disconnect();
  await stack?.stop();
});

async function connect(url: string): Promise<TestClient> {
  const c = await TestClient.connect(url);
  clients.push(c);
  return c;
}

const statusesOf = (c: TestClient, orderId: string): string[] =>
  c.received.filter((f) => f.event === 'orderStatus' && f.data.orderId === orderId).map((f) => String(f.data.status));
const completed = (c: TestClient, orderId: string): Promise<Frame> =>
  c.waitFor((f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'COMPLETED', 60_000);

/** An order id whose key hashes to A's home partition: without routing its events would land where A reads. */
function idOnPartition(prefix: string, partition: number): string {
  for (;;) {
    const id = uniqueId(prefix);
    if (keyPartition(id, PARTITIONS) === partition) return id;
  }
}

describe('partition routing (two gateways, home partitions 0 and 1)', () => {
  test('a home partition that is not one of the topic’s partitions is refused with a clear error', async () => {
    await expect(checkStatusPartition(stack.kafka, stack.statusTopic, PARTITIONS)).rejects.toThrow(
      `GATEWAY_STATUS_PARTITION=${PARTITIONS}: topic ${stack.statusTopic} has ${PARTITIONS} partition(s), so it must be 0 to ${PARTITIONS - 1}`,
    );
    await expect(checkStatusPartition(stack.kafka, stack.statusTopic, PARTITIONS - 1)).resolves.toBe(PARTITIONS);
  });

  test('gateway A fetches no event of an order placed through B that none of its clients follows', async () => {
    const placer = await connect(stack.url);
    const orderId = idOnPartition('rt-unfollowed', HOME_A);
    expect((await placer.placeOrder({ orderId, item: 'Lamp', price: 20 })).event).toBe('orderAccepted');
    await completed(placer, orderId);
    expect(statusesOf(placer, orderId)).toEqual(HAPPY_PATH);
    // B's client saw all of it; A fetched none of it (not even to drop it by key).
    expect(feedA.stats.read).toBe(0);
    expect(routingA.extraPartitions()).toEqual([]);
  });

  test('once a client of A follows an order placed through B, A fetches B’s partition until the order ends', async () => {
    const placer = await connect(stack.url);
    const orderId = idOnPartition('rt-followed', HOME_A);
    const held = holdOrderAt(stack, 'charge', orderId);
    expect((await placer.placeOrder({ orderId, item: 'Desk', price: 90 })).event).toBe('orderAccepted');
    await placer.waitFor(
      (f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'CHARGING',
    );

    const follower = await connect(`ws://127.0.0.1:${gatewayA.port}`);
    follower.send({ event: 'subscribeOrder', data: { orderId } });
    // The catch-up (status query) brings it to CHARGING; A starts fetching B's partition.
    await follower.waitFor(
      (f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'CHARGING',
    );
    await waitUntil(() => routingA.extraPartitions().includes(HOME_B) || undefined, {
      what: 'gateway A to fetch partition 1',
    });
    held.open();
    // Everything after CHARGING reaches A's client only through the partition A now fetches.
    await completed(follower, orderId);
    expect(statusesOf(follower, orderId)).toEqual(HAPPY_PATH);
    expect(feedA.stats.read).toBeGreaterThan(0);
    // The order ended, its last follower at A is gone: partition 1 is paused again.
    expect(routingA.extraPartitions()).toEqual([]);

    const readBefore = feedA.stats.read;
    const later = idOnPartition('rt-after', HOME_A);
    expect((await placer.placeOrder({ orderId: later, item: 'Chair', price: 40 })).event).toBe('orderAccepted');
    await completed(placer, later);
    expect(feedA.stats.read).toBe(readBefore);
  });
});
