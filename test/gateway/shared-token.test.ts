// Shared-token mode on both transports, on real Kafka: the token is taken from the Authorization
// header or a `bearer.` subprotocol (raw WebSocket) and from the handshake's auth payload or the
// Authorization header (Socket.IO), never from the query string, where it would land in proxy logs,
// browser history and Referer headers.
import { sharedTokenAuth } from '../../gateway/auth';
import type { Gateway } from '../../gateway/server';
import { upgradeStatus, useGatewayFixture } from '../helpers/gateway';
import { socketIoOutcome } from '../helpers/socket-io-client';

const fixture = useGatewayFixture('order-placement-shared-token');
const SECRET = 'shared-s3cret-token';
let gateway: Gateway;

beforeAll(async () => {
  gateway = await fixture.start({ auth: sharedTokenAuth(SECRET) });
});

const upgradeTo = (path: string, opts: Parameters<typeof upgradeStatus>[1] = {}): Promise<number> =>
  upgradeStatus(`ws://127.0.0.1:${gateway.port}${path}`, opts);

describe('shared-token mode', () => {
  test('raw WebSocket: the token in the Authorization header or a bearer. subprotocol opens; in ?token= it is refused 401', async () => {
    expect(await upgradeTo('/', { token: SECRET })).toBe(101);
    expect(await upgradeTo('/', { protocols: ['orders.v1', `bearer.${SECRET}`] })).toBe(101);
    expect(await upgradeTo(`/?token=${SECRET}`)).toBe(401);
  });

  test('Socket.IO: the token in the auth payload or the Authorization header connects; in the query string it is refused', async () => {
    expect(await socketIoOutcome(gateway.port, { auth: { token: SECRET } })).toEqual({ connected: true });
    expect(await socketIoOutcome(gateway.port, { extraHeaders: { authorization: `Bearer ${SECRET}` } })).toEqual({
      connected: true,
    });
    const refused = { connected: false, message: 'unauthorized', data: { reason: 'missing or wrong token' } };
    expect(await socketIoOutcome(gateway.port, { query: { token: SECRET } })).toMatchObject(refused);
    expect(await socketIoOutcome(gateway.port, { query: { token: SECRET }, transports: ['polling'] })).toMatchObject(
      refused,
    );
  });
});
