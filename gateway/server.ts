/**
 * The gateway: one HTTP server, the client port, carrying the WebSocket endpoint, the Socket.IO
 * endpoint (/socket.io/) and the browser page; nothing else (probes and metrics are on the admin
 * listener, ./main). Both transports feed one dispatcher.
 * The parts: ./http-routes (page, /config.json), ./auth (who is connecting),
 * ./upgrade-guard (token, Origin, connection limit), ./ws-endpoint and ./connections (raw
 * WebSockets: upgrade, heartbeat, slow readers, close), ./socket-io, ./frame-handlers (what each
 * client request does), ./subscriptions (who follows which order's status).
 */
import type * as http from 'node:http';
import { gatewayLimitsOf, temporalUiUrlOf, type GatewayLimits } from '../common/config';
import { readEnv } from '../common/env-variables';
import { DEFAULT_NAMESPACE } from '../common/names';
import type { StatusEvent } from '../common/status';
import {
  AuthFailureListener,
  Authenticator,
  AuthUnavailableListener,
  exposureWarning,
  noAuth,
  RefusalListener,
} from './auth';
import type { LinkOptions } from './client';
import { workflowIdOfKafkaKey } from '../common/order';
import { ConnectionSlots } from './connection-slots';
import { Connections } from './connections';
import { createDispatcher } from './frame-handlers';
import { createHttpServer } from './http-routes';
import { LookupBudget, partyOf } from './lookup-budget';
import type { GatewayObserver } from './metrics';
import type { OrderLookup } from './order-lookup';
import type { OrderHistory } from './list-orders';
import type { OrderProducer } from './order-producer';
import { PerIpLimits, PreAuthCap } from './rate-limit';
import { peekWsOrderId, readWsFrame } from './read-request';
import { SOCKET_IO_PATH, SocketIoTransport } from './socket-io';
import type { StatusRouting } from './status-routing';
import { Subscriptions } from './subscriptions';
import { wildcardHostWarning, type AdmissionOptions } from './upgrade-guard';
import { attachWsEndpoint } from './ws-endpoint';

/** How long the gateway waits for things (each has a default below). */
export interface GatewayTimeouts {
  /** Raw WebSocket ping interval, and Socket.IO's: a peer that misses one is dropped. */
  heartbeatMs: number;
  /** A Socket.IO session that has not passed its CONNECT (auth) within this time is closed. */
  preAuthMs: number;
  /** HTTP: time allowed for a request's headers, and for the whole request (slow clients are cut). */
  headersMs: number;
  requestMs: number;
  /** A subscription to an order that shows no sign of existing this long is dropped. */
  unseenSubscriptionMs: number;
  /** JWT mode: how long an order's ownership may take to decide, and the earliest a NOT_FOUND is sent (default: ./frame-handlers). */
  ownerCheckMs?: number;
}

const DEFAULT_TIMEOUTS: GatewayTimeouts = {
  heartbeatMs: 30_000,
  preAuthMs: 5_000,
  headersMs: 10_000,
  requestMs: 15_000,
  unseenSubscriptionMs: 10 * 60_000,
};

/** The settings the environment gives when it sets nothing (the table in common/env-variables.ts). */
const DEFAULT_ENV = readEnv({});

