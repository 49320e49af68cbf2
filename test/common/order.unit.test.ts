// The order schema (what the gateway accepts), the Kafka event (what the bridge accepts) and helpers.
import {
  describeZodError,
  MAX_PRICE,
  MAX_QUANTITY,
  ORDER_PLACED,
  OrderPlacedEvent,
  orderPlacedEvent,
  PlaceOrderInput,
  SCHEMA_VERSION,
  globalWorkflowIdOf,
  isScopedWorkflowId,
  kafkaKeyOf,
  orderIdOfWorkflowId,
  orderOfEvent,
  workflowIdFor,
  workflowIdOfKafkaKey,
} from '../../common/order';

const valid = { orderId: 'o-1', item: 'Mechanical Keyboard', price: 150 };

/** The field and message of the first problem, or 'ok'. */
function verdict(input: unknown): string {
  const parsed = PlaceOrderInput.safeParse(input);
  if (parsed.success) return 'ok';
  return describeZodError(parsed.error).message;
}

test('a minimal order is accepted, the quantity defaults to 1 and the item is trimmed', () => {
  expect(PlaceOrderInput.parse({ ...valid, item: '  Keyboard  ' })).toEqual({
    orderId: 'o-1',
    item: 'Keyboard',
    price: 150,
    quantity: 1,
  });
  expect(PlaceOrderInput.parse({ item: 'x', price: 1, quantity: 3, customerId: 'c:7' })).toEqual({
    item: 'x',
    price: 1,
    quantity: 3,
    customerId: 'c:7',
  });
});

test.each([
  ['orderId of 64 characters', { ...valid, orderId: 'a'.repeat(64) }, 'ok'],
  ['orderId of 65 characters', { ...valid, orderId: 'a'.repeat(65) }, 'orderId: must be at most 64 characters'],
  ['empty orderId', { ...valid, orderId: '' }, 'orderId: must not be empty'],
  ['orderId with every allowed sign', { ...valid, orderId: 'Az09#_.:-' }, 'ok'],
  ['orderId with a space', { ...valid, orderId: 'a b' }, 'orderId: may contain only letters, digits and # _ . : -'],
  ['orderId with a slash', { ...valid, orderId: 'a/b' }, 'orderId: may contain only letters, digits and # _ . : -'],
  [
    'orderId with a newline after valid text',
    { ...valid, orderId: 'ab\n' },
    'orderId: may contain only letters, digits and # _ . : -',
  ],
  [
    'customerId with a space',
    { ...valid, customerId: 'bad id' },
    'customerId: may contain only visible ASCII characters',
  ],
  ['item of 200 characters', { ...valid, item: 'x'.repeat(200) }, 'ok'],
  ['item of 201 characters', { ...valid, item: 'x'.repeat(201) }, 'item: must be at most 200 characters'],
  ['item of spaces only', { ...valid, item: '   ' }, 'item: must not be empty'],
  ['missing item', { orderId: 'o', price: 1 }, 'item: Invalid input: expected string, received undefined'],
  [
    'item with a lone high surrogate',
    { ...valid, item: 'Key\ud800board' },
    'item: must be well-formed text (no lone surrogates)',
  ],
  [
    'item with a lone low surrogate',
    { ...valid, item: 'Key\udc00board' },
    'item: must be well-formed text (no lone surrogates)',
  ],
  [
    'item ending in a high surrogate',
    { ...valid, item: 'Key\ud800' },
    'item: must be well-formed text (no lone surrogates)',
  ],
  ['item with a surrogate pair (emoji)', { ...valid, item: 'Key \ud83d\ude00' }, 'ok'],
  [
    'item with an ANSI colour escape',
    { ...valid, item: 'Key\u001b[31mboard' },
    'item: must not contain control characters (line breaks, escapes, bidi overrides)',
  ],
  [
    'item with a line break inside',
    { ...valid, item: 'Key\nboard' },
    'item: must not contain control characters (line breaks, escapes, bidi overrides)',
  ],
  [
    'item with a NUL',
    { ...valid, item: 'Key\u0000' },
    'item: must not contain control characters (line breaks, escapes, bidi overrides)',
  ],
  [
    'item with DEL',
    { ...valid, item: 'Key\u007f' },
    'item: must not contain control characters (line breaks, escapes, bidi overrides)',
  ],
  [
    'item with a C1 control',
    { ...valid, item: 'Key\u009bboard' },
    'item: must not contain control characters (line breaks, escapes, bidi overrides)',
  ],
  [
    'item with a right-to-left override',
    { ...valid, item: 'Key\u202eboard' },
    'item: must not contain control characters (line breaks, escapes, bidi overrides)',
  ],
  ['item with accents and CJK', { ...valid, item: 'Clavier mécanique 键盘' }, 'ok'],
  ['price as a string', { ...valid, price: '10' }, 'price: must be a number'],
  ['price 0', { ...valid, price: 0 }, 'price: must be greater than 0'],
  ['negative price', { ...valid, price: -1 }, 'price: must be greater than 0'],
  ['smallest positive price', { ...valid, price: 0.01 }, 'ok'],
  ['price at the maximum', { ...valid, price: MAX_PRICE }, 'ok'],
  ['price above the maximum', { ...valid, price: MAX_PRICE + 0.01 }, `price: must be at most ${MAX_PRICE}`],
  // zod 4 refuses non-finite numbers as not numbers at all.
  ['infinite price', { ...valid, price: Infinity }, 'price: must be a number'],
  ['quantity 0', { ...valid, quantity: 0 }, 'quantity: must be at least 1'],
  ['fractional quantity', { ...valid, quantity: 1.5 }, 'quantity: must be a whole number'],
  ['quantity at the maximum', { ...valid, quantity: MAX_QUANTITY }, 'ok'],
  [
    'quantity above the maximum',
    { ...valid, quantity: MAX_QUANTITY + 1 },
    'quantity: Too big: expected number to be <=1000',
  ],
  ['unknown field', { ...valid, discount: 5 }, '(root): Unrecognized key: "discount"'],
])('%s', (_name, input, expected) => {
  expect(verdict(input)).toBe(expected);
});

