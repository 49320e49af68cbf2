// A refused token is logged (transport, address, reason; never the token) and counted in /metrics.
import { authFailureRecorder, GatewayMetrics } from '../../gateway/metrics';

test('each refused token is one log line without the token and one count in gateway_auth_failures_total', async () => {
  const metrics = new GatewayMetrics(() => 0);
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
