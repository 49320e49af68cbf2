// The per-connection token bucket, on a clock the test controls.
import { TokenBucket } from '../../gateway/rate-limit';

function clocked(capacity: number, perSecond: number) {
  let now = 0;
  const bucket = new TokenBucket(capacity, perSecond, () => now);
  const takeN = (n: number): number => Array.from({ length: n }, () => bucket.take()).filter(Boolean).length;
  return { bucket, takeN, advance: (ms: number) => void (now += ms) };
}

describe('TokenBucket', () => {
  test('a full bucket lets a burst of `capacity` frames through, then refuses', () => {
    const { bucket, takeN } = clocked(5, 1);
    expect(takeN(5)).toBe(5);
    expect(bucket.take()).toBe(false);
    expect(takeN(100)).toBe(0);
  });

  test('refills at perSecond: half a second at 10/s gives five more frames', () => {
    const { takeN, advance } = clocked(20, 10);
    expect(takeN(20)).toBe(20);
    advance(500);
    expect(takeN(20)).toBe(5);
    advance(100);
    expect(takeN(20)).toBe(1);
  });

  test('a fraction of a token is kept, not lost, between calls', () => {
    const { takeN, advance } = clocked(1, 10);
    expect(takeN(1)).toBe(1);
    advance(50); // half a token
    expect(takeN(1)).toBe(0);
    advance(50); // the other half
    expect(takeN(1)).toBe(1);
  });

  test('a long idle period refills up to the capacity, never beyond', () => {
    const { takeN, advance } = clocked(3, 100);
    expect(takeN(3)).toBe(3);
    advance(3_600_000);
    expect(takeN(10)).toBe(3);
  });

  test('refused frames do not spend tokens', () => {
    const { takeN, advance } = clocked(2, 1);
    expect(takeN(2)).toBe(2);
    expect(takeN(50)).toBe(0);
    advance(1000);
    expect(takeN(5)).toBe(1);
  });
});
