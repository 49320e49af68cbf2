/**
 * A minimal trace receiver bound to 127.0.0.1, taking both exporters' JSON: OTLP/HTTP (POST
 * /v1/traces) and Zipkin v2 (POST /api/v2/spans). What the processes' exporters talk to in the
 * tracing tests and the benchmark, so neither needs a Zipkin or a Jaeger. It keeps each span's
 * identity, links, service and attributes (or, with `keep: false`, only counts).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's span kind (Zipkin's kinds are mapped to it). */
  kind: number;
  attributes: Record<string, unknown>;
  /** The spans this one links to (OTLP only: Zipkin's v2 JSON has no links, so always empty from it). */
  links: Array<{ traceId: string; spanId: string }>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
        links?: Array<{ traceId: string; spanId: string }>;
      }>;
    }>;
  }>;
}

/** A span as @opentelemetry/exporter-zipkin posts it (the fields kept here). */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** OTLP's numbers for Zipkin's span kinds; a span without one is internal (1). */
const OTLP_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** The receiver's two paths and the format each takes. */
const RECEIVERS: Record<string, 'otlp' | 'zipkin'> = { '/v1/traces': 'otlp', '/api/v2/spans': 'zipkin' };

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue;
  }
  return out;
}

export class SpanReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Spans received (kept or not) and export requests answered. */
  count = 0;
  requests = 0;

  private readonly server: http.Server;
  /** http://127.0.0.1:<port>: what OTEL_EXPORTER_OTLP_ENDPOINT is set to. */
  url = '';
  /** Its Zipkin span endpoint: what OTEL_EXPORTER_ZIPKIN_ENDPOINT is set to. */
  get zipkinUrl(): string {
    return `${this.url}/api/v2/spans`;
  }

  private constructor(private readonly keep: boolean) {
    this.server = http.createServer((req, res) => {
      const format = req.method !== 'POST' ? undefined : RECEIVERS[req.url ?? ''];
      if (!format) {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"not JSON"}');
          return;
        }
        this.requests += 1;
        if (format === 'otlp') this.takeOtlp(body as OtlpRequest);
        else this.takeZipkin(body as ZipkinSpan[]);
        // Zipkin's collector answers 202 with no body; OTLP's an empty JSON object.
        if (format === 'otlp') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        else res.writeHead(202).end();
      });
    });
  }

  /** Starts listening on 127.0.0.1:`port` (0: any free port). */
  static async start(opts: { port?: number; keep?: boolean } = {}): Promise<SpanReceiver> {
    const receiver = new SpanReceiver(opts.keep ?? true);
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(opts.port ?? 0, '127.0.0.1', resolve);
    });
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  private takeOtlp(body: OtlpRequest): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          this.count += 1;
          if (!this.keep) continue;
          this.spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
          });
        }
      }
    }
  }

  private takeZipkin(body: ZipkinSpan[]): void {
    for (const span of Array.isArray(body) ? body : []) {
      this.count += 1;
      if (!this.keep) continue;
      this.spans.push({
        service: span.localEndpoint?.serviceName ?? '',
        traceId: span.traceId,
        spanId: span.id,
        parentSpanId: span.parentId ?? '',
        name: span.name,
        kind: span.kind ? OTLP_KIND[span.kind] : 1,
        attributes: { ...span.tags },
        links: [],
      });
    }
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // The exporters keep their connections alive; they must not hold the close up.
      this.server.closeAllConnections();
    });
  }
}
