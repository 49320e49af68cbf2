// Answers about an order the caller does not own (JWT mode) never depend on Temporal's health or the
// order's state: ownership is decided first (from the gateway's cache of owners, else from Temporal
// within ownerCheckMs), and someone else's order, an unknown id and an order whose owner cannot be
// decided (Temporal slow or down) all get the same NOT_FOUND, never sooner than ownerCheckMs. And
// failures inside the system reach clients only as a generic message and a correlation id, the
// detail (addresses, raw Kafka/Temporal text) only in the log. On both transports, real Kafka and
// Temporal; Temporal's slowness and outage are a TCP proxy in front of it, Kafka's a closed port.
import { Client, Connection } from '@temporalio/client';
import { Kafka, logLevel } from 'kafkajs';
import { io, Socket } from 'socket.io-client';
import { loadConfig } from '../../common/config';
import { workflowIdFor } from '../../common/order';
import { jwtAuth } from '../../gateway/auth';
import { OrderLookup } from '../../gateway/order-lookup';
import { OrderProducer } from '../../gateway/order-producer';
import { OWNER_CHECK_MS } from '../../gateway/order-requests';
import { Gateway, startGateway } from '../../gateway/server';
import { useStack } from '../helpers/in-process-pipeline';
import { waitForResult } from '../helpers/temporal';
import { temporalProxy } from '../helpers/temporal-proxy';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';
import { uniqueId } from '../helpers/wait';
import { Frame, TestClient } from '../helpers/ws-client';
import { appDataConverter } from '../helpers/codec';

const stack = useStack({ stepDelayMs: 0, gateway: { auth: jwtAuth({ secret: TEST_JWT_SECRET }) } });
const sockets: Socket[] = [];
const closers: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

/** A Port in this helper's range with nothing listening on it: a Kafka that is down. */
const CLOSED_PORT = 41_917;

type Ask = (event: string, orderId: string) => Promise<{ frame: Frame; ms: number }>;

function askOverWs(c: TestClient): Ask {
  return async (event, orderId) => {
    const before = c.received.length;
    const started = Date.now();
    c.send({ event, data: { orderId } });
    const frame = await c.waitFor((f) => c.received.indexOf(f) >= before && f.data.orderId === orderId, 60_000);
    return { frame, ms: Date.now() - started };
  };
}

async function sioClient(port: number, token?: string): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: token ? { token } : {},
  });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

function askOverSio(socket: Socket): Ask {
  return async (event, orderId) => {
    const started = Date.now();
    const frame = (await socket.timeout(60_000).emitWithAck(event, { orderId })) as Frame;
    return { frame, ms: Date.now() - started };
  };
}

/** An answer with the order id replaced, so answers about different ids can be compared. */
const shape = (f: Frame, orderId: string): string => JSON.stringify(f).split(orderId).join('<id>');

