// The bridge's reading of one Kafka message: an order, or the reason it goes to the DLQ.
import type { KafkaMessage } from 'kafkajs';
import { MAX_EVENT_BYTES, parseOrderEvent } from '../../bridge/parse-event';

function message(value: string | Buffer | null): KafkaMessage {
  return {
    key: null,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    timestamp: '0',
    attributes: 0,
    offset: '0',
    headers: {},
  } as KafkaMessage;
}

const ours = {
  type: 'ORDER_PLACED',
  payload: {
    order: { orderId: '#101', item: 'Mechanical Keyboard', price: 150, quantity: 2 },
    timestamp: 1764000000000,
  },
  eventId: 'e-1',
  schemaVersion: 1,
};

describe('parseOrderEvent', () => {
  test("reads the gateway's event", () => {
    expect(parseOrderEvent(message(JSON.stringify(ours)))).toEqual({
      ok: true,
      order: { orderId: '#101', item: 'Mechanical Keyboard', price: 150, quantity: 2 },
    });
  });

  test("reads the seed producer's event (no eventId, no schemaVersion, no quantity): quantity defaults to 1", () => {
    const seed = {
      type: 'ORDER_PLACED',
      payload: { order: { orderId: 's-1', item: 'Mouse', price: 25 }, timestamp: 1 },
    };
    expect(parseOrderEvent(message(JSON.stringify(seed)))).toEqual({
      ok: true,
      order: { orderId: 's-1', item: 'Mouse', price: 25, quantity: 1 },
    });
  });

  test("a JWT-mode event's idScope scopes the order to its customer; an event of the earlier shape with a customer stays global", () => {
    const order = { ...ours.payload.order, customerId: 'alice' };
    const scoped = { ...ours, payload: { ...ours.payload, order }, idScope: 'customer' };
    expect(parseOrderEvent(message(JSON.stringify(scoped)))).toEqual({
      ok: true,
      order: { ...order, idScope: 'customer' },
    });
    const earlier = { ...ours, payload: { ...ours.payload, order } };
    expect(parseOrderEvent(message(JSON.stringify(earlier)))).toEqual({ ok: true, order });
    // A scope without a customer names no customer: the order stays global.
    expect(parseOrderEvent(message(JSON.stringify({ ...ours, idScope: 'customer' })))).toEqual({
      ok: true,
      order: ours.payload.order,
    });
    // idScope inside the order is not the event's field: the order schema refuses it.
    const inside = { ...ours, payload: { ...ours.payload, order: { ...order, idScope: 'customer' } } };
    expect(parseOrderEvent(message(JSON.stringify(inside))).ok).toBe(false);
  });

  test('a message without a value (tombstone) is refused as empty', () => {
    expect(parseOrderEvent(message(null))).toEqual({ ok: false, reason: 'empty message' });
  });

  test('an empty value is refused (not JSON)', () => {
    expect(parseOrderEvent(message(''))).toEqual({ ok: false, reason: 'not JSON' });
  });

  test('text that is not JSON is refused', () => {
    expect(parseOrderEvent(message('this is not json'))).toEqual({ ok: false, reason: 'not JSON' });
  });

  test('an event above 256 KiB is refused before it is parsed, naming its size', () => {
    const big = JSON.stringify({ ...ours, pad: 'x'.repeat(MAX_EVENT_BYTES) });
    const parsed = parseOrderEvent(message(big));
    expect(parsed).toEqual({ ok: false, reason: `oversized: ${Buffer.byteLength(big)} bytes > ${MAX_EVENT_BYTES}` });
  });

  test('an event of exactly 256 KiB is still read', () => {
    const base = JSON.stringify({ ...ours, eventId: '' });
    const padded = JSON.stringify({ ...ours, eventId: '' }).replace(
      '"eventId":""',
      `"eventId":"","pad":"${'x'.repeat(MAX_EVENT_BYTES - base.length - 9)}"`,
    );
    expect(Buffer.byteLength(padded)).toBe(MAX_EVENT_BYTES);
    expect(parseOrderEvent(message(padded)).ok).toBe(true);
  });

  test('one byte over 256 KiB is refused unread', () => {
    const text = JSON.stringify(ours);
    expect(MAX_EVENT_BYTES).toBe(256 * 1024);
    expect(parseOrderEvent(message(Buffer.from(text.padEnd(MAX_EVENT_BYTES + 1, ' '))))).toEqual({
      ok: false,
      reason: `oversized: ${MAX_EVENT_BYTES + 1} bytes > ${MAX_EVENT_BYTES}`,
    });
  });

  test('an unknown schemaVersion is refused naming it, even when the rest would read as an order', () => {
    expect(parseOrderEvent(message(JSON.stringify({ ...ours, schemaVersion: 2 })))).toEqual({
      ok: false,
      reason: 'unknown schemaVersion 2 (this bridge reads 1)',
    });
    // A long version is cut to 40 characters in the reason (it goes into a DLQ header).
    const long = parseOrderEvent(message(JSON.stringify({ ...ours, schemaVersion: 'v'.repeat(500) })));
    expect(!long.ok && long.reason).toBe(`unknown schemaVersion "${'v'.repeat(39)} (this bridge reads 1)`);
    expect(parseOrderEvent(message(JSON.stringify({ ...ours, schemaVersion: '1' })))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^unknown schemaVersion "1"/),
    });
  });

  test('the schema error names the field and what is wrong with it', () => {
    const event = { ...ours, payload: { ...ours.payload, order: { ...ours.payload.order, price: -5 } } };
    expect(parseOrderEvent(message(JSON.stringify(event)))).toEqual({
      ok: false,
      reason: 'schema: payload.order.price: must be greater than 0',
    });
  });

  test('a wrong type is refused with the field that is wrong', () => {
    const parsed = parseOrderEvent(message(JSON.stringify({ ...ours, type: 'ORDER_SHIPPED' })));
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/^schema: type/) });
  });

  test.each([
    ['a negative price', 'payload.order.price', { price: -5 }],
    ['a missing orderId', 'payload.order.orderId', { orderId: undefined }],
    ['an orderId with spaces', 'payload.order.orderId', { orderId: 'has space' }],
    ['a fractional quantity', 'payload.order.quantity', { quantity: 1.5 }],
    ['an unknown order field', 'payload.order', { discount: 3 }],
  ])('%s is refused naming %s', (_name, field, change) => {
    const event = { ...ours, payload: { ...ours.payload, order: { ...ours.payload.order, ...change } } };
    const parsed = parseOrderEvent(message(JSON.stringify(event)));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(new RegExp(`^schema: ${field.replace(/\./g, '\\.')}`));
  });
  test('an event whose order is sealed is handed on to be opened, whole; one that mixes clear fields into a sealed order is refused', () => {
    const sealedOrder = {
      orderId: '#101',
      statusPartition: 1,
      sealed: { keyId: 'cust-0123456789abcdef.v1', data: 'AAAA' },
    };
    const sealed = { ...ours, payload: { ...ours.payload, order: sealedOrder }, idScope: 'customer' };
    expect(parseOrderEvent(message(JSON.stringify(sealed)))).toEqual({ ok: true, sealed });
    const mixed = { ...sealed, payload: { ...sealed.payload, order: { ...sealedOrder, item: 'Mouse' } } };
    expect(parseOrderEvent(message(JSON.stringify(mixed)))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^schema: payload\.order/),
    });
    const notBase64 = {
      ...sealed,
      payload: { ...sealed.payload, order: { ...sealedOrder, sealed: { keyId: 'k', data: 'not base64!' } } },
    };
    expect(parseOrderEvent(message(JSON.stringify(notBase64)))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^schema: payload\.order\.sealed\.data/),
    });
  });
});
