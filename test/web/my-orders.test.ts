// The page's "My orders" list in a real browser (Debian chromium via playwright-core), against the
// whole pipeline in JWT mode (gateway -> Kafka -> bridge -> Temporal -> worker, status events back)
// and a real PostgreSQL order history fed from the same topics by the history's projection: the
// caller's orders newest first, moving live, the open / finished filter, More following the cursor,
// another customer's empty list, and HISTORY_UNAVAILABLE with a Retry that works.
import type { Kysely } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { jwtAuth } from '../../gateway/auth';
import type { OrderHistory } from '../../gateway/list-orders';
import { OrderProducer } from '../../gateway/order-producer';
import { startGateway, type Gateway } from '../../gateway/server';
import { startProjection, type Projection } from '../../history/consumer';
import { listOrders } from '../../history/list';
import { migrate, openHistoryDb, type HistoryDb } from '../../history/store';
import { launchChromium } from '../helpers/browser';
import { holdOrderAt, startStack, type Stack } from '../helpers/in-process-pipeline';
import { testDatabase, type TestDatabase } from '../helpers/postgres';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { uniqueId } from '../helpers/wait';
import { TestClient } from '../helpers/ws-client';

const STEP_TIMEOUT_MS = 60_000;

let database: TestDatabase;
let db: Kysely<HistoryDb>;
let stack: Stack;
let projection: Projection;
let browser: Browser;
const pageErrors: string[] = [];
const history: OrderHistory = { list: (customerId, options) => listOrders(db, customerId, options) };
/** Customers of this run (fresh names: the history database is the file's, but ids stay readable). */
const alice = uniqueId('alice');
const bob = uniqueId('bob');
const erin = uniqueId('erin');
/** Alice's two orders, placed in the first test and listed again in later ones. */
const first = uniqueId('lamp');
const second = uniqueId('keyboard');

beforeAll(async () => {
  database = await testDatabase();
  db = openHistoryDb(database.url);
  await migrate(db);
  stack = await startStack({ stepDelayMs: 100, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }), history } });
  projection = await startProjection({
    kafka: stack.kafka,
    db,
    groupId: uniqueId('history'),
    placementTopic: stack.topic,
    statusTopic: stack.statusTopic,
  });
  browser = await launchChromium();
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

/** A fresh browser context (its own storage: another device) on `gateway` as `customerId`, connected. */
async function openPage(customerId: string, gateway: Gateway = stack.gateway): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`http://127.0.0.1:${gateway.port}/#token=${await customerToken(customerId)}`);
  await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
  return page;
}

const row = (page: Page, orderId: string) => page.locator(`#my-orders-list > li[data-order-id="${orderId}"]`);

/** The order ids the list shows, top to bottom. */
const listed = (page: Page): Promise<string[]> =>
  page.locator('#my-orders-list > li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-order-id') ?? ''));

/** Waits until the list has answered (its first page, or a next one) and shows it. */
const ready = (page: Page) => page.locator('#my-orders[data-state="ready"]').waitFor({ timeout: 15_000 });

/** Waits until `orderId`'s row shows `status`. */
const rowStatus = (page: Page, orderId: string, status: string) =>
  page
    .locator(`#my-orders-list > li[data-order-id="${orderId}"][data-status="${status}"]`)
    .waitFor({ timeout: STEP_TIMEOUT_MS });

/** Picks a filter and waits for the list's answer under it. */
async function showOnly(page: Page, filter: 'all' | 'open' | 'finished'): Promise<void> {
  await page.click(`#my-orders-filter button[data-filter="${filter}"]`);
  await page.locator(`#my-orders[data-filter="${filter}"][data-state="ready"]`).waitFor({ timeout: 15_000 });
}

async function placeThroughForm(page: Page, order: { orderId: string; item: string; price: number; quantity: number }) {
  await page.fill('#item', order.item);
  await page.fill('#price', String(order.price));
  await page.fill('#quantity', String(order.quantity));
  await page.fill('#order-id', order.orderId);
  await page.click('#place-order');
}

