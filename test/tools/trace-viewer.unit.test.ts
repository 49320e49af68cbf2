/**
 * The trace viewer of `TRACING=1 npm start` without Java: the launcher's Zipkin binds loopback on the
 * stack's port; the wiring it hands the apps (Zipkin exporter, span endpoint) and the link it hands
 * the gateway point at the same Zipkin, whose UI page of one trace is /zipkin/traces/<id> (and, with
 * ORDERS_TRACE_VIEWER=jaeger, OTLP and Jaeger's /trace/<id>); and the screenshot script's check
 * through Zipkin's query API refuses a trace that misses a service or falls apart. A stand-in HTTP
 * server on 127.0.0.1 plays Zipkin and Jaeger.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkTrace } from '../../tools/dev/trace-screenshot';
import { upTraceViewer } from '../../tools/infra/launcher';
import { stackOptions } from '../../tools/infra/stack-options';
import { zipkinArgs } from '../../tools/infra/zipkin-server';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-trace-viewer-'));
const quiet = (): void => undefined;
const TRACE_ID = 'eb8182c593babfab76be281daaa7be9f';

/** What the stand-in answers at /api/v2/trace/<TRACE_ID>. */
let traceBody: unknown[] = [];
let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'UP', zipkin: { status: 'UP' } }));
    } else if (req.url === '/api/services') {
      // Jaeger's query API and UI, for the other viewer.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data":[]}');
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<div id="jaeger-ui-root"></div>');
    } else if (req.url === `/api/v2/trace/${TRACE_ID}`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(traceBody));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("the launcher's Zipkin", () => {
  test("binds 127.0.0.1 on the stack's port, keeps traces in memory, and its command line names the stack's data", () => {
    const stack = stackOptions({ dataDir, ports: { zipkin: 29411 } });
    const args = zipkinArgs(stack, '/cache/zipkin-3.4.2/zipkin-server-3.4.2-exec.jar');
    expect(args).toEqual(
      expect.arrayContaining([
        '--armeria.ports[0].ip=127.0.0.1',
        '--armeria.ports[0].port=29411',
        '--zipkin.storage.type=mem',
        '-jar',
        '/cache/zipkin-3.4.2/zipkin-server-3.4.2-exec.jar',
      ]),
    );
    // ownedPid recognises a server by its command line holding the data directory.
    expect(args.some((a) => a.includes(stack.dataDir + path.sep))).toBe(true);
  });

  test('TRACING=1 npm start: the apps export Zipkin spans to the Zipkin on the stack port, and traces link to its UI page of the trace', async () => {
    const stack = stackOptions({ dataDir, ports: { zipkin: port } });
    // One already answering on the port is used, not started again.
    const viewer = await upTraceViewer(quiet, stack, 'zipkin');
    expect(viewer).toEqual({
      server: 'zipkin',
      started: false,
      whereToLook: `http://127.0.0.1:${port}/zipkin/`,
      traceUrlTemplate: `http://127.0.0.1:${port}/zipkin/traces/{traceId}`,
      exporterEnv: {
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: `http://127.0.0.1:${port}/api/v2/spans`,
      },
    });
  });
});

describe('ORDERS_TRACE_VIEWER=jaeger', () => {
  test("the apps export OTLP to the Jaeger's OTLP port, and traces link to its UI's /trace/<id>", async () => {
    const stack = stackOptions({ dataDir, ports: { jaegerUi: port, jaegerOtlp: 24318 } });
    await expect(upTraceViewer(quiet, stack, 'jaeger')).resolves.toEqual({
      server: 'jaeger',
      started: false,
      whereToLook: `http://127.0.0.1:${port}`,
      traceUrlTemplate: `http://127.0.0.1:${port}/trace/{traceId}`,
      exporterEnv: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:24318' },
    });
  });
});

describe("the screenshot script's check through Zipkin's query API", () => {
  const span = (id: string, service: string, parentId?: string): Record<string, unknown> => ({
    traceId: TRACE_ID,
    id,
    ...(parentId ? { parentId } : {}),
    name: id,
    localEndpoint: { serviceName: service },
  });
  const base = (): string => `http://127.0.0.1:${port}`;

  test('a trace with spans of gateway, bridge and worker under one root passes, counted per service', async () => {
    traceBody = [
      span('a', 'order-gateway'),
      span('b', 'order-bridge', 'a'),
      span('c', 'order-worker', 'b'),
      span('d', 'order-gateway', 'c'),
    ];
    await expect(checkTrace(base(), TRACE_ID)).resolves.toEqual({
      'order-gateway': 2,
      'order-bridge': 1,
      'order-worker': 1,
    });
  });

  test('a trace without the bridge is refused, naming it', async () => {
    traceBody = [span('a', 'order-gateway'), span('c', 'order-worker', 'a')];
    await expect(checkTrace(base(), TRACE_ID)).rejects.toThrow(/no span of order-bridge/);
  });

  test('a trace in two pieces (a span whose parent is not in it) is refused', async () => {
    traceBody = [span('a', 'order-gateway'), span('b', 'order-bridge', 'x'), span('c', 'order-worker', 'b')];
    await expect(checkTrace(base(), TRACE_ID)).rejects.toThrow(/in 2 pieces/);
  });

  test('an unknown trace is refused', async () => {
    await expect(checkTrace(base(), 'f'.repeat(32))).rejects.toThrow(/answered 404/);
  });
});
