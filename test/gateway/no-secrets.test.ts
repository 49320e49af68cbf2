/**
 * No secret value in any log line or error (issue 18 point 9), checked on real gateway processes
 * (their whole stdout and stderr) with distinctive secret values: configuration errors (a too short
 * JWT secret, two auth modes at once, SASL settings that do not fit, a JWKS URL with credentials),
 * a wrong Kafka SASL password against the real SCRAM listener, and refused tokens on both
 * transports (the presented tokens must not appear either). The refusals are also logged and
 * counted in /metrics: failed logins by transport, and the attempts refused before auth (Origin,
 * malformed upgrade) on both transports.
 */
import * as http from 'node:http';
import { io } from 'socket.io-client';
import { infraPorts } from '../../tools/infra/ports';
import { AppProcess, whenAnswers200 } from '../../tools/infra/app-process';
import { LOCAL_KAFKA_USERS } from '../../tools/infra/kafka-sasl';
import { freePort } from '../../tools/infra/proc';
import { waitUntil } from '../helpers/wait';
import { upgradeStatus } from '../helpers/gateway';

const children: AppProcess[] = [];

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop(5_000)));
});

/** Secret values no log line or error may contain (nor any long piece of them). */
const SECRETS = {
  shortJwt: 'jwt-XQ7vv-tooshort',
  jwt: 'jwt-secret-QW81zz-long-enough-for-hs256-signing',
  shared: 'shared-token-ZK93qq-secret',
  sasl: 'sasl-password-MM41pp-secret',
  wrongSasl: 'sasl-wrong-PP28kk-secret',
  jwksPassword: 'jwks-pw-RR55tt-secret',
};

/** Runs a gateway with `env` until it exits (a configuration error is fatal); returns its exit code and output. */
async function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = new AppProcess({
    app: 'gateway',
    env: {
      ...process.env,
      GATEWAY_PORT: String(await freePort()),
      GATEWAY_HEALTH_PORT: String(await freePort()),
      ...env,
    },
  });
  children.push(proc);
  await proc.start();
  const exit = await proc.exitWithin(60_000);
  if (exit === 'timeout') {
    await proc.stop();
    throw new Error(`the gateway did not exit:\n${proc.output()}`);
  }
  return { code: exit.code, output: proc.output() };
}

/** Fails naming the secret when `output` contains it. */
function expectNoSecret(output: string, secrets: string[]): void {
  for (const secret of secrets) expect({ secret, found: output.includes(secret) }).toEqual({ secret, found: false });
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The HTTP status of a raw upgrade request with these headers (no WebSocket client: the headers are ours). */
function rawUpgrade(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/',
      headers: { connection: 'Upgrade', upgrade: 'websocket', ...headers },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function sioRefusal(port: number, token: string): Promise<string> {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, auth: { token } });
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connected with a wrong token')));
      socket.once('connect_error', (err) =>
        resolve(JSON.stringify({ message: err.message, data: (err as { data?: unknown }).data })),
      );
    });
  } finally {
    socket.disconnect();
  }
}