describe('"My orders" on the page', () => {
  test('orders placed through the page are listed newest first, their rows follow the status events, and the filter shows open / finished', async () => {
    const page = await openPage(alice);
    await ready(page);
    await expect(listed(page)).resolves.toEqual([]);

    // Both orders are held at validation: they stay open (VALIDATING) until the test lets each go on.
    const heldFirst = holdOrderAt(stack, 'validate', first);
    const heldSecond = holdOrderAt(stack, 'validate', second);
    await placeThroughForm(page, { orderId: first, item: 'Desk lamp', price: 30, quantity: 2 });
    await row(page, first).waitFor({ timeout: 15_000 });
    await placeThroughForm(page, { orderId: second, item: 'Mechanical Keyboard', price: 150, quantity: 1 });
    await row(page, second).waitFor({ timeout: 15_000 });
    await expect(listed(page)).resolves.toEqual([second, first]);
    await expect(row(page, first).locator('[data-role="item"]').textContent()).resolves.toBe('Desk lamp');
    await expect(row(page, first).locator('[data-role="amount"]').textContent()).resolves.toBe('2 × 30.00 = 60.00');
    await expect(row(page, first).locator('time[data-role="placed"]').getAttribute('datetime')).resolves.toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );
    await Promise.all([heldFirst.reached, heldSecond.reached]);
    await rowStatus(page, first, 'VALIDATING');
    await rowStatus(page, second, 'VALIDATING');

    // The filter is the gateway's (the history has read everything published so far).
    await projection.caughtUp();
    await showOnly(page, 'finished');
    await expect(listed(page)).resolves.toEqual([]);
    await expect(page.locator('#my-orders-empty').textContent()).resolves.toMatch(/No finished orders/);
    await showOnly(page, 'open');
    await expect(listed(page)).resolves.toEqual([second, first]);

    // A status event of one order moves its row, and only its row.
    heldSecond.open();
    await rowStatus(page, second, 'COMPLETED');
    await expect(row(page, second).locator('[data-role="status"]').textContent()).resolves.toBe('Completed');
    await expect(row(page, first).getAttribute('data-status')).resolves.toBe('VALIDATING');

    await projection.caughtUp();
    await showOnly(page, 'finished');
    await expect(listed(page)).resolves.toEqual([second]);
    await showOnly(page, 'open');
    await expect(listed(page)).resolves.toEqual([first]);
    await showOnly(page, 'all');
    await expect(listed(page)).resolves.toEqual([second, first]);

    // After a reload the list is the history's alone (nothing placed in this page load).
    await page.reload();
    await ready(page);
    await expect(listed(page)).resolves.toEqual([second, first]);
    await expect(row(page, second).getAttribute('data-status')).resolves.toBe('COMPLETED');
    await expect(row(page, first).getAttribute('data-status')).resolves.toBe('VALIDATING');

    // Another device of the same customer lists both and follows the open one: it moves there too.
    const elsewhere = await openPage(alice);
    await ready(elsewhere);
    await expect(listed(elsewhere)).resolves.toEqual([second, first]);
    await expect(elsewhere.locator('article.order').count()).resolves.toBe(0); // nothing placed from that device
    heldFirst.open();
    await rowStatus(elsewhere, first, 'COMPLETED');
    await rowStatus(page, first, 'COMPLETED');
  });

  test("another customer's page says there are no orders yet", async () => {
    const page = await openPage(bob);
    await ready(page);
    await expect(listed(page)).resolves.toEqual([]);
    await expect(page.locator('#my-orders-empty').isVisible()).resolves.toBe(true);
    await expect(page.locator('#my-orders-empty').textContent()).resolves.toMatch(/^No orders yet/);
    await expect(page.locator('#my-orders-more').isVisible()).resolves.toBe(false);
    // Alice's orders are in the history, under her name only.
    expect((await listOrders(db, alice)).orders.map((o) => o.orderId)).toEqual([second, first]);
  });

  test('More follows the cursor: the next page goes below, newest first, until the last page', async () => {
    // Twelve orders placed elsewhere (a raw WebSocket client as erin), more than a page of the list.
    const client = await TestClient.connect(stack.url, { token: await customerToken(erin) });
    try {
      for (let i = 0; i < 12; i++)
        expect((await client.placeOrder({ orderId: uniqueId(`erin${i}`), item: `Cable ${i}`, price: 5 })).event).toBe(
          'orderAccepted',
        );
    } finally {
      await client.close();
    }
    await projection.caughtUp();
    const expected = (await listOrders(db, erin)).orders.map((o) => o.orderId);
    expect(expected).toHaveLength(12);

    const page = await openPage(erin);
    await ready(page);
    const pageSize = (await listed(page)).length;
    expect(pageSize).toBeGreaterThan(0);
    expect(pageSize).toBeLessThan(12);
    await expect(listed(page)).resolves.toEqual(expected.slice(0, pageSize));
    const more = page.locator('#my-orders-more');
    await expect(more.isVisible()).resolves.toBe(true);
    while (await more.isVisible()) {
      const before = (await listed(page)).length;
      await more.click();
      await page.locator('#my-orders-list > li').nth(before).waitFor({ timeout: 15_000 });
      await ready(page);
    }
    await expect(listed(page)).resolves.toEqual(expected);
  });

  test('a history that does not answer: the list says so with a Retry button (no toast), and Retry lists the orders once it answers', async () => {
    const down = openHistoryDb('postgresql://nobody@127.0.0.1:1/none');
    let answering = false;
    const producer = new OrderProducer(stack.kafka, 5_000, stack.topic);
    await producer.connect();
    const gateway = await startGateway({
      port: 0,
      producer,
      auth: jwtAuth({ secret: TEST_JWT_SECRET }),
      history: { list: (customerId, options) => listOrders(answering ? db : down, customerId, options) },
      log: () => undefined,
    });
    try {
      const page = await openPage(alice, gateway);
      const hint = page.locator('#my-orders-unavailable');
      await page.locator('#my-orders[data-state="unavailable"]').waitFor({ timeout: 15_000 });
      await expect(hint.isVisible()).resolves.toBe(true);
      await expect(hint.getAttribute('data-error-code')).resolves.toBe('HISTORY_UNAVAILABLE');
      await expect(hint.textContent()).resolves.toMatch(/unavailable right now.*retry/is);
      await expect(page.locator('#my-orders-empty').isVisible()).resolves.toBe(false);
      await expect(page.locator('#errors .error').count()).resolves.toBe(0);

      answering = true;
      await page.click('#my-orders-retry');
      await ready(page);
      await expect(hint.isVisible()).resolves.toBe(false);
      await expect(listed(page)).resolves.toEqual([second, first]);
    } finally {
      await gateway.close();
      await producer.disconnect();
      await down.destroy();
    }
  });
});
