// The gateway's auth modes at the upgrade, on real Kafka: JWT with keys from a JWKS URL (issuer and
// audience checked, other keys and algorithms refused), configuration mistakes refused at start,
// and the warning for a gateway reachable from other machines without auth.
import * as http from 'node:http';
import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';
import { loadConfig } from '../../common/config';
import { authenticatorFor, exposureWarning, jwtAuth } from '../../gateway/auth';
import type { Gateway } from '../../gateway/server';
import { upgradeStatus, useGatewayFixture } from '../helpers/gateway';
import { TEST_JWT_SECRET } from '../helpers/tokens';

const fixture = useGatewayFixture('order-placement-auth');
const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'orders';
let jwks: http.Server;
let gateway: Gateway;
let signingKey: KeyLike;
let strangerKey: KeyLike;

const upgradeTo = (token: string | undefined): Promise<number> =>
  upgradeStatus(`ws://127.0.0.1:${gateway.port}/`, { token });

function token(
  key: KeyLike | Uint8Array,
  opts: { alg?: string; kid?: string; iss?: string; aud?: string; sub?: string } = {},
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: opts.kid ?? 'k1' })
    .setSubject(opts.sub ?? 'carol')
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/.well-known/jwks.json`;
  gateway = await fixture.start({ auth: jwtAuth({ jwksUrl, issuer: ISSUER, audience: AUDIENCE }) });
});

afterAll(async () => {
  await new Promise((resolve) => jwks?.close(resolve));
});

describe('gateway auth', () => {
  test('JWKS mode: a token signed by a published key, for this issuer and audience, opens; anything else is refused 401', async () => {
    expect(await upgradeTo(await token(signingKey))).toBe(101);
    expect(await upgradeTo(await token(strangerKey))).toBe(401);
    expect(await upgradeTo(await token(signingKey, { iss: 'https://evil.example.test/' }))).toBe(401);
    expect(await upgradeTo(await token(signingKey, { aud: 'someone-else' }))).toBe(401);
    // A symmetric token is never accepted where keys come from a JWKS (no algorithm confusion).
    expect(await upgradeTo(await token(new TextEncoder().encode(TEST_JWT_SECRET), { alg: 'HS256' }))).toBe(401);
    expect(await upgradeTo(undefined)).toBe(401);
  });

  test('configuration mistakes stop the gateway at start, with the reason', () => {
    expect(() => authenticatorFor({ sharedToken: 'x', jwt: { secret: TEST_JWT_SECRET } })).toThrow(/one auth mode/);
    expect(() => authenticatorFor({ jwt: { secret: 'short' } })).toThrow(/at least 32 bytes/);
    expect(() => jwtAuth({ secret: TEST_JWT_SECRET, jwksUrl: 'http://127.0.0.1/jwks' })).toThrow(/exactly one/);
    expect(authenticatorFor(loadConfig({}).gatewayAuth).mode).toBe('none');
    expect(authenticatorFor(loadConfig({ GATEWAY_JWT_SECRET: TEST_JWT_SECRET }).gatewayAuth).mode).toBe('jwt');
    expect(authenticatorFor(loadConfig({ GATEWAY_AUTH_TOKEN: 'tok' }).gatewayAuth).mode).toBe('shared-token');
  });

  test('a gateway reachable from other machines without auth warns loudly; loopback or any auth does not', () => {
    expect(exposureWarning('0.0.0.0', 'none')).toMatch(/^WARNING: .*WITHOUT AUTH/);
    expect(exposureWarning('10.1.2.3', 'none')).toMatch(/^WARNING/);
    expect(exposureWarning('127.0.0.1', 'none')).toBeUndefined();
    expect(exposureWarning('::1', 'none')).toBeUndefined();
    expect(exposureWarning('0.0.0.0', 'jwt')).toBeUndefined();
    expect(exposureWarning('0.0.0.0', 'shared-token')).toBeUndefined();
  });
});
