/**
 * The fixed names the processes, the infra and the tools share: Kafka topics and consumer groups,
 * the Temporal namespace, task queue and custom search attributes. Settings that the environment
 * can change are in ./config. Free of Node imports: workflow code may import it.
 */

export const TOPICS = {
  orderPlacement: 'order-placement',
  orderStatus: 'order-status',
  orderPlacementDlq: 'order-placement.dlq',
} as const;

/** Partitions the launcher gives each topic (order-placement: at least 6 so the bridge can fan out). */
export const TOPIC_PARTITIONS: Record<string, number> = {
  [TOPICS.orderPlacement]: 6,
  [TOPICS.orderStatus]: 3,
  [TOPICS.orderPlacementDlq]: 1,
};

export const TASK_QUEUE = 'orders';

/** The Temporal namespace the app uses unless TEMPORAL_NAMESPACE says otherwise. */
export const DEFAULT_NAMESPACE = 'default';

/** Kafka consumer groups with fixed names (the gateway's status feed uses a fresh group per process). */
export const CONSUMER_GROUPS = {
  /** The bridges: order-placement's partitions are shared among its members. */
  bridge: 'order-bridge',
  /** bridge/dlq-replay.ts: its committed offsets remember how far the DLQ was replayed. */
  dlqReplay: 'order-dlq-replay',
} as const;

/**
 * Custom search attributes the workflow keeps current; the launcher registers them. Types are named as
 * the Temporal CLI names them (tools/infra/app-resources.ts maps them to the operator API's codes).
 */
export const SEARCH_ATTRIBUTES = {
  OrderId: 'Keyword',
  OrderStatus: 'Keyword',
  OrderItem: 'Keyword',
  /** The customer who placed the order (the token's `sub` in JWT mode); unset for anonymous orders. */
  CustomerId: 'Keyword',
} as const;
