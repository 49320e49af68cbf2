/**
 * One trace per order, end to end: gateway, bridge and worker run as child processes (their entry
 * points, TRACING=1) against the real Kafka and Temporal, exporting Zipkin v2 JSON as `TRACING=1 npm
 * start` has them do for its Zipkin (OTEL_TRACES_EXPORTER=zipkin), to a receiver this file runs. An
 * order placed over WebSocket yields exactly one trace with spans from all three services, linked
 * gateway → Kafka → bridge → workflow → each activity → status publish → push to the client, started
 * by the gateway even when the client sends a traceparent of its own; and the same when the worker
 * is SIGKILLed mid-order and another one finishes it.
 * The CLI and the page show each order's trace id, linked to its page in the trace viewer the gateway
 * names (Zipkin's UI, as npm start names it).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { placeAndFollow } from '../../cli/order';
import { loadConfig } from '../../common/config';
import { TOPICS } from '../../common/names';
import { AppProcess, type AppName } from '../../tools/infra/app-process';
import { groupAtTopicEnd } from '../../tools/infra/app-resources';
import { freePort } from '../../tools/infra/proc';
import { SpanReceiver, type ReceivedSpan } from '../../tools/infra/span-receiver';
import { launchChromium } from '../helpers/browser';
import { captureOutput } from '../helpers/cli-output';
import { sleep, uniqueId, waitUntil } from '../helpers/wait';
import { TestClient, type Frame } from '../helpers/ws-client';

const SERVICES = ['order-bridge', 'order-gateway', 'order-worker'];
const STATUSES = ['ACCEPTED', 'VALIDATING', 'VALIDATED', 'CHARGING', 'CHARGED', 'SHIPPING', 'SHIPPED', 'COMPLETED'];
const ACTIVITIES = ['validateOrder', 'chargePayment', 'shipOrder'];
/** The trace viewer the gateway names (TRACE_UI_URL): Zipkin's page of one trace (only linked to, never contacted). */
const TRACE_UI = 'http://127.0.0.1:9411/zipkin/traces/{traceId}';
const traceLink = (traceId: string): string => `http://127.0.0.1:9411/zipkin/traces/${traceId}`;

let receiver: SpanReceiver;
let dir: string;
const procs: AppProcess[] = [];
let gatewayUrl: string;

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200;
  } catch {
    return false;
  }
}

function app(app: AppName, name: string, env: Record<string, string>, readyUrl: string): AppProcess {
  const proc = new AppProcess({
    app,
    name,
    env: {
      ...process.env,
      TRACING: '1',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: receiver.zipkinUrl,
      // Export within 100 ms: a SIGKILLed worker loses only what it buffered in that time.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ...env,
    },
    logFile: path.join(dir, `${name}.log`),
    ready: () => ready(readyUrl),
  });
  procs.push(proc);
  return proc;
}

async function worker(name: string): Promise<AppProcess> {
  const port = await freePort();
  return app(
    'worker',
    name,
    { WORKER_HEALTH_PORT: String(port), SIM_LEDGER_FILE: path.join(dir, 'ledger.jsonl') },
    `http://127.0.0.1:${port}/readyz`,
  );
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracing-'));
  receiver = await SpanReceiver.start();
  const [gatewayPort, gatewayAdminPort, bridgePort] = await Promise.all([freePort(), freePort(), freePort()]);
  const groupId = uniqueId('tracing');
  // A fresh bridge group at the topic's end: the bridge reads only this file's orders, whatever
  // earlier runs (the bench, a dev session) left on the shared topic.
  await groupAtTopicEnd(
    new Kafka({ brokers: loadConfig().kafkaBrokers, logLevel: logLevel.NOTHING }),
    groupId,
    TOPICS.orderPlacement,
  );
  const first = await worker('worker-A');
  const bridge = app(
    'bridge',
    'bridge',
    // A pause between steps long enough to kill the worker during it.
    { BRIDGE_HEALTH_PORT: String(bridgePort), BRIDGE_GROUP_ID: groupId, STEP_DELAY_MS: '2500' },
    `http://127.0.0.1:${bridgePort}/readyz`,
  );
  const gateway = app(
    'gateway',
    'gateway',
    { GATEWAY_PORT: String(gatewayPort), GATEWAY_HEALTH_PORT: String(gatewayAdminPort), TRACE_UI_URL: TRACE_UI },
    `http://127.0.0.1:${gatewayAdminPort}/readyz`,
  );
  await Promise.all([first.start(120_000), bridge.start(120_000), gateway.start(120_000)]);
  gatewayUrl = `ws://127.0.0.1:${gatewayPort}`;
}, 300_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await receiver?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Places an order and returns its acceptance, the client (following the order) and its id. */
async function place(
  extra: Record<string, unknown> = {},
): Promise<{ client: TestClient; accepted: Frame; orderId: string }> {
  const client = await TestClient.connect(gatewayUrl);
  const orderId = uniqueId('traced');
  const accepted = await client.placeOrder({ orderId, item: 'Traced lamp', price: 20, ...extra });
  expect(accepted.event).toBe('orderAccepted');
  return { client, accepted, orderId };
}

