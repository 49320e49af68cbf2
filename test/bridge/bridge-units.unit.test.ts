// The bridge's pure pieces: the DLQ record, the commit offset and lag after a chunk, the backoff.
import type { KafkaMessage } from 'kafkajs';
import { dlqRecord } from '../../bridge/dead-letter';
import { commitOffsetAfter, lagAfter } from '../../bridge/partition-batch';
import { attemptDelay, nextWait } from '../../bridge/start-retry';

describe('dlqRecord', () => {
  const message = {
    key: Buffer.from('o1'),
    value: Buffer.from('{bad'),
    offset: '41',
    headers: { traceparent: 'tp' },
  } as unknown as KafkaMessage;

  test('keeps key, value and headers, and adds reason, origin and time', () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    const record = dlqRecord(message, 'not JSON', { topic: 'order-placement', partition: 3 }, at);
    expect(record.key).toBe(message.key);
    expect(record.value).toBe(message.value);
    expect(record.headers).toEqual({
      traceparent: 'tp',
      'dlq-reason': 'not JSON',
      'dlq-original-topic': 'order-placement',
      'dlq-original-partition': '3',
      'dlq-original-offset': '41',
      'dlq-at': '2026-01-02T03:04:05.000Z',
    });
  });
});

describe('offsets after a chunk', () => {
  test('the committed offset is the one after the last message done (beyond 2^53 too)', () => {
    expect(commitOffsetAfter('0')).toBe('1');
    expect(commitOffsetAfter('9007199254740993')).toBe('9007199254740994');
  });

  test('lag is what is left up to the high watermark, never negative', () => {
    expect(lagAfter('10', '4')).toBe(5);
    expect(lagAfter('10', '9')).toBe(0);
    expect(lagAfter('3', '9')).toBe(0);
  });
});

describe('backoff', () => {
  const backoff = { initialMs: 200, maxMs: 1_000 };

  test('the wait doubles up to the cap', () => {
    expect(nextWait(200, backoff)).toBe(400);
    expect(nextWait(800, backoff)).toBe(1_000);
    expect(nextWait(1_000, backoff)).toBe(1_000);
  });

  test('the n-th attempt waits initialMs·2^(n-1), capped', () => {
    expect([1, 2, 3, 4].map((n) => attemptDelay(n, backoff))).toEqual([200, 400, 800, 1_000]);
  });
});
