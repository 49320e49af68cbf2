// JWT mode's rules (issue 18 point 8): JWKS only over https beyond loopback, issuer and audience
// required in JWKS mode unless GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE=false (fatal configuration
// errors naming the setting), a maximum token lifetime, and token subs may not claim the
// `unverified:` namespace where the no-auth modes keep a client-named customer.
import { SignJWT } from 'jose';
import { ConfigError } from '../../common/env-variables';
import { loadConfig } from '../../common/config';
import { jwtAuth } from '../../gateway/auth';
import { TEST_JWT_SECRET } from '../helpers/tokens';

/** A token signed with the test secret, issued `iatOffsetS` from now (undefined: no iat) and expiring `expOffsetS` from now. */
async function token(sub: string, expOffsetS: number, iatOffsetS: number | undefined = 0): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(now + expOffsetS);
  if (iatOffsetS !== undefined) jwt.setIssuedAt(now + iatOffsetS);
  return jwt.sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

function configError(env: NodeJS.ProcessEnv): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
}

describe('JWKS settings', () => {
  const idp = { GATEWAY_JWT_ISSUER: 'https://idp.example/', GATEWAY_JWT_AUDIENCE: 'orders' };

  test('an http: JWKS URL beyond loopback is a fatal configuration error naming GATEWAY_JWKS_URL (https, or http on loopback, are fine)', () => {
    expect(configError({ ...idp, GATEWAY_JWKS_URL: 'http://idp.example/jwks.json' })).toMatch(
      /^invalid configuration: GATEWAY_JWKS_URL="http:\/\/idp\.example\/jwks\.json" is not an https: URL/,
    );
    // Credentials in the URL are never shown.
    expect(configError({ ...idp, GATEWAY_JWKS_URL: 'http://user:hunter2-pw@idp.example/jwks' })).not.toContain(
      'hunter2-pw',
    );
    expect(configError({ ...idp, GATEWAY_JWKS_URL: 'https://idp.example/jwks.json' })).toBeUndefined();
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:8080'])
      expect(configError({ ...idp, GATEWAY_JWKS_URL: `http://${host}/jwks.json` })).toBeUndefined();
    expect(() => jwtAuth({ jwksUrl: 'http://idp.example/jwks.json', issuer: 'i', audience: 'a' })).toThrow(
      /GATEWAY_JWKS_URL must be an https: URL/,
    );
  });

  test('JWKS mode needs GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE unless GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE=false', () => {
    const jwks = { GATEWAY_JWKS_URL: 'https://idp.example/jwks.json' };
    expect(configError(jwks)).toBe(
      'invalid configuration: ' +
        'GATEWAY_JWT_ISSUER="" is not set (GATEWAY_JWKS_URL needs it, unless GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE=false); ' +
        'GATEWAY_JWT_AUDIENCE="" is not set (GATEWAY_JWKS_URL needs it, unless GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE=false)',
    );
    expect(configError({ ...jwks, GATEWAY_JWT_ISSUER: 'https://idp.example/' })).toMatch(/GATEWAY_JWT_AUDIENCE/);
    expect(configError({ ...jwks, GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE: 'false' })).toBeUndefined();
    expect(loadConfig({ ...jwks, GATEWAY_JWT_REQUIRE_ISSUER_AUDIENCE: 'false' }).gatewayAuth.jwt).toMatchObject({
      requireIssuerAudience: false,
    });
    expect(() => jwtAuth({ jwksUrl: 'https://idp.example/jwks.json' })).toThrow(/GATEWAY_JWT_ISSUER/);
    expect(() => jwtAuth({ jwksUrl: 'https://idp.example/jwks.json', requireIssuerAudience: false })).not.toThrow();
    // HS256 (a secret only this deployment holds) has no such requirement.
    expect(configError({ GATEWAY_JWT_SECRET: TEST_JWT_SECRET })).toBeUndefined();
  });
});

describe('token lifetime', () => {
  test('GATEWAY_JWT_MAX_LIFETIME_S: default a day, settable', () => {
    expect(loadConfig({}).gatewayAuth.jwt?.maxLifetimeS).toBe(86_400);
    expect(loadConfig({ GATEWAY_JWT_MAX_LIFETIME_S: '3600' }).gatewayAuth.jwt?.maxLifetimeS).toBe(3_600);
    expect(configError({ GATEWAY_JWT_MAX_LIFETIME_S: '1h' })).toMatch(/GATEWAY_JWT_MAX_LIFETIME_S/);
  });

  test('a token whose exp - iat, or (without iat) exp - now, exceeds the maximum is refused; within it, accepted', async () => {
    const auth = jwtAuth({ secret: TEST_JWT_SECRET, maxLifetimeS: 3_600 });
    expect(await auth.verify(await token('alice', 1_800))).toMatchObject({ ok: true });
    expect(await auth.verify(await token('alice', 3_500, undefined))).toMatchObject({ ok: true });
    // Issued long ago, expiring soon: its lifetime is still too long.
    expect(await auth.verify(await token('alice', 600, -7_200))).toMatchObject({
      ok: false,
      reason: 'token lifetime too long',
    });
    // No iat: judged by the time left.
    expect(await auth.verify(await token('alice', 7_200, undefined))).toMatchObject({
      ok: false,
      reason: 'token lifetime too long',
    });
    // A backdated iat does not hide a far exp.
    expect(await auth.verify(await token('alice', 7_200, -10))).toMatchObject({ ok: false });
    // The default: a day.
    const byDefault = jwtAuth({ secret: TEST_JWT_SECRET });
    expect(await byDefault.verify(await token('alice', 86_000))).toMatchObject({ ok: true });
    expect(await byDefault.verify(await token('alice', 2 * 86_400))).toMatchObject({ ok: false });
  });
});

test('a token sub in the unverified: namespace is refused; the reason a client may see names no verifier detail', async () => {
  const auth = jwtAuth({ secret: TEST_JWT_SECRET });
  expect(await auth.verify(await token('unverified:c-7', 600))).toEqual({
    ok: false,
    reason: 'token sub is not a usable customer id',
  });
  const forged = await auth.verify(`${(await token('alice', 600)).slice(0, -4)}AAAA`);
  expect(forged).toMatchObject({ ok: false, reason: 'invalid token', detail: expect.stringContaining('ERR_JWS') });
});
