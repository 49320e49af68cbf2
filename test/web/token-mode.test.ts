// The page (Debian chromium via playwright-core) and the CLI against a gateway in JWT mode, on the
// whole pipeline: the page sends its token as a subprotocol (from #token=…), the CLI as a Bearer
// header (--token / ORDER_TOKEN); both place an order and follow it to COMPLETED, without a token they cannot connect.
import type { Browser } from 'playwright-core';
import { EXIT, runCli } from '../../cli/order';
import { workflowIdFor } from '../../common/order';
import { jwtAuth } from '../../gateway/auth';
import { launchChromium } from '../helpers/browser';
import { captureOutput } from '../helpers/cli-output';
import { startStack, Stack } from '../helpers/in-process-pipeline';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { uniqueId } from '../helpers/wait';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack({ stepDelayMs: 100, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }) } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('page and CLI against a gateway in JWT mode', () => {
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
    await page
      .locator(`article.order[data-order-id="${orderId}"][data-status="COMPLETED"]`)
      .waitFor({ timeout: 60_000 });
    const description = await stack.client.workflow
      .getHandle(workflowIdFor({ orderId, customerId: 'page-customer', idScope: 'customer' }))
      .describe();
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
    const ok = captureOutput();
    expect(
      await runCli(
        ['--url', stack.url, '--item', 'USB cable', '--price', '9.5', '--order-id', orderId, '--token', token],
        ok,
      ),
    ).toBe(EXIT.completed);
    expect(ok.lines.at(-1)).toMatch(new RegExp(`order ${orderId} COMPLETED`));
    const description = await stack.client.workflow
      .getHandle(workflowIdFor({ orderId, customerId: 'cli-customer', idScope: 'customer' }))
      .describe();
    expect((description.memo as { order: { customerId?: string } }).order.customerId).toBe('cli-customer');

    // --follow with another customer's token: the order is not theirs, so it is never found.
    const other = captureOutput();
    const otherToken = await customerToken('someone-else');
    expect(
      await runCli(['--url', stack.url, '--follow', orderId, '--token', otherToken, '--timeout', '5'], other),
    ).not.toBe(EXIT.completed);

    const refused = captureOutput();
    expect(await runCli(['--url', stack.url, '--item', 'USB cable', '--price', '9.5'], refused)).toBe(EXIT.connection);
    expect(refused.errors.join('\n') + refused.lines.join('\n')).toMatch(/401/);
  });
});
