// The orders page in a real browser (Debian chromium via playwright-core) against the whole pipeline:
// page -> gateway -> Kafka -> bridge -> Temporal dev server -> worker, and status events back to the page;
// with the order history (a real PostgreSQL) behind "My orders", as `npm start` runs it
// (test/web/my-orders.test.ts tests that list).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Kysely } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { workflowIdFor } from '../../common/order';
import { FINAL_STATUSES } from '../../common/status';
import { startProjection, type Projection } from '../../history/consumer';
import { listOrders } from '../../history/list';
import { migrate, openHistoryDb, type HistoryDb } from '../../history/store';
import { launchChromium } from '../helpers/browser';
import { holdOrderAt, startStack, Stack } from '../helpers/in-process-pipeline';
import { testDatabase, type TestDatabase } from '../helpers/postgres';
import { uniqueId, waitUntil } from '../helpers/wait';

/** The README's screenshot is rewritten only when asked (UPDATE_SCREENSHOTS=1); otherwise it goes to a temp dir. */
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS
  ? path.join(__dirname, '..', '..', 'docs', 'page.png')
  : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orders-page-')), 'page.png');
const STEP_DELAY_MS = 1500;
const FINAL_TIMEOUT_MS = 60_000;

let stack: Stack;
let database: TestDatabase;
let db: Kysely<HistoryDb>;
let projection: Projection;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let httpUrl: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  database = await testDatabase();
  db = openHistoryDb(database.url);
  await migrate(db);
  stack = await startStack({
    stepDelayMs: STEP_DELAY_MS,
    gateway: { history: { list: (customerId, options) => listOrders(db, customerId, options) } },
  });
  projection = await startProjection({
    kafka: stack.kafka,
    db,
    groupId: `history-${stack.topic}`,
    placementTopic: stack.topic,
    statusTopic: stack.statusTopic,
  });
  httpUrl = `http://127.0.0.1:${stack.gateway.port}/`;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(httpUrl);
  await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
});

afterAll(async () => {
  await browser?.close();
  await projection?.stop();
  await stack?.stop();
  await db?.destroy();
  await database?.stop();
});

afterEach(() => {
  expect(pageErrors).toEqual([]);
});

const card = (orderId: string) => page.locator(`article.order[data-order-id="${orderId}"]`);

async function placeThroughForm(order: {
  orderId: string;
  item: string;
  price: number;
  quantity?: number;
}): Promise<void> {
  await page.fill('#item', order.item);
  await page.fill('#price', String(order.price));
  await page.fill('#quantity', String(order.quantity ?? 1));
  await page.fill('#order-id', order.orderId);
  await page.click('#place-order');
}

/** The statuses shown in an order's step list, in order. */
async function stepStatuses(orderId: string): Promise<string[]> {
  return card(orderId)
    .locator('[data-role="steps"] li[data-step-status]')
    .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-step-status') ?? ''));
}

async function stepSeqs(orderId: string): Promise<number[]> {
  return card(orderId)
    .locator('[data-role="steps"] li[data-seq]')
    .evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-seq'))));
}