test('MAX_PRICE and MAX_QUANTITY are the documented limits', () => {
  expect(MAX_PRICE).toBe(1_000_000);
  expect(MAX_QUANTITY).toBe(1_000);
});

test('describeZodError names nested fields with dots and falls back to (root)', () => {
  const nested = OrderPlacedEvent.safeParse({ type: ORDER_PLACED, payload: { order: { ...valid, price: -1 } } });
  expect(nested.success).toBe(false);
  if (!nested.success)
    expect(describeZodError(nested.error)).toEqual({
      field: 'payload.order.price',
      message: 'payload.order.price: must be greater than 0',
    });
  const root = PlaceOrderInput.safeParse('not an object');
  expect(root.success).toBe(false);
  if (!root.success) expect(describeZodError(root.error).field).toBe('(root)');
});

test('the Kafka event has the seed shape plus eventId and schemaVersion', () => {
  const order = { orderId: 'o-1', item: 'Keyboard', price: 150, quantity: 2 };
  expect(orderPlacedEvent(order, 'e-1', 1234)).toEqual({
    type: 'ORDER_PLACED',
    payload: { order, timestamp: 1234 },
    eventId: 'e-1',
    schemaVersion: 1,
  });
  expect(ORDER_PLACED).toBe('ORDER_PLACED');
  expect(SCHEMA_VERSION).toBe(1);
});

describe('OrderPlacedEvent (what the bridge accepts)', () => {
  const event = (overrides: Record<string, unknown> = {}, order: Record<string, unknown> = valid) => ({
    type: ORDER_PLACED,
    payload: { order, timestamp: 5 },
    ...overrides,
  });

  test("the seed's event (no eventId, schemaVersion or quantity) is an order of quantity 1", () => {
    const parsed = OrderPlacedEvent.parse(event());
    expect(parsed.payload.order).toEqual({ ...valid, quantity: 1 });
  });

  test.each([
    ['another type', event({ type: 'ORDER_CANCELLED' }), false],
    ['no orderId', event({}, { item: 'x', price: 1 }), false],
    ['an eventId of 100 characters', event({ eventId: 'e'.repeat(100) }), true],
    ['an eventId of 101 characters', event({ eventId: 'e'.repeat(101) }), false],
    ['schemaVersion 0', event({ schemaVersion: 0 }), false],
    ['schemaVersion 1.5', event({ schemaVersion: 1.5 }), false],
    [
      'schemaVersion 2 (a version this code does not read; the bridge dead-letters it with that reason)',
      event({ schemaVersion: 2 }),
      false,
    ],
    ['a negative timestamp', { type: ORDER_PLACED, payload: { order: valid, timestamp: -1 } }, false],
    ['a fractional timestamp', { type: ORDER_PLACED, payload: { order: valid, timestamp: 1.5 } }, false],
    ['timestamp 0', { type: ORDER_PLACED, payload: { order: valid, timestamp: 0 } }, true],
    ['no timestamp', { type: ORDER_PLACED, payload: { order: valid } }, true],
    ['statusPartition 0 (partition routing)', event({}, { ...valid, statusPartition: 0 }), true],
    ['statusPartition 7', event({}, { ...valid, statusPartition: 7 }), true],
    ['a negative statusPartition', event({}, { ...valid, statusPartition: -1 }), false],
    ['a fractional statusPartition', event({}, { ...valid, statusPartition: 1.5 }), false],
    ['a statusPartition that is not a number', event({}, { ...valid, statusPartition: '1' }), false],
  ])('%s', (_name, input, ok) => {
    expect(OrderPlacedEvent.safeParse(input).success).toBe(ok);
  });
});

