// amendOrder on the whole pipeline (real Kafka, Temporal dev server, worker), JWT mode, over both
// transports: an amendment before payment is answered orderAmended, pushed as AMENDED with its
// values, and charged once at the amended amount (the simulated ledger's raw lines); once CHARGING
// has begun it is refused CANNOT_AMEND and changes nothing; another customer's order is answered
// exactly like an unknown one and is left as it was. No wall-clock race: an order is held at a
// provider (holdOrderAt) until the amendment has reached its workflow.
import { io, Socket } from 'socket.io-client';
import { workflowIdFor } from '../../common/order';
import { jwtAuth } from '../../gateway/auth';
import { holdOrderAt, startStack, Stack } from '../helpers/in-process-pipeline';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { Frame, TestClient } from '../helpers/ws-client';
import { uniqueId, waitUntil } from '../helpers/wait';

const AMENDED_PATH = [
  'ACCEPTED',
  'VALIDATING',
  'VALIDATED',
  'AMENDED',
  'CHARGING',
  'CHARGED',
  'SHIPPING',
  'SHIPPED',
  'COMPLETED',
];
const HAPPY = AMENDED_PATH.filter((s) => s !== 'AMENDED');

let stack: Stack;
const closers: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  stack = await startStack({ stepDelayMs: 200, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }) } });
});

afterAll(async () => {
  for (const close of closers) await close();
  await stack?.stop();
});

/** One customer's connection over either transport: requests answered by their answer frame, every frame kept. */
interface Conn {
  ask(event: string, data: Record<string, unknown>, answers: string[]): Promise<Frame>;
  received: Frame[];
}

async function wsConn(customerId: string): Promise<Conn> {
  const c = await TestClient.connect(stack.url, { token: await customerToken(customerId) });
  closers.push(() => c.close());
  return {
    received: c.received,
    async ask(event, data, answers) {
      const before = c.received.length;
      c.send({ event, data });
      return c.waitFor(
        (f) => c.received.indexOf(f) >= before && answers.includes(f.event) && f.data.orderId === data.orderId,
        60_000,
      );
    },
  };
}

