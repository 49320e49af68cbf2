import type { AmendSummary } from './amend-load';
import type { LoopDelay } from './loop-probe';
import type { UsageSummary } from './sampler';
import type { Percentiles } from './stats';

/** Which Temporal server a configuration runs against: the launcher's tuned dev server, a stock one, or PostgreSQL. */
export type TemporalSettings = 'tuned' | 'stock' | 'postgres';

export type Kind = 'pipeline' | 'raw-temporal' | 'bare-engine' | 'raw-kafka' | 'seed';

/** What every load configuration is given: its id, how many orders, the step delay and the offered rate. */
export interface LoadSpec {
  id: string;
  orders: number;
  stepDelayMs: number;
  /** Offered orders (or starts) per second; undefined = as fast as the client can issue them. */
  rate?: number;
}

export interface ConfigResult {
  id: string;
  kind: Kind;
  label: string;
  stepDelayMs?: number;
  /** How the load was offered, e.g. "full speed / 20 conns" or "300/s". */
  load: string;
  orders: number;
  /** Completed workflows (pipeline, raw Temporal), acknowledged messages (raw Kafka), processed orders (seed). */
  completed: number;
  failed: number;
  errors: Record<string, number>;
  /** completed per second over the measured window. */
  throughput: number;
  /** Completions per second between the 10th and 90th percentile close (Temporal-backed configurations). */
  steadyThroughput?: number;
  /** Which dev-server settings a Temporal-backed configuration ran against. */
  temporalSettings?: TemporalSettings;
  /** The configuration's whole wall time, app start-up and clean-up included. */
  wallSeconds?: number;
  /** 1/5/15-minute load averages when the configuration started and ended. */
  loadAvg?: { start: number[]; end: number[] };
  throughputUnit: 'orders/s' | 'msgs/s';
  /** The measured window: first send to last completion, seconds. */
  seconds: number;
  offeredPerSecond?: number;
  acceptedPerSecond?: number;
  /** Acknowledgement latency: placeOrder->orderAccepted (pipeline), send->ack (Kafka), start->response (Temporal). */
  ackMs?: Percentiles | null;
  /** orderAccepted -> workflow start time (pipeline). */
  acceptToStartMs?: Percentiles | null;
  /** placeOrder sent (or start requested, or event produced) -> workflow closed (or order shipped). */
  e2eMs?: Percentiles | null;
  usage?: UsageSummary;
  /** The gateway's event-loop delay while the load was offered (pipeline). */
  gatewayLoopDelayMs?: LoopDelay;
  /** The `amend` configurations: the orders followed to VALIDATED and, in one of them, amended once. */
  amend?: AmendSummary;
  /** Mean history events per completed run, by event type (a few runs sampled). */
  historyPerOrder?: Record<string, number>;
  evidence?: Record<string, unknown>;
  notes: string[];
}

export interface IdleResult {
  connections: number;
  opened: number;
  failed: number;
  gatewayReportedConnections?: number;
  holdSeconds: number;
  baselineRssMb: number;
  peakRssMb: number;
  perConnectionKb: number;
  openSeconds: number;
  usage?: UsageSummary;
}