test('the order keeps its statusPartition through the event; a client cannot set one in placeOrder', () => {
  const parsed = OrderPlacedEvent.parse({ type: ORDER_PLACED, payload: { order: { ...valid, statusPartition: 2 } } });
  expect(parsed.payload.order.statusPartition).toBe(2);
  expect(PlaceOrderInput.safeParse({ ...valid, statusPartition: 2 }).success).toBe(false);
});

test('a global workflow id (no-auth, shared token, orders placed before ids were scoped) is order-<orderId>', () => {
  expect(workflowIdFor({ orderId: '#101' })).toBe('order-#101');
  // A customer without the scope (an unverified one, or an event of the earlier shape) does not change it.
  expect(workflowIdFor({ orderId: '#101', customerId: 'unverified:c-7' })).toBe('order-#101');
  expect(workflowIdFor({ orderId: '#101', customerId: 'alice' })).toBe('order-#101');
});

describe('scoped workflow ids (JWT mode)', () => {
  const scoped = (customerId: string, orderId = '#101'): string =>
    workflowIdFor({ orderId, customerId, idScope: 'customer' });

  test('scoped: order-<orderId>@<readable customer>-<16 hex of its SHA-256>, one per (customer, orderId)', () => {
    expect(scoped('alice')).toMatch(/^order-#101@alice-[0-9a-f]{16}$/);
    expect(scoped('alice')).toBe(scoped('alice'));
    expect(scoped('alice')).not.toBe(scoped('bob'));
    expect(scoped('alice')).not.toBe(scoped('alice', '#102'));
    expect(scoped('alice')).not.toBe(workflowIdFor({ orderId: '#101' }));
  });

  test('readable and bounded whatever the customer id; customers sharing the readable part still differ', () => {
    const long = `auth0|${'x'.repeat(122)}`;
    const id = scoped(long, 'o'.repeat(64));
    expect(id).toMatch(/^order-o{64}@auth0_x{18}-[0-9a-f]{16}$/);
    expect(id.length).toBeLessThan(130);
    expect(scoped(`${long.slice(0, -1)}y`, 'o'.repeat(64))).not.toBe(id);
    expect(scoped('a|b')).not.toBe(scoped('a_b'));
    expect(scoped('bob@example.com')).toMatch(/^order-#101@bob_example.com-[0-9a-f]{16}$/);
  });

  test('a global id is never a scoped one: no order id contains @, so no-auth ids cannot squat a customer', () => {
    expect(isScopedWorkflowId(scoped('alice'))).toBe(true);
    expect(isScopedWorkflowId(workflowIdFor({ orderId: 'alice-0123456789abcdef' }))).toBe(false);
    expect(PlaceOrderInput.safeParse({ ...valid, orderId: '#101@alice' }).success).toBe(false);
  });

  test('the order id, the global id and the Kafka key are read back from either form', () => {
    for (const orderId of ['#101', 'a-b.c:d_e']) {
      const id = scoped('x@y', orderId);
      expect(orderIdOfWorkflowId(id)).toBe(orderId);
      expect(globalWorkflowIdOf(id)).toBe(workflowIdFor({ orderId }));
      expect(kafkaKeyOf(id)).toBe(id);
      expect(workflowIdOfKafkaKey(kafkaKeyOf(id))).toBe(id);
      const global = workflowIdFor({ orderId });
      expect(orderIdOfWorkflowId(global)).toBe(orderId);
      expect(kafkaKeyOf(global)).toBe(orderId);
      expect(workflowIdOfKafkaKey(orderId)).toBe(global);
    }
  });

  test('the event carries the scope beside the order (a bridge that predates it drops it), and it comes back on reading', () => {
    const order = { ...valid, quantity: 1, customerId: 'alice', idScope: 'customer' as const };
    const event = orderPlacedEvent(order, 'e-1', 1);
    expect(event.idScope).toBe('customer');
    expect(event.payload.order).not.toHaveProperty('idScope');
    expect(OrderPlacedEvent.parse(JSON.parse(JSON.stringify(event)))).toEqual(event);
    expect(orderOfEvent(OrderPlacedEvent.parse(event))).toEqual(order);
    expect(orderPlacedEvent({ ...valid, quantity: 1 }, 'e-2', 1)).not.toHaveProperty('idScope');
  });
});
