/**
 * The gateway: one HTTP server carrying the WebSocket endpoint, the Socket.IO endpoint
 * (/socket.io/), the browser page and /healthz. Both transports feed one dispatcher.
 * The parts: ./http-routes (page, /config.json, /healthz), ./auth (who is connecting),
 * ./upgrade-guard (token, Origin, connection limit), ./connections (heartbeat, slow readers, close),
 * ./frame-handlers (what each client request does), ./subscriptions (who follows which order's status).
 */
import * as http from 'node:http';
import { WebSocketServer } from 'ws';
import { DEFAULT_PORTS } from '../common/config';
import { DEFAULT_NAMESPACE } from '../common/config';
import type { StatusEvent } from '../common/status';
import {
  APP_SUBPROTOCOL,
  AuthFailureListener,
  Authenticator,
  BEARER_SUBPROTOCOL_PREFIX,
  exposureWarning,
  noAuth,
  RefusalListener,
} from './auth';
import { workflowIdOfKafkaKey } from '../common/order';
import { Connections } from './connections';
import { createDispatcher, PlacementOutcome } from './frame-handlers';
import { peekWsOrderId, readWsFrame } from './read-request';
import { httpHandler } from './http-routes';
import type { OrderLookup } from './order-lookup';
import type { StatusRouting } from './status-routing';
import type { OrderProducer } from './order-producer';
import { Subscriptions } from './subscriptions';
import { SOCKET_IO_PATH, SocketIoTransport } from './socket-io';
import { clientAddress, PerIpLimits, PerIpSettings } from './rate-limit';
import { admitUpgrade } from './upgrade-guard';

export interface GatewayOptions {
  port: number;
  host?: string;
  producer: Pick<OrderProducer, 'publish'>;
  /** Answers /healthz: is Kafka reachable right now? */
  kafkaHealthy: () => Promise<boolean>;
  /** Order look-ups in Temporal (getOrder, cancelOrder, status catch-up). Without it those answer TEMPORAL_UNAVAILABLE. */
  orders?: OrderLookup;
  /** Shown to the page so it can link each order to its run. */
  temporalUi?: { url: string; namespace: string };
  /** The link to one trace in the trace viewer (`{traceId}` where the id goes), for the page (/config.json). */
  traceUrlTemplate?: string;
  maxPayloadBytes?: number;
  maxConnections?: number;
  /** Orders one connection may follow at once (default 200). */
  maxSubscriptions?: number;
  /** JWT mode: how long an order's ownership may take to decide, and the earliest a NOT_FOUND is sent (default 1 s). */
  ownerCheckMs?: number;
  /** A subscription to an order that shows no sign of existing this long is dropped (default 10 min). */
  unseenSubscriptionExpiryMs?: number;
  /** Token bucket per connection: burst size and sustained frames per second. */
  rateLimit?: { burst: number; perSecond: number };
  heartbeatMs?: number;
  /** Who may connect, and as which customer (./auth): none (default), a shared token, or JWT. */
  auth?: Authenticator;
  /** Origin allow-list checked at the handshake (403 otherwise); empty/undefined: only the gateway's own origin (and clients sending no Origin). */
  allowedOrigins?: string[];
  /** Host names (or `*`) served besides loopback ones (403 otherwise): guards against DNS rebinding. */
  allowedHosts?: string[];
  /** Per client address: open connections and new handshakes per second (0: no limit). */
  perIp?: Partial<PerIpSettings>;
  /** A Socket.IO session that has not passed its CONNECT (auth) within this time is closed. */
  preAuthTimeoutMs?: number;
  /** HTTP: time allowed for a request's headers, and for the whole request (slow clients are cut). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Told each refused token (never the token itself). */
  onAuthFailure?: AuthFailureListener;
  /** Told each attempt refused before auth (one log line and a count; never a token). */
  onRefusal?: RefusalListener;
  /** Above this many bytes queued for a slow reader, the gateway stops sending to it and closes it. */
  maxBufferedBytes?: number;
  log?: (line: string) => void;
  /** Extra GET routes (/livez, /readyz, /metrics), tried first; true when answered. */
  routes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** Told each placeOrder's outcome and the seconds from reading the frame to answering it. */
  onPlacement?: (outcome: PlacementOutcome, seconds: number) => void;
  /** Partition routing (./status-routing.ts): its home partition goes into each order placed here. */
  routing?: Pick<StatusRouting, 'home' | 'follow' | 'unfollow'>;
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
  /** Stops accepting, waits for in-flight Kafka writes to be answered, closes every connection. */
  close(): Promise<void>;
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const log = opts.log ?? ((line: string) => console.log(`[gateway] ${line}`));
  const maxConnections = opts.maxConnections ?? 10_000;
  const rate = opts.rateLimit ?? { burst: 200, perSecond: 100 };
  const inFlight = new Set<Promise<void>>();
  let closing = false;
  const orders = opts.orders;
  const auth = opts.auth ?? noAuth;
  const host = opts.host ?? '127.0.0.1';
  const perIp = new PerIpLimits({
    maxConnections: opts.perIp?.maxConnections ?? 1000,
    handshakesPerSecond: opts.perIp?.handshakesPerSecond ?? 50,
  });
  const onAuthFailure: AuthFailureListener =
    opts.onAuthFailure ??
    ((transport, reason, address, detail) =>
      log(`auth refused (${transport}) from ${address}: ${reason}${detail ? ` (${detail})` : ''}`));
  const onRefusal: RefusalListener =
    opts.onRefusal ??
    ((transport, status, reason, address) => log(`refused (${transport}) ${status} from ${address}: ${reason}`));
  const subscriptions = new Subscriptions(
    async (orderId) => (orders ? orders.view(orderId) : undefined),
    undefined,
    undefined,
    async (orderId) => (orders ? orders.owner(orderId) : { exists: false }),
    {
      unseenExpiryMs: opts.unseenSubscriptionExpiryMs ?? 10 * 60_000,
      onFollow: opts.routing && ((orderId, partition) => opts.routing!.follow(orderId, partition)),
      onUnfollow: opts.routing && ((orderId) => opts.routing!.unfollow(orderId)),
    },
  );
  const temporalUi = opts.temporalUi ?? {
    url: `http://127.0.0.1:${DEFAULT_PORTS.temporalUi}`,
    namespace: DEFAULT_NAMESPACE,
  };

