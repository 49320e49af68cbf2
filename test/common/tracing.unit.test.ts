/**
 * common/tracing.ts without servers: off (the default) it registers nothing and creates nothing for
 * an order, on it carries W3C context through Kafka headers and starts each order's trace itself (a
 * client's traceparent only linked);
 * its exporter is the one OTEL_TRACES_EXPORTER names (Zipkin v2 JSON or OTLP, to an in-process
 * receiver on 127.0.0.1); placeOrder takes a well-formed traceparent and refuses a malformed one
 * naming the field.
 */
import * as crypto from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { readEnv, type Env } from '../../common/env-variables';
import { describeZodError, PlaceOrderRequest } from '../../common/order';
import {
  contextFromKafka,
  contextOf,
  initTracing,
  kafkaHeadersOf,
  linkFromTraceparent,
  shutdownTracing,
  spanExporter,
  SpanKind,
  startRootSpan,
  startSpan,
  withSpan,
  temporalClientInterceptors,
  traceIdOf,
  tracing,
  tracingWanted,
} from '../../common/tracing';

import { SpanReceiver } from '../../tools/infra/span-receiver';
import { waitUntil } from '../helpers/wait';

const traceparent = (traceId: string, spanId: string): string => `00-${traceId}-${spanId}-01`;
const hex = (bytes: number): string => crypto.randomBytes(bytes).toString('hex');

describe('tracing off (TRACING unset)', () => {
  test('nothing is registered, and no span, context, header or interceptor is created for an order', () => {
    expect(tracingWanted(readEnv({}))).toBe(false);
    expect(initTracing('order-gateway', readEnv({}))).toBeUndefined();
    expect(tracing()).toBeUndefined();
    const span = startSpan('placeOrder', SpanKind.SERVER);
    expect(span).toBeUndefined();
    expect(contextOf(span)).toBeUndefined();
    expect(kafkaHeadersOf(span)).toEqual({});
    expect(linkFromTraceparent(traceparent(hex(16), hex(8)))).toBeUndefined();
    expect(startRootSpan('placeOrder', SpanKind.SERVER)).toBeUndefined();
    expect(contextFromKafka({ traceparent: traceparent(hex(16), hex(8)) })).toBeUndefined();
    expect(temporalClientInterceptors()).toBeUndefined();
    // The API's global provider is still the no-op one: no SDK behind it.
    expect(trace.getTracer('x').startSpan('x').isRecording()).toBe(false);
  });

  test('OTEL_SDK_DISABLED=true keeps it off even with TRACING=1', () => {
    expect(tracingWanted(readEnv({ TRACING: '1', OTEL_SDK_DISABLED: 'true' }))).toBe(false);
    expect(tracingWanted(readEnv({ TRACING: '1' }))).toBe(true);
  });
});