export interface GatewayOptions {
  port: number;
  host?: string;
  producer: Pick<OrderProducer, 'publish'>;
  /** Order look-ups in Temporal (getOrder, cancelOrder, status catch-up). Without it those answer TEMPORAL_UNAVAILABLE. */
  orders?: OrderLookup;
  /** The order history listOrders reads (./list-orders). */
  history?: OrderHistory;
  /** Partition routing (./status-routing.ts): its home partition goes into each order placed here. */
  routing?: Pick<StatusRouting, 'home' | 'follow' | 'unfollow'>;
  /** Who may connect, and as which customer (./auth): none (default), a shared token, or JWT. */
  auth?: Authenticator;
  /** Origin allow-list checked at the handshake (403 otherwise); empty/undefined: only the gateway's own origin (and clients sending no Origin). */
  allowedOrigins?: string[];
  /** Host names (or `*`) served besides loopback ones (403 otherwise): guards against DNS rebinding. */
  allowedHosts?: string[];
  /** Connections, per address, rate, payload and subscriptions; each one left out takes the environment's default. */
  limits?: Partial<GatewayLimits>;
  timeouts?: Partial<GatewayTimeouts>;
  /** Shown to the page so it can link each order to its run. */
  temporalUi?: { url: string; namespace: string };
  /** The link to one trace in the trace viewer (`{traceId}` where the id goes), for the page (/config.json). */
  traceUrlTemplate?: string;
  /** Told each placement and refusal, and given the open-connection count (./metrics). */
  observer?: GatewayObserver;
  log?: (line: string) => void;
}

export interface Gateway {
  server: http.Server;
  port: number;
  /** Feed a status event (from the order-status topic) to the clients following that order. */
  deliverStatus(event: StatusEvent): void;
  /** Does a client of this gateway follow the order a status event's Kafka key names (common/order kafkaKeyOf)? */
  followsOrder(kafkaKey: string): boolean;
  /** Open (subscriber, order) pairs; zero when no client follows anything. */
  subscriptionCount(): number;
  /** Open connections, both transports. */
  connectionCount(): number;
  /** Bytes queued for clients and not yet handed to the network, over all connections of both transports. */
  bufferedBytes(): number;
  /** Stops accepting, waits for in-flight Kafka writes to be answered, closes every connection. */
  close(): Promise<void>;
}

/**
 * Who follows which order: status catch-up and ownership from Temporal, partition routing told of
 * each order followed (its look-ups charged to the first follower's share of `budget`).
 */
function subscriptionsFor(opts: GatewayOptions, unseenExpiryMs: number, budget: LookupBudget): Subscriptions {
  const { orders, routing } = opts;
  return new Subscriptions(async (workflowId, charge) => orders?.view(workflowId, charge), {
    ownerOf: async (workflowId, charge) => (orders ? orders.owner(workflowId, charge) : { exists: false }),
    unseenExpiryMs,
    onFollow:
      routing &&
      ((workflowId, partition, sub) => routing.follow(workflowId, partition, budget.background(partyOf(sub)))),
    onUnfollow: routing && ((workflowId) => routing.unfollow(workflowId)),
  });
}

/** The observer's refusal listeners, or a log line for each. */
function refusalListeners(
  observer: GatewayObserver | undefined,
  log: (line: string) => void,
): { onAuthFailure: AuthFailureListener; onAuthUnavailable?: AuthUnavailableListener; onRefusal: RefusalListener } {
  return {
    onAuthFailure:
      observer?.authFailure ??
      ((transport, reason, address, detail) =>
        log(`auth refused (${transport}) from ${address}: ${reason}${detail ? ` (${detail})` : ''}`)),
    // Only counted: each one's detail is already logged under its correlation id.
    onAuthUnavailable: observer?.authUnavailable,
    onRefusal:
      observer?.refusal ??
      ((transport, status, reason, address) => log(`refused (${transport}) ${status} from ${address}: ${reason}`)),
  };
}

