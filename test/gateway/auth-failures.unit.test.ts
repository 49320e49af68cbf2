// A refused token is logged (transport, address, reason; never the token) and counted in /metrics.
import { authFailureRecorder, GatewayMetrics, limitedLog } from '../../gateway/metrics';

test('each refused token is one log line without the token and one count in gateway_auth_failures_total', async () => {
  const metrics = new GatewayMetrics();
  const lines: string[] = [];
  const record = authFailureRecorder(metrics, (line) => lines.push(line));
  record('websocket', 'missing or wrong token', '10.0.0.7');
  record('socket.io', 'token expired', '10.0.0.8');
  record('socket.io', 'no token', '10.0.0.8');
  expect(lines).toEqual([
    'auth refused (websocket) from 10.0.0.7: missing or wrong token',
    'auth refused (socket.io) from 10.0.0.8: token expired',
    'auth refused (socket.io) from 10.0.0.8: no token',
  ]);
  const text = await metrics.registry.metrics();
  expect(text).toContain('gateway_auth_failures_total{transport="websocket"} 1');
  expect(text).toContain('gateway_auth_failures_total{transport="socket.io"} 2');
});

test("the verifier's detail goes to the log line, which a flood cannot flood: at most 20 lines per 10 s, then one line with the count left out", async () => {
  let now = 0;
  const lines: string[] = [];
  const log = limitedLog(
    (line) => lines.push(line),
    20,
    10_000,
    () => now,
  );
  for (let i = 0; i < 50; i++) log(`refusal ${i}`);
  expect(lines).toHaveLength(20);
  now += 10_000;
  log('after the window');
  expect(lines.slice(20)).toEqual(['30 more such lines were not logged in the last 10 s', 'after the window']);

  const metrics = new GatewayMetrics();
  const recorded: string[] = [];
  authFailureRecorder(metrics, (line) => recorded.push(line))(
    'websocket',
    'invalid token',
    '10.0.0.9',
    'ERR_JWS_INVALID: bad',
  );
  expect(recorded).toEqual(['auth refused (websocket) from 10.0.0.9: invalid token (ERR_JWS_INVALID: bad)']);
});