describe('orders page in Chromium', () => {
  test('the gateway serves the page and its config', async () => {
    await expect(page.title()).resolves.toMatch(/Orders/);
    const config = (await (await fetch(new URL('/config.json', httpUrl))).json()) as {
      temporalUiUrl: string;
      namespace: string;
    };
    expect(typeof config.temporalUiUrl).toBe('string');
    expect(typeof config.namespace).toBe('string');
    await expect(page.locator('#order-form').isVisible()).resolves.toBe(true);
  });

  test('an order placed through the form shows its steps as they happen and reaches COMPLETED', async () => {
    const orderId = uniqueId('page');
    await placeThroughForm({ orderId, item: 'Mechanical Keyboard', price: 150 });

    // It appears at once, then its steps arrive while it runs.
    await card(orderId).waitFor({ timeout: 10_000 });
    await card(orderId).locator('li[data-step-status="VALIDATED"]').waitFor({ timeout: FINAL_TIMEOUT_MS });
    expect(await card(orderId).getAttribute('data-status')).not.toBe('COMPLETED');

    await page
      .locator(`article.order[data-order-id="${orderId}"][data-status="COMPLETED"]`)
      .waitFor({ timeout: FINAL_TIMEOUT_MS });
    const statuses = await stepStatuses(orderId);
    expect(statuses).toEqual(expect.arrayContaining(['ACCEPTED', 'VALIDATED', 'CHARGED', 'SHIPPED', 'COMPLETED']));
    expect(statuses.indexOf('VALIDATED')).toBeLessThan(statuses.indexOf('CHARGED'));
    expect(statuses.indexOf('CHARGED')).toBeLessThan(statuses.indexOf('SHIPPED'));
    expect(statuses.at(-1)).toBe('COMPLETED');
    const seqs = await stepSeqs(orderId);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // in order, no gaps, no repeats

    await expect(card(orderId).locator('[data-action="cancel"]').isDisabled()).resolves.toBe(true);
    const config = await page.evaluate(() =>
      (
        globalThis as unknown as { ordersPage: { config(): { temporalUiUrl: string; namespace: string } } }
      ).ordersPage.config(),
    );
    const href = await card(orderId).locator('[data-role="temporal-link"]').getAttribute('href');
    expect(href).toBe(
      `${config.temporalUiUrl}/namespaces/${config.namespace}/workflows/${encodeURIComponent(workflowIdFor({ orderId: orderId }))}`,
    );
    expect(stack.ledgerLines(orderId).map((e) => e.kind)).toEqual(['charge']);
  });

  test('the Cancel button cancels an order while it is being charged: refunded once, and the page shows CANCELLED', async () => {
    const orderId = uniqueId('cancel');
    const held = holdOrderAt(stack, 'charge', orderId);
    await placeThroughForm({ orderId, item: 'Standing desk', price: 420 });
    const cancel = card(orderId).locator('[data-action="cancel"]');
    // Held at the payment provider: the order stays CHARGING until the cancel is in.
    await held.reached;
    await page
      .locator(`article.order[data-order-id="${orderId}"][data-status="CHARGING"]`)
      .waitFor({ timeout: FINAL_TIMEOUT_MS });
    await expect(cancel.isEnabled()).resolves.toBe(true);
    await cancel.click();
    await waitUntil(
      async () => {
        const history = await stack.client.workflow.getHandle(workflowIdFor({ orderId: orderId })).fetchHistory();
        return (history.events ?? []).some((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      },
      { what: 'the cancel to reach the workflow' },
    );
    held.open();

    await page
      .locator(`article.order[data-order-id="${orderId}"][data-status="CANCELLED"]`)
      .waitFor({ timeout: FINAL_TIMEOUT_MS });
    const statuses = await stepStatuses(orderId);
    expect(statuses).not.toContain('SHIPPING');
    expect(statuses).toContain('CHARGED');
    expect(statuses.at(-1)).toBe('CANCELLED');
    await expect(cancel.isDisabled()).resolves.toBe(true);
    await expect(page.locator(`#errors .error[data-order-id="${orderId}"]`).count()).resolves.toBe(0);
    // The charge was refunded, once (raw ledger lines).
    expect(stack.ledgerLines(orderId).map((e) => e.kind)).toEqual(['charge', 'refund']);
  });

  test('after a reload the page re-subscribes and shows the rest of the steps, none twice', async () => {
    const orderId = uniqueId('reload');
    await placeThroughForm({ orderId, item: 'Monitor arm', price: 80 });
    await page
      .locator(`article.order[data-order-id="${orderId}"] li[data-step-status="VALIDATED"]`)
      .waitFor({ timeout: FINAL_TIMEOUT_MS });

    await page.reload();
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
    // The earlier orders are still listed (from localStorage).
    await expect(page.locator('article.order').count()).resolves.toBeGreaterThanOrEqual(3);

    await page
      .locator(`article.order[data-order-id="${orderId}"][data-status="COMPLETED"]`)
      .waitFor({ timeout: FINAL_TIMEOUT_MS });
    const statuses = await stepStatuses(orderId);
    expect(new Set(statuses).size).toBe(statuses.length);
    expect(statuses).toEqual(expect.arrayContaining(['VALIDATED', 'CHARGED', 'SHIPPED', 'COMPLETED']));
    const seqs = await stepSeqs(orderId);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  test('an error frame from the gateway is shown clearly, and nothing is added to the list', async () => {
    const orderId = uniqueId('bad');
    const before = await page.locator('article.order').count();
    await placeThroughForm({ orderId, item: 'Gold-plated cable', price: 2_000_000 }); // above MAX_PRICE

    const error = page.locator(`#errors .error[data-error-code="INVALID_ORDER"][data-order-id="${orderId}"]`);
    await error.waitFor({ timeout: 10_000 });
    await expect(error.getAttribute('data-field')).resolves.toBe('price');
    await expect(error.textContent()).resolves.toMatch(/price/);
    await expect(page.locator('#form-error').isVisible()).resolves.toBe(true);
    await expect(page.locator('#price').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(card(orderId).count()).resolves.toBe(0);
    await expect(page.locator('article.order').count()).resolves.toBe(before);
  });

  test('screenshot of the page with finished orders', async () => {
    // A declined one too, so the screenshot shows a failure next to the successes.
    const declined = uniqueId('declined');
    await placeThroughForm({ orderId: declined, item: 'Grand piano', price: 6000 });
    await page
      .locator(`article.order[data-order-id="${declined}"][data-status="PAYMENT_DECLINED"]`)
      .waitFor({ timeout: FINAL_TIMEOUT_MS });
    const statuses = await page
      .locator('article.order')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-status') ?? ''));
    expect(statuses.every((s) => (FINAL_STATUSES as readonly string[]).includes(s))).toBe(true);
    // "My orders", asked again once the history has read everything: none open; all of them are the
    // orders of the cards, in the same order, with the same statuses.
    await projection.caughtUp();
    for (const filter of ['open', 'all']) {
      await page.click(`#my-orders-filter button[data-filter="${filter}"]`);
      await page.locator(`#my-orders[data-filter="${filter}"][data-state="ready"]`).waitFor({ timeout: 15_000 });
      if (filter === 'open') await expect(page.locator('#my-orders-list > li').count()).resolves.toBe(0);
    }
    const shown = (selector: string) =>
      page
        .locator(selector)
        .evaluateAll((els) => els.map((el) => `${el.getAttribute('data-order-id')} ${el.getAttribute('data-status')}`));
    await expect(shown('#my-orders-list > li')).resolves.toEqual(await shown('article.order'));

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });
});
