// The rules of the page's "My orders" list (web/history-model.js), run in Node: its filter names
// are listOrders' own, it reads an `orders` answer as the protocol's schema describes it, merges a
// page with what the page learnt live (newest first, no row twice), and never moves a row back.
import { LIST_PAGE_MAX, ListOrdersInput, SERVER_FRAME_DATA } from '../../common/protocol';
import { pageModules } from '../helpers/page-modules';

interface Row {
  orderId: string;
  item: string | null;
  price: number | null;
  quantity: number | null;
  status: string;
  seq: number;
  placedAt: number;
  updatedAt: number;
}
type Change = {
  status: string;
  seq: number;
  at: number;
  order?: { item: string; price: number; quantity: number };
};
type Filter = 'all' | 'open' | 'finished';

const page = pageModules(
  ['common.js', 'history-model.js'],
  ['FILTERS', 'PAGE_SIZE', 'matchesFilter', 'readPage', 'applyStatus', 'mergePage'],
);
const readPage = page.readPage as (data: unknown) => { rows: Row[]; cursor?: string };
const applyStatus = page.applyStatus as (row: Row, change: Change) => boolean;
const matchesFilter = page.matchesFilter as (status: string, filter: Filter) => boolean;
const mergePage = page.mergePage as (
  shown: Row[],
  rows: Row[],
  context: { append: boolean; placedHere: Row[]; latest: Map<string, Change>; filter: Filter },
) => Row[];

const row = (orderId: string, placedAt: number, status = 'ACCEPTED', seq = 0): Row => ({
  orderId,
  item: 'Desk',
  price: 300,
  quantity: 1,
  status,
  seq,
  placedAt,
  updatedAt: placedAt,
});
const ids = (rows: Row[]): string[] => rows.map((r) => r.orderId);
const context = (over: Partial<Parameters<typeof mergePage>[2]> = {}) => ({
  append: false,
  placedHere: [],
  latest: new Map<string, Change>(),
  filter: 'all' as Filter,
  ...over,
});

describe('the "My orders" list rules', () => {
  test("its filters are listOrders' status values, and a page asks no more than the gateway serves", () => {
    expect(page.FILTERS).toEqual(ListOrdersInput.shape.status.unwrap().options);
    expect(page.PAGE_SIZE).toBeGreaterThanOrEqual(1);
    expect(page.PAGE_SIZE).toBeLessThanOrEqual(LIST_PAGE_MAX);
  });

  test('open is every status that is not final, finished every final one, all both', () => {
    expect(matchesFilter('CHARGING', 'open')).toBe(true);
    expect(matchesFilter('CHARGING', 'finished')).toBe(false);
    expect(matchesFilter('COMPLETED', 'open')).toBe(false);
    expect(matchesFilter('PAYMENT_DECLINED', 'finished')).toBe(true);
    expect(matchesFilter('REFUNDED', 'finished')).toBe(false); // refunded, then FAILED or CANCELLED
    expect(matchesFilter('COMPLETED', 'all') && matchesFilter('ACCEPTED', 'all')).toBe(true);
  });

  test('a page is read as the orders schema describes it; a malformed row is left out, the others kept', () => {
    const good = row('o-1', 1_700_000_000_000, 'CHARGED', 4);
    const unknownItem = { ...row('o-2', 1_700_000_000_001), item: null, price: null, quantity: null };
    const data = {
      orders: [good, unknownItem, { ...good, orderId: 'o-3', status: 'TELEPORTED' }, { ...good, seq: '4' }, null],
      cursor: 'abc',
    };
    expect(SERVER_FRAME_DATA.orders.safeParse({ orders: [good, unknownItem], cursor: 'abc' }).success).toBe(true);
    expect(readPage(data)).toEqual({ rows: [good, unknownItem], cursor: 'abc' });
    expect(readPage({ orders: [] })).toEqual({ rows: [] });
    expect(readPage({})).toEqual({ rows: [] });
  });

  test('a status moves a row only forward (a lagging page or a repeated push changes nothing)', () => {
    const r = row('o-1', 1000, 'VALIDATING', 2);
    expect(applyStatus(r, { status: 'CHARGED', seq: 4, at: 5000 })).toBe(true);
    expect(r).toMatchObject({ status: 'CHARGED', seq: 4, updatedAt: 5000 });
    expect(applyStatus(r, { status: 'VALIDATED', seq: 3, at: 4000 })).toBe(false);
    expect(applyStatus(r, { status: 'CHARGED', seq: 4, at: 5000 })).toBe(false);
    expect(r).toMatchObject({ status: 'CHARGED', seq: 4 });
  });

  test("an AMENDED push's values become the row's; a later push without values keeps them, an older one changes nothing", () => {
    const r = row('o-1', 1000, 'VALIDATING', 2);
    const order = { item: 'Standing desk', price: 420, quantity: 2 };
    expect(applyStatus(r, { status: 'AMENDED', seq: 4, at: 5000, order })).toBe(true);
    expect(r).toMatchObject({ status: 'AMENDED', seq: 4, ...order });
    expect(applyStatus(r, { status: 'CHARGING', seq: 5, at: 6000 })).toBe(true);
    expect(r).toMatchObject({ status: 'CHARGING', ...order });
    expect(applyStatus(r, { status: 'AMENDED', seq: 3, at: 4000, order: { ...order, quantity: 9 } })).toBe(false);
    expect(r.quantity).toBe(2);
  });

  test('a first page: orders placed here that the history has not read yet go on top, newest first, under the filter', () => {
    const listed = [row('b', 200), row('a', 100)];
    const placedHere = [row('c', 300), row('d', 400), row('e', 500, 'COMPLETED', 8)];
    expect(ids(mergePage([row('old', 1)], listed, context({ placedHere })))).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(ids(mergePage([], listed, context({ placedHere, filter: 'open' })))).toEqual(['d', 'c', 'b', 'a']);
    // Listed already: taken from the page, not twice.
    expect(ids(mergePage([], [row('c', 300), ...listed], context({ placedHere: [row('c', 300)] })))).toEqual([
      'c',
      'b',
      'a',
    ]);
  });

  test('a page behind the pushes shows the newest status the page was pushed', () => {
    const latest = new Map([['a', { status: 'COMPLETED', seq: 9, at: 9000 }]]);
    const merged = mergePage([], [row('b', 200, 'CHARGING', 4), row('a', 100, 'SHIPPING', 6)], context({ latest }));
    expect(merged.map((r) => [r.orderId, r.status, r.seq])).toEqual([
      ['b', 'CHARGING', 4],
      ['a', 'COMPLETED', 9],
    ]);
  });

  test('a next page goes below the rows shown, without repeating one', () => {
    const shown = [row('d', 400), row('c', 300)];
    const next = [row('c', 300), row('b', 200), row('a', 100)];
    expect(ids(mergePage(shown, next, context({ append: true, placedHere: [row('z', 900)] })))).toEqual([
      'd',
      'c',
      'b',
      'a',
    ]);
  });
});
