// The dispatcher's pure pieces: reading a request off a transport, and turning a placeOrder frame
// into the order (or the refusal) it stands for.
import { placementOf } from '../../gateway/place-order';
import { claimedOrderId, readEnvelope, readWsFrame } from '../../gateway/read-request';

const valid = { orderId: 'o-1', item: 'Keyboard', price: 10, quantity: 2 };

describe('readWsFrame / readEnvelope', () => {
  test('a JSON text envelope is read as its event and data', () => {
    expect(readWsFrame(Buffer.from(JSON.stringify({ event: 'getOrder', data: { orderId: 'o' } })), false)).toEqual({
      event: 'getOrder',
      data: { orderId: 'o' },
    });
  });

  test('binary frames, bad JSON and bad envelopes become the error frame that answers them', () => {
    const code = (r: ReturnType<typeof readEnvelope>): unknown => ('error' in r ? r.error.data : r);
    expect(code(readWsFrame(Buffer.from('{}'), true))).toMatchObject({ code: 'BAD_FRAME' });
    expect(code(readWsFrame(Buffer.from('{nope'), false))).toMatchObject({ code: 'BAD_JSON' });
    expect(code(readEnvelope({ data: {} }))).toMatchObject({ code: 'BAD_FRAME' });
  });

  test('claimedOrderId reads a string orderId, cut to 64 characters, else null', () => {
    expect(claimedOrderId({ orderId: 'x'.repeat(80) })).toBe('x'.repeat(64));
    expect(claimedOrderId({ orderId: 7 })).toBeNull();
    expect(claimedOrderId(null)).toBeNull();
  });
});

describe('placementOf', () => {
  test('a valid order is taken as it is; without an id it gets a UUID', () => {
    expect(placementOf(valid, undefined)).toEqual({ order: valid });
    const { orderId, ...anonymous } = valid;
    const placed = placementOf(anonymous, undefined);
    expect('order' in placed && placed.order.orderId).toMatch(/^[0-9a-f-]{36}$/);
    expect(orderId).toBe('o-1');
  });

  test("JWT mode: the token's customer id is stamped on the order; any customerId in the frame, even the caller's own, is refused CUSTOMER_ID_NOT_ALLOWED", () => {
    expect(placementOf(valid, 'alice')).toEqual({ order: { ...valid, customerId: 'alice', idScope: 'customer' } });
    for (const claimed of ['alice', 'mallory']) {
      const refused = placementOf({ ...valid, customerId: claimed }, 'alice');
      expect('error' in refused && refused.error.data).toMatchObject({
        code: 'CUSTOMER_ID_NOT_ALLOWED',
        orderId: 'o-1',
        field: 'customerId',
      });
    }
  });

  test('none and shared-token modes: a client-sent customerId is recorded as unverified:<id>, never as a bare id a token could claim', () => {
    expect(placementOf({ ...valid, customerId: 'c-7' }, undefined)).toEqual({
      order: { ...valid, customerId: 'unverified:c-7' },
    });
    expect(placementOf(valid, undefined)).toEqual({ order: valid });
    // The prefix must fit in a customer id: 117 characters are the most a client may send.
    expect('order' in placementOf({ ...valid, customerId: 'c'.repeat(117) }, undefined)).toBe(true);
    const tooLong = placementOf({ ...valid, customerId: 'c'.repeat(118) }, undefined);
    expect('error' in tooLong && tooLong.error.data).toMatchObject({ code: 'INVALID_ORDER', field: 'customerId' });
  });

  test('an invalid order is refused naming the field and the order it claims', () => {
    const refused = placementOf({ ...valid, price: -1 }, undefined);
    expect('error' in refused && refused.error.data).toMatchObject({
      code: 'INVALID_ORDER',
      orderId: 'o-1',
      field: 'price',
    });
  });
});
