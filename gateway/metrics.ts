/**
 * The gateway's Prometheus metrics (GET /metrics): open WebSocket connections, placements by
 * outcome, accept latency (placeOrder frame read -> orderAccepted sent) and Kafka produce latency.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuthFailureListener, RefusalListener } from './auth';
import type { OrderProducer } from './order-producer';

export type PlacementOutcome = 'accepted' | 'invalid' | 'kafka_unavailable';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly placements = new Counter({
    name: 'gateway_placements_total',
    help: 'placeOrder frames by outcome: accepted (stored in Kafka), invalid (refused by validation), kafka_unavailable',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly acceptLatency = new Histogram({
    name: 'gateway_accept_latency_seconds',
    help: 'From reading a placeOrder frame to sending orderAccepted',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly produceLatency = new Histogram({
    name: 'gateway_kafka_produce_latency_seconds',
    help: 'Kafka produce of one ORDER_PLACED event (acks=all), by result',
    labelNames: ['result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly authFailures = new Counter({
    name: 'gateway_auth_failures_total',
    help: 'Connections refused for a missing, wrong or expired token, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly refusals = new Counter({
    name: 'gateway_refused_handshakes_total',
    help: 'Connection attempts refused before auth (Host, Origin, per-address caps, full, malformed), by transport and HTTP status',
    labelNames: ['transport', 'status'] as const,
    registers: [this.registry],
  });

  constructor(openConnections: () => number) {
    new Gauge({
      name: 'gateway_open_connections',
      help: 'Open WebSocket connections',
      registers: [this.registry],
      collect() {
        this.set(openConnections());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  placement(outcome: PlacementOutcome, seconds: number): void {
    this.placements.inc({ outcome });
    if (outcome === 'accepted') this.acceptLatency.observe(seconds);
  }
}

/** The producer, timing each publish into `metrics`. */
export function meteredProducer(producer: OrderProducer, metrics: GatewayMetrics): Pick<OrderProducer, 'publish'> {
  return {
    async publish(order, trace) {
      const end = metrics.produceLatency.startTimer();
      try {
        const result = await producer.publish(order, trace);
        end({ result: 'stored' });
        return result;
      } catch (err) {
        end({ result: 'failed' });
        throw err;
      }
    },
  };
}

/**
 * A log that writes at most `perWindow` lines per `windowMs` and counts the rest, reported in one
 * line when the next window opens: a flood of refused clients cannot flood the log (the counters in
 * /metrics still count every one).
 */
export function limitedLog(
  write: (line: string) => void,
  perWindow = 20,
  windowMs = 10_000,
  now: () => number = Date.now,
): (line: string) => void {
  let windowStart = now();
  let written = 0;
  let dropped = 0;
  return (line) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      if (dropped > 0) write(`${dropped} more such lines were not logged in the last ${windowMs / 1000} s`);
      windowStart = t;
      written = 0;
      dropped = 0;
    }
    if (written < perWindow) {
      written += 1;
      write(line);
    } else dropped += 1;
  };
}

/**
 * What the gateway does with a refused token: one log line (transport, client address, reason and
 * the verifier's detail, never the token) and a count in /metrics.
 */
export function authFailureRecorder(metrics: GatewayMetrics, warn: (line: string) => void): AuthFailureListener {
  const log = limitedLog(warn);
  return (transport, reason, address, detail) => {
    metrics.authFailures.inc({ transport });
    log(`auth refused (${transport}) from ${address}: ${reason}${detail ? ` (${detail})` : ''}`);
  };
}

/** What the gateway does with an attempt refused before auth: one log line and a count in /metrics. */
export function refusalRecorder(metrics: GatewayMetrics, warn: (line: string) => void): RefusalListener {
  const log = limitedLog(warn);
  return (transport, status, reason, address) => {
    metrics.refusals.inc({ transport, status: String(status) });
    log(`refused (${transport}) ${status} from ${address}: ${reason}`);
  };
}
