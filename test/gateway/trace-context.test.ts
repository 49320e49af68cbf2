// With tracing on, the gateway starts each order's trace itself: a client's W3C trace context (a
// `traceparent` in placeOrder, or on the handshake's headers) picks neither the order's trace id nor
// whether it is sampled; the client's span is only linked from the order's first span. On both
// transports, against a gateway on real Kafka, exporting OTLP to a receiver this file runs.
import * as crypto from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { readEnv } from '../../common/env-variables';
import { initTracing, shutdownTracing, tracing } from '../../common/tracing';
import type { Gateway } from '../../gateway/server';
import { SpanReceiver } from '../../tools/infra/span-receiver';
import { useGatewayFixture } from '../helpers/gateway';
import { readAll } from '../helpers/kafka';
import { uniqueId } from '../helpers/wait';

const fixture = useGatewayFixture('order-placement-trace-context');
const endpointBefore = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
let receiver: SpanReceiver;
let gateway: Gateway;
const sockets: Socket[] = [];

beforeAll(async () => {
  receiver = await SpanReceiver.start();
  // The OTLP exporter reads its endpoint from the process environment (the SDK's own variable).
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  expect(initTracing('order-gateway', readEnv({ TRACING: '1' }))).toBeDefined();
  gateway = await fixture.start();
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await shutdownTracing();
  if (endpointBefore === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpointBefore;
  await receiver?.close();
});

const hex = (bytes: number): string => crypto.randomBytes(bytes).toString('hex');

interface ClientTrace {
  traceId: string;
  spanId: string;
  traceparent: string;
}

/** A client's trace context with a trace id of its choosing; `sampled` sets the flags byte (01 or 00). */
function clientTrace(sampled: boolean): ClientTrace {
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}` };
}

/** Places an order over `transport`, the client's context in the frame and on the handshake; returns orderAccepted's data. */
async function placeWith(
  transport: 'websocket' | 'socket.io',
  orderId: string,
  client: ClientTrace,
): Promise<Record<string, unknown>> {
  const order = { orderId, item: 'Traced lamp', price: 20, traceparent: client.traceparent, tracestate: 'vendor=1' };
  const headers = { traceparent: client.traceparent };
  if (transport === 'websocket') {
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}`, { headers });
    try {
      const answer = await new Promise<{ event: string; data: Record<string, unknown> }>((resolve, reject) => {
        ws.once('open', () => ws.send(JSON.stringify({ event: 'placeOrder', data: order })));
        ws.once('message', (raw) => resolve(JSON.parse(raw.toString()) as never));
        ws.once('error', reject);
      });
      expect(answer.event).toBe('orderAccepted');
      return answer.data;
    } finally {
      ws.close();
    }
  }
  const socket = io(`http://127.0.0.1:${gateway.port}`, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: headers,
  });
  sockets.push(socket);
  const answer = (await socket.timeout(30_000).emitWithAck('placeOrder', order)) as {
    event: string;
    data: Record<string, unknown>;
  };
  socket.disconnect();
  expect(answer.event).toBe('orderAccepted');
  return answer.data;
}

describe('the edge starts its own trace for each order', () => {
  test.each([['websocket' as const], ['socket.io' as const]])(
    '%s: a client traceparent (sampled or not) names neither the trace id nor the sampling; the order is a new, sampled trace linking the client span',
    async (transport) => {
      const sampled = clientTrace(true);
      const unsampled = clientTrace(false);
      const orders = [
        { orderId: uniqueId(`tc-${transport}`), client: sampled },
        { orderId: uniqueId(`tc-${transport}`), client: unsampled },
      ];
      const accepted = [];
      for (const { orderId, client } of orders) accepted.push(await placeWith(transport, orderId, client));
      await tracing()!.processor.forceFlush();
      const stored = await readAll(fixture.kafka, fixture.topic());

      for (const [i, { orderId, client }] of orders.entries()) {
        // Sampled by the gateway's own sampler (always on here), whatever the client's flag said.
        const traceId = accepted[i].traceId;
        expect(traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(traceId).not.toBe(client.traceId);
        // Nothing about the order in the client's trace; the order's first span is a root linking the client's span.
        expect(receiver.trace(client.traceId)).toEqual([]);
        const placeOrder = receiver.trace(String(traceId)).filter((s) => s.name === 'placeOrder');
        expect(placeOrder).toEqual([
          expect.objectContaining({
            parentSpanId: '',
            links: [{ traceId: client.traceId, spanId: client.spanId }],
            attributes: expect.objectContaining({ 'order.id': orderId }),
          }),
        ]);
        // The context the order carries on through Kafka is the gateway's trace.
        const message = stored.find((m) => m.key === orderId);
        expect(message?.headers.traceparent).toMatch(new RegExp(`^00-${String(traceId)}-[0-9a-f]{16}-01$`));
      }
    },
  );
});