  const connections: Connections = new Connections({
    rate,
    maxBufferedBytes: opts.maxBufferedBytes ?? 1024 * 1024,
    heartbeatMs: opts.heartbeatMs ?? 30_000,
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
  const dispatcher = createDispatcher({
    onPlacement: opts.onPlacement,
    producer: opts.producer,
    orders,
    subscriptions,
    rate,
    maxSubscriptions: opts.maxSubscriptions ?? 200,
    statusPartition: opts.routing?.home,
    ownerCheckMs: opts.ownerCheckMs,
    closing: () => closing,
    track: (job) => {
      const tracked = job.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    },
    log,
  });

  const openConnections = (): number => connections.size + socketIo.size;
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: Math.max(opts.requestTimeoutMs ?? 15_000, headersTimeout),
      // How often the two timeouts above are checked (Node's default, 30 s, would let them run over by that much).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    httpHandler({
      temporalUi,
      traceUrlTemplate: opts.traceUrlTemplate,
      authMode: auth.mode,
      kafkaHealthy: opts.kafkaHealthy,
      connections: openConnections,
      allowedHosts: opts.allowedHosts,
      routes: opts.routes,
    }),
  );
  const maxPayload = opts.maxPayloadBytes ?? 64 * 1024;
  const socketIo: SocketIoTransport = new SocketIoTransport({
    server,
    auth,
    allowedOrigins: opts.allowedOrigins,
    allowedHosts: opts.allowedHosts,
    perIp,
    preAuthTimeoutMs: opts.preAuthTimeoutMs ?? 5_000,
    onAuthFailure,
    onRefusal,
    full: () => closing || openConnections() >= maxConnections,
    dispatcher,
    rate,
    maxPayloadBytes: maxPayload,
    maxBufferedBytes: opts.maxBufferedBytes ?? 1024 * 1024,
    heartbeatMs: opts.heartbeatMs ?? 30_000,
    onGone: (client) => subscriptions.unsubscribeAll(client),
    log,
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    // A browser that sends its token as a `bearer.<token>` subprotocol also offers ours; the answer
    // names ours (never the token, which must not be echoed).
    handleProtocols: (offered) =>
      offered.has(APP_SUBPROTOCOL)
        ? APP_SUBPROTOCOL
        : ([...offered].find((p) => !p.startsWith(BEARER_SUBPROTOCOL_PREFIX)) ?? false),
  });
  // A malformed upgrade (wrong method, version or key): answered 400 and logged like other refusals.
  wss.on('wsClientError', (err, socket, req) => {
    onRefusal('websocket', 400, err.message, clientAddress(req.socket.remoteAddress));
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.startsWith(SOCKET_IO_PATH)) return; // Socket.IO's own upgrade listener takes these
    void admitUpgrade(req, socket, {
      auth,
      allowedOrigins: opts.allowedOrigins,
      allowedHosts: opts.allowedHosts,
      perIp,
      onAuthFailure,
      onRefusal,
      log,
      full: () => closing || openConnections() >= maxConnections,
    }).then((identity) => {
      if (identity) wss.handleUpgrade(req, socket, head, (ws) => connections.accept(ws, identity));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  log(`listening on ws://${host}:${port} (Socket.IO: ${SOCKET_IO_PATH}; health: /healthz; auth: ${auth.mode})`);
  const warning = exposureWarning(host, auth.mode);
  if (warning) log(warning);

  return {
    server,
    port,
    deliverStatus: (event) => subscriptions.onEvent(event),
    followsOrder: (key) => subscriptions.follows(workflowIdOfKafkaKey(key)),
    subscriptionCount: () => subscriptions.size,
    connectionCount: () => openConnections(),
    async close() {
      closing = true;
      connections.stopHeartbeat();
      await Promise.allSettled([...inFlight]);
      socketIo.close();
      await connections.closeAll();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      connections.terminateAll();
      perIp.stop();
      subscriptions.stop();
    },
  };
}
