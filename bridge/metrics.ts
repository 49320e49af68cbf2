/**
 * The bridge's Prometheus metrics (GET /metrics on its health port): workflow starts by outcome
 * (started / duplicate), dead-lettered events, erased customers' orders skipped, start retries while Temporal is unreachable, start
 * latency, and consumer lag per partition (high watermark minus the next offset to commit, as of
 * the last batch of that partition).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface BridgeEvents {
  started(seconds: number): void;
  duplicate(seconds: number): void;
  deadLettered(reason: string): void;
  startRetried(): void;
  /** A sealed order of an erased customer, skipped. */
  erased(): void;
  lag(topic: string, partition: number, messages: number): void;
}

export class BridgeMetrics implements BridgeEvents {
  readonly registry = new Registry();
  private readonly starts = new Counter({
    name: 'bridge_workflow_starts_total',
    help: 'Orders handed to Temporal, by outcome: started (a new run) or duplicate (the run existed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly startLatency = new Histogram({
    name: 'bridge_workflow_start_latency_seconds',
    help: 'One workflow start, retries included',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly dlq = new Counter({
    name: 'bridge_dead_lettered_total',
    help: 'Events parked in the DLQ topic (not orders, or refused by Temporal as invalid)',
    registers: [this.registry],
  });
  private readonly erasedOrders = new Counter({
    name: 'bridge_erased_orders_total',
    help: 'Sealed orders not started because their customer was erased (data key destroyed)',
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'bridge_start_retries_total',
    help: 'Workflow start attempts that failed transiently and were retried',
    registers: [this.registry],
  });
  private readonly consumerLag = new Gauge({
    name: 'bridge_consumer_lag',
    help: 'Messages not yet committed per partition (high watermark - committed offset) as of its last batch',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  started(seconds: number): void {
    this.starts.inc({ outcome: 'started' });
    this.startLatency.observe(seconds);
  }

  duplicate(seconds: number): void {
    this.starts.inc({ outcome: 'duplicate' });
    this.startLatency.observe(seconds);
  }

  deadLettered(): void {
    this.dlq.inc();
  }

  startRetried(): void {
    this.retries.inc();
  }

  erased(): void {
    this.erasedOrders.inc();
  }

  lag(topic: string, partition: number, messages: number): void {
    this.consumerLag.set({ topic, partition: String(partition) }, messages);
  }
}
