/** Signed customer tokens for tests of the gateway's JWT mode (HS256 with a test secret). */
import { SignJWT } from 'jose';

export const TEST_JWT_SECRET = 'test-secret-of-at-least-32-bytes-for-hs256';

/** A token for `customerId`, expiring `expiresInS` seconds from now (negative: already expired). */
export async function customerToken(
  customerId: string,
  opts: { expiresInS?: number; secret?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(customerId)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresInS ?? 3600))
    .sign(new TextEncoder().encode(opts.secret ?? TEST_JWT_SECRET));
}
