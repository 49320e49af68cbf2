// The per-connection token bucket, on a clock the test moves by hand.
import { TokenBucket } from '../../gateway/rate-limit';

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function takeAll(bucket: TokenBucket, max = 1_000): number {
  let n = 0;
  while (n < max && bucket.take()) n += 1;
  return n;
}

describe('TokenBucket edge cases', () => {
  test('a new bucket allows exactly its burst, then refuses', () => {
    const c = clock();
    const bucket = new TokenBucket(5, 1, c.now);
    expect(takeAll(bucket)).toBe(5);
    expect(bucket.take()).toBe(false);
  });

  test('tokens come back at the sustained rate', () => {
    const c = clock();
    const bucket = new TokenBucket(5, 2, c.now);
    takeAll(bucket);
    c.advance(1_000);
    expect(takeAll(bucket)).toBe(2);
    c.advance(250);
    expect(bucket.take()).toBe(false); // half a token
    c.advance(250);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  test('a long idle period refills to the burst, never beyond', () => {
    const c = clock();
    const bucket = new TokenBucket(3, 100, c.now);
    takeAll(bucket);
    c.advance(60_000);
    expect(takeAll(bucket)).toBe(3);
  });

  test('a refused frame costs nothing: the next token still arrives on time', () => {
    const c = clock();
    const bucket = new TokenBucket(1, 1, c.now);
    expect(bucket.take()).toBe(true);
    c.advance(500);
    expect(bucket.take()).toBe(false);
    c.advance(500);
    expect(bucket.take()).toBe(true);
  });

  test('without a clock it uses the process clock', () => {
    const bucket = new TokenBucket(2, 1);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });
});
