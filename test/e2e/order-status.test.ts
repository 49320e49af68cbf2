// Live order status over WebSocket, resume with fromSeq, getOrder, cancelOrder, and search
// attributes, on real Kafka and the real Temporal dev server.
import { statusQuery } from '../../common/workflow-api';
import { workflowIdFor } from '../../common/order';
import { holdOrderAt, startStack, Stack } from '../helpers/in-process-pipeline';
import { uniqueId, waitUntil } from '../helpers/wait';
import { Frame, TestClient } from '../helpers/ws-client';
import { HAPPY_PATH } from '../helpers/statuses';

const STEP_DELAY_MS = 1500;
const HAPPY = HAPPY_PATH;
let stack: Stack;
const clients: TestClient[] = [];

beforeAll(async () => {
  stack = await startStack({ stepDelayMs: STEP_DELAY_MS });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await stack?.stop();
});

async function connect(): Promise<TestClient> {
  const c = await TestClient.connect(stack.url);
  clients.push(c);
  return c;
}

const kinds = (orderId: string): string[] => stack.ledgerLines(orderId).map((e) => e.kind);
const cancelAnswer = (c: TestClient, orderId: string): Promise<Frame> =>
  c.waitFor((f) => (f.event === 'orderCancelled' || f.event === 'error') && f.data.orderId === orderId, 30_000);
const statusesOf = (c: TestClient, orderId: string): Frame['data'][] =>
  c.received.filter((f) => f.event === 'orderStatus' && f.data.orderId === orderId).map((f) => f.data);