const completed = (client: TestClient): Promise<Frame> =>
  client.waitFor((f) => f.event === 'orderStatus' && f.data.status === 'COMPLETED', 360_000);

/** Does this span belong to that order (by the ids the spans carry as attributes)? */
function aboutOrder(span: ReceivedSpan, orderId: string): boolean {
  return Object.values(span.attributes).some(
    (v) => typeof v === 'string' && (v === orderId || v === `order-${orderId}` || v.includes(`order-${orderId}`)),
  );
}

/** Waits until the trace holds the run's end and a push per status, then returns it. */
async function completeTrace(traceId: string): Promise<ReceivedSpan[]> {
  return waitUntil(
    () => {
      const spans = receiver.trace(traceId);
      const pushes = spans.filter((s) => s.name === 'orderStatus push');
      return spans.some((s) => s.name === 'RunWorkflow:processOrder') && pushes.length >= STATUSES.length
        ? spans
        : undefined;
    },
    {
      timeoutMs: 60_000,
      what: `the complete trace ${traceId}`,
      context: () =>
        receiver
          .trace(traceId)
          .map((s) => `${s.service} ${s.name}`)
          .join('\n'),
    },
  );
}

/** Checks the trace's shape: every hop present, each a child of the one before. */
function expectLinkedTrace(spans: ReceivedSpan[], orderId: string): void {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const parentOf = (s: ReceivedSpan): ReceivedSpan | undefined => byId.get(s.parentSpanId);
  const one = (name: string, service: string): ReceivedSpan => {
    const found = spans.filter((s) => s.name === name && s.service === service);
    expect({ name, service, count: found.length }).toEqual({ name, service, count: 1 });
    return found[0];
  };
  expect([...new Set(spans.map((s) => s.service))].sort()).toEqual(SERVICES);

  const placeOrder = one('placeOrder', 'order-gateway');
  const produce = one(`${TOPICS.orderPlacement} publish`, 'order-gateway');
  const consume = one(`${TOPICS.orderPlacement} process`, 'order-bridge');
  const start = one('StartWorkflow:processOrder', 'order-bridge');
  const run = one('RunWorkflow:processOrder', 'order-worker');
  expect(parentOf(produce)).toBe(placeOrder);
  expect(parentOf(consume)).toBe(produce);
  expect(parentOf(start)).toBe(consume);
  expect(parentOf(run)).toBe(start);
  expect(produce.attributes['messaging.kafka.message.key']).toBe(orderId);

  for (const activity of ACTIVITIES) {
    const schedule = spans.filter((s) => s.name === `StartActivity:${activity}`);
    expect(schedule.length).toBeGreaterThanOrEqual(1);
    for (const s of schedule) expect(parentOf(s)).toBe(run);
    const attempts = spans.filter((s) => s.name === `RunActivity:${activity}`);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    for (const a of attempts) expect(schedule).toContain(parentOf(a));
    // Each attempt publishes statuses as a child span.
    const publishes = spans.filter(
      (s) => s.name === `${TOPICS.orderStatus} publish` && attempts.includes(parentOf(s)!),
    );
    expect(publishes.length).toBeGreaterThanOrEqual(1);
  }

  // Every status the client got was pushed inside the trace, under the worker's publish of it.
  const pushes = spans.filter((s) => s.name === 'orderStatus push');
  expect(new Set(pushes.map((p) => p.attributes['order.status']))).toEqual(new Set(STATUSES));
  for (const push of pushes) {
    expect(push.service).toBe('order-gateway');
    expect(parentOf(push)?.name).toBe(`${TOPICS.orderStatus} publish`);
  }

  // The gateway's placeOrder is the root, and no other span of the trace points at a parent outside it.
  expect(placeOrder.parentSpanId).toBe('');
  const orphans = spans.filter((s) => s !== placeOrder && !byId.has(s.parentSpanId));
  expect(orphans.map((s) => `${s.service} ${s.name}`)).toEqual([]);
}