describe('tracing on (TRACING=1)', () => {
  beforeAll(() => {
    // Nothing is exported: no span of this file is ended.
    expect(initTracing('order-test', readEnv({ TRACING: '1' }))).toBeDefined();
  });
  afterAll(() => shutdownTracing());

  test.each([
    ['sampled', '01'],
    ['not sampled', '00'],
  ])(
    "a client's traceparent (%s) is only linked: the order's span starts a new trace, sampled by this process",
    (_, flags) => {
      const traceId = hex(16);
      const spanId = hex(8);
      const link = linkFromTraceparent(`00-${traceId}-${spanId}-${flags}`, 'vendor=1');
      expect(link?.context).toMatchObject({ traceId, spanId, traceFlags: Number(flags), isRemote: true });
      // Root even inside another span: the active context is not the order's parent either.
      const outer = startSpan('outer', SpanKind.INTERNAL);
      const span = withSpan(outer, () =>
        startRootSpan('placeOrder', SpanKind.SERVER, { attributes: { 'order.id': '#101' }, links: link && [link] }),
      );
      const own = span?.spanContext();
      expect(own?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect([traceId, outer?.spanContext().traceId]).not.toContain(own?.traceId);
      expect((span as unknown as { parentSpanId?: string }).parentSpanId).toBeUndefined();
      expect((span as unknown as { links: Array<{ context: unknown }> }).links.map((l) => l.context)).toEqual([
        link?.context,
      ]);
      // Sampled by the default sampler (parent-based, always on for a root), whatever the client's flag said.
      expect(traceIdOf(span)).toBe(own?.traceId);
    },
  );

  test('Kafka headers carry the producing span, and the consumer continues under it', () => {
    const producer = startSpan('order-placement publish', SpanKind.PRODUCER);
    const headers = kafkaHeadersOf(producer);
    const { traceId, spanId } = producer!.spanContext();
    expect(headers.traceparent).toBe(traceparent(traceId, spanId));
    // kafkajs hands header values to consumers as Buffers.
    const consumer = startSpan(
      'order-placement process',
      SpanKind.CONSUMER,
      contextFromKafka({ traceparent: Buffer.from(headers.traceparent) }),
    );
    expect(consumer?.spanContext().traceId).toBe(traceId);
    expect((consumer as unknown as { parentSpanId?: string }).parentSpanId).toBe(spanId);
    expect(contextFromKafka({ eventId: 'x' })).toBeUndefined();
    expect(temporalClientInterceptors()?.workflow).toHaveLength(1);
  });
});

describe('the exporter (OTEL_TRACES_EXPORTER)', () => {
  let receiver: SpanReceiver;
  beforeAll(async () => {
    receiver = await SpanReceiver.start();
  });
  afterAll(() => receiver.close());

  /** Ends one producer span of `order-gateway` through spanExporter(env); returns its trace id once received. */
  async function exportOne(env: Env): Promise<string> {
    const provider = new BasicTracerProvider({
      resource: new Resource({ 'service.name': 'order-gateway' }),
      spanProcessors: [new SimpleSpanProcessor(spanExporter(env))],
    });
    const span = provider
      .getTracer('test')
      .startSpan('order-placement publish', { kind: SpanKind.PRODUCER, attributes: { 'order.id': '#101' } });
    span.end();
    await provider.shutdown();
    const { traceId } = span.spanContext();
    await waitUntil(() => receiver.trace(traceId).length > 0, { timeoutMs: 5_000, what: `trace ${traceId}` });
    return traceId;
  }

  test("zipkin (npm start's Zipkin): Zipkin v2 JSON posted to OTEL_EXPORTER_ZIPKIN_ENDPOINT, with service, name, kind and attributes", async () => {
    const traceId = await exportOne(
      readEnv({ TRACING: '1', OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: receiver.zipkinUrl }),
    );
    expect(receiver.trace(traceId)).toEqual([
      expect.objectContaining({
        service: 'order-gateway',
        name: 'order-placement publish',
        kind: SpanKind.PRODUCER + 1, // OTLP numbers kinds from 1 (internal), the API from 0
        parentSpanId: '',
        attributes: expect.objectContaining({ 'order.id': '#101' }),
      }),
    ]);
  });

  test("unset (an operator's collector or Jaeger): OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT", async () => {
    // The OTLP exporter reads its endpoint from the process environment itself (the SDK's variables).
    const before = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    try {
      const traceId = await exportOne(readEnv({ TRACING: '1' }));
      expect(receiver.trace(traceId)).toEqual([
        expect.objectContaining({ service: 'order-gateway', name: 'order-placement publish' }),
      ]);
    } finally {
      if (before === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = before;
    }
  });
});

describe('placeOrder trace context', () => {
  const order = { item: 'Lamp', price: 10 };

  test('a W3C traceparent (and tracestate) is accepted beside the order', () => {
    const parsed = PlaceOrderRequest.parse({ ...order, traceparent: traceparent(hex(16), hex(8)), tracestate: 'a=1' });
    expect(parsed.traceparent).toMatch(/^00-/);
  });

  test.each([
    ['not-a-traceparent'],
    [traceparent('0'.repeat(32), hex(8))],
    [traceparent(hex(16), '0'.repeat(16))],
    [traceparent(hex(16).toUpperCase(), hex(8))],
  ])('%s is refused, naming the field', (value) => {
    const parsed = PlaceOrderRequest.safeParse({ ...order, traceparent: value });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(describeZodError(parsed.error).field).toBe('traceparent');
  });
});
