// The page (Debian chromium via playwright-core) and the CLI against a gateway in JWT mode, on the
// whole pipeline: the page sends its token as a subprotocol (from #token=…), the CLI as a Bearer
// header (--token / ORDER_TOKEN); both place an order and follow it to COMPLETED, without a token they cannot connect.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { Browser, chromium } from 'playwright-core';
import { EXIT, Output, runCli } from '../../cli/order';
import { workflowIdFor } from '../../common/order';
import { jwtAuth } from '../../gateway/auth';
import { startStack, Stack } from '../helpers/stack';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH)`);
  stack = await startStack({ stepDelayMs: 100, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }) } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const uniqueId = (prefix: string): string => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

function capture(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

test('the page opened with #token=… connects, places an order as that customer and shows it COMPLETED', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const token = await customerToken('page-customer');
  await page.goto(`http://127.0.0.1:${stack.gateway.port}/#token=${token}`);
  await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
  // The token left the address bar (it stays in this tab's sessionStorage).
  expect(page.url()).not.toContain(token);

  const orderId = uniqueId('tokpage');
  await page.fill('#item', 'Mechanical Keyboard');
  await page.fill('#price', '150');
  await page.fill('#quantity', '1');
  await page.fill('#order-id', orderId);
  await page.click('#place-order');
  await page.locator(`article.order[data-order-id="${orderId}"][data-status="COMPLETED"]`).waitFor({ timeout: 60_000 });
  const description = await stack.client.workflow.getHandle(workflowIdFor(orderId)).describe();
  expect((description.memo as { order: { customerId?: string } }).order.customerId).toBe('page-customer');
  expect(pageErrors).toEqual([]);
  await context.close();
});

test('the page without a token cannot connect', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${stack.gateway.port}/`);
  await page.locator('#connection[data-state="closed"]').waitFor({ timeout: 15_000 });
  await context.close();
});

test('the CLI with --token places and follows an order to COMPLETED; without one it cannot connect (exit 9)', async () => {
  const orderId = uniqueId('tokcli');
  const token = await customerToken('cli-customer');
  const ok = capture();
  expect(
    await runCli(
      ['--url', stack.url, '--item', 'USB cable', '--price', '9.5', '--order-id', orderId, '--token', token],
      ok,
    ),
  ).toBe(EXIT.completed);
  expect(ok.lines.at(-1)).toMatch(new RegExp(`order ${orderId} COMPLETED`));
  const description = await stack.client.workflow.getHandle(workflowIdFor(orderId)).describe();
  expect((description.memo as { order: { customerId?: string } }).order.customerId).toBe('cli-customer');

  // --follow with another customer's token: the order is not theirs, so it is never found.
  const other = capture();
  const otherToken = await customerToken('someone-else');
  expect(
    await runCli(['--url', stack.url, '--follow', orderId, '--token', otherToken, '--timeout', '5'], other),
  ).not.toBe(EXIT.completed);

  const refused = capture();
  expect(await runCli(['--url', stack.url, '--item', 'USB cable', '--price', '9.5'], refused)).toBe(EXIT.connection);
  expect(refused.errors.join('\n') + refused.lines.join('\n')).toMatch(/401/);
});
