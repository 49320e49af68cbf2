// Partition routing's bookkeeping (gateway/status-routing.ts), without servers: which partitions the
// feed is told to fetch and release as orders are followed and dropped, the look-up retried until the
// order exists, the key's partition for orders placed without routing, and Subscriptions telling it
// when an order gains its first and loses its last subscriber. (The real feed on real Kafka:
// test/gateway/status-routing.test.ts.)
import { workflowIdFor } from '../../common/order';
import { Partitioners } from 'kafkajs';
import { keyPartition, RoutedOrder, StatusRouting } from '../../gateway/status-routing';
import { Subscriptions } from '../../gateway/subscriptions';
import { waitUntil } from '../helpers/wait';

function setup(lookup: (orderId: string) => Promise<RoutedOrder>) {
  const calls: string[] = [];
  const routing = new StatusRouting({
    home: 0,
    partitionCount: 4,
    fetcher: {
      fetchPartition: (p) => calls.push(`fetch ${p}`),
      releasePartition: (p) => calls.push(`release ${p}`),
    },
    lookup,
    retryMs: 5,
  });
  return { routing, calls };
}

describe('StatusRouting', () => {
  test('a partition is fetched from its first followed order on and released after its last; home never', async () => {
    const partitions: Record<string, number> = { a: 2, b: 2, c: 0, d: 3 };
    const { routing, calls } = setup(async (id) => ({ exists: true, statusPartition: partitions[id] }));
    for (const id of ['a', 'b', 'c', 'd']) routing.follow(id);
    await waitUntil(() => routing.extraPartitions().length === 2 || undefined, { what: 'look-ups' });
    expect(routing.extraPartitions()).toEqual([2, 3]);
    routing.follow('a'); // already followed: nothing changes
    routing.unfollow('a');
    routing.unfollow('c');
    expect(calls).toEqual(['fetch 2', 'fetch 3']);
    routing.unfollow('b');
    routing.unfollow('d');
    routing.unfollow('d'); // no longer followed: nothing changes
    expect(calls).toEqual(['fetch 2', 'fetch 3', 'release 2', 'release 3']);
    expect(routing.extraPartitions()).toEqual([]);
  });

  test('a known partition (an order placed here) needs no look-up', () => {
    const { routing, calls } = setup(async () => {
      throw new Error('no look-up expected');
    });
    routing.follow('mine', 0);
    routing.follow('theirs', 1);
    expect(calls).toEqual(['fetch 1']);
  });

  test('an order that does not exist yet (or a Temporal that does not answer) is looked up again until it does', async () => {
    let asked = 0;
    const { routing, calls } = setup(async () => {
      asked += 1;
      if (asked === 1) throw new Error('Temporal unavailable');
      return asked < 4 ? { exists: false } : { exists: true, statusPartition: 1 };
    });
    routing.follow('late');
    await waitUntil(() => calls.length > 0 || undefined, { what: 'the partition to be fetched' });
    expect(asked).toBe(4);
    expect(calls).toEqual(['fetch 1']);
  });

  test('an order unfollowed before its look-up answered fetches nothing', async () => {
    let answer: (r: RoutedOrder) => void = () => undefined;
    const { routing, calls } = setup(() => new Promise((r) => (answer = r)));
    routing.follow('gone');
    routing.unfollow('gone');
    answer({ exists: true, statusPartition: 2 });
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual([]);
  });

  test('an order placed without routing is followed on its key’s partition, as the producers’ partitioner picks it', async () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2, 3].map((partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    const ids = Array.from({ length: 40 }, (_, i) => `order-${i}`);
    for (const id of ids)
      expect(keyPartition(id, 4)).toBe(partitioner({ topic: 't', partitionMetadata, message: { key: id, value: '' } }));
    const id = ids.find((i) => keyPartition(i, 4) !== 0)!;
    const { routing, calls } = setup(async () => ({ exists: true }));
    // The gateway follows an order by its workflow id; its events are keyed by the order id (common/order kafkaKeyOf).
    routing.follow(workflowIdFor({ orderId: id }));
    await waitUntil(() => calls.length > 0 || undefined, { what: 'the partition to be fetched' });
    expect(calls).toEqual([`fetch ${keyPartition(id, 4)}`]);
  });
});

test('Subscriptions tell routing when an order gains its first subscriber and loses its last', () => {
  const told: string[] = [];
  const subs = new Subscriptions(async () => undefined, {
    onFollow: (orderId, partition) => told.push(`follow ${orderId} ${partition}`),
    onUnfollow: (orderId) => told.push(`unfollow ${orderId}`),
  });
  const one = { sendStatus: () => undefined };
  const two = { sendStatus: () => undefined };
  subs.subscribe(one, 'o1', 1, false, 2);
  subs.subscribe(two, 'o1', 1, false);
  subs.unsubscribe(one, 'o1');
  expect(told).toEqual(['follow o1 2']);
  subs.unsubscribeAll(two);
  expect(told).toEqual(['follow o1 2', 'unfollow o1']);
  subs.stop();
});
