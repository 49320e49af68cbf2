// The status module: how a step becomes an entry, how entries become numbered events, and which
// states are final or past the point of cancelling.
import {
  entryOf,
  eventsOf,
  FINAL_STATUSES,
  isFinal,
  numberedEvents,
  ORDER_STATUSES,
  SHIPPING_STARTED,
} from '../../common/status';
import type { OrderView } from '../../common/status';

describe('entryOf', () => {
  test('keeps a detail and leaves an absent one out (no undefined key)', () => {
    expect(entryOf('CHARGED', 5, 'ch-1')).toEqual({ status: 'CHARGED', at: 5, detail: 'ch-1' });
    expect('detail' in entryOf('VALIDATED', 5)).toBe(false);
  });
});

describe("AMENDED's values", () => {
  const values = { item: 'Desk', price: 300, quantity: 2 };

  test('an AMENDED entry carries the order, copied; any other state leaves it out', () => {
    const entry = entryOf('AMENDED', 5, 'amendment a-1', values);
    expect(entry).toEqual({ status: 'AMENDED', at: 5, detail: 'amendment a-1', order: values });
    expect(entry.order).not.toBe(values);
    expect('order' in entryOf('CHARGED', 5, 'ch-1', values)).toBe(false);
    expect('order' in entryOf('AMENDED', 5)).toBe(false);
  });

  test('numbered events (published, and caught up from a view) carry it', () => {
    const events = numberedEvents('o1', [entryOf('VALIDATED', 3), entryOf('AMENDED', 4, 'amendment a-1', values)], 3);
    expect(events).toEqual([
      { orderId: 'o1', seq: 3, status: 'VALIDATED', at: 3 },
      { orderId: 'o1', seq: 4, status: 'AMENDED', at: 4, detail: 'amendment a-1', order: values },
    ]);
  });

  test('AMENDED is listed after VALIDATED and before CHARGING, and is not final', () => {
    expect(ORDER_STATUSES.indexOf('AMENDED')).toBe(ORDER_STATUSES.indexOf('VALIDATED') + 1);
    expect(ORDER_STATUSES.indexOf('CHARGING')).toBe(ORDER_STATUSES.indexOf('AMENDED') + 1);
    expect(isFinal('AMENDED')).toBe(false);
  });
});

describe('numberedEvents', () => {
  test('numbers entries from firstSeq in their order, under the orderId', () => {
    const events = numberedEvents('o1', [entryOf('SHIPPED', 7, 't-1'), entryOf('COMPLETED', 7)], 7);
    expect(events).toEqual([
      { orderId: 'o1', seq: 7, status: 'SHIPPED', at: 7, detail: 't-1' },
      { orderId: 'o1', seq: 8, status: 'COMPLETED', at: 7 },
    ]);
    expect('detail' in events[1]).toBe(false);
    expect(numberedEvents('o1', [], 3)).toEqual([]);
  });
});

describe('eventsOf a view', () => {
  const view: OrderView = {
    orderId: 'o1',
    workflowId: 'order-o1',
    status: 'VALIDATED',
    steps: [entryOf('ACCEPTED', 1), entryOf('VALIDATING', 2), entryOf('VALIDATED', 3, 'ok')],
  };

  test("a step's seq is its 1-based position in the view, whatever fromSeq is", () => {
    expect(eventsOf(view, 2).map((e) => [e.seq, e.status])).toEqual([
      [2, 'VALIDATING'],
      [3, 'VALIDATED'],
    ]);
    expect(eventsOf(view, -3).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(eventsOf(view, 9)).toEqual([]);
  });
});

describe('status sets', () => {
  test('final states', () => {
    expect([...FINAL_STATUSES].sort()).toEqual(['CANCELLED', 'COMPLETED', 'FAILED', 'PAYMENT_DECLINED', 'REJECTED']);
    expect(ORDER_STATUSES.filter(isFinal)).toEqual(FINAL_STATUSES.filter((s) => ORDER_STATUSES.includes(s)));
    expect(isFinal('REFUNDED')).toBe(false);
  });

  test('shipping has started from SHIPPING on', () => {
    expect([...SHIPPING_STARTED].sort()).toEqual(['COMPLETED', 'SHIPPED', 'SHIPPING']);
  });
});
