/**
 * The configuration module: the table in docs/CONFIGURATION.md and .env.example list exactly the schema's variables
 * (with its defaults, forms and readers), bad values fail naming the variable and the expected form,
 * and no app code reads process.env behind the schema's back. No servers needed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, VARIABLES, VARIABLE_NAMES } from '../../common/env-variables';
import { loadConfig, traceUrlTemplateOf } from '../../common/config';

const ROOT = path.resolve(__dirname, '..', '..');

/** Rows of the table under docs/CONFIGURATION.md's "## Variables" heading, as arrays of trimmed cells. */
function configTableRows(): string[][] {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'CONFIGURATION.md'), 'utf8');
  const section = /^## Variables\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(doc);
  if (!section) throw new Error('docs/CONFIGURATION.md has no "## Variables" section');
  const rows = section[1].split('\n').filter((line) => line.startsWith('|'));
  return rows.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim()),
  );
}

describe('configuration schema', () => {
  test('the configuration table in docs/CONFIGURATION.md lists every variable of the schema, with its default, form and readers', () => {
    const rows = configTableRows();
    const names = rows.map((cells) => /^`([A-Z0-9_]+)`$/.exec(cells[0])?.[1] ?? `not a variable: ${cells[0]}`);
    expect(names).toEqual(VARIABLE_NAMES);
    for (const cells of rows) {
      const spec = VARIABLES[cells[0].slice(1, -1) as keyof typeof VARIABLES];
      expect({ variable: cells[0], default: cells[1], form: cells[2], readers: cells[3] }).toEqual({
        variable: cells[0],
        default: spec.default === undefined ? 'unset' : `\`${spec.default}\``,
        form: spec.form,
        readers: spec.readers.join(', '),
      });
    }
  });

  test('.env.example names every variable of the schema once, and nothing else', () => {
    const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    const names = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(names).toEqual(VARIABLE_NAMES);
  });

  test('unset and empty variables take the defaults', () => {
    const config = loadConfig({ GATEWAY_PORT: '', STEP_DELAY_MS: undefined });
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(config.temporalAddress).toBe('127.0.0.1:7233');
    expect(config.gatewayPort).toBe(3000);
    expect(config.stepDelayMs).toBe(2000);
    expect(config.temporalUiUrl).toBe('http://127.0.0.1:8233');
    expect(config.gatewayAuth.sharedToken).toBeUndefined();
  });

  test('every admin listener binds loopback by default, on a port apart from the clients', () => {
    const config = loadConfig({});
    expect({ host: config.gatewayHealthHost, port: config.gatewayHealthPort }).toEqual({
      host: '127.0.0.1',
      port: 3003,
    });
    expect(config.gatewayHealthPort).not.toBe(config.gatewayPort);
    expect(config.bridgeHost).toBe('127.0.0.1');
    expect(config.workerHost).toBe('127.0.0.1');
    expect({ host: config.historyHealthHost, port: config.historyHealthPort }).toEqual({
      host: '127.0.0.1',
      port: undefined,
    });
    const set = loadConfig({ GATEWAY_HEALTH_HOST: '0.0.0.0', GATEWAY_HEALTH_PORT: '9103' });
    expect({ host: set.gatewayHealthHost, port: set.gatewayHealthPort }).toEqual({ host: '0.0.0.0', port: 9103 });
  });

  test('values are parsed into their types', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      GATEWAY_ALLOWED_ORIGINS: 'https://shop.example,http://localhost:8080',
      SIM_TRANSIENT_FAILURE_RATE: '0.25',
      ORDERS_TEMPORAL_PORT: '17233',
    });
    expect(config.kafkaBrokers).toEqual(['kafka-1:9092', 'kafka-2:9092']);
    expect(config.gatewayAllowedOrigins).toEqual(['https://shop.example', 'http://localhost:8080']);
    expect(config.simulation.transientFailureRate).toBe(0.25);
    // The launcher's port moves the default address and UI with it.
    expect(config.temporalAddress).toBe('127.0.0.1:17233');
    expect(config.temporalUiUrl).toBe('http://127.0.0.1:18233');
  });

  test('a credential that does not fit its form is named in the error, its value is not (not even in the error object)', () => {
    const secret = 'too-short-but-still-secret';
    let error: unknown;
    try {
      loadConfig({ GATEWAY_JWT_SECRET: secret });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('GATEWAY_JWT_SECRET=');
    expect((error as Error).message).toContain(`${secret.length} characters`);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect((error as Error).message).not.toContain(secret);
  });

  test("the gateway's limits and host allow-list come from the environment, with safe defaults", () => {
    expect(loadConfig({}).gatewayLimits).toEqual({
      maxConnections: 10_000,
      perIp: { maxConnections: 1_000, handshakesPerSecond: 50 },
      maxUnauthenticated: 1_000,
      rateLimit: { burst: 200, perSecond: 100 },
      rateAbuse: { episodes: 10, windowMs: 60_000 },
      maxPayloadBytes: 65_536,
      maxBufferedBytes: 1_048_576,
      maxSubscriptions: 200,
      temporalCalls: { inFlight: 64, perSecond: 200, sharePercent: 10 },
    });
    const config = loadConfig({
      GATEWAY_ALLOWED_HOSTS: 'orders.example, 10.0.0.5',
      GATEWAY_MAX_CONNECTIONS: '500',
      GATEWAY_MAX_CONNECTIONS_PER_IP: '0',
      GATEWAY_HANDSHAKES_PER_SECOND_PER_IP: '7',
      GATEWAY_MAX_UNAUTHENTICATED: '30',
      GATEWAY_RATE_PER_SECOND: '20',
      GATEWAY_RATE_BURST: '40',
      GATEWAY_RATE_ABUSE_EPISODES: '4',
      GATEWAY_RATE_ABUSE_WINDOW_S: '15',
      GATEWAY_MAX_PAYLOAD_BYTES: '4096',
      GATEWAY_MAX_BUFFERED_BYTES: '65536',
      GATEWAY_MAX_SUBSCRIPTIONS: '50',
      GATEWAY_TEMPORAL_CALLS_IN_FLIGHT: '8',
      GATEWAY_TEMPORAL_CALLS_PER_SECOND: '30',
      GATEWAY_TEMPORAL_CUSTOMER_SHARE_PERCENT: '40',
    });
    expect(config.gatewayAllowedHosts).toEqual(['orders.example', '10.0.0.5']);
    expect(config.gatewayLimits).toEqual({
      maxConnections: 500,
      perIp: { maxConnections: 0, handshakesPerSecond: 7 },
      maxUnauthenticated: 30,
      rateLimit: { burst: 40, perSecond: 20 },
      rateAbuse: { episodes: 4, windowMs: 15_000 },
      maxPayloadBytes: 4096,
      maxBufferedBytes: 65_536,
      maxSubscriptions: 50,
      temporalCalls: { inFlight: 8, perSecond: 30, sharePercent: 40 },
    });
    expect(() => loadConfig({ GATEWAY_MAX_SUBSCRIPTIONS: '0' })).toThrow(/GATEWAY_MAX_SUBSCRIPTIONS/);
    expect(() => loadConfig({ GATEWAY_MAX_UNAUTHENTICATED: '0' })).toThrow(/GATEWAY_MAX_UNAUTHENTICATED/);
    expect(() => loadConfig({ GATEWAY_MAX_BUFFERED_BYTES: '1024' })).toThrow(/GATEWAY_MAX_BUFFERED_BYTES/);
    // A budget smaller than one look-up (cancelOrder: 4 calls, 2 at once) would refuse it forever.
    expect(() => loadConfig({ GATEWAY_TEMPORAL_CALLS_IN_FLIGHT: '1' })).toThrow(/GATEWAY_TEMPORAL_CALLS_IN_FLIGHT/);
    expect(() => loadConfig({ GATEWAY_TEMPORAL_CALLS_PER_SECOND: '3' })).toThrow(/GATEWAY_TEMPORAL_CALLS_PER_SECOND/);
    expect(() => loadConfig({ GATEWAY_TEMPORAL_CUSTOMER_SHARE_PERCENT: '0' })).toThrow(
      /GATEWAY_TEMPORAL_CUSTOMER_SHARE_PERCENT/,
    );
  });

  test("TRACE_UI_URL: a link holding {traceId} is used as given (Zipkin's trace page); a bare URL is a Jaeger UI's root", () => {
    expect(traceUrlTemplateOf('http://127.0.0.1:9411/zipkin/traces/{traceId}')).toBe(
      'http://127.0.0.1:9411/zipkin/traces/{traceId}',
    );
    expect(traceUrlTemplateOf('http://localhost:16686/')).toBe('http://localhost:16686/trace/{traceId}');
    expect(loadConfig({ TRACE_UI_URL: 'http://localhost:16686' }).traceUrlTemplate).toBe(
      'http://localhost:16686/trace/{traceId}',
    );
    expect(loadConfig({}).traceUrlTemplate).toBeUndefined();
  });

  test('KAFKA_ENCRYPT_ORDER_FIELDS: off unless set on; on needs PAYLOAD_ENCRYPTION=on (its key store), else a configuration error naming it', () => {
    expect(loadConfig({}).kafkaEncryptOrderFields).toBe(false);
    expect(loadConfig({ KAFKA_ENCRYPT_ORDER_FIELDS: 'on' }).kafkaEncryptOrderFields).toBe(true);
    expect(() => loadConfig({ KAFKA_ENCRYPT_ORDER_FIELDS: 'on', PAYLOAD_ENCRYPTION: 'off' })).toThrow(
      /KAFKA_ENCRYPT_ORDER_FIELDS="on" is not off while PAYLOAD_ENCRYPTION=off/,
    );
    expect(loadConfig({ KAFKA_ENCRYPT_ORDER_FIELDS: 'off', PAYLOAD_ENCRYPTION: 'off' }).kafkaEncryptOrderFields).toBe(
      false,
    );
    expect(() => loadConfig({ KAFKA_ENCRYPT_ORDER_FIELDS: 'yes' })).toThrow(/KAFKA_ENCRYPT_ORDER_FIELDS/);
  });

  test('GATEWAY_STATUS_PARTITION (partition routing): unset is off, a whole number is the home partition, else refused', () => {
    expect(loadConfig({}).gatewayStatusPartition).toBeUndefined();
    expect(loadConfig({ GATEWAY_STATUS_PARTITION: '0' }).gatewayStatusPartition).toBe(0);
    expect(loadConfig({ GATEWAY_STATUS_PARTITION: '2' }).gatewayStatusPartition).toBe(2);
    for (const bad of ['-1', '1.5', 'home'])
      expect(() => loadConfig({ GATEWAY_STATUS_PARTITION: bad })).toThrow(/GATEWAY_STATUS_PARTITION/);
  });

  test.each([
    ['GATEWAY_PORT', 'http'],
    ['GATEWAY_PORT', '70000'],
    ['BRIDGE_HEALTH_PORT', '-1'],
    ['STEP_DELAY_MS', '2s'],
    ['SIM_TRANSIENT_FAILURE_RATE', '1.5'],
    ['KAFKA_BROKERS', 'localhost'],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233'],
    ['TEMPORAL_UI_URL', 'localhost:8233'],
    ['GATEWAY_ALLOWED_ORIGINS', 'shop.example'],
    ['ORDER_GATEWAY_URL', 'http://127.0.0.1:3000'],
  ] as const)('%s=%j fails naming the variable and the expected form', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `invalid configuration: ${name}=${JSON.stringify(value)} is not ${VARIABLES[name].form}`,
    );
  });

  test('every bad variable is named at once', () => {
    expect(() => loadConfig({ GATEWAY_PORT: 'x', SIM_LATENCY_MS: 'slow' })).toThrow(
      /GATEWAY_PORT="x" is not a port number .*; SIM_LATENCY_MS="slow" is not a whole number of milliseconds/,
    );
  });

  test('no app code reads process.env outside the configuration module', () => {
    const appDirs = ['common', 'gateway', 'bridge', 'worker', 'activities', 'workflows', 'cli'];
    const allowed = new Set(['common/config.ts']);
    const offenders: string[] = [];
    for (const dir of appDirs) {
      for (const file of fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
        const rel = `${dir}/${file}`;
        if (!rel.endsWith('.ts') || allowed.has(rel)) continue;
        if (/process\.env(\.|\[)/.test(fs.readFileSync(path.join(ROOT, rel), 'utf8'))) offenders.push(rel);
      }
    }
    expect(offenders).toEqual([]);
  });
});