const finalStatus = (c: TestClient, orderId: string, status: string, timeoutMs = 60_000): Promise<Frame> =>
  c.waitFor((f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === status, timeoutMs);

/** Waits until the order's workflow has accepted a cancel update (it is in the history). */
async function cancelAccepted(orderId: string): Promise<void> {
  await waitUntil(
    async () => {
      const history = await stack.client.workflow.getHandle(workflowIdFor({ orderId: orderId })).fetchHistory();
      return (history.events ?? []).some((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    },
    { what: 'the cancel to be accepted' },
  );
}

describe('order status over WebSocket (gateway, status feed, workflow)', () => {
  test('the placing connection receives every status of its order, in order, numbered 1..n', async () => {
    const c = await connect();
    const orderId = uniqueId('st');
    expect((await c.placeOrder({ orderId, item: 'Keyboard', price: 150 })).event).toBe('orderAccepted');
    await finalStatus(c, orderId, 'COMPLETED');
    const events = statusesOf(c, orderId);
    expect(events.map((e) => e.status)).toEqual(HAPPY);
    expect(events.map((e) => e.seq)).toEqual(HAPPY.map((_, i) => i + 1));
    const times = events.map((e) => e.at as number);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The durable timers show in the timestamps.
    expect(times[3] - times[2]).toBeGreaterThanOrEqual(STEP_DELAY_MS);
  });

  test('50 concurrent orders each get their full status sequence, in order, without repeats', async () => {
    const conns = await Promise.all([0, 1, 2, 3, 4].map(() => connect()));
    const ids = Array.from({ length: 50 }, (_, i) => uniqueId(`many${i}`));
    await Promise.all(ids.map((orderId, i) => conns[i % 5].placeOrder({ orderId, item: 'Cable', price: 5 })));
    await Promise.all(ids.map((orderId, i) => finalStatus(conns[i % 5], orderId, 'COMPLETED', 90_000)));
    for (const [i, orderId] of ids.entries()) {
      const events = statusesOf(conns[i % 5], orderId);
      expect(events.map((e) => e.status)).toEqual(HAPPY);
      expect(events.map((e) => e.seq)).toEqual(HAPPY.map((_, k) => k + 1));
      // No other connection was sent this order's events.
      for (const [j, other] of conns.entries()) if (j !== i % 5) expect(statusesOf(other, orderId)).toEqual([]);
    }
  });

  test('a client that reconnects and subscribes with fromSeq gets exactly what it missed, then the rest', async () => {
    const first = await connect();
    const orderId = uniqueId('resume');
    await first.placeOrder({ orderId, item: 'Headset', price: 80 });
    await first.waitFor(
      (f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'VALIDATED',
    );
    const seen = statusesOf(first, orderId);
    const lastSeq = seen[seen.length - 1].seq as number;
    await first.close();
    // Meanwhile the order moves on: payment happens while nobody listens.
    const handle = stack.client.workflow.getHandle(workflowIdFor({ orderId: orderId }));
    await waitUntil(async () => (await handle.query(statusQuery)).steps.some((s) => s.status === 'CHARGED'), {
      what: 'the charge while away',
    });

    const again = await connect();
    again.send({ event: 'subscribeOrder', data: { orderId, fromSeq: lastSeq + 1 } });
    await again.waitFor((f) => f.event === 'subscribed' && f.data.orderId === orderId);
    await finalStatus(again, orderId, 'COMPLETED');
    const resumed = statusesOf(again, orderId);
    expect(resumed.map((e) => e.seq)).toEqual(HAPPY.slice(lastSeq).map((_, i) => lastSeq + 1 + i));
    expect([...seen, ...resumed].map((e) => e.status)).toEqual(HAPPY);
    // The charge happened while the client was away: it came from the catch-up.
    expect(lastSeq).toBeLessThan(HAPPY.indexOf('CHARGED') + 1);
    expect(resumed.map((e) => e.status)).toContain('CHARGED');
  });

  test('placing a completed order again from a new connection: accepted, its statuses follow, nothing charged again', async () => {
    const first = await connect();
    const orderId = uniqueId('again');
    await first.placeOrder({ orderId, item: 'Monitor', price: 240 });
    await finalStatus(first, orderId, 'COMPLETED');
    const runId = (await stack.client.workflow.getHandle(workflowIdFor({ orderId: orderId })).describe()).runId;

    // The same placement later, on a connection that never followed it: the bridge starts no second
    // run, so no new status event is published; the placer is told the order's state all the same.
    const again = await connect();
    expect((await again.placeOrder({ orderId, item: 'Monitor', price: 240 })).event).toBe('orderAccepted');
    await finalStatus(again, orderId, 'COMPLETED', 30_000);
    expect(statusesOf(again, orderId).map((e) => e.status)).toEqual(HAPPY);
    expect((await stack.client.workflow.getHandle(workflowIdFor({ orderId: orderId })).describe()).runId).toBe(runId);
    expect(kinds(orderId)).toEqual(['charge']);
  });

  test('getOrder returns the current state; an unknown order gets NOT_FOUND', async () => {
    const c = await connect();
    const orderId = uniqueId('get');
    await c.placeOrder({ orderId, item: 'Webcam', price: 60 });
    await finalStatus(c, orderId, 'COMPLETED');
    // The COMPLETED push comes from the shipping activity, one workflow task before the workflow itself
    // records it (docs/PROTOCOL.md): the state getOrder reads is the workflow's, so read it once the run closed.
    await stack.client.workflow.getHandle(workflowIdFor({ orderId })).result();
    c.send({ event: 'getOrder', data: { orderId } });
    const order = await c.waitFor((f) => f.event === 'order' && f.data.orderId === orderId);
    expect(order.data).toMatchObject({ orderId, workflowId: `order-${orderId}`, status: 'COMPLETED' });
    expect((order.data.steps as Array<{ status: string }>).map((s) => s.status)).toEqual(HAPPY);

    const unknown = uniqueId('nope');
    c.send({ event: 'getOrder', data: { orderId: unknown } });
    const err = await c.waitFor((f) => f.event === 'error' && f.data.orderId === unknown);
    expect(err.data.code).toBe('NOT_FOUND');
  });

  test('cancel while the charge is in flight: CANCELLED, refunded exactly once, never shipped', async () => {
    const c = await connect();
    const orderId = uniqueId('cancel');
    const held = holdOrderAt(stack, 'charge', orderId);
    await c.placeOrder({ orderId, item: 'Chair', price: 120 });
    await held.reached; // CHARGING, and held there until the cancel is in
    c.send({ event: 'cancelOrder', data: { orderId } });
    // The cancel reaches the workflow before the charge is let through.
    await cancelAccepted(orderId);
    held.open();
    const answer = await cancelAnswer(c, orderId);
    expect(answer.event).toBe('orderCancelled');
    await finalStatus(c, orderId, 'CANCELLED');
    const statuses = statusesOf(c, orderId).map((e) => e.status);
    expect(statuses).toEqual(['ACCEPTED', 'VALIDATING', 'VALIDATED', 'CHARGING', 'CHARGED', 'REFUNDED', 'CANCELLED']);
    expect(kinds(orderId)).toEqual(['charge', 'refund']);
  });

  test('cancel before payment: CANCELLED with nothing charged', async () => {
    const c = await connect();
    const orderId = uniqueId('early');
    const held = holdOrderAt(stack, 'validate', orderId);
    await c.placeOrder({ orderId, item: 'Lamp', price: 30 });
    await held.reached; // VALIDATING
    c.send({ event: 'cancelOrder', data: { orderId } });
    await cancelAccepted(orderId);
    held.open();
    expect((await cancelAnswer(c, orderId)).event).toBe('orderCancelled');
    await finalStatus(c, orderId, 'CANCELLED');
    expect(statusesOf(c, orderId).map((e) => e.status)).not.toContain('CHARGING');
    expect(kinds(orderId)).toEqual([]);
  });

  test('cancel once shipping started is refused and changes nothing', async () => {
    const c = await connect();
    const orderId = uniqueId('late');
    const held = holdOrderAt(stack, 'ship', orderId);
    await c.placeOrder({ orderId, item: 'Desk', price: 200 });
    await held.reached; // SHIPPING, held at the carrier
    c.send({ event: 'cancelOrder', data: { orderId } });
    const answer = await cancelAnswer(c, orderId);
    expect(answer.event).toBe('error');
    expect(answer.data.code).toBe('CANNOT_CANCEL');
    expect(answer.data.message).toMatch(/shipping has started/);
    held.open();
    await finalStatus(c, orderId, 'COMPLETED');
    expect(statusesOf(c, orderId).map((e) => e.status)).toEqual(HAPPY);
    expect(kinds(orderId)).toEqual(['charge']);
  });

  test('the OrderStatus search attribute follows the order: a visibility query finds the completed run', async () => {
    const c = await connect();
    const orderId = uniqueId('sa');
    await c.placeOrder({ orderId, item: 'Dock', price: 99 });
    await finalStatus(c, orderId, 'COMPLETED');
    const list = async (query: string): Promise<string[]> => {
      const ids: string[] = [];
      for await (const wf of stack.client.workflow.list({ query })) ids.push(wf.workflowId);
      return ids;
    };
    // Visibility trails the run by a moment.
    const found = await waitUntil(
      async () => {
        const ids = await list(`OrderStatus = "COMPLETED" AND OrderId = "${orderId}"`);
        return ids.length ? ids : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the completed run in visibility' },
    );
    expect(found).toEqual([`order-${orderId}`]);
    const running: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `OrderStatus = "ACCEPTED" AND OrderId = "${orderId}"` }))
      running.push(wf.workflowId);
    expect(running).toEqual([]);
  });
});