describe('no secret in logs or errors', () => {
  test('configuration errors and a refused Kafka SASL login end the gateway with an error naming the setting, never the secret', async () => {
    const runs = await Promise.all([
      runToExit({ GATEWAY_JWT_SECRET: SECRETS.shortJwt }),
      runToExit({ GATEWAY_JWT_SECRET: SECRETS.jwt, GATEWAY_AUTH_TOKEN: SECRETS.shared }),
      runToExit({ KAFKA_SASL_MECHANISM: 'scram-sha-999', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: SECRETS.sasl }),
      runToExit({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: SECRETS.sasl }),
      runToExit({
        GATEWAY_JWKS_URL: `http://issuer:${SECRETS.jwksPassword}@idp.example/jwks.json`,
        GATEWAY_JWT_ISSUER: 'https://idp.example/',
        GATEWAY_JWT_AUDIENCE: 'orders',
      }),
      runToExit({
        KAFKA_BROKERS: `127.0.0.1:${infraPorts().kafkaSasl}`,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: LOCAL_KAFKA_USERS.gateway.username,
        KAFKA_SASL_PASSWORD: SECRETS.wrongSasl,
      }),
    ]);
    const named = [
      'GATEWAY_JWT_SECRET',
      'choose one auth mode',
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_USERNAME',
      'GATEWAY_JWKS_URL',
      'SASL',
    ];
    for (const [i, run] of runs.entries()) {
      // The output's tail goes into the comparison only when the check fails, so a failure shows
      // what the gateway said instead.
      const isNamed = run.output.includes(named[i]);
      const said = isNamed && run.code === 1 ? undefined : run.output.split('\n').slice(-15).join('\n');
      expect({ run: i, code: run.code, named: isNamed, said }).toEqual({
        run: i,
        code: 1,
        named: true,
        said: undefined,
      });
      expectNoSecret(run.output, Object.values(SECRETS));
    }
  });

  test('refused tokens are logged and counted on both transports without the secret or the presented token; refusals before auth are logged and counted too', async () => {
    const presented = ['guess-ws-header-AB12', 'guess-ws-query-CD34', 'guess-sio-EF56'];
    const [port, adminPort] = await Promise.all([freePort(), freePort()]);
    const gateway = new AppProcess({
      app: 'gateway',
      env: {
        ...process.env,
        GATEWAY_PORT: String(port),
        GATEWAY_HEALTH_PORT: String(adminPort),
        GATEWAY_AUTH_TOKEN: SECRETS.shared,
        LOG_LEVEL: 'info',
      },
      ready: whenAnswers200(`http://127.0.0.1:${adminPort}/readyz`),
    });
    children.push(gateway);
    await gateway.start(90_000);
    const base = `ws://127.0.0.1:${port}`;

    expect(await upgradeStatus(base, { token: presented[0] })).toBe(401);
    expect(await upgradeStatus(`${base}/?token=${presented[1]}`)).toBe(401);
    // A near miss: the secret with one character more.
    expect(await upgradeStatus(base, { token: `${SECRETS.shared}x` })).toBe(401);
    const sioAnswer = await sioRefusal(port, presented[2]);
    expectNoSecret(sioAnswer, [presented[2], SECRETS.shared]);
    // Refused before auth: another site's Origin (both transports), a malformed upgrade.
    expect(await upgradeStatus(base, { headers: { origin: 'http://evil.example' } })).toBe(403);
    expect(
      (await get(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`, { origin: 'http://evil.example' }))
        .status,
    ).toBe(403);
    expect(
      await rawUpgrade(port, {
        authorization: `Bearer ${SECRETS.shared}`,
        'sec-websocket-version': '7',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      }),
    ).toBe(400);
    expect(await upgradeStatus(base, { token: SECRETS.shared })).toBe(101);

    const metrics = await waitUntil(
      async () => {
        const text = (await get(`http://127.0.0.1:${adminPort}/metrics`)).body;
        return /gateway_refused_handshakes_total\{transport="websocket",status="400"\} 1/.test(text) ? text : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'the refusals to be counted' },
    );
    expect(metrics).toContain('gateway_auth_failures_total{transport="websocket"} 3');
    expect(metrics).toContain('gateway_auth_failures_total{transport="socket.io"} 1');
    expect(metrics).toContain('gateway_refused_handshakes_total{transport="websocket",status="403"} 1');
    expect(metrics).toContain('gateway_refused_handshakes_total{transport="socket.io",status="403"} 1');

    const output = gateway.output();
    expect(output.match(/auth refused \(websocket\)/g)).toHaveLength(3);
    expect(output.match(/auth refused \(socket\.io\)/g)).toHaveLength(1);
    expect(output).toMatch(/refused \(websocket\) 403 from 127\.0\.0\.1: origin not allowed/);
    expect(output).toMatch(/refused \(socket\.io\) 403 from 127\.0\.0\.1: origin not allowed/);
    expect(output).toMatch(/refused \(websocket\) 400 from 127\.0\.0\.1/);
    expectNoSecret(output, [SECRETS.shared, ...presented]);
  });
});
