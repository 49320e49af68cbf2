/**
 * Places one order and screenshots its run in the Temporal UI, decoded through the codec server, into
 * docs/temporal-ui-decoded.png (Debian's Chromium through playwright-core):
 *
 *   npx tsx tools/dev/ui-decoded-screenshot.ts [out.png]
 *
 * With `npm start` running (gateway, bridge, worker, codec server; the dev server's UI told about the
 * codec server). The gateway, the UI and the codec server are found from the same settings npm start
 * reads (GATEWAY_PORT, TEMPORAL_UI_URL / ORDERS_TEMPORAL_UI_PORT, CODEC_SERVER_PORT). Before the
 * browser opens anything it checks that the codec server grants the UI's origin its preflight and
 * that the UI names the codec server as its codec endpoint; then it waits for the order to complete,
 * checks that Temporal holds the run's payloads sealed (its history, read without a codec, does not
 * name the item), opens the run's page and waits until the item is on it, decoded, before saving.
 */
import * as path from 'node:path';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { codecServerSettingsOf, loadConfig, PROJECT_ROOT } from '../../common/config';
import { temporalConnection } from '../../common/connections';
import { readEnv } from '../../common/env-variables';

const ITEM = 'Mechanical Keyboard';

/** Sends one placeOrder and resolves with its workflow id once the order is COMPLETED (or fails on an error frame). */
function placeAndFollow(url: string, orderId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 10_000 });
    let workflowId = '';
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`order ${orderId} did not complete within 60 s`));
    }, 60_000);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      ws.close();
      if (err) reject(err);
      else resolve(workflowId);
    };
    ws.on('open', () =>
      ws.send(JSON.stringify({ event: 'placeOrder', data: { orderId, item: ITEM, price: 150, quantity: 1 } })),
    );
    ws.on('message', (raw: Buffer) => {
      const frame = JSON.parse(raw.toString()) as { event: string; data: Record<string, unknown> };
      if (frame.event === 'orderAccepted') workflowId = String(frame.data.workflowId);
      if (frame.event === 'error') done(new Error(`gateway: ${JSON.stringify(frame.data)}`));
      if (frame.event === 'orderStatus' && frame.data.status === 'COMPLETED') done();
      else if (
        frame.event === 'orderStatus' &&
        ['REJECTED', 'PAYMENT_DECLINED', 'FAILED', 'CANCELLED'].includes(String(frame.data.status))
      )
        done(new Error(`order ${orderId} ended ${String(frame.data.status)}`));
    });
    ws.on('error', (err) => done(err));
  });
}

/**
 * Throws when the run's history, read from Temporal without any codec, names the item: then the UI
 * would show it without the codec server, and the screenshot would prove nothing.
 */
async function checkSealed(config: ReturnType<typeof loadConfig>, workflowId: string): Promise<void> {
  const connection = await temporalConnection(config);
  try {
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    // The history as Temporal stores it, in protobuf bytes: a payload in clear holds the item's UTF-8 as is.
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    if (raw.includes(ITEM))
      throw new Error(`the history of ${workflowId} holds "${ITEM}" in clear: payload encryption is off`);
  } finally {
    await connection.close();
  }
}

/** Throws unless the codec server grants `uiOrigin` the preflight the UI sends before each decode. */
async function checkCodecServer(endpoint: string, uiOrigin: string): Promise<void> {
  const res = await fetch(`${endpoint}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: uiOrigin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace',
    },
    signal: AbortSignal.timeout(5_000),
  });
  if (res.status !== 204 || res.headers.get('access-control-allow-origin') !== uiOrigin)
    throw new Error(`the codec server at ${endpoint} does not grant ${uiOrigin} (preflight answered ${res.status})`);
}

/** Throws unless the UI's settings name `endpoint` as its codec endpoint (the dev server's --ui-codec-endpoint). */
async function checkUiEndpoint(ui: string, endpoint: string): Promise<void> {
  const res = await fetch(`${ui}/api/v1/settings`, { signal: AbortSignal.timeout(5_000) });
  const settings = (await res.json()) as { Codec?: { Endpoint?: string } };
  if (settings.Codec?.Endpoint !== endpoint)
    throw new Error(
      `the Temporal UI at ${ui} decodes through ${JSON.stringify(settings.Codec?.Endpoint)}, not ${endpoint}`,
    );
}

async function main(): Promise<void> {
  const out = process.argv[2] ?? path.join(PROJECT_ROOT, 'docs', 'temporal-ui-decoded.png');
  const config = loadConfig();
  const ui = config.temporalUiUrl.replace(/\/+$/, '');
  const endpoint = `http://127.0.0.1:${codecServerSettingsOf(readEnv()).port}`;
  await checkCodecServer(endpoint, new URL(ui).origin);
  await checkUiEndpoint(ui, endpoint);
  const orderId = `ui-${Date.now().toString(36)}`;
  const workflowId = await placeAndFollow(`ws://127.0.0.1:${config.gatewayPort}`, orderId);
  console.log(`order ${orderId} completed as ${workflowId}`);
  await checkSealed(config, workflowId);
  console.log(`its history in Temporal does not name "${ITEM}" (sealed payloads)`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1100 } });
    const decodes: number[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${endpoint}/decode`)) decodes.push(r.status());
    });
    await page.goto(`${ui}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(workflowId)}`, {
      waitUntil: 'networkidle',
      timeout: 60_000,
    });
    // The run's input, decoded by the codec server, names the item.
    await page.getByText(ITEM).first().waitFor({ timeout: 60_000 });
    if (!decodes.length || decodes.some((s) => s !== 200))
      throw new Error(`the UI's calls to ${endpoint}/decode answered ${JSON.stringify(decodes)}`);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`${decodes.length} decode calls answered 200; wrote ${path.relative(PROJECT_ROOT, out)}`);
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
