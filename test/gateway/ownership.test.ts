// Customer identity (JWT mode) on the whole pipeline, real Kafka and Temporal: tokens checked at the
// upgrade, the customer id carried with the order into the workflow, and each customer served only
// their own orders: another customer's order answers exactly as an unknown one.
import { workflowIdFor } from '../../common/order';
import { CloseCode } from '../../common/protocol';
import { CustomerIdKey } from '../../common/names';
import { customerSearchValue, keyStoreOfClient } from '../../common/codec';
import { jwtAuth } from '../../gateway/auth';
import { startStack, Stack } from '../helpers/in-process-pipeline';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { Frame, TestClient } from '../helpers/ws-client';
import { HAPPY_PATH } from '../helpers/statuses';
import { uniqueId, waitUntil } from '../helpers/wait';
import { upgradeStatus, type UpgradeOptions } from '../helpers/gateway';
import { runsOf } from '../helpers/temporal';

/** Long enough between steps to try a cancel before shipping starts. */
const STEP_DELAY_MS = 1500;
const HAPPY = HAPPY_PATH;
let stack: Stack;
const clients: TestClient[] = [];

beforeAll(async () => {
  stack = await startStack({ stepDelayMs: STEP_DELAY_MS, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }) } });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stack?.stop();
});

async function connectAs(customerId: string): Promise<TestClient> {
  const c = await TestClient.connect(stack.url, { token: await customerToken(customerId) });
  clients.push(c);
  return c;
}

/** The workflow id of `customerId`'s order `orderId` (JWT mode scopes order ids to their customer). */
const scopedId = (customerId: string, orderId: string): string =>
  workflowIdFor({ orderId, customerId, idScope: 'customer' });

/** What CustomerId holds for a customer: a keyed hash with payload encryption on (the suite's default). */
const searchValueOf = (customerId: string): Promise<string> =>
  customerSearchValue(keyStoreOfClient(stack.client), customerId);

/** Writes raw ORDER_PLACED messages to the stack's order-placement topic. */
async function sendPlacements(messages: Array<{ key: string; value: string }>): Promise<void> {
  const producer = stack.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: stack.topic, messages });
  } finally {
    await producer.disconnect();
  }
}

const upgradeTo = (opts: UpgradeOptions): Promise<number> => upgradeStatus(stack.url, opts);

const statusesOf = (c: TestClient, orderId: string): Frame['data'][] =>
  c.received.filter((f) => f.event === 'orderStatus' && f.data.orderId === orderId).map((f) => f.data);
