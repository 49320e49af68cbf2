// The rules of the page's Amend (web/amend-model.js), run in Node: when it is offered (until payment
// starts, not after a cancel, not on a final state), how the form's text is read (refused exactly
// where the gateway's AmendOrderInput refuses a value, for the limits web/common.js publishes), that
// a resend carries the attempt's one amendment id, and how orderAmended and an AMENDED push set the
// order's values.
import { AmendOrderInput } from '../../common/order';
import { ORDER_STATUSES } from '../../common/status';
import { pageModules } from '../helpers/page-modules';

interface Step {
  seq: number;
  status: string;
  at: number;
}
interface Amendment {
  amendmentId: string;
  sentAtSeq: number;
  item?: string;
  price?: number;
  quantity?: number;
}
interface OrderRecord {
  orderId: string;
  item: string;
  price: number;
  quantity: number;
  placedAt: number;
  placing: boolean;
  status: string;
  lastSeq: number;
  steps: Step[];
  cancel: 'idle' | 'pending' | 'done' | 'refused';
  amendment?: Amendment;
  amendClosed?: boolean;
  valuesSeq?: number;
  error?: { code: string; message: string };
}
type Values = { item?: string; price?: number; quantity?: number };
type Read = { values: Values } | { field: string; message: string };

const page = pageModules(
  ['common.js', 'model.js', 'amend-model.js'],
  [
    'canAmend',
    'paymentStarted',
    'readAmendment',
    'startAmendment',
    'amendRequest',
    'applyAmended',
    'applyAmendedPush',
    'amendOutcome',
    'resendDelay',
  ],
);
const canAmend = page.canAmend as (o: OrderRecord) => boolean;
const paymentStarted = page.paymentStarted as (o: OrderRecord) => boolean;
const readAmendment = page.readAmendment as (
  current: { item: string; price: number; quantity: number },
  text: { item: string; price: string; quantity: string },
) => Read;
const startAmendment = page.startAmendment as (o: OrderRecord, values: Values, id: string) => Amendment;
const amendRequest = page.amendRequest as (o: OrderRecord) => Record<string, unknown> | undefined;
const applyAmended = page.applyAmended as (
  o: OrderRecord,
  answer: { amendmentId: string; item: string; price: number; quantity: number },
) => boolean;
const applyAmendedPush = page.applyAmendedPush as (
  o: OrderRecord,
  push: { seq: number; order?: { item: string; price: number; quantity: number } },
) => void;
const amendOutcome = page.amendOutcome as (code: string) => 'resend' | 'end' | 'keep';
const resendDelay = page.resendDelay as (attempt: number, retryAfterMs?: number) => number;

/** An accepted order that has reached `statuses` (in order), seq 1, 2, … */
const order = (statuses: string[] = ['ACCEPTED', 'VALIDATING'], over: Partial<OrderRecord> = {}): OrderRecord => ({
  orderId: 'web-1',
  item: 'Desk',
  price: 300,
  quantity: 1,
  placedAt: 1,
  placing: false,
  status: statuses.at(-1) ?? 'ACCEPTED',
  lastSeq: statuses.length,
  steps: statuses.map((status, i) => ({ seq: i + 1, status, at: i })),
  cancel: 'idle',
  ...over,
});

const current = { item: 'Desk', price: 300, quantity: 1 };
const text = (over: Partial<Record<'item' | 'price' | 'quantity', string>>) => ({
  item: 'Desk',
  price: '300',
  quantity: '1',
  ...over,
});

