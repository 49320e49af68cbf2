// A frame over the connection's rate limit is refused before it is parsed (no JSON parse, no
// validation: the transport's `read` is never called), for both transports, which share the
// dispatcher; the refusal still names the order, found by a bounded look at the unparsed frame.
import { createDispatcher } from '../../gateway/frame-handlers';
import { peekWsOrderId, ReadRequest } from '../../gateway/read-request';
import type { Client } from '../../gateway/client';
import { TokenBucket } from '../../gateway/rate-limit';
import { Subscriptions } from '../../gateway/subscriptions';
import type { ServerFrame } from '../../common/protocol';

function setUp(burst: number) {
  const replies: ServerFrame[] = [];
  const client: Client = {
    bucket: new TokenBucket(burst, 0.001),
    send: () => undefined,
    sendStatus: () => undefined,
  };
  const dispatcher = createDispatcher({
    producer: { publish: () => Promise.reject(new Error('not used')) },
    subscriptions: new Subscriptions(async () => undefined),
    rate: { burst, perSecond: 0.001 },
    maxSubscriptions: 200,
    closing: () => false,
    track: () => undefined,
    log: () => undefined,
  });
  return { replies, client, dispatcher };
}

describe('rate limit before parsing', () => {
  test('over the limit, the frame is refused RATE_LIMITED without being read', () => {
    const { replies, client, dispatcher } = setUp(1);
    const reads: number[] = [];
    const read = (): ReadRequest => {
      reads.push(1);
      return { event: 'getOrder', data: { orderId: 'x' } };
    };
    dispatcher.handle(
      client,
      read,
      (f) => replies.push(f),
      () => 'o-1',
    );
    expect(reads).toHaveLength(1);
    dispatcher.handle(
      client,
      read,
      (f) => replies.push(f),
      () => 'o-2',
    );
    dispatcher.handle(client, read, (f) => replies.push(f));
    expect(reads).toHaveLength(1);
    expect(replies.slice(1)).toEqual([
      { event: 'error', data: expect.objectContaining({ code: 'RATE_LIMITED', orderId: 'o-2' }) },
      { event: 'error', data: expect.objectContaining({ code: 'RATE_LIMITED', orderId: null }) },
    ]);
  });

  test("the raw WebSocket look finds the orderId in the frame's first bytes only, and never in binary frames", () => {
    const frame = (orderId: string, pad = 0): Buffer =>
      Buffer.from(JSON.stringify({ event: 'placeOrder', data: { note: 'x'.repeat(pad), orderId } }));
    expect(peekWsOrderId(frame('#102'), false)).toBe('#102');
    expect(peekWsOrderId(frame('#102'), true)).toBeNull();
    expect(peekWsOrderId(frame('#102', 5_000), false)).toBeNull();
    expect(peekWsOrderId(Buffer.from('{"orderId": "bad id"}'), false)).toBeNull();
  });
});
