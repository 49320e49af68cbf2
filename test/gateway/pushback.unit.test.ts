// Pushback on a connection over its rate limit (gateway/pushback.ts), on jest's clock: reading pauses
// when the bucket is empty and resumes when a token is back; one notice per episode; frames read
// during the pause are dropped; repeated episodes within the window close the connection.
import { Admission, FrameThrottle } from '../../gateway/pushback';

function setUp(rate: { burst: number; perSecond: number }, abuse = { episodes: 100, windowMs: 60_000 }) {
  const reading: string[] = [];
  // The bucket's clock: jest's, minus a lag the test may set (a timer firing early, as seen from it).
  const clock = { lagMs: 0 };
  const throttle = new FrameThrottle(
    rate,
    abuse,
    { pause: () => reading.push('pause'), resume: () => reading.push('resume') },
    () => Date.now() - clock.lagMs,
  );
  const admitN = (n: number): Admission[] => Array.from({ length: n }, () => throttle.admit());
  return { throttle, reading, admitN, clock };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('FrameThrottle', () => {
  test('the burst passes; the first frame over it pauses reading and is the only one noticed; the rest are dropped', () => {
    const { throttle, reading, admitN } = setUp({ burst: 3, perSecond: 2 });
    expect(admitN(3)).toEqual(['pass', 'pass', 'pass']);
    expect(admitN(5)).toEqual(['notify', 'drop', 'drop', 'drop', 'drop']);
    expect(reading).toEqual(['pause']);
    expect(throttle.paused).toBe(true);
  });

  test('reading resumes when a token is back, not before, and the next frame takes it', () => {
    const { throttle, reading, admitN } = setUp({ burst: 1, perSecond: 2 });
    expect(admitN(2)).toEqual(['pass', 'notify']);
    jest.advanceTimersByTime(499);
    expect(reading).toEqual(['pause']);
    expect(throttle.admit()).toBe('drop');
    jest.advanceTimersByTime(1);
    expect(reading).toEqual(['pause', 'resume']);
    expect(throttle.paused).toBe(false);
    // A new episode, with its own notice.
    expect(admitN(3)).toEqual(['pass', 'notify', 'drop']);
  });

  test("a timer that fires before the token is back (by the bucket's clock) waits for the rest: the first frame after the pause passes", () => {
    const { reading, admitN, clock } = setUp({ burst: 1, perSecond: 2 });
    expect(admitN(2)).toEqual(['pass', 'notify']);
    clock.lagMs = 5;
    jest.advanceTimersByTime(500);
    expect(reading).toEqual(['pause']);
    jest.advanceTimersByTime(10);
    expect(reading).toEqual(['pause', 'resume']);
    expect(admitN(2)).toEqual(['pass', 'notify']);
  });

  test('the episode that reaches the count within the window closes the connection; nothing passes after it', () => {
    const { throttle, reading, admitN } = setUp({ burst: 1, perSecond: 10 }, { episodes: 3, windowMs: 60_000 });
    expect(admitN(2)).toEqual(['pass', 'notify']);
    jest.advanceTimersByTime(100);
    expect(admitN(2)).toEqual(['pass', 'notify']);
    jest.advanceTimersByTime(100);
    expect(admitN(2)).toEqual(['pass', 'close']);
    // No pause for the closing episode: the transport reads the client's answer to the close.
    expect(reading).toEqual(['pause', 'resume', 'pause', 'resume']);
    jest.advanceTimersByTime(60_000);
    expect(admitN(3)).toEqual(['drop', 'drop', 'drop']);
    expect(throttle.paused).toBe(false);
  });

  test('episodes older than the window are forgotten: an occasional burst never closes the connection', () => {
    const { admitN } = setUp({ burst: 1, perSecond: 10 }, { episodes: 2, windowMs: 10_000 });
    for (let i = 0; i < 5; i++) {
      expect(admitN(2)).toEqual(['pass', 'notify']);
      jest.advanceTimersByTime(10_000);
    }
  });

  test('stop() leaves no timer behind: a stopped throttle never resumes reading and admits nothing', () => {
    const { throttle, reading, admitN } = setUp({ burst: 1, perSecond: 1 });
    expect(admitN(2)).toEqual(['pass', 'notify']);
    throttle.stop();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(5_000);
    expect(reading).toEqual(['pause']);
    expect(throttle.admit()).toBe('drop');
  });
});
