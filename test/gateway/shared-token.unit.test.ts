// Shared-token mode's comparison: the presented token and the expected one are both hashed
// (SHA-256) and the two digests compared with crypto.timingSafeEqual, whatever the presented
// token's length, so the time taken tells nothing about how long the secret is or how much of it
// matched.
// The module object itself (not a namespace copy), so a spy on it is what the gateway calls.
import crypto from 'node:crypto';
import { sharedTokenAuth } from '../../gateway/auth';

const SECRET = 'shared-s3cret-token';

afterEach(() => jest.restoreAllMocks());

describe('sharedTokenAuth', () => {
  test('only the exact token is accepted', async () => {
    const auth = sharedTokenAuth(SECRET);
    expect(await auth.verify(SECRET)).toEqual({ ok: true, identity: {} });
    for (const wrong of [undefined, '', SECRET.slice(0, -1), `${SECRET}x`, SECRET.toUpperCase(), 'x'.repeat(10_000)])
      expect({ wrong, result: await auth.verify(wrong) }).toEqual({
        wrong,
        result: { ok: false, reason: 'missing or wrong token' },
      });
  });

  test('every presented token, of any length, is compared once in constant time as a 32-byte digest (no length short-circuit)', async () => {
    const auth = sharedTokenAuth(SECRET);
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    const presented = [undefined, '', 'x', SECRET.slice(0, -1), SECRET, `${SECRET}x`, 'y'.repeat(4096)];
    for (const token of presented) await auth.verify(token);
    expect(compare).toHaveBeenCalledTimes(presented.length);
    for (const [a, b] of compare.mock.calls) {
      expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
    }
  });
});
