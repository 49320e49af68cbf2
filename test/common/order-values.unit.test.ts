// The amendment rules the workflow checks in plain code (common/order-values.ts: its bundle carries no
// zod) decide every amendment as the gateway's zod schema (AmendOrderInput, placeOrder's field rules)
// does, down to the field they name; and an amendment changes only what it names.
import { AmendOrderInput, describeZodError, MAX_PRICE, MAX_QUANTITY } from '../../common/order';
import { amended, amendmentProblem } from '../../common/order-values';

const base = { amendmentId: 'a-1' };
const samples: Array<[string, Record<string, unknown>]> = [
  ['a new price', { ...base, price: 12.5 }],
  ['every value', { ...base, item: 'Desk', price: 300, quantity: 2 }],
  ['an item to trim', { ...base, item: '  Desk  ' }],
  ['nothing to change', { ...base }],
  ['an amendment id of 64 characters', { ...base, amendmentId: 'a'.repeat(64), quantity: 1 }],
  ['an amendment id of 65 characters', { ...base, amendmentId: 'a'.repeat(65), quantity: 1 }],
  ['an empty amendment id', { ...base, amendmentId: '', quantity: 1 }],
  ['an amendment id with a space', { ...base, amendmentId: 'a b', quantity: 1 }],
  ['an amendment id that is a number', { ...base, amendmentId: 7, quantity: 1 }],
  ['no amendment id', { quantity: 1 }],
  ['an empty item', { ...base, item: '' }],
  ['an item of spaces', { ...base, item: '   ' }],
  ['an item of 200 characters', { ...base, item: 'x'.repeat(200) }],
  ['an item of 201 characters', { ...base, item: 'x'.repeat(201) }],
  ['an item of 200 characters between spaces', { ...base, item: ` ${'x'.repeat(200)} ` }],
  ['an item with an ANSI escape', { ...base, item: 'Lamp\u001b[31m red' }],
  ['an item with a line break inside', { ...base, item: 'Lamp\nFAKE LOG LINE' }],
  ['an item with a bidi override', { ...base, item: 'Lamp \u202e' }],
  ['an item with a lone surrogate', { ...base, item: 'Lamp \ud800' }],
  ['an item with an emoji', { ...base, item: 'Lamp 💡' }],
  ['an item that is a number', { ...base, item: 42 }],
  ['price 0', { ...base, price: 0 }],
  ['a negative price', { ...base, price: -1 }],
  ['price at the maximum', { ...base, price: MAX_PRICE }],
  ['price above the maximum', { ...base, price: MAX_PRICE + 0.01 }],
  ['price as a string', { ...base, price: '10' }],
  ['price NaN', { ...base, price: NaN }],
  ['price Infinity', { ...base, price: Infinity }],
  ['quantity 0', { ...base, quantity: 0 }],
  ['quantity 1.5', { ...base, quantity: 1.5 }],
  ['quantity at the maximum', { ...base, quantity: MAX_QUANTITY }],
  ['quantity above the maximum', { ...base, quantity: MAX_QUANTITY + 1 }],
  ['quantity as a string', { ...base, quantity: '2' }],
];

describe('amendmentProblem (the workflow) and AmendOrderInput (the gateway)', () => {
  test.each(samples)('%s: both decide alike, naming the same field', (_name, amendment) => {
    const zod = AmendOrderInput.safeParse({ orderId: 'o-1', ...amendment });
    const plain = amendmentProblem(amendment);
    const zodField = zod.success ? 'ok' : describeZodError(zod.error).field;
    const plainField = plain === undefined ? 'ok' : plain.slice(0, plain.indexOf(':'));
    expect(plainField).toBe(zodField);
  });

  test('anything but an object is refused', () => {
    for (const value of [null, 'a', 3, ['a-1']]) expect(amendmentProblem(value)).toMatch(/must be an object/);
  });
});

describe('amended', () => {
  const current = { item: 'Keyboard', price: 150, quantity: 1 };

  test('changes what the amendment names, keeps the rest, and trims the item as the gateway does', () => {
    expect(amended(current, { amendmentId: 'a', quantity: 3 })).toEqual({ item: 'Keyboard', price: 150, quantity: 3 });
    expect(amended(current, { amendmentId: 'a', item: ' Desk ', price: 300 })).toEqual({
      item: 'Desk',
      price: 300,
      quantity: 1,
    });
    expect(current).toEqual({ item: 'Keyboard', price: 150, quantity: 1 });
  });
});
