// The page reads a status push as the gateway and the CLI do: web/status-push.js, reading the
// JSON Schema of common/status-schemas.ts StatusPushSchema that `npm run contract` writes into
// web/common.js, accepts exactly what the zod schema accepts. And every status has a label.
import { ORDER_STATUSES } from '../../common/status';
import { StatusPushSchema } from '../../common/status-schemas';
import { pageModules } from '../helpers/page-modules';

const page = pageModules(['common.js', 'status-push.js', 'model.js'], ['readStatusPush', 'STATUSES', 'LABELS']);
const readStatusPush = page.readStatusPush as (data: unknown) => unknown;

const good = { orderId: 'o-1', status: 'CHARGED', seq: 4, at: 1_700_000_000_000, detail: 'ch_1' };
const amended = {
  ...good,
  status: 'AMENDED',
  detail: 'amendment a-1',
  order: { item: 'Desk', price: 300, quantity: 2 },
};
const samples: Array<[string, unknown]> = [
  ['a full push', good],
  ['a push without detail', { ...good, detail: undefined }],
  ['an unknown property (dropped)', { ...good, traceId: 'abc' }],
  ['an unknown status', { ...good, status: 'TELEPORTED' }],
  ['seq 0', { ...good, seq: 0 }],
  ['a fractional seq', { ...good, seq: 1.5 }],
  ['seq as a string', { ...good, seq: '4' }],
  ['no at', { ...good, at: undefined }],
  ['an empty orderId', { ...good, orderId: '' }],
  ['an orderId of 65 characters', { ...good, orderId: 'x'.repeat(65) }],
  ['a detail that is not a string', { ...good, detail: 42 }],
  ['an AMENDED push with its order', { ...amended }],
  ['an order with an unknown property (dropped)', { ...amended, order: { ...amended.order, colour: 'red' } }],
  ['an order without its quantity', { ...amended, order: { item: 'Desk', price: 300 } }],
  ['an order of quantity 0', { ...amended, order: { ...amended.order, quantity: 0 } }],
  ['an order of fractional quantity', { ...amended, order: { ...amended.order, quantity: 1.5 } }],
  ['an order of price 0', { ...amended, order: { ...amended.order, price: 0 } }],
  ['an order with an empty item', { ...amended, order: { ...amended.order, item: '' } }],
  ['an order that is not an object', { ...amended, order: 'Desk' }],
  ['an order that is an array', { ...amended, order: ['Desk', 300, 2] }],
  ['not an object', 'CHARGED'],
  ['null', null],
];

describe("the page's reading of a status push", () => {
  test.each(samples)('%s: the page decides as StatusPushSchema does', (_name, data) => {
    const zod = StatusPushSchema.safeParse(data);
    const read = readStatusPush(data);
    expect(read === undefined ? 'refused' : read).toEqual(zod.success ? zod.data : 'refused');
  });

  test('the page lists the statuses of common/status.ts, in order, and has a label for each', () => {
    expect(page.STATUSES).toEqual([...ORDER_STATUSES]);
    const labels = page.LABELS as Record<string, string>;
    expect(ORDER_STATUSES.filter((status) => !labels[status])).toEqual([]);
  });
});
