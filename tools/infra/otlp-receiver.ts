/**
 * A minimal OTLP/HTTP trace receiver (JSON encoding, POST /v1/traces), bound to 127.0.0.1: what the
 * processes' OTLP exporter talks to in the tracing tests and the benchmark, so neither needs Jaeger.
 * It keeps each span's identity, links, service and attributes (or, with `keep: false`, only counts).
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
  kind: number;
  attributes: Record<string, unknown>;
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
      }>;
    }>;
  }>;
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue;
  }
  return out;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Spans received (kept or not) and export requests answered. */
  count = 0;
  requests = 0;

  private readonly server: http.Server;
  /** http://127.0.0.1:<port>: what OTEL_EXPORTER_OTLP_ENDPOINT is set to. */
  url = '';

  private constructor(private readonly keep: boolean) {
    this.server = http.createServer((req, res) => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: OtlpRequest;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest;
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"not JSON"}');
          return;
        }
        this.take(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  /** Starts listening on 127.0.0.1:`port` (0: any free port). */
  static async start(opts: { port?: number; keep?: boolean } = {}): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver(opts.keep ?? true);
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(opts.port ?? 0, '127.0.0.1', resolve);
    });
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  private take(body: OtlpRequest): void {
    this.requests += 1;
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
          });
        }
      }
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
