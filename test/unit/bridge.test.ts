// The bridge's reading of an order-placement message: an order, or the reason it goes to the DLQ.
import type { KafkaMessage } from 'kafkajs';
import { MAX_EVENT_BYTES, parseOrderEvent } from '../../bridge/bridge';

const message = (value: Buffer | null): KafkaMessage => ({
  key: null,
  value,
  timestamp: '0',
  attributes: 0,
  offset: '0',
  headers: {},
});
const json = (v: unknown): KafkaMessage => message(Buffer.from(JSON.stringify(v)));
const order = { orderId: '#101', item: 'Mechanical Keyboard', price: 150 };

describe('parseOrderEvent', () => {
  test('an ORDER_PLACED event in the seed shape is an order, quantity defaulting to 1', () => {
    expect(parseOrderEvent(json({ type: 'ORDER_PLACED', payload: { order, timestamp: 1 } }))).toEqual({
      ok: true,
      order: { ...order, quantity: 1 },
    });
  });

  test('an empty message is not an order', () => {
    expect(parseOrderEvent(message(null))).toEqual({ ok: false, reason: 'empty message' });
    // A zero-length value (not a tombstone) is read as text, and is not JSON.
    expect(parseOrderEvent(message(Buffer.alloc(0)))).toEqual({ ok: false, reason: 'not JSON' });
  });

  test('the size limit: exactly MAX_EVENT_BYTES is read, one byte more is refused unread', () => {
    expect(MAX_EVENT_BYTES).toBe(256 * 1024);
    const text = JSON.stringify({ type: 'ORDER_PLACED', payload: { order } });
    const atLimit = Buffer.from(text.padEnd(MAX_EVENT_BYTES, ' '));
    expect(atLimit.length).toBe(MAX_EVENT_BYTES);
    expect(parseOrderEvent(message(atLimit)).ok).toBe(true);
    const over = Buffer.from(text.padEnd(MAX_EVENT_BYTES + 1, ' '));
    expect(parseOrderEvent(message(over))).toEqual({
      ok: false,
      reason: `oversized: ${MAX_EVENT_BYTES + 1} bytes > ${MAX_EVENT_BYTES}`,
    });
  });

  test('text that is not JSON is refused as such', () => {
    expect(parseOrderEvent(message(Buffer.from('this is not json')))).toEqual({ ok: false, reason: 'not JSON' });
  });

  test('JSON that is not an order names the first bad field', () => {
    expect(parseOrderEvent(json({ type: 'ORDER_PLACED', payload: { order: { ...order, price: -5 } } }))).toEqual({
      ok: false,
      reason: 'schema: payload.order.price: must be greater than 0',
    });
    expect(parseOrderEvent(json({ type: 'SOMETHING_ELSE', payload: { order } }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^schema: type: /),
    });
  });
});
