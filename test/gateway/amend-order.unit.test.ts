// amendOrder through the dispatcher both transports share: its data is checked with placeOrder's own
// field rules before anything reaches Temporal (INVALID_REQUEST naming the field), and a gateway
// that cannot look orders up says so. The answers from a real workflow: test/gateway/amend.test.ts.
import type { Client } from '../../gateway/client';
import { createDispatcher } from '../../gateway/frame-handlers';
import type { OrderLookup } from '../../gateway/order-lookup';
import { FrameThrottle } from '../../gateway/pushback';
import { Subscriptions } from '../../gateway/subscriptions';
import type { ServerFrame } from '../../common/protocol';

function setUp(orders?: OrderLookup) {
  const replies: ServerFrame[] = [];
  const jobs: Promise<void>[] = [];
  const rate = { burst: 100, perSecond: 100 };
  const rateAbuse = { episodes: 100, windowMs: 60_000 };
  const client: Client = {
    throttle: new FrameThrottle(rate, rateAbuse, { pause: () => undefined, resume: () => undefined }),
    send: () => undefined,
    sendStatus: () => undefined,
    closeForPolicy: () => undefined,
  };
  const dispatcher = createDispatcher({
    producer: { publish: () => Promise.reject(new Error('not used')) },
    subscriptions: new Subscriptions(async () => undefined),
    orders,
    rate,
    rateAbuse,
    maxSubscriptions: 200,
    closing: () => false,
    track: (job) => jobs.push(job),
    log: () => undefined,
  });
  const amend = async (data: unknown): Promise<ServerFrame[]> => {
    dispatcher.handle(
      client,
      () => ({ event: 'amendOrder', data }),
      (f) => replies.push(f),
    );
    await Promise.all(jobs);
    return replies.splice(0);
  };
  return { amend };
}

/** A look-up that records the amendments it is asked for. */
function recordingLookup(asked: unknown[]): OrderLookup {
  return {
    amend: async (workflowId: string, amendment: unknown) => {
      asked.push({ workflowId, amendment });
      return { kind: 'amended', result: { amendmentId: 'a-1', order: { item: 'Desk', price: 300, quantity: 2 } } };
    },
  } as unknown as OrderLookup;
}

describe('amendOrder in the dispatcher', () => {
  test.each([
    ['a negative price', { orderId: 'o-1', amendmentId: 'a-1', price: -1 }, 'price'],
    ['an item with a control character', { orderId: 'o-1', amendmentId: 'a-1', item: 'a\u0007b' }, 'item'],
    ['no amendment id', { orderId: 'o-1', quantity: 2 }, 'amendmentId'],
    ['nothing to change', { orderId: 'o-1', amendmentId: 'a-1' }, '(root)'],
    ['an unknown field', { orderId: 'o-1', amendmentId: 'a-1', quantity: 2, customerId: 'bob' }, '(root)'],
  ])('%s: INVALID_REQUEST naming the field, Temporal never asked', async (_name, data, field) => {
    const asked: unknown[] = [];
    const { amend } = setUp(recordingLookup(asked));
    expect(await amend(data)).toEqual([
      { event: 'error', data: expect.objectContaining({ code: 'INVALID_REQUEST', field, orderId: 'o-1' }) },
    ]);
    expect(asked).toEqual([]);
  });

  test('an order id that is itself invalid is not echoed in the INVALID_REQUEST', async () => {
    const { amend } = setUp(recordingLookup([]));
    expect(await amend({ orderId: 'o 1\u0007', amendmentId: 'a-1', quantity: 2 })).toEqual([
      { event: 'error', data: expect.objectContaining({ code: 'INVALID_REQUEST', field: 'orderId', orderId: null }) },
    ]);
  });

  test('a valid amendment reaches the workflow trimmed, without its orderId, and is answered orderAmended', async () => {
    const asked: unknown[] = [];
    const { amend } = setUp(recordingLookup(asked));
    expect(await amend({ orderId: 'o-1', amendmentId: 'a-1', item: ' Desk ', quantity: 2 })).toEqual([
      {
        event: 'orderAmended',
        data: { orderId: 'o-1', amendmentId: 'a-1', item: 'Desk', price: 300, quantity: 2 },
      },
    ]);
    expect(asked).toEqual([{ workflowId: 'order-o-1', amendment: { amendmentId: 'a-1', item: 'Desk', quantity: 2 } }]);
  });

  test('without order look-ups: TEMPORAL_UNAVAILABLE', async () => {
    const { amend } = setUp();
    expect(await amend({ orderId: 'o-1', amendmentId: 'a-1', quantity: 2 })).toEqual([
      { event: 'error', data: expect.objectContaining({ code: 'TEMPORAL_UNAVAILABLE', orderId: 'o-1' }) },
    ]);
  });
});
