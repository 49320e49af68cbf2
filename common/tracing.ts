/**
 * OpenTelemetry tracing for the three processes (docs/TRACING.md). Each entry point calls
 * `initTracing` once at start. Off unless TRACING=1 (OTEL_SDK_DISABLED=true keeps it off): then no
 * provider is registered and every helper here returns at its first line, so an order costs no span,
 * no context and no header. On, spans go through a batch processor to the exporter that
 * OTEL_TRACES_EXPORTER names: OTLP/HTTP (the default: a collector, Jaeger) or Zipkin's v2 JSON (the
 * dev loop's viewer), configured by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_ZIPKIN_ENDPOINT, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER / _ARG, OTEL_BSP_*), and W3C
 * trace context is what crosses process borders: Kafka message headers (`traceparent`, `tracestate`)
 * and Temporal headers (through @temporalio/interceptors-opentelemetry).
 *
 * The OpenTelemetry JS SDK is the 1.x line (sdk-trace-base 1.30, API 1.9): the Temporal interceptors
 * of SDK 1.24 are built on it (their workflow spans are 1.x ReadableSpans).
 */
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import type { ClientInterceptors } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import type { IHeaders } from 'kafkajs';
import { readEnv, type Env } from './env-variables';
import { kafkaKeyOf, orderIdOfWorkflowId } from './order';

export { SpanKind, type Context, type Link, type Span };

/** The default service name of each process (OTEL_SERVICE_NAME overrides it). */
export const SERVICE_NAMES = {
  gateway: 'order-gateway',
  bridge: 'order-bridge',
  worker: 'order-worker',
} as const;

export interface Tracing {
  provider: NodeTracerProvider;
  /** The processor every span ends in; the worker hands it to the workflow span sink too. */
  processor: SpanProcessor;
  resource: Resource;
  tracer: Tracer;
}

let active: Tracing | undefined;

/** Whether TRACING=1 (and OTEL_SDK_DISABLED is not true) in this environment. */
export function tracingWanted(env: Env = readEnv()): boolean {
  return env.TRACING === '1' && env.OTEL_SDK_DISABLED !== 'true';
}

/**
 * The exporter OTEL_TRACES_EXPORTER names: `zipkin` posts Zipkin v2 JSON to OTEL_EXPORTER_ZIPKIN_ENDPOINT
 * (Zipkin's /api/v2/spans), `otlp` (the default) sends OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT.
 */
export function spanExporter(env: Env = readEnv()): SpanExporter {
  if (env.OTEL_TRACES_EXPORTER === 'zipkin') return new ZipkinExporter({ url: env.OTEL_EXPORTER_ZIPKIN_ENDPOINT });
  return new OTLPTraceExporter();
}

/**
 * Turns tracing on for this process when the environment asks for it; returns what it set up, or
 * undefined (off). Registers the provider globally (AsyncLocalStorage context, W3C propagator), so
 * the Temporal interceptors' spans join the same traces.
 */
export function initTracing(serviceName: string, env: Env = readEnv()): Tracing | undefined {
  if (active) return active;
  if (!tracingWanted(env)) return undefined;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the process's default.
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': serviceName }))
    .merge(envDetectorSync.detect());
  const processor = new BatchSpanProcessor(spanExporter(env));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  active = { provider, processor, resource, tracer: trace.getTracer('order-orchestrator') };
  return active;
}

/** The tracing of this process, or undefined when it is off. */
export function tracing(): Tracing | undefined {
  return active;
}

/** Exports what is buffered and stops (at shutdown; spans of a killed process may be lost). */
export async function shutdownTracing(): Promise<void> {
  const t = active;
  active = undefined;
  if (t) await t.provider.shutdown();
}

/**
 * The span a client's `traceparent` (and `tracestate`) names, as a link; undefined when tracing is
 * off or none was sent. A client's context is never made a parent: it would choose the order's
 * trace id (putting the order into any trace it likes) and, through the parent-based sampler,
 * whether the order is sampled at all.
 */
