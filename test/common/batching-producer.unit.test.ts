/**
 * The batching producer's promise to its callers: "resolved" means Kafka acknowledged the request
 * that carried the caller's messages. The kafkajs producer underneath is replaced by a stand-in
 * whose every `sendBatch` waits until the test acknowledges or fails it, so the order of events is
 * chosen by the test and nothing depends on timing.
 */
import type { Kafka, Message, Producer, ProducerBatch } from 'kafkajs';
import { BatchingProducer } from '../../common/batching-producer';

interface Request {
  producer: number;
  batch: ProducerBatch;
  ack: () => void;
  fail: (err: Error) => void;
}

/** A Kafka whose producers record each request and leave it open until the test settles it. */
function standInKafka() {
  const requests: Request[] = [];
  const disconnected: number[] = [];
  let made = 0;
  const kafka = {
    producer: () => {
      const id = ++made;
      return {
        connect: async () => undefined,
        disconnect: async () => void disconnected.push(id),
        sendBatch: (batch: ProducerBatch) =>
          new Promise((resolve, reject) => {
            requests.push({ producer: id, batch, ack: () => resolve([]), fail: reject });
          }),
      } as unknown as Producer;
    },
  } as unknown as Kafka;
  return { kafka, requests, disconnected, producersMade: () => made };
}

/** The settled state of a caller's promise, read without waiting for it. */
function track(p: Promise<void>) {
  const state: { settled: 'no' | 'resolved' | 'rejected'; error?: unknown } = { settled: 'no' };
  p.then(
    () => (state.settled = 'resolved'),
    (err: unknown) => {
      state.settled = 'rejected';
      state.error = err;
    },
  );
  return state;
}

/** Lets every promise callback that is ready run (the producer chains a few). */
const settle = () => new Promise((r) => setImmediate(r));

const msg = (value: string): Message[] => [{ key: value, value }];
const valuesOf = (r: Request) => r.batch.topicMessages?.flatMap((t) => t.messages.map((m) => String(m.value))) ?? [];

describe('BatchingProducer', () => {
  test('no caller is answered before the request carrying its message is acknowledged', async () => {
    const { kafka, requests } = standInKafka();
    const producer = new BatchingProducer(kafka);
    const a = track(producer.send('t', msg('a')));
    await settle();
    const b = track(producer.send('t', msg('b')));
    const c = track(producer.send('t', msg('c')));
    await settle();

    expect(requests).toHaveLength(1);
    expect(valuesOf(requests[0])).toEqual(['a']);
    expect([a.settled, b.settled, c.settled]).toEqual(['no', 'no', 'no']);

    requests[0].ack();
    await settle();
    expect(a.settled).toBe('resolved');
    // b and c went out together once a was stored, and wait for their own acknowledgement.
    expect(requests).toHaveLength(2);
    expect(valuesOf(requests[1])).toEqual(['b', 'c']);
    expect([b.settled, c.settled]).toEqual(['no', 'no']);

    requests[1].ack();
    await settle();
    expect([b.settled, c.settled]).toEqual(['resolved', 'resolved']);
  });

  test('a failed request rejects every caller in its batch, and the next batch goes out on a fresh producer', async () => {
    const { kafka, requests, disconnected, producersMade } = standInKafka();
    const producer = new BatchingProducer(kafka);
    const a = track(producer.send('t', msg('a')));
    await settle();
    const b = track(producer.send('t', msg('b')));
    const c = track(producer.send('t', msg('c')));
    requests[0].ack();
    await settle();

    requests[1].fail(new Error('broker went away'));
    await settle();
    expect(a.settled).toBe('resolved');
    expect([b.settled, c.settled]).toEqual(['rejected', 'rejected']);
    expect((b.error as Error).message).toBe('broker went away');

    const d = track(producer.send('t', msg('d')));
    await settle();
    expect(producersMade()).toBe(2);
    expect(disconnected).toEqual([1]);
    expect(requests[2].producer).toBe(2);
    expect(valuesOf(requests[2])).toEqual(['d']);
    requests[2].ack();
    await settle();
    expect(d.settled).toBe('resolved');
  });

  test('a batch over its time limit rejects its callers, a late acknowledgement answers nobody, and the next batch uses a fresh producer', async () => {
    const { kafka, requests, producersMade } = standInKafka();
    const producer = new BatchingProducer(kafka, { batchTimeoutMs: 30 });
    const a = track(producer.send('t', msg('a')));
    await new Promise((r) => setTimeout(r, 80));
    expect(a.settled).toBe('rejected');
    expect(String(a.error)).toMatch(/did not store the batch within 30 ms/);

    const b = track(producer.send('t', msg('b')));
    await settle();
    requests[0].ack(); // the stuck request finishes after all
    await settle();
    expect(a.settled).toBe('rejected');
    expect(b.settled).toBe('no');
    expect(producersMade()).toBe(2);
    expect(requests[1].producer).toBe(2);
    expect(valuesOf(requests[1])).toEqual(['b']);
  });

  test('a caller that gives up while queued is answered with its abort and its message is never sent', async () => {
    const { kafka, requests } = standInKafka();
    const producer = new BatchingProducer(kafka);
    const a = track(producer.send('t', msg('a')));
    await settle();
    const giveUp = new AbortController();
    const b = track(producer.send('t', msg('b'), giveUp.signal));
    const c = track(producer.send('t', msg('c')));
    giveUp.abort(new Error('client timed out'));
    await settle();
    expect(b.settled).toBe('rejected');
    expect(String(b.error)).toMatch(/client timed out/);

    requests[0].ack();
    await settle();
    expect(a.settled).toBe('resolved');
    expect(requests.flatMap(valuesOf)).toEqual(['a', 'c']);
    requests[1].ack();
    await settle();
    expect(c.settled).toBe('resolved');
    expect(b.settled).toBe('rejected');
  });
});