const reachStatus = (c: TestClient, orderId: string, status: string): Promise<Frame> =>
  c.waitFor((f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === status, 60_000);

/** Sends a request and waits for its answer (the frame after `before` naming the order, or any error). */
async function ask(c: TestClient, event: string, orderId: string, answers: string[]): Promise<Frame> {
  const before = c.received.length;
  c.send({ event, data: { orderId } });
  return c.waitFor(
    (f) => c.received.indexOf(f) >= before && answers.includes(f.event) && f.data.orderId === orderId,
    60_000,
  );
}

/** An answer with the order id replaced, so answers about different ids can be compared. */
const shape = (f: Frame, orderId: string): string => JSON.stringify(f).split(orderId).join('<id>');

/** Resolves once no (subscriber, order) pair is left on the gateway. */
async function subscriptionsDrained(): Promise<void> {
  await waitUntil(() => stack.gateway.subscriptionCount() === 0, {
    timeoutMs: 30_000,
    intervalMs: 50,
    what: 'every subscription to be dropped',
    context: () => `${stack.gateway.subscriptionCount()} subscriptions left`,
  });
}

describe('order ownership (JWT mode)', () => {
  test('missing, forged, garbled, expired and too long-lived tokens are refused 401 at the upgrade; a valid one opens, by header or subprotocol', async () => {
    expect(await upgradeTo({})).toBe(401);
    expect(await upgradeTo({ token: 'not-a-jwt' })).toBe(401);
    expect(
      await upgradeTo({ token: await customerToken('alice', { secret: 'another-secret-of-at-least-32-bytes!!' }) }),
    ).toBe(401);
    expect(await upgradeTo({ token: await customerToken('alice', { expiresInS: -60 }) })).toBe(401);
    // Longer-lived than GATEWAY_JWT_MAX_LIFETIME_S (a day by default).
    expect(await upgradeTo({ token: await customerToken('alice', { expiresInS: 2 * 86_400 }) })).toBe(401);
    expect(await upgradeTo({ token: await customerToken('alice') })).toBe(101);
    // The browser way: the token as a subprotocol entry next to ours; the gateway answers with ours.
    const token = await customerToken('alice');
    expect(await upgradeTo({ protocols: ['orders.v1', `bearer.${token}`] })).toBe(101);
    expect(await upgradeTo({ protocols: ['orders.v1', 'bearer.forged'] })).toBe(401);
    const c = await TestClient.connect(stack.url, { protocols: ['orders.v1', `bearer.${token}`] });
    clients.push(c);
    expect(c.ws.protocol).toBe('orders.v1');
  });

  test('a session whose token expires is closed with 4401', async () => {
    const c = await TestClient.connect(stack.url, { token: await customerToken('alice', { expiresInS: 2 }) });
    clients.push(c);
    expect(await c.whenClosed()).toEqual({ code: CloseCode.tokenExpired, reason: 'token expired' });
  });

  test('the customer id travels with the order; another customer cannot see, follow or cancel it, and gets the unknown-order answers', async () => {
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    const orderId = uniqueId('own');
    const unknownId = uniqueId('nosuch');

    expect((await alice.placeOrder({ orderId, item: 'Keyboard', price: 150 })).event).toBe('orderAccepted');
    await reachStatus(alice, orderId, 'VALIDATED');

    // Bob, before shipping starts (a cancel would still succeed for the owner).
    const bobGet = await ask(bob, 'getOrder', orderId, ['order', 'error']);
    const bobGetUnknown = await ask(bob, 'getOrder', unknownId, ['order', 'error']);
    expect(bobGet.data.code).toBe('NOT_FOUND');
    expect(shape(bobGet, orderId)).toBe(shape(bobGetUnknown, unknownId));

    const bobCancel = await ask(bob, 'cancelOrder', orderId, ['orderCancelled', 'error']);
    const bobCancelUnknown = await ask(bob, 'cancelOrder', unknownId, ['orderCancelled', 'error']);
    expect(bobCancel.data.code).toBe('NOT_FOUND');
    expect(shape(bobCancel, orderId)).toBe(shape(bobCancelUnknown, unknownId));

    bob.send({ event: 'subscribeOrder', data: { orderId, fromSeq: 1 } });
    const bobSub = await bob.waitFor((f) => f.event === 'subscribed' && f.data.orderId === orderId);
    // (On a second connection, whose wait for the unknown order ends when it closes.)
    const bob2 = await connectAs('bob');
    bob2.send({ event: 'subscribeOrder', data: { orderId: unknownId, fromSeq: 1 } });
    const bobSubUnknown = await bob2.waitFor((f) => f.event === 'subscribed' && f.data.orderId === unknownId);
    expect(shape(bobSub, orderId)).toBe(shape(bobSubUnknown, unknownId));
    await bob2.close();

    // Alice's order is untouched by Bob's cancel and runs to the end; Alice sees every step, Bob none.
    await reachStatus(alice, orderId, 'COMPLETED');
    expect(statusesOf(alice, orderId).map((e) => e.status)).toEqual(HAPPY);
    const aliceGet = await ask(alice, 'getOrder', orderId, ['order', 'error']);
    expect(aliceGet.event).toBe('order');
    // Bob's subscription names Bob's own order of that id, which does not exist: it waits exactly as
    // one to an unknown id, and nothing reached him. Alice's ended with her order.
    await waitUntil(() => stack.gateway.subscriptionCount() === 1, {
      timeoutMs: 30_000,
      what: "Alice's subscription to end",
    });
    await ask(bob, 'unsubscribeOrder', orderId, ['unsubscribed']);
    await subscriptionsDrained();
    expect(statusesOf(bob, orderId)).toEqual([]);

    // Where the owner is recorded: the workflow's input/memo order and the CustomerId search attribute.
    const description = await stack.client.workflow.getHandle(scopedId('alice', orderId)).describe();
    expect((description.memo as { order: { customerId?: string } }).order.customerId).toBe('alice');
    expect(description.typedSearchAttributes.get(CustomerIdKey)).toBe(await searchValueOf('alice'));
  });

  test("two customers placing the seed's #101 each get their own order to COMPLETED, charged once each, on the ledger", async () => {
    const [aliceId, bobId] = [uniqueId('alice'), uniqueId('bob')];
    const alice = await connectAs(aliceId);
    const bob = await connectAs(bobId);
    const orderId = '#101';
    const aliceAccepted = await alice.placeOrder({ orderId, item: 'Mechanical Keyboard', price: 150 });
    await reachStatus(alice, orderId, 'VALIDATED');
    const bobAccepted = await bob.placeOrder({ orderId, item: 'Mouse', price: 20 });
    const runs = [aliceAccepted.data.workflowId as string, bobAccepted.data.workflowId as string];
    expect(runs).toEqual([scopedId(aliceId, orderId), scopedId(bobId, orderId)]);

    await reachStatus(alice, orderId, 'COMPLETED');
    await reachStatus(bob, orderId, 'COMPLETED');
    // Each sees their own order's steps once, in order, under the id they placed it with.
    for (const c of [alice, bob]) {
      expect(statusesOf(c, orderId).map((e) => e.status)).toEqual(HAPPY);
      expect(statusesOf(c, orderId).map((e) => e.seq)).toEqual(HAPPY.map((_, i) => i + 1));
    }
    // Look-ups answer each with their own run.
    expect((await ask(alice, 'getOrder', orderId, ['order', 'error'])).data).toMatchObject({ workflowId: runs[0] });
    expect((await ask(bob, 'getOrder', orderId, ['order', 'error'])).data).toMatchObject({ workflowId: runs[1] });
    // Two runs, each with its customer's order; one charge each, for each one's own price.
    for (const [i, customerId] of [aliceId, bobId].entries()) {
      const description = await stack.client.workflow.getHandle(runs[i]).describe();
      expect((description.memo as { order: { customerId?: string } }).order.customerId).toBe(customerId);
      expect(description.typedSearchAttributes.get(CustomerIdKey)).toBe(await searchValueOf(customerId));
    }
    const charges = stack.ledgerLines(orderId).filter((e) => e.kind === 'charge');
    for (const [i, amount] of [150, 20].entries())
      expect(charges.filter((e) => e.idempotencyKey.startsWith(`${runs[i]}:`)).map((e) => e.amount)).toEqual([amount]);
    await subscriptionsDrained();
  });

  test("a customer's cancel of an order id another customer also uses cancels only the caller's own order", async () => {
    const [aliceId, bobId] = [uniqueId('alice'), uniqueId('bob')];
    const alice = await connectAs(aliceId);
    const bob = await connectAs(bobId);
    const orderId = uniqueId('same');
    await alice.placeOrder({ orderId, item: 'Monitor', price: 200 });
    await bob.placeOrder({ orderId, item: 'Monitor', price: 1 });
    await reachStatus(bob, orderId, 'VALIDATED');
    expect((await ask(bob, 'cancelOrder', orderId, ['orderCancelled', 'error'])).event).toBe('orderCancelled');
    await reachStatus(bob, orderId, 'CANCELLED');
    await reachStatus(alice, orderId, 'COMPLETED');
    expect(statusesOf(alice, orderId).map((e) => e.status)).toEqual(HAPPY);
    expect(statusesOf(bob, orderId).map((e) => e.status)).not.toContain('SHIPPING');
  });

  test('an order placed before ids were scoped (an event of the earlier shape, run under its global id) completes, and only its customer follows, reads and cancels it', async () => {
    const [aliceId, bobId] = [uniqueId('alice'), uniqueId('bob')];
    const [orderId, cancelId] = [uniqueId('pre'), uniqueId('pre-cancel')];
    // ORDER_PLACED as gateways wrote it before ids were scoped: a customer, no idScope, keyed by orderId.
    const earlier = (id: string): string =>
      JSON.stringify({
        type: 'ORDER_PLACED',
        payload: { order: { orderId: id, item: 'Desk', price: 300, quantity: 1, customerId: aliceId }, timestamp: 1 },
        eventId: `${id}-event`,
        schemaVersion: 1,
      });
    await sendPlacements([
      { key: orderId, value: earlier(orderId) },
      { key: cancelId, value: earlier(cancelId) },
    ]);
    // Started under the global id it was acknowledged with, never under the scoped one.
    const global = workflowIdFor({ orderId });
    expect(await runsOf(stack.client, global)).toHaveLength(1);
    expect(await runsOf(stack.client, workflowIdFor({ orderId: cancelId }))).toHaveLength(1);

    const alice = await connectAs(aliceId);
    const bob = await connectAs(bobId);
    // Another customer: nothing, as for an unknown id.
    expect((await ask(bob, 'cancelOrder', cancelId, ['orderCancelled', 'error'])).data.code).toBe('NOT_FOUND');
    expect((await ask(bob, 'getOrder', orderId, ['order', 'error'])).data.code).toBe('NOT_FOUND');
    // Its customer cancels one and follows the other to the end.
    expect((await ask(alice, 'cancelOrder', cancelId, ['orderCancelled', 'error'])).event).toBe('orderCancelled');
    alice.send({ event: 'subscribeOrder', data: { orderId, fromSeq: 1 } });
    bob.send({ event: 'subscribeOrder', data: { orderId, fromSeq: 1 } });
    await reachStatus(alice, orderId, 'COMPLETED');
    expect(statusesOf(alice, orderId).map((e) => e.status)).toEqual(HAPPY);
    // The shipping step publishes COMPLETED before its activity returns, and the status query shows
    // what the workflow has recorded (docs/DESIGN.md, status plans): the view reaches COMPLETED
    // just after the push, so it is asked until it does.
    const view = await waitUntil(
      async () => {
        const answer = await ask(alice, 'getOrder', orderId, ['order', 'error']);
        return answer.event === 'order' && answer.data.status === 'COMPLETED' ? answer : undefined;
      },
      { timeoutMs: 30_000, what: `${orderId}'s view to be COMPLETED` },
    );
    expect(view.data).toMatchObject({ workflowId: global, status: 'COMPLETED' });
    expect((await ask(alice, 'getOrder', cancelId, ['order', 'error'])).data).toMatchObject({ status: 'CANCELLED' });
    expect(statusesOf(bob, orderId)).toEqual([]);

    // The earlier event delivered again (after the upgrade) is a duplicate of that run: no second one.
    const duplicatesBefore = stack.bridge.stats.duplicates;
    await sendPlacements([{ key: orderId, value: earlier(orderId) }]);
    await waitUntil(() => stack.bridge.stats.duplicates > duplicatesBefore, {
      timeoutMs: 20_000,
      what: 'the duplicate',
    });
    expect(await runsOf(stack.client, global)).toHaveLength(1);
    expect(await runsOf(stack.client, scopedId(aliceId, orderId), 0)).toEqual([]);
    expect(stack.ledgerLines(orderId).map((e) => e.kind)).toEqual(['charge']);
  });

  test("the owner comes only from the token: placeOrder with any customerId (even the token's own) is refused CUSTOMER_ID_NOT_ALLOWED; left out, the token's is filled in", async () => {
    const alice = await connectAs('alice');
    for (const customerId of ['bob', 'alice']) {
      const orderId = uniqueId('spoof');
      const refused = await alice.placeOrder({ orderId, item: 'Mouse', price: 20, customerId });
      expect(refused.data).toMatchObject({ code: 'CUSTOMER_ID_NOT_ALLOWED', field: 'customerId', orderId });
    }
    const orderId = uniqueId('own2');
    expect((await alice.placeOrder({ orderId, item: 'Mouse', price: 20 })).event).toBe('orderAccepted');
    await reachStatus(alice, orderId, 'VALIDATED');
    const description = await stack.client.workflow.getHandle(scopedId('alice', orderId)).describe();
    expect((description.memo as { order: { customerId?: string } }).order.customerId).toBe('alice');
  });

  test('a token whose sub claims the unverified: namespace (where no-auth orders keep a client-named customer) is refused', async () => {
    expect(await upgradeTo({ token: await customerToken('unverified:c-7') })).toBe(401);
  });
});
