// A frame over the connection's rate limit is refused before it is parsed (no JSON parse, no
// validation: the transport's `read` is never called), for both transports, which share the
// dispatcher. The first refused frame of an episode is answered RATE_LIMITED, naming its order
// (found by a bounded look at the unparsed frame); the frames after it in the episode are dropped
// unanswered; the episode that shows repeated abuse is answered once more and closes the connection.
import { createDispatcher } from '../../gateway/frame-handlers';
import { peekWsOrderId, ReadRequest } from '../../gateway/read-request';
import type { Client } from '../../gateway/client';
import { FrameThrottle } from '../../gateway/pushback';
import { Subscriptions } from '../../gateway/subscriptions';
import type { ServerFrame } from '../../common/protocol';

function setUp(burst: number, { episodes = 100, perSecond = 0.001 } = {}) {
  const replies: ServerFrame[] = [];
  const closes: string[] = [];
  const rate = { burst, perSecond };
  const rateAbuse = { episodes, windowMs: 60_000 };
  let now = 0;
  const throttle = new FrameThrottle(rate, rateAbuse, { pause: () => undefined, resume: () => undefined }, () => now);
  const client: Client = {
    throttle,
    send: () => undefined,
    sendStatus: () => undefined,
    closeForPolicy: (reason) => closes.push(reason),
  };
  const dispatcher = createDispatcher({
    producer: { publish: () => Promise.reject(new Error('not used')) },
    subscriptions: new Subscriptions(async () => undefined),
    rate,
    rateAbuse,
    maxSubscriptions: 200,
    closing: () => false,
    track: () => undefined,
    log: () => undefined,
  });
  return { replies, closes, client, throttle, dispatcher, later: (ms: number) => void (now += ms) };
}

describe('rate limit before parsing', () => {
  afterEach(() => jest.useRealTimers());

  test('over the limit, frames are refused without being read: one RATE_LIMITED per episode, naming its order', () => {
    const { replies, client, throttle, dispatcher } = setUp(1);
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
    dispatcher.handle(
      client,
      read,
      (f) => replies.push(f),
      () => 'o-3',
    );
    dispatcher.handle(client, read, (f) => replies.push(f));
    throttle.stop();
    expect(reads).toHaveLength(1);
    expect(replies.slice(1)).toEqual([
      { event: 'error', data: expect.objectContaining({ code: 'RATE_LIMITED', orderId: 'o-2' }) },
    ]);
  });

  test('the episode that completes the abuse count gets a last notice, then the connection is closed for policy', () => {
    jest.useFakeTimers();
    const { replies, closes, client, dispatcher, later } = setUp(1, { episodes: 2, perSecond: 1 });
    const read = (): ReadRequest => ({ event: 'getOrder', data: { orderId: 'x' } });
    const reply = (f: ServerFrame): number => replies.push(f);
    dispatcher.handle(client, read, reply);
    dispatcher.handle(client, read, reply);
    expect(closes).toEqual([]);
    // The pause ends when a token is back (1 s at 1/s).
    later(1_000);
    jest.advanceTimersByTime(1_000);
    dispatcher.handle(client, read, reply);
    dispatcher.handle(client, read, reply);
    dispatcher.handle(client, read, reply);
    const notices = replies.filter((f) => f.event === 'error' && f.data.code === 'RATE_LIMITED');
    expect(notices).toHaveLength(2);
    expect(notices[1].data).toMatchObject({ message: expect.stringContaining('closing the connection') });
    expect(closes).toEqual(['rate limit exceeded repeatedly']);
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