describe("the page's Amend rules", () => {
  test('offered while the order is accepted and before CHARGING', () => {
    for (const path of [['ACCEPTED'], ['ACCEPTED', 'VALIDATING'], ['ACCEPTED', 'VALIDATING', 'VALIDATED']])
      expect(canAmend(order(path))).toBe(true);
    expect(canAmend(order(['ACCEPTED', 'VALIDATING', 'VALIDATED', 'AMENDED']))).toBe(true);
  });

  test('not offered once payment has started: CHARGING and every status after it in the protocol', () => {
    const from = ORDER_STATUSES.indexOf('CHARGING');
    for (const status of ORDER_STATUSES) {
      const o = order(['ACCEPTED', 'VALIDATING', 'VALIDATED', status]);
      expect([status, paymentStarted(o)]).toEqual([status, ORDER_STATUSES.indexOf(status) >= from]);
      if (ORDER_STATUSES.indexOf(status) >= from) expect([status, canAmend(o)]).toEqual([status, false]);
    }
    // A step seen counts even when the record's status says less (a view filled in out of order).
    expect(canAmend(order(['ACCEPTED', 'CHARGING'], { status: 'VALIDATED' }))).toBe(false);
  });

  test('not offered on a final state, after a cancel was sent or done, before acceptance, while an attempt waits, or after CANNOT_AMEND', () => {
    expect(canAmend(order(['ACCEPTED', 'VALIDATING', 'REJECTED']))).toBe(false);
    expect(canAmend(order(['ACCEPTED', 'CANCELLED']))).toBe(false);
    expect(canAmend(order(undefined, { cancel: 'pending' }))).toBe(false);
    expect(canAmend(order(undefined, { cancel: 'done' }))).toBe(false);
    expect(canAmend(order([], { placing: true, status: 'PLACING' }))).toBe(false);
    expect(canAmend(order(undefined, { amendment: { amendmentId: 'a-1', sentAtSeq: 2, price: 1 } }))).toBe(false);
    expect(canAmend(order(undefined, { amendClosed: true }))).toBe(false);
  });

  test('the form names only the values that changed, the item trimmed; nothing changed is refused', () => {
    expect(readAmendment(current, text({ quantity: '3' }))).toEqual({ values: { quantity: 3 } });
    expect(readAmendment(current, text({ item: '  Big desk ', price: '320.5' }))).toEqual({
      values: { item: 'Big desk', price: 320.5 },
    });
    expect(readAmendment(current, text({ item: ' Desk ' }))).toMatchObject({ message: /Nothing changed/ });
  });

  // Each value the gateway's schema judges by a limit web/common.js publishes: the page refuses it
  // (naming the same field) exactly when AmendOrderInput does.
  const samples: Array<[string, Partial<Record<'item' | 'price' | 'quantity', string>>]> = [
    ['an empty item', { item: '' }],
    ['an item of spaces', { item: '   ' }],
    ['an item of 200 characters', { item: 'x'.repeat(200) }],
    ['an item of 201 characters', { item: 'x'.repeat(201) }],
    ['an item of 200 characters between spaces', { item: ` ${'x'.repeat(200)} ` }],
    ['price 0', { price: '0' }],
    ['a negative price', { price: '-1' }],
    ['an empty price', { price: '' }],
    ['price 0.01', { price: '0.01' }],
    ['price 1 000 000', { price: '1000000' }],
    ['price above 1 000 000', { price: '1000000.01' }],
    ['quantity 0', { quantity: '0' }],
    ['quantity 1.5', { quantity: '1.5' }],
    ['quantity 1000', { quantity: '1000' }],
    ['quantity 1001', { quantity: '1001' }],
    ['an empty quantity', { quantity: '' }],
  ];
  test.each(samples)('%s: refused by the page exactly when the gateway refuses it', (_, over) => {
    const form = text({ item: 'Chair', ...over }); // always one change, so "nothing changed" never decides
    const read = readAmendment(current, form);
    const sent = {
      orderId: 'web-1',
      amendmentId: 'a-1',
      item: form.item,
      price: form.price.trim() === '' ? undefined : Number(form.price),
      quantity: form.quantity.trim() === '' ? undefined : Number(form.quantity),
    };
    // An empty number box is no value at all to the gateway, but the page's form always has all three.
    const gateway = form.price.trim() === '' || form.quantity.trim() === '' ? null : AmendOrderInput.safeParse(sent);
    if ('values' in read) {
      expect(gateway?.success).toBe(true);
    } else if (gateway) {
      expect(gateway.success).toBe(false);
      expect(gateway.error?.issues[0]?.path).toEqual([read.field]);
    }
    if (gateway === null) expect('field' in read).toBe(true);
  });

  test("a resend carries the attempt's one amendment id; a new attempt gets its own", () => {
    const o = order(['ACCEPTED', 'VALIDATING']);
    startAmendment(o, { price: 280 }, 'amend-1');
    const first = amendRequest(o);
    const again = amendRequest(o);
    expect(first).toEqual({ orderId: 'web-1', amendmentId: 'amend-1', price: 280 });
    expect(again).toEqual(first);
    expect(o.amendment).toMatchObject({ amendmentId: 'amend-1', sentAtSeq: 2 });
    expect(applyAmended(o, { amendmentId: 'amend-1', item: 'Desk', price: 280, quantity: 1 })).toBe(true);
    expect(amendRequest(o)).toBeUndefined();
    startAmendment(o, { quantity: 2 }, 'amend-2');
    expect(amendRequest(o)).toEqual({ orderId: 'web-1', amendmentId: 'amend-2', quantity: 2 });
  });

  test('TEMPORAL_UNAVAILABLE and the retryable refusals resend; CANNOT_AMEND, NOT_FOUND and INVALID_REQUEST end the attempt', () => {
    for (const code of ['TEMPORAL_UNAVAILABLE', 'BUSY', 'RATE_LIMITED', 'SHUTTING_DOWN'])
      expect([code, amendOutcome(code)]).toEqual([code, 'resend']);
    for (const code of ['CANNOT_AMEND', 'NOT_FOUND', 'INVALID_REQUEST'])
      expect([code, amendOutcome(code)]).toEqual([code, 'end']);
    expect(amendOutcome('CANNOT_CANCEL')).toBe('keep');
    expect(resendDelay(1, 250)).toBe(250);
    expect([1, 2, 3, 5, 9].map((n) => resendDelay(n))).toEqual([1000, 2000, 4000, 15000, 15000]);
  });

  test("orderAmended sets the order's values and ends the attempt; an answer for another id changes nothing", () => {
    const o = order(['ACCEPTED', 'VALIDATING']);
    startAmendment(o, { item: 'Big desk', quantity: 2 }, 'amend-1');
    expect(applyAmended(o, { amendmentId: 'other', item: 'Chair', price: 1, quantity: 1 })).toBe(false);
    expect([o.item, o.price, o.quantity]).toEqual(['Desk', 300, 1]);
    expect(applyAmended(o, { amendmentId: 'amend-1', item: 'Big desk', price: 300, quantity: 2 })).toBe(true);
    expect([o.item, o.price, o.quantity, o.amendment]).toEqual(['Big desk', 300, 2, undefined]);
  });

  test("an AMENDED push sets the order's values, and an answer that may be older does not undo a newer push", () => {
    const o = order(['ACCEPTED', 'VALIDATING']);
    startAmendment(o, { price: 280 }, 'mine');
    // Another device's amendment lands after this one: its push (seq 4) arrives before this answer.
    applyAmendedPush(o, { seq: 3, order: { item: 'Desk', price: 280, quantity: 1 } });
    applyAmendedPush(o, { seq: 4, order: { item: 'Desk', price: 280, quantity: 5 } });
    expect(applyAmended(o, { amendmentId: 'mine', item: 'Desk', price: 280, quantity: 1 })).toBe(true);
    expect([o.item, o.price, o.quantity]).toEqual(['Desk', 280, 5]);
    // A push without values (any other status) leaves them.
    applyAmendedPush(o, { seq: 5 });
    expect(o.quantity).toBe(5);
  });
});