async function sioConn(customerId: string): Promise<Conn> {
  const socket: Socket = io(`http://127.0.0.1:${stack.gateway.port}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: { token: await customerToken(customerId) },
  });
  closers.push(() => void socket.disconnect());
  const received: Frame[] = [];
  socket.onAny((event: string, data: Record<string, unknown>) => received.push({ event, data }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    received,
    // The ack carries the answer as its {event, data} frame.
    ask: async (event, data) => (await socket.timeout(60_000).emitWithAck(event, data)) as Frame,
  };
}

const TRANSPORTS: Array<[string, (customerId: string) => Promise<Conn>]> = [
  ['raw WebSocket', wsConn],
  ['Socket.IO', sioConn],
];

const statusesOf = (c: Conn, orderId: string): Frame['data'][] =>
  c.received.filter((f) => f.event === 'orderStatus' && f.data.orderId === orderId).map((f) => f.data);

const reach = (c: Conn, orderId: string, status: string): Promise<unknown> =>
  waitUntil(() => statusesOf(c, orderId).find((e) => e.status === status), {
    timeoutMs: 60_000,
    intervalMs: 25,
    what: `${orderId} ${status}`,
  });

const place = async (c: Conn, orderId: string, item: string, price: number): Promise<void> => {
  expect((await c.ask('placeOrder', { orderId, item, price }, ['orderAccepted', 'error'])).event).toBe('orderAccepted');
};

const amend = (c: Conn, data: Record<string, unknown>): Promise<Frame> =>
  c.ask('amendOrder', data, ['orderAmended', 'error']);

/** The workflow id of `customerId`'s order `orderId` (JWT mode scopes order ids to their customer). */
const scopedId = (customerId: string, orderId: string): string =>
  workflowIdFor({ orderId, customerId, idScope: 'customer' });

/** Resolves once `count` updates were accepted by the workflow (read from its history). */
async function updatesAccepted(workflowId: string, count: number): Promise<void> {
  await waitUntil(
    async () => {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length >= count;
    },
    { timeoutMs: 30_000, what: `${count} update(s) of ${workflowId} to be accepted` },
  );
}

/** Writes one raw message to the stack's order-placement topic, keyed by its order id. */
async function sendPlacement(orderId: string, event: unknown): Promise<void> {
  const producer = stack.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: stack.topic, messages: [{ key: orderId, value: JSON.stringify(event) }] });
  } finally {
    await producer.disconnect();
  }
}

/** The raw ledger lines of an order: kind and amount (a repeated charge shows twice). */
const ledger = (orderId: string): Array<[string, number]> => stack.ledgerLines(orderId).map((e) => [e.kind, e.amount]);

/** An answer with the order id replaced, so answers about different ids can be compared. */
const shape = (f: Frame, orderId: string): string => JSON.stringify(f).split(orderId).join('<id>');

describe.each(TRANSPORTS)('amendOrder over %s (JWT mode)', (transport, connect) => {
  const tag = transport === 'Socket.IO' ? 'sio' : 'ws';

  test('amended before payment: answered orderAmended (once for a resend), AMENDED pushed with the values, COMPLETED, the amended amount charged once', async () => {
    const alice = await connect('alice');
    const orderId = uniqueId(`amend-${tag}`);
    const held = holdOrderAt(stack, 'validate', orderId);
    await place(alice, orderId, 'Keyboard', 150);
    await held.reached; // VALIDATING: an amendment now is accepted and waits for the validation
    const request = { orderId, amendmentId: 'more-keys', item: 'Split keyboard', price: 180, quantity: 2 };
    // Sent twice with one amendment id (a client resending after a lost answer): one update.
    const answers = Promise.all([amend(alice, request), amend(alice, request)]);
    await updatesAccepted(scopedId('alice', orderId), 1);
    held.open();
    const amended = { orderId, amendmentId: 'more-keys', item: 'Split keyboard', price: 180, quantity: 2 };
    expect(await answers).toEqual([
      { event: 'orderAmended', data: amended },
      { event: 'orderAmended', data: amended },
    ]);
    await reach(alice, orderId, 'COMPLETED');
    const pushed = statusesOf(alice, orderId);
    expect(pushed.map((e) => e.status)).toEqual(AMENDED_PATH);
    expect(pushed.find((e) => e.status === 'AMENDED')).toMatchObject({
      seq: 4,
      detail: 'amendment more-keys',
      order: { item: 'Split keyboard', price: 180, quantity: 2 },
    });
    expect(pushed.filter((e) => e.order !== undefined)).toHaveLength(1);
    expect(ledger(orderId)).toEqual([['charge', 360]]);
  });

  test('amended once CHARGING has begun: CANNOT_AMEND, nothing changes, the placed amount is charged once', async () => {
    const alice = await connect('alice');
    const orderId = uniqueId(`late-${tag}`);
    const held = holdOrderAt(stack, 'charge', orderId);
    await place(alice, orderId, 'Mouse', 25);
    await held.reached; // CHARGING, held at the payment provider
    const answer = await amend(alice, { orderId, amendmentId: 'cheaper', price: 1 });
    expect(answer.event).toBe('error');
    expect(answer.data).toMatchObject({ code: 'CANNOT_AMEND', orderId });
    expect(answer.data.message).toMatch(/payment has started/);
    held.open();
    await reach(alice, orderId, 'COMPLETED');
    expect(statusesOf(alice, orderId).map((e) => e.status)).toEqual(HAPPY);
    expect(ledger(orderId)).toEqual([['charge', 25]]);
  });

  test("another customer's order is answered exactly like an unknown one, and is not amended", async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const orderId = uniqueId(`own-${tag}`);
    const unknownId = uniqueId(`nosuch-${tag}`);
    const held = holdOrderAt(stack, 'validate', orderId);
    await place(alice, orderId, 'Lamp', 40);
    await held.reached; // an amendment from its owner would be taken now
    const bobs = await amend(bob, { orderId, amendmentId: 'steal', price: 1 });
    const unknown = await amend(bob, { orderId: unknownId, amendmentId: 'steal', price: 1 });
    expect(bobs.data.code).toBe('NOT_FOUND');
    expect(shape(bobs, orderId)).toBe(shape(unknown, unknownId));
    held.open();
    await reach(alice, orderId, 'COMPLETED');
    expect(statusesOf(alice, orderId).map((e) => e.status)).toEqual(HAPPY);
    expect(statusesOf(bob, orderId)).toEqual([]);
    expect(ledger(orderId)).toEqual([['charge', 40]]);
  });

  test('an order placed before ids were scoped (run under its global id): another customer is answered like an unknown id, its owner amends it', async () => {
    const [aliceId, bobId] = [uniqueId('alice'), uniqueId('bob')];
    const orderId = uniqueId(`pre-${tag}`);
    const unknownId = uniqueId(`nosuch-${tag}`);
    const held = holdOrderAt(stack, 'validate', orderId);
    // ORDER_PLACED as gateways wrote it before ids were scoped: a customer, no idScope, keyed by orderId.
    await sendPlacement(orderId, {
      type: 'ORDER_PLACED',
      payload: { order: { orderId, item: 'Desk', price: 300, quantity: 1, customerId: aliceId }, timestamp: 1 },
      eventId: `${orderId}-event`,
      schemaVersion: 1,
    });
    await held.reached;
    const alice = await connect(aliceId);
    const bob = await connect(bobId);
    const bobs = await amend(bob, { orderId, amendmentId: 'steal', price: 1 });
    const unknown = await amend(bob, { orderId: unknownId, amendmentId: 'steal', price: 1 });
    expect(bobs.data.code).toBe('NOT_FOUND');
    expect(shape(bobs, orderId)).toBe(shape(unknown, unknownId));
    const answer = amend(alice, { orderId, amendmentId: 'two-desks', quantity: 2 });
    await updatesAccepted(workflowIdFor({ orderId }), 1);
    held.open();
    expect(await answer).toMatchObject({ event: 'orderAmended', data: { orderId, quantity: 2, price: 300 } });
    const view = await stack.client.workflow.getHandle(workflowIdFor({ orderId })).result();
    expect(view.steps.map((e: { status: string }) => e.status)).toEqual(AMENDED_PATH);
    expect(ledger(orderId)).toEqual([['charge', 600]]);
  });
});
