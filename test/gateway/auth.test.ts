// The gateway's auth modes at the upgrade, on real Kafka: JWT with keys from a JWKS URL (issuer and
// audience checked, other keys and algorithms refused), a JWKS endpoint that is down (503 / "auth
// unavailable", not a refused token, on both transports), configuration mistakes refused at start,
// and the warning for a gateway reachable from other machines without auth.
import * as http from 'node:http';
import { exportJWK, generateKeyPair, JWK, KeyLike, SignJWT } from 'jose';
import { loadConfig } from '../../common/config';
import { authenticatorFor, exposureWarning, jwtAuth } from '../../gateway/auth';
import { GatewayMetrics, metricsObserver } from '../../gateway/metrics';
import type { Gateway } from '../../gateway/server';
import { upgradeStatus, useGatewayFixture } from '../helpers/gateway';
import { socketIoOutcome } from '../helpers/socket-io-client';
import { TEST_JWT_SECRET } from '../helpers/tokens';

const fixture = useGatewayFixture('order-placement-auth');
const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'orders';
let jwks: http.Server;
let gateway: Gateway;
let signingKey: KeyLike;
let strangerKey: KeyLike;
let publicJwk: JWK;

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
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
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
    // A key id the key set does not have is the token's fault, not the key server's: 401, not 503.
    expect(await upgradeTo(await token(strangerKey, { kid: 'k-unknown' }))).toBe(401);
    expect(await upgradeTo(await token(signingKey, { iss: 'https://evil.example.test/' }))).toBe(401);
    expect(await upgradeTo(await token(signingKey, { aud: 'someone-else' }))).toBe(401);
    // A symmetric token is never accepted where keys come from a JWKS (no algorithm confusion).
    expect(await upgradeTo(await token(new TextEncoder().encode(TEST_JWT_SECRET), { alg: 'HS256' }))).toBe(401);
    expect(await upgradeTo(undefined)).toBe(401);
  });

  test('JWKS endpoint down (answering 503, or not listening): raw WebSocket 503 and Socket.IO "auth unavailable" (AUTH_UNAVAILABLE, retryable), counted; a bad token still 401 / invalid token; served again, the same token opens', async () => {
    // A key server this test controls: it answers 503 until `serving` is set.
    let serving = false;
    const keyServer = http.createServer((_req, res) => {
      if (!serving) {
        res.writeHead(503).end('maintenance');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    const stopKeyServer = async (): Promise<void> => {
      if (!keyServer.listening) return;
      const closed = new Promise((resolve) => keyServer.close(resolve));
      keyServer.closeAllConnections();
      await closed;
    };
    try {
      const jwksUrl = `http://127.0.0.1:${(keyServer.address() as { port: number }).port}/.well-known/jwks.json`;
      const metrics = new GatewayMetrics();
      const lines: string[] = [];
      const gw = await fixture.start({
        auth: jwtAuth({ jwksUrl, issuer: ISSUER, audience: AUDIENCE }),
        observer: metricsObserver(metrics, () => undefined),
        log: (line) => lines.push(line),
      });
      const good = await token(signingKey);
      const unavailable = {
        connected: false,
        message: 'auth unavailable',
        data: { code: 'AUTH_UNAVAILABLE', retryable: true },
      };
      const invalid = { connected: false, message: 'unauthorized', data: { reason: 'invalid token' } };
      const counts = async (from: GatewayMetrics, transport: string): Promise<Record<string, number>> => {
        const count = async (name: string): Promise<number> =>
          (await from.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.transport === transport)
            ?.value ?? 0;
        return {
          unavailable: await count('gateway_auth_unavailable_total'),
          refused: await count('gateway_auth_failures_total'),
        };
      };

      // 5xx from the key server.
      expect(await upgradeStatus(`ws://127.0.0.1:${gw.port}/`, { token: good })).toBe(503);
      expect(await socketIoOutcome(gw.port, { auth: { token: good } })).toMatchObject(unavailable);
      // Why, only in the gateway's log (once per transport), under the correlation id the client was given.
      expect(
        lines.filter((l) =>
          l.includes(`token check failed: JWKS keys from ${jwksUrl} could not be fetched: Expected 200 OK`),
        ),
      ).toHaveLength(2);
      // A token that is not a JWT at all is refused as before: no key is needed to know it is bad.
      expect(await upgradeStatus(`ws://127.0.0.1:${gw.port}/`, { token: 'not-a-jwt' })).toBe(401);
      expect(await socketIoOutcome(gw.port, { auth: { token: 'not-a-jwt' } })).toMatchObject(invalid);

      // The key server back: the same token opens on both transports (the outage was retryable).
      serving = true;
      expect(await upgradeStatus(`ws://127.0.0.1:${gw.port}/`, { token: good })).toBe(101);
      expect(await socketIoOutcome(gw.port, { auth: { token: good } })).toEqual({ connected: true });

      // Not listening at all (connection refused), for a gateway that has no keys yet.
      await stopKeyServer();
      const coldMetrics = new GatewayMetrics();
      const cold = await fixture.start({
        auth: jwtAuth({ jwksUrl, issuer: ISSUER, audience: AUDIENCE }),
        observer: metricsObserver(coldMetrics, () => undefined),
      });
      expect(await upgradeStatus(`ws://127.0.0.1:${cold.port}/`, { token: good })).toBe(503);
      expect(await socketIoOutcome(cold.port, { auth: { token: good } })).toMatchObject(unavailable);

      // Counted apart from refused tokens, per transport: each gateway's outage once, the bad token once.
      for (const transport of ['websocket', 'socket.io']) {
        expect({ transport, ...(await counts(metrics, transport)) }).toEqual({ transport, unavailable: 1, refused: 1 });
        expect({ transport, ...(await counts(coldMetrics, transport)) }).toEqual({
          transport,
          unavailable: 1,
          refused: 0,
        });
      }
    } finally {
      await stopKeyServer();
    }
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