export function linkFromTraceparent(traceparent?: string, tracestate?: string): Link | undefined {
  if (!active || !traceparent) return undefined;
  const carrier = tracestate ? { traceparent, tracestate } : { traceparent };
  const named = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, carrier));
  return named && isSpanContextValid(named) ? { context: named } : undefined;
}

/**
 * Starts the first span of a new trace: a trace id of this process's own and its sampler's decision,
 * whatever context is active, linking `links` (spans it relates to but does not belong to);
 * undefined when tracing is off.
 */
export function startRootSpan(
  name: string,
  kind: SpanKind,
  opts: { attributes?: Record<string, string | number | boolean>; links?: Link[] } = {},
): Span | undefined {
  if (!active) return undefined;
  return active.tracer.startSpan(name, { kind, attributes: opts.attributes, links: opts.links, root: true });
}

/** Starts a span under `parent` (a new trace when there is none); undefined when tracing is off. */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent?: Context,
  attributes?: Record<string, string | number | boolean>,
): Span | undefined {
  if (!active) return undefined;
  return active.tracer.startSpan(name, { kind, attributes }, parent ?? ROOT_CONTEXT);
}

/** The active context (inside a span: that span's), or undefined when tracing is off. */
export function activeContext(): Context | undefined {
  return active ? context.active() : undefined;
}

/** The context with `span` current: pass it as the parent of the next hop. */
export function contextOf(span: Span | undefined): Context | undefined {
  return span ? trace.setSpan(context.active(), span) : undefined;
}

/** Runs `fn` with `span` as the active span (for the libraries' own spans, e.g. the Temporal client's). */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), fn) : fn();
}

/** Ends a span, marking it failed when `err` is given. */
export function endSpan(span: Span | undefined, err?: unknown): void {
  if (!span) return;
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

/** The trace id of a sampled span (what clients are shown), else undefined. */
export function traceIdOf(span: Span | undefined): string | undefined {
  const ctx = span?.spanContext();
  return ctx && ctx.traceFlags & 1 ? ctx.traceId : undefined;
}

/** Kafka message headers carrying `span`'s context (`traceparent`, `tracestate`); {} when off. */
export function kafkaHeadersOf(span: Span | undefined): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (span) propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier;
}

const kafkaHeaderGetter: TextMapGetter<IHeaders | undefined> = {
  keys: (headers) => Object.keys(headers ?? {}),
  get: (headers, key) => {
    const value = headers?.[key];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  },
};

/** The context a Kafka message's headers carry; undefined when tracing is off or they carry none. */
export function contextFromKafka(headers: IHeaders | undefined): Context | undefined {
  if (!active || headers?.traceparent === undefined) return undefined;
  return propagation.extract(ROOT_CONTEXT, headers, kafkaHeaderGetter);
}

/** trace_id / span_id of the active span, for log lines (pino mixin); {} without one. */
export function activeTraceFields(): Record<string, string> {
  const span = active ? trace.getActiveSpan() : undefined;
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * The Temporal client's interceptors (bridge): with tracing on, each workflow start is a span of the
 * active trace and carries its context to the workflow in Temporal headers; undefined when off.
 */
export function temporalClientInterceptors(): ClientInterceptors | undefined {
  return active ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/**
 * Messaging attributes of a Kafka span (OpenTelemetry semantic conventions, messaging), for the order
 * whose run is `workflowId`: its Kafka key, its order id as the client knows it, and the run.
 */
export function kafkaAttributes(
  topic: string,
  operation: 'publish' | 'process',
  workflowId?: string,
): Record<string, string> {
  return {
    'messaging.system': 'kafka',
    'messaging.destination.name': topic,
    'messaging.operation': operation,
    ...(workflowId === undefined
      ? {}
      : {
          'messaging.kafka.message.key': kafkaKeyOf(workflowId),
          'order.id': orderIdOfWorkflowId(workflowId),
          'order.workflow_id': workflowId,
        }),
  };
}