/** Jobs still running (Kafka writes being answered), so close() can wait for them. */
class InFlight {
  private readonly jobs = new Set<Promise<void>>();
  track = (job: Promise<void>): void => {
    const tracked = job.finally(() => this.jobs.delete(tracked));
    this.jobs.add(tracked);
  };
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.jobs]);
  }
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const log = opts.log ?? ((line: string) => console.log(`[gateway] ${line}`));
  const limits: GatewayLimits = { ...gatewayLimitsOf(DEFAULT_ENV), ...opts.limits };
  const timeouts: GatewayTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const auth = opts.auth ?? noAuth;
  const host = opts.host ?? DEFAULT_ENV.GATEWAY_HOST;
  const inFlight = new InFlight();
  let closing = false;

  // Temporal calls made for clients: at once, per second, and each customer's share (./lookup-budget).
  const budget = new LookupBudget(limits.temporalCalls);
  const subscriptions = subscriptionsFor(opts, timeouts.unseenSubscriptionMs, budget);
  const dispatcher = createDispatcher({
    producer: opts.producer,
    orders: opts.orders,
    history: opts.history,
    budget,
    subscriptions,
    rate: limits.rateLimit,
    rateAbuse: limits.rateAbuse,
    maxSubscriptions: limits.maxSubscriptions,
    statusPartition: opts.routing?.home,
    ownerCheckMs: timeouts.ownerCheckMs,
    onPlacement: opts.observer?.placement,
    closing: () => closing,
    track: inFlight.track,
    log,
  });
  const link: LinkOptions = {
    rate: limits.rateLimit,
    rateAbuse: limits.rateAbuse,
    maxBufferedBytes: limits.maxBufferedBytes,
    heartbeatMs: timeouts.heartbeatMs,
  };
  const openConnections = (): number => wsClients.size + socketIo.size;
  const admission: AdmissionOptions = {
    auth,
    allowedOrigins: opts.allowedOrigins,
    allowedHosts: opts.allowedHosts,
    perIp: new PerIpLimits(limits.perIp),
    preAuth: new PreAuthCap(limits.maxUnauthenticated),
    slots: new ConnectionSlots({ max: limits.maxConnections, open: openConnections, closing: () => closing }),
    ...refusalListeners(opts.observer, log),
    log,
  };

  const server = createHttpServer({
    headersTimeoutMs: timeouts.headersMs,
    requestTimeoutMs: timeouts.requestMs,
    temporalUi: opts.temporalUi ?? { url: temporalUiUrlOf(DEFAULT_ENV), namespace: DEFAULT_NAMESPACE },
    traceUrlTemplate: opts.traceUrlTemplate,
    authMode: auth.mode,
    allowedHosts: opts.allowedHosts,
  });
  const wsClients = new Connections({
    ...link,
    log,
    onFrame: (conn, raw, isBinary) =>
      dispatcher.handle(
        conn,
        () => readWsFrame(raw, isBinary),
        conn.send,
        () => peekWsOrderId(raw, isBinary),
      ),
    onGone: (conn) => subscriptions.unsubscribeAll(conn),
  });
  const wss = attachWsEndpoint(server, {
    admission,
    maxPayloadBytes: limits.maxPayloadBytes,
    accept: (ws, identity) => wsClients.accept(ws, identity),
  });
  const socketIo = new SocketIoTransport({
    ...admission,
    ...link,
    server,
    preAuthTimeoutMs: timeouts.preAuthMs,
    dispatcher,
    maxPayloadBytes: limits.maxPayloadBytes,
    onGone: (client) => subscriptions.unsubscribeAll(client),
    onUnknownSession: opts.observer?.unknownSession,
    log,
  });
  opts.observer?.countConnections?.(openConnections);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  log(`listening on ws://${host}:${port} (Socket.IO: ${SOCKET_IO_PATH}; auth: ${auth.mode})`);
  for (const warning of [exposureWarning(host, auth.mode), wildcardHostWarning(opts.allowedHosts)])
    if (warning) log(warning);

  return {
    server,
    port,
    deliverStatus: (event) => subscriptions.onEvent(event),
    followsOrder: (key) => subscriptions.follows(workflowIdOfKafkaKey(key)),
    subscriptionCount: () => subscriptions.size,
    connectionCount: openConnections,
    bufferedBytes: () => wsClients.bufferedBytes() + socketIo.bufferedBytes(),
    async close() {
      closing = true;
      wsClients.stopHeartbeat();
      await inFlight.settled();
      socketIo.close();
      await wsClients.closeAll();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      wsClients.terminateAll();
      admission.perIp.stop();
      subscriptions.stop();
      budget.stop();
    },
  };
}
