/**
 * The gateway's Prometheus metrics (GET /metrics): open WebSocket connections, placements by
 * outcome, accept latency (placeOrder frame read -> orderAccepted sent) and Kafka produce latency.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OrderProducer } from './order-producer';

export type PlacementOutcome = 'accepted' | 'invalid' | 'kafka_unavailable';

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
 * What the gateway does with a refused token: one log line (transport, client address and reason,
 * never the token) and a count in /metrics.
 */
export function authFailureRecorder(
  metrics: GatewayMetrics,
  warn: (line: string) => void,
): (transport: 'websocket' | 'socket.io', reason: string, address: string) => void {
  return (transport, reason, address) => {
    metrics.authFailures.inc({ transport });
    warn(`auth refused (${transport}) from ${address}: ${reason}`);
  };
}
