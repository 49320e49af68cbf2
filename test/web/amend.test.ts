// Amend on the page, in a real browser (Debian chromium via playwright-core) against the whole
// pipeline (gateway -> Kafka -> bridge -> Temporal dev server -> worker, status events back), no-auth
// mode: an amendment before payment shows on the card and is charged once at the amended amount
// (the simulated ledger's raw lines); another client's amendment reaches the card by its AMENDED
// push; a resend after a lost connection carries the same amendment id (one amendment); Amend is
// disabled once CHARGING began; CANNOT_AMEND and INVALID_REQUEST are shown. No wall-clock race: an
// order is held at a provider (holdOrderAt) until what the test needs has reached its workflow.
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { workflowIdFor } from '../../common/order';
import { launchChromium } from '../helpers/browser';
import { holdOrderAt, startStack, type Stack } from '../helpers/in-process-pipeline';
import { uniqueId, waitUntil } from '../helpers/wait';
import { TestClient } from '../helpers/ws-client';

const STEP_TIMEOUT_MS = 60_000;

let stack: Stack;
let browser: Browser;
const pageErrors: string[] = [];
/** amendOrder frames each page sent, by order id. */
const amendsSent = new Map<string, Array<Record<string, unknown>>>();

beforeAll(async () => {
  stack = await startStack({ stepDelayMs: 500 });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

afterEach(() => {
  expect(pageErrors).toEqual([]);
});

/**
 * A fresh page (its own storage) on the stack's gateway, connected; every amendOrder it sends is
 * kept in amendsSent. `route`: sits between the page and the gateway (to drop frames).
 */
async function openPage(route?: (ws: WebSocketRoute) => void): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('websocket', (ws) =>
    ws.on('framesent', (f) => {
      const frame = JSON.parse(String(f.payload)) as { event: string; data: Record<string, unknown> };
      if (frame.event !== 'amendOrder') return;
      const orderId = String(frame.data.orderId);
      amendsSent.set(orderId, [...(amendsSent.get(orderId) ?? []), frame.data]);
    }),
  );
  if (route) await page.routeWebSocket(/.*/, route);
  await page.goto(`http://127.0.0.1:${stack.gateway.port}/`);
  await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
  return page;
}

const card = (page: Page, orderId: string) => page.locator(`article.order[data-order-id="${orderId}"]`);
const amendButton = (page: Page, orderId: string) => card(page, orderId).locator('[data-action="amend"]');
const field = (page: Page, orderId: string, name: string) =>
  card(page, orderId).locator(`form[data-role="amend-form"] input[data-field="${name}"]`);

async function placeThroughForm(page: Page, order: { orderId: string; item: string; price: number; quantity: number }) {
  await page.fill('#item', order.item);
  await page.fill('#price', String(order.price));
  await page.fill('#quantity', String(order.quantity));
  await page.fill('#order-id', order.orderId);
  await page.click('#place-order');
}

/** Waits until the card shows `status` (as its current status). */
const cardStatus = (page: Page, orderId: string, status: string) =>
  page
    .locator(`article.order[data-order-id="${orderId}"][data-status="${status}"]`)
    .waitFor({ timeout: STEP_TIMEOUT_MS });

/** Opens the card's amend form, types the values given, and saves. */
async function amendThroughForm(
  page: Page,
  orderId: string,
  values: { item?: string; price?: number; quantity?: number },
) {
  await amendButton(page, orderId).click();
  for (const [name, value] of Object.entries(values)) await field(page, orderId, name).fill(String(value));
  await card(page, orderId).locator('[data-role="amend-send"]').click();
}

/** The statuses of the card's steps, in order. */
const stepStatuses = (page: Page, orderId: string): Promise<string[]> =>
  card(page, orderId)
    .locator('[data-role="steps"] li[data-step-status]')
    .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-step-status') ?? ''));

const summary = (page: Page, orderId: string) => card(page, orderId).locator('[data-role="summary"]').textContent();

/** Resolves once `count` updates (amend or cancel) were accepted by the order's workflow. */
async function updatesAccepted(orderId: string, count: number): Promise<void> {
  await waitUntil(async () => (await acceptedUpdates(orderId)) >= count, {
    timeoutMs: 30_000,
    what: `${count} update(s) of ${orderId} to be accepted`,
  });
}

async function acceptedUpdates(orderId: string): Promise<number> {
  const history = await stack.client.workflow.getHandle(workflowIdFor({ orderId })).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}

const ledger = (orderId: string): Array<[string, number]> => stack.ledgerLines(orderId).map((e) => [e.kind, e.amount]);

describe('Amend on the page', () => {
  test('amended before payment: the form is prefilled, the card shows the new values and amount, they stay after a reload, and the amended amount is charged once', async () => {
    const page = await openPage();
    const orderId = uniqueId('amend');
    const held = holdOrderAt(stack, 'validate', orderId);
    await placeThroughForm(page, { orderId, item: 'Keyboard', price: 150, quantity: 1 });
    await held.reached;
    await cardStatus(page, orderId, 'VALIDATING');

    await amendButton(page, orderId).click();
    await expect(field(page, orderId, 'item').inputValue()).resolves.toBe('Keyboard');
    await expect(field(page, orderId, 'price').inputValue()).resolves.toBe('150');
    await expect(field(page, orderId, 'quantity').inputValue()).resolves.toBe('1');
    await field(page, orderId, 'item').fill('Split keyboard');
    await field(page, orderId, 'price').fill('180');
    await field(page, orderId, 'quantity').fill('2');
    await card(page, orderId).locator('[data-role="amend-send"]').click();
    await updatesAccepted(orderId, 1); // the amendment waits in the workflow for the validation
    held.open();

    await card(page, orderId).locator('li[data-step-status="AMENDED"]').waitFor({ timeout: STEP_TIMEOUT_MS });
    await waitUntil(async () => (await summary(page, orderId))?.startsWith('2 × Split keyboard'), {
      what: 'the amended values on the card',
    });
    await expect(summary(page, orderId)).resolves.toBe('2 × Split keyboard at 180.00 = 360.00');
    await expect(card(page, orderId).locator('form[data-role="amend-form"]').isHidden()).resolves.toBe(true);
    await cardStatus(page, orderId, 'COMPLETED');
    expect((await stepStatuses(page, orderId)).filter((s) => s === 'AMENDED')).toHaveLength(1);
    expect(ledger(orderId)).toEqual([['charge', 360]]);
    await expect(amendButton(page, orderId).isDisabled()).resolves.toBe(true);

    await page.reload();
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
    await expect(summary(page, orderId)).resolves.toBe('2 × Split keyboard at 180.00 = 360.00');
    await page.context().close();
  });

  test("another client's amendment reaches the card by its AMENDED push", async () => {
    const page = await openPage();
    const orderId = uniqueId('pushed');
    const held = holdOrderAt(stack, 'validate', orderId);
    await placeThroughForm(page, { orderId, item: 'Lamp', price: 40, quantity: 1 });
    await held.reached;
    const other = await TestClient.connect(stack.url);
    try {
      other.send({ event: 'amendOrder', data: { orderId, amendmentId: 'other-device', quantity: 3 } });
      await updatesAccepted(orderId, 1);
      held.open();
      await other.waitFor((f) => f.event === 'orderAmended' && f.data.orderId === orderId, STEP_TIMEOUT_MS);
    } finally {
      await other.close();
    }
    await cardStatus(page, orderId, 'COMPLETED');
    await expect(summary(page, orderId)).resolves.toBe('3 × Lamp at 40.00 = 120.00');
    expect(amendsSent.get(orderId)).toBeUndefined();
    expect(ledger(orderId)).toEqual([['charge', 120]]);
    await page.context().close();
  });

  test('a resend after a lost connection carries the same amendment id: amended once', async () => {
    const page = await openPage();
    const orderId = uniqueId('resend');
    const held = holdOrderAt(stack, 'validate', orderId);
    await placeThroughForm(page, { orderId, item: 'Chair', price: 90, quantity: 1 });
    await held.reached;
    await cardStatus(page, orderId, 'VALIDATING');
    await amendThroughForm(page, orderId, { price: 70 });
    await updatesAccepted(orderId, 1);
    // The connection drops before the answer: the page reconnects and sends the attempt again.
    await page.evaluate(() =>
      (globalThis as unknown as { ordersPage: { socket(): WebSocket | null } }).ordersPage.socket()?.close(),
    );
    await waitUntil(() => (amendsSent.get(orderId)?.length ?? 0) >= 2, { what: 'the amendment sent again' });
    await page.locator('#connection[data-state="open"]').waitFor({ timeout: 15_000 });
    held.open();

    await cardStatus(page, orderId, 'COMPLETED');
    const sent = amendsSent.get(orderId) ?? [];
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(String(sent[0]?.amendmentId)).toMatch(/^[A-Za-z0-9#_.:-]{1,64}$/);
    expect((await stepStatuses(page, orderId)).filter((s) => s === 'AMENDED')).toHaveLength(1);
    await expect(acceptedUpdates(orderId)).resolves.toBe(1);
    await expect(summary(page, orderId)).resolves.toBe('1 × Chair at 70.00 = 70.00');
    await expect(card(page, orderId).locator('[data-role="order-error"]').isHidden()).resolves.toBe(true);
    expect(ledger(orderId)).toEqual([['charge', 70]]);
    await page.context().close();
  });

  test('Amend is disabled once CHARGING has begun', async () => {
    const page = await openPage();
    const orderId = uniqueId('charging');
    const validating = holdOrderAt(stack, 'validate', orderId);
    const held = holdOrderAt(stack, 'charge', orderId);
    await placeThroughForm(page, { orderId, item: 'Monitor', price: 200, quantity: 1 });
    await validating.reached;
    await cardStatus(page, orderId, 'VALIDATING');
    await expect(amendButton(page, orderId).isEnabled()).resolves.toBe(true);
    validating.open();
    await held.reached;
    await cardStatus(page, orderId, 'CHARGING');
    await expect(amendButton(page, orderId).isDisabled()).resolves.toBe(true);
    await expect(amendButton(page, orderId).getAttribute('title')).resolves.toMatch(/Payment has started/);
    held.open();
    await cardStatus(page, orderId, 'COMPLETED');
    expect(amendsSent.get(orderId)).toBeUndefined();
    expect(ledger(orderId)).toEqual([['charge', 200]]);
    await page.context().close();
  });

  test("an amendment that reaches the order after payment started is refused: the card shows CANNOT_AMEND's reason, charged as placed", async () => {
    const orderId = uniqueId('late');
    // The page does not hear of CHARGING (its push is dropped on the way), so it still offers Amend.
    const page = await openPage((ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        const frame = JSON.parse(String(m)) as { event: string; data: { orderId?: string; status?: string } };
        const late =
          frame.event === 'orderStatus' && frame.data.orderId === orderId && frame.data.status === 'CHARGING';
        if (!late) ws.send(m);
      });
    });
    const held = holdOrderAt(stack, 'charge', orderId);
    await placeThroughForm(page, { orderId, item: 'Mouse', price: 25, quantity: 1 });
    await held.reached;
    await cardStatus(page, orderId, 'VALIDATED');
    await amendThroughForm(page, orderId, { price: 1 });

    const error = card(page, orderId).locator('[data-role="order-error"][data-error-code="CANNOT_AMEND"]');
    await error.waitFor({ timeout: STEP_TIMEOUT_MS });
    await expect(error.textContent()).resolves.toMatch(/^Not amended: .*payment has started/);
    await expect(amendButton(page, orderId).isDisabled()).resolves.toBe(true);
    await expect(summary(page, orderId)).resolves.toBe('1 × Mouse at 25.00 = 25.00');
    held.open();
    await cardStatus(page, orderId, 'COMPLETED');
    expect(ledger(orderId)).toEqual([['charge', 25]]);
    await page.context().close();
  });

  test("a value the gateway refuses is shown at the form's field, and changes nothing", async () => {
    const page = await openPage();
    const orderId = uniqueId('refused');
    const held = holdOrderAt(stack, 'validate', orderId);
    await placeThroughForm(page, { orderId, item: 'Desk', price: 300, quantity: 1 });
    await held.reached;
    await cardStatus(page, orderId, 'VALIDATING');

    // Checked on the page first: nothing is sent.
    await amendThroughForm(page, orderId, { quantity: 0 });
    const problem = card(page, orderId).locator('[data-role="amend-error"]');
    await expect(problem.textContent()).resolves.toMatch(/Quantity/);
    await expect(field(page, orderId, 'quantity').getAttribute('aria-invalid')).resolves.toBe('true');
    expect(amendsSent.get(orderId)).toBeUndefined();

    // A bidirectional override: only the gateway's rule knows it (INVALID_REQUEST naming the item).
    await field(page, orderId, 'quantity').fill('1');
    await field(page, orderId, 'item').fill('Desk \u202Egnp.exe');
    await card(page, orderId).locator('[data-role="amend-send"]').click();
    await waitUntil(async () => (await problem.getAttribute('data-field')) === 'item', {
      what: "the gateway's INVALID_REQUEST at the item",
    });
    await expect(problem.textContent()).resolves.toMatch(/control characters/);
    await expect(field(page, orderId, 'item').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(amendButton(page, orderId).isEnabled()).resolves.toBe(true); // may try again
    held.open();
    await cardStatus(page, orderId, 'COMPLETED');
    await expect(summary(page, orderId)).resolves.toBe('1 × Desk at 300.00 = 300.00');
    await expect(acceptedUpdates(orderId)).resolves.toBe(0);
    expect(ledger(orderId)).toEqual([['charge', 300]]);
    await page.context().close();
  });
});
