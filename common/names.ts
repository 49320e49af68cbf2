/**
 * The fixed names the processes, the infra and the tools share: Kafka topics and consumer groups,
 * the Temporal namespace, task queue and custom search attributes (with their typed keys). Settings
 * the environment can change are in ./config, which re-exports these. Free of Node imports: workflow
 * code imports this file directly (./config reads the file system).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

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

/** What stands for the trace id in a link to one trace (TRACE_UI_URL, the gateway's /config.json). */
export const TRACE_ID_MARK = '{traceId}';

/** The Temporal namespace the app uses unless TEMPORAL_NAMESPACE says otherwise. */
export const DEFAULT_NAMESPACE = 'default';

/** The launcher's order-history database: its trusted role and database name (common/config historyDatabaseUrlOf). */
export const HISTORY_DB = { role: 'orders', database: 'orders_history' } as const;

/** Kafka consumer groups: their fixed names, or the prefix of a group made per process. */
export const CONSUMER_GROUPS = {
  /** The gateway's status feed: a fresh group per process, `gateway-status-<uuid>`, so each gateway reads every event. */
  gatewayStatusPrefix: 'gateway-status-',
  /** The bridges: order-placement's partitions are shared among its members. */
  bridge: 'order-bridge',
  /** bridge/dlq-replay.ts: its committed offsets remember how far the DLQ was replayed. */
  dlqReplay: 'order-dlq-replay',
  /** history/: its offsets live in its database; the group's commits only show its lag. */
  history: 'order-history',
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

/** Typed keys of those search attributes, for upserts (workflow), start options (bridge) and queries. */
export const OrderIdKey = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const OrderStatusKey = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const OrderItemKey = defineSearchAttributeKey('OrderItem', SearchAttributeType.KEYWORD);
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