/** Exactly one trace holds this order: no span about it sits in another trace. */
function expectOneTrace(orderId: string, traceId: string): void {
  const elsewhere = receiver.spans.filter((s) => s.traceId !== traceId && aboutOrder(s, orderId));
  expect(elsewhere.map((s) => `${s.service} ${s.name} in ${s.traceId}`)).toEqual([]);
}

describe('one OpenTelemetry trace per order', () => {
  test("an order over WebSocket is one trace across gateway, Kafka, bridge, workflow, activities and back to the client, the gateway's own even when the client sends a traceparent", async () => {
    const clientTraceId = crypto.randomBytes(16).toString('hex');
    const clientSpanId = crypto.randomBytes(8).toString('hex');
    const { client, accepted, orderId } = await place({ traceparent: `00-${clientTraceId}-${clientSpanId}-01` });
    const traceId = String(accepted.data.traceId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe(clientTraceId);
    await completed(client);
    await client.close();

    const spans = await completeTrace(traceId);
    expectLinkedTrace(spans, orderId);
    // The gateway's placeOrder is the root; the client's span is at most a link (Zipkin's JSON has no links).
    expect(spans.find((s) => s.name === 'placeOrder')?.parentSpanId).toBe('');
    expect(receiver.trace(clientTraceId)).toEqual([]);
    expectOneTrace(orderId, traceId);
  }, 480_000);

  test('a worker SIGKILLed mid-order: the worker that finishes the run continues the same trace', async () => {
    const { client, accepted, orderId } = await place();
    const traceId = String(accepted.data.traceId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // Killed during the pause after validation, once its spans of that step have been exported.
    await waitUntil(
      () =>
        receiver.trace(traceId).some((s) => s.name === 'StartActivity:validateOrder') &&
        client.received.some((f) => f.event === 'orderStatus' && f.data.status === 'VALIDATED'),
      { timeoutMs: 240_000, what: 'validation to finish and be exported' },
    );
    expect(client.received.some((f) => f.data.status === 'CHARGED')).toBe(false);
    const first = procs.find((p) => p.name === 'worker-A')!;
    await first.kill();
    await sleep(500);
    const second = await worker('worker-B');
    await second.start(120_000);

    await completed(client);
    await client.close();
    const spans = await completeTrace(traceId);
    expectLinkedTrace(spans, orderId);
    expectOneTrace(orderId, traceId);
  }, 600_000);

  test("npm run order and the page show each order's trace id, linked to the trace viewer the gateway names", async () => {
    // The trace the gateway exported for an order: the one holding its publish to order-placement.
    const exportedTraceOf = (orderId: string): Promise<string> =>
      waitUntil(
        () =>
          receiver.spans.find(
            (s) =>
              s.name === `${TOPICS.orderPlacement} publish` && s.attributes['messaging.kafka.message.key'] === orderId,
          )?.traceId,
        { timeoutMs: 30_000, what: `the exported trace of ${orderId}` },
      );

    const output = captureOutput();
    const cliOrder = uniqueId('cli-traced');
    const outcome = await placeAndFollow(gatewayUrl, {
      item: 'Traced lamp',
      price: 20,
      orderId: cliOrder,
      timeoutMs: 360_000,
      output,
    });
    // Printed on acceptance, before the statuses.
    expect(output.lines).toContain(`  trace:    ${traceLink(await exportedTraceOf(cliOrder))}`);
    expect(outcome.outcome).toBe('COMPLETED');

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${gatewayUrl.replace(/^ws:/, 'http:')}/`);
      await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
      const pageOrder = uniqueId('page-traced');
      await page.fill('#item', 'Traced lamp');
      await page.fill('#price', '20');
      await page.fill('#quantity', '1');
      await page.fill('#order-id', pageOrder);
      await page.click('#place-order');
      const card = page.locator(`article.order[data-order-id="${pageOrder}"]`);
      await card.locator('[data-role="trace-link"]:not([hidden])').waitFor({ timeout: 30_000 });
      await expect(card.locator('[data-role="trace-link"]').getAttribute('href')).resolves.toBe(
        traceLink(await exportedTraceOf(pageOrder)),
      );
      // Ends here, so the order does not run on past this file's processes.
      await page
        .locator(`article.order[data-order-id="${pageOrder}"][data-status="COMPLETED"]`)
        .waitFor({ timeout: 360_000 });
    } finally {
      await browser.close();
    }
  }, 600_000);
});
