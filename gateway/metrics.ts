/**
 * The gateway's Prometheus metrics (GET /metrics): open WebSocket connections, placements by
 * outcome, accept latency (placeOrder frame read -> orderAccepted sent) and Kafka produce latency.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuthFailureListener, AuthUnavailableListener, RefusalListener } from './auth';
import type { OrderProducer } from './order-producer';
import type { PlacementOutcome } from './place-order';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly placements = this.counter(
    'gateway_placements_total',
    'placeOrder frames by outcome: accepted (stored in Kafka), invalid (refused by validation), kafka_unavailable',
    ['outcome'],
  );
  readonly acceptLatency = this.latency(
    'gateway_accept_latency_seconds',
    'From reading a placeOrder frame to sending orderAccepted',
    [],
  );
  readonly produceLatency = this.latency(
    'gateway_kafka_produce_latency_seconds',
    'Kafka produce of one ORDER_PLACED event (acks=all), by result',
    ['result'],
  );
  readonly authFailures = this.counter(
    'gateway_auth_failures_total',
    'Connections refused for a missing, wrong or expired token, by transport',
    ['transport'],
  );

  readonly authUnavailable = this.counter(
    'gateway_auth_unavailable_total',
    'Connections told to retry because their token could not be checked (e.g. the JWKS endpoint down), by transport',
    ['transport'],
  );

  readonly refusals = this.counter(
    'gateway_refused_handshakes_total',
    'Connection attempts refused before auth (Host, Origin, per-address caps, full, malformed), by transport and HTTP status',
    ['transport', 'status'],
  );

  readonly unknownSessions = this.counter(
    'gateway_unknown_session_requests_total',
    'Socket.IO (Engine.IO) requests naming a session that does not exist (late polls after a close, or guesses); beyond the per-address handshake rate they are refused 429',
    [],
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The open-connections gauge, read from `openConnections` at each scrape (the gateway registers its count). */
  countConnections(openConnections: () => number): void {
    new Gauge({
      name: 'gateway_open_connections',
      help: 'Open WebSocket connections',
      registers: [this.registry],
      collect() {
        this.set(openConnections());
      },
    });
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private latency<L extends string>(name: string, help: string, labelNames: readonly L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [this.registry] });
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

/** What the gateway reports as it runs; every member is optional (a test gateway reports nothing). */
export interface GatewayObserver {
  /** Each placeOrder's outcome and the seconds from reading the frame to answering it. */
  placement?: (outcome: PlacementOutcome, seconds: number) => void;
  /** Each refused token (never the token itself). */
  authFailure?: AuthFailureListener;
  /** Each token that could not be checked (the verifier failed). */
  authUnavailable?: AuthUnavailableListener;
  /** Each attempt refused before auth. */
  refusal?: RefusalListener;
  /** Each Engine.IO request naming a session that does not exist, with the client's address. */
  unknownSession?: (address: string) => void;
  /** Given the gateway's count of open connections once, when it starts. */
  countConnections?: (openConnections: () => number) => void;
}

/** The observer that writes into `metrics`, logging refusals through `warn` (rate-limited). */
export function metricsObserver(metrics: GatewayMetrics, warn: (line: string) => void): GatewayObserver {
  return {
    placement: (outcome, seconds) => metrics.placement(outcome, seconds),
    authFailure: authFailureRecorder(metrics, warn),
    authUnavailable: (transport) => metrics.authUnavailable.inc({ transport }),
    refusal: refusalRecorder(metrics, warn),
    unknownSession: () => metrics.unknownSessions.inc(),
    countConnections: (openConnections) => metrics.countConnections(openConnections),
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