/** A gateway whose only window on Temporal is `temporalPort`; its log lines are kept. */
async function gatewayVia(temporalPort: number): Promise<{ gateway: Gateway; log: string[] }> {
  // No client-side gRPC retries: a retry still pending at the end would outlive the test.
  const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}`, interceptors: [] });
  closers.push(() => connection.close());
  const log: string[] = [];
  const gateway = await startGateway({
    port: 0,
    producer: { publish: () => Promise.reject(new Error('this gateway places no orders')) },
    orders: new OrderLookup(
      new Client({ connection, namespace: loadConfig().temporalNamespace, dataConverter: appDataConverter() }),
      5_000,
    ),
    auth: jwtAuth({ secret: TEST_JWT_SECRET }),
    log: (line) => log.push(line),
  });
  closers.push(() => gateway.close());
  return { gateway, log };
}

describe('owner first: answers about orders the caller does not own', () => {
  test("someone else's order, an unknown id and an order whose owner cannot be decided answer alike (same NOT_FOUND, never before the owner check's time) while Temporal answers, hangs and is down, on both transports", async () => {
    // Alice's orders, finished, through the stack's own gateway.
    const placing = await TestClient.connect(stack().url, { token: await customerToken('alice') });
    closers.push(() => placing.close());
    const known = uniqueId('alice-known');
    const uncached = uniqueId('alice-uncached');
    for (const orderId of [known, uncached]) {
      expect((await placing.placeOrder({ orderId, item: 'Lamp', price: 30 })).event).toBe('orderAccepted');
      await placing.waitFor(
        (f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'COMPLETED',
        60_000,
      );
    }

    const proxy = await temporalProxy();
    closers.push(() => proxy.cut());
    const { gateway } = await gatewayVia(proxy.port);
    const url = `ws://127.0.0.1:${gateway.port}`;
    const alice = await TestClient.connect(url, { token: await customerToken('alice') });
    const bobWs = await TestClient.connect(url, { token: await customerToken('bob') });
    closers.push(
      () => alice.close(),
      () => bobWs.close(),
    );
    const bobSio = await sioClient(gateway.port, await customerToken('bob'));
    // The gateway learns the owner of `known` (Alice reads it); `uncached` it never asks about while Temporal answers.
    expect((await askOverWs(alice)('getOrder', known)).frame).toMatchObject({ event: 'order' });

    const check = async (phase: string, hidden: string[]): Promise<void> => {
      for (const [transport, ask] of [
        ['websocket', askOverWs(bobWs)],
        ['socket.io', askOverSio(bobSio)],
      ] as const) {
        for (const event of ['getOrder', 'cancelOrder']) {
          const unknown = uniqueId('nosuch');
          const asked = await Promise.all([unknown, ...hidden].map((id) => ask(event, id)));
          const expected = shape(asked[0].frame, unknown);
          const context = `${phase}, ${transport}, ${event}`;
          expect({ context, frame: asked[0].frame.data.code }).toEqual({ context, frame: 'NOT_FOUND' });
          for (const [i, id] of hidden.entries())
            expect({ context, id, answer: shape(asked[i + 1].frame, id) }).toEqual({ context, id, answer: expected });
          // The same timing class: none of them before the owner check's time, answered from cache or not.
          for (const { ms } of asked)
            expect({ context, atLeast: ms >= OWNER_CHECK_MS }).toEqual({ context, atLeast: true });
        }
      }
    };

    await check('Temporal answering', [known]);
    proxy.hold();
    await check('Temporal hanging', [known, uncached]);
    await proxy.cut();
    await check('Temporal down', [known, uncached]);
  });

  test("following someone else's order takes a place under the subscription cap exactly as an unknown id does, so the next subscribeOrder answers the same, on both transports", async () => {
    // Alice's order placed before ids were scoped (an event of the earlier shape, run under its
    // global id): the kind of someone else's order a customer can still name.
    const foreign = uniqueId('alice-global');
    const producer = stack().kafka.producer();
    await producer.connect();
    try {
      const order = { orderId: foreign, item: 'Desk', price: 300, quantity: 1, customerId: 'alice' };
      const value = JSON.stringify({
        type: 'ORDER_PLACED',
        payload: { order, timestamp: 1 },
        eventId: foreign,
        schemaVersion: 1,
      });
      await producer.send({ topic: stack().topic, messages: [{ key: foreign, value }] });
    } finally {
      await producer.disconnect();
    }
    const globalId = workflowIdFor({ orderId: foreign });
    await waitForResult(stack().client, globalId);

    const maxSubscriptions = 3;
    const lookup = new OrderLookup(stack().client, 5_000);
    const gateway = await startGateway({
      port: 0,
      producer: { publish: () => Promise.reject(new Error('this gateway places no orders')) },
      orders: lookup,
      auth: jwtAuth({ secret: TEST_JWT_SECRET }),
      limits: { maxSubscriptions },
      log: () => undefined,
    });
    closers.push(() => gateway.close());
    const token = await customerToken('bob');
    const url = `ws://127.0.0.1:${gateway.port}`;

    /** On a fresh connection: cap - 1 unknown ids, then `probe`, then once its owner is decided, one more: that one's answer. */
    const answerAfter = async (ask: Ask, probe: string): Promise<string> => {
      for (let i = 1; i < maxSubscriptions; i++) {
        expect((await ask('subscribeOrder', uniqueId('nosuch'))).frame.event).toBe('subscribed');
      }
      expect((await ask('subscribeOrder', probe)).frame.event).toBe('subscribed');
      // The gateway asks who owns bob's own order of that id, then the global one: both answered
      // (from the look-up it shares), its verdict is in before the next frame is read.
      await lookup.owner(workflowIdFor({ orderId: probe, customerId: 'bob', idScope: 'customer' }));
      await lookup.owner(workflowIdFor({ orderId: probe }));
      const next = uniqueId('next');
      return shape((await ask('subscribeOrder', next)).frame, next);
    };
    const wsAsk = async (): Promise<Ask> => {
      const c = await TestClient.connect(url, { token });
      closers.push(() => c.close());
      return askOverWs(c);
    };
    const sioAsk = async (): Promise<Ask> => askOverSio(await sioClient(gateway.port, token));
    const answers: Array<{ transport: string; afterForeign: string; afterUnknown: string }> = [];
    for (const [transport, connect] of [
      ['websocket', wsAsk],
      ['socket.io', sioAsk],
    ] as const) {
      const afterForeign = await answerAfter(await connect(), foreign);
      answers.push({ transport, afterForeign, afterUnknown: await answerAfter(await connect(), uniqueId('nosuch')) });
    }
    // The answer after an unknown id is the cap's refusal; after someone else's order, the same one.
    expect(
      answers.map(({ transport, afterUnknown }) => ({
        transport,
        code: (JSON.parse(afterUnknown) as Frame).data.code,
      })),
    ).toEqual(answers.map(({ transport }) => ({ transport, code: 'TOO_MANY_SUBSCRIPTIONS' })));
    expect(answers.map(({ transport, afterForeign }) => ({ transport, afterForeign }))).toEqual(
      answers.map(({ transport, afterUnknown }) => ({ transport, afterForeign: afterUnknown })),
    );
  });

  test('a failure inside the system reaches the client as a generic message and a correlation id; the detail (addresses, raw error text) is only in the log line with that id, on both transports', async () => {
    // Temporal down, for the owner of an order the gateway knows.
    const proxy = await temporalProxy();
    closers.push(() => proxy.cut());
    const { gateway, log } = await gatewayVia(proxy.port);
    const token = await customerToken('carol');
    const placing = await TestClient.connect(stack().url, { token });
    closers.push(() => placing.close());
    const orderId = uniqueId('carol');
    await placing.placeOrder({ orderId, item: 'Chair', price: 80 });
    await placing.waitFor(
      (f) => f.event === 'orderStatus' && f.data.orderId === orderId && f.data.status === 'COMPLETED',
      60_000,
    );
    const carol = await TestClient.connect(`ws://127.0.0.1:${gateway.port}`, { token });
    closers.push(() => carol.close());
    const carolSio = await sioClient(gateway.port, token);
    expect((await askOverWs(carol)('getOrder', orderId)).frame.event).toBe('order');
    await proxy.cut();

    // Kafka down: a gateway whose producer points at a closed port (kafkajs's error names it).
    const deadKafka = new Kafka({
      clientId: uniqueId('dead-kafka'),
      brokers: [`127.0.0.1:${CLOSED_PORT}`],
      logLevel: logLevel.NOTHING,
    });
    const kafkaLog: string[] = [];
    const noKafka = await startGateway({
      port: 0,
      producer: new OrderProducer(deadKafka, 60_000, 'never-written'),
      log: (line) => kafkaLog.push(line),
    });
    closers.push(() => noKafka.close());
    const placer = await TestClient.connect(`ws://127.0.0.1:${noKafka.port}`);
    closers.push(() => placer.close());
    const placerSio = await sioClient(noKafka.port);

    const cases: Array<{ what: string; frame: Frame; log: string[]; secretDetail: RegExp }> = [];
    for (const [transport, ask] of [
      ['websocket', askOverWs(carol)],
      ['socket.io', askOverSio(carolSio)],
    ] as const) {
      for (const event of ['getOrder', 'cancelOrder']) {
        const { frame } = await ask(event, orderId);
        cases.push({
          what: `Temporal ${transport} ${event}`,
          frame,
          log,
          secretDetail: new RegExp(`${proxy.port}|UNAVAILABLE|ECONNREFUSED|127\\.0\\.0\\.1`),
        });
      }
    }
    const placeWs = async (): Promise<Frame> =>
      placer.placeOrder({ orderId: uniqueId('nk-ws'), item: 'Desk', price: 90 });
    const placeSio = async (): Promise<Frame> =>
      (await placerSio
        .timeout(60_000)
        .emitWithAck('placeOrder', { orderId: uniqueId('nk-sio'), item: 'Desk', price: 90 })) as Frame;
    for (const [transport, place] of [
      ['websocket', placeWs],
      ['socket.io', placeSio],
    ] as const)
      cases.push({
        what: `Kafka ${transport} placeOrder`,
        frame: await place(),
        log: kafkaLog,
        secretDetail: new RegExp(`${CLOSED_PORT}|ECONNREFUSED|127\\.0\\.0\\.1`),
      });

    for (const { what, frame, log: lines, secretDetail } of cases) {
      const data = frame.data as { code: string; message: string; correlationId?: string };
      expect({ what, code: data.code }).toEqual({
        what,
        code: what.startsWith('Kafka') ? 'KAFKA_UNAVAILABLE' : 'TEMPORAL_UNAVAILABLE',
      });
      expect({ what, correlationId: data.correlationId }).toEqual({
        what,
        correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect({ what, message: data.message }).toEqual({ what, message: expect.stringContaining(data.correlationId!) });
      expect({ what, leaks: secretDetail.test(data.message) }).toEqual({ what, leaks: false });
      // The detail is in the log, on the line carrying the same id.
      const line = lines.find((l) => l.includes(data.correlationId!));
      expect({ what, line, detailLogged: line !== undefined && secretDetail.test(line) }).toEqual({
        line,
        what,
        detailLogged: true,
      });
    }
  });
});
