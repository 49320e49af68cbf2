/**
 * The gateway: one HTTP server carrying the WebSocket endpoint and /healthz.
 * A placeOrder frame is validated, written to Kafka, and answered with orderAccepted only after
 * Kafka stored it; anything else gets an error frame naming the problem, and the connection stays open.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { WebSocket, WebSocketServer, RawData } from 'ws';
import type { Duplex } from 'node:stream';
import type { z } from 'zod';
import { DEFAULT_PORTS } from '../common/config';
import { Order, PlaceOrderInput, describeZodError, workflowIdFor } from '../common/order';
import type { StatusEvent } from '../common/status';
import type { OrderLookup } from './order-lookup';
import { CancelOrderInput, ClientFrame, ErrorCode, errorFrame, OrderRef, ServerFrame, SubscribeOrderInput } from './protocol';
import { TokenBucket } from './rate-limit';
import type { OrderProducer } from './order-producer';
import { Subscriptions } from './subscriptions';

const PUBLIC_DIR = path.join(__dirname, 'public');
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

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
  maxPayloadBytes?: number;
  maxConnections?: number;
  /** Token bucket per connection: burst size and sustained frames per second. */
  rateLimit?: { burst: number; perSecond: number };
  heartbeatMs?: number;
  /**
   * Optional shared token: when set, the WebSocket upgrade must carry it (Authorization: Bearer <token>,
   * or ?token=<token> for browsers), else the HTTP request is answered 401 and no WebSocket exists.
   */
  authToken?: string;
  /** Optional Origin allow-list checked during the upgrade (403 otherwise); empty/undefined allows any. */
  allowedOrigins?: string[];
  /** Above this many bytes queued for a slow reader, the gateway stops sending to it and closes it. */
  maxBufferedBytes?: number;
  log?: (line: string) => void;
  /** Extra GET routes (/livez, /readyz, /metrics), tried first; true when answered. */
  routes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** Told each placeOrder's outcome and the seconds from reading the frame to answering it. */
  onPlacement?: (outcome: 'accepted' | 'invalid' | 'kafka_unavailable', seconds: number) => void;
}

export interface Gateway {
  server: http.Server;
  port: number;
  /** Feed a status event (from the order-status topic) to the clients following that order. */
  deliverStatus(event: StatusEvent): void;
  /** Open (subscriber, order) pairs; zero when no client follows anything. */
  subscriptionCount(): number;
  /** Open WebSocket connections. */
  connectionCount(): number;
  /** Stops accepting, waits for in-flight Kafka writes to be answered, closes every connection. */
  close(): Promise<void>;
}

interface Conn {
  ws: WebSocket;
  isAlive: boolean;
  bucket: TokenBucket;
  sendStatus(event: StatusEvent): void;
}

/** Constant-time comparison of the presented token (header or query) with the expected one. */
function tokenMatches(req: http.IncomingMessage, expected: string): boolean {
  const header = req.headers.authorization;
  const fromHeader = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  const fromQuery = new URL(req.url ?? '/', 'http://gateway').searchParams.get('token') ?? undefined;
  const presented = Buffer.from(fromHeader ?? fromQuery ?? '');
  const wanted = Buffer.from(expected);
  return presented.length === wanted.length && crypto.timingSafeEqual(presented, wanted);
}

function serveStatic(url: string, res: http.ServerResponse): boolean {
  const name = url === '/' ? 'index.html' : url.slice(1).split('?')[0];
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) return false;
  const file = path.join(PUBLIC_DIR, name);
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch {
    return false;
  }
  res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  res.end(body);
  return true;
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const log = opts.log ?? ((line: string) => console.log(`[gateway] ${line}`));
  const maxConnections = opts.maxConnections ?? 10_000;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  const rate = opts.rateLimit ?? { burst: 200, perSecond: 100 };
  const conns = new Set<Conn>();
  const inFlight = new Set<Promise<void>>();
  let closing = false;
  const orders = opts.orders;
  const subscriptions = new Subscriptions(async (orderId) => (orders ? orders.view(orderId) : undefined));
  const temporalUi = opts.temporalUi ?? { url: `http://127.0.0.1:${DEFAULT_PORTS.temporalUi}`, namespace: 'default' };

  const server = http.createServer((req, res) => {
    if (opts.routes?.(req, res)) return;
    if (req.method === 'GET' && req.url === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ temporalUiUrl: temporalUi.url, namespace: temporalUi.namespace }));
      return;
    }
    if (req.method === 'GET' && req.url && req.url !== '/healthz' && serveStatic(req.url, res)) return;
    if (req.method === 'GET' && req.url === '/healthz') {
      opts.kafkaHealthy().then(
        (ok) => {
          res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: ok ? 'ok' : 'degraded', kafka: ok ? 'up' : 'unreachable', connections: conns.size }));
        },
        () => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'degraded', kafka: 'unreachable', connections: conns.size }));
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 64 * 1024 });

  const refuse = (socket: Duplex, status: string): void => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if (opts.authToken && !tokenMatches(req, opts.authToken)) {
      refuse(socket, '401 Unauthorized');
      return;
    }
    if (opts.allowedOrigins?.length && !opts.allowedOrigins.includes(req.headers.origin ?? '')) {
      refuse(socket, '403 Forbidden');
      return;
    }
    if (closing || conns.size >= maxConnections) {
      refuse(socket, '503 Service Unavailable');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (conn: Conn, frame: ServerFrame): void => {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.ws.bufferedAmount > maxBuffered) {
      // A reader this far behind would make us buffer without bound: drop it (1008: policy).
      conn.ws.close(1008, 'reader too slow');
      return;
    }
    conn.ws.send(JSON.stringify(frame));
  };

  const placeOrder = async (conn: Conn, data: unknown): Promise<void> => {
    const readAt = process.hrtime.bigint();
    const placed = (outcome: 'accepted' | 'invalid' | 'kafka_unavailable'): void =>
      opts.onPlacement?.(outcome, Number(process.hrtime.bigint() - readAt) / 1e9);
    const parsed = PlaceOrderInput.safeParse(data);
    const claimedId = typeof (data as { orderId?: unknown })?.orderId === 'string' ? String((data as { orderId: string }).orderId).slice(0, 64) : null;
    if (!parsed.success) {
      const { field, message } = describeZodError(parsed.error);
      send(conn, errorFrame(ErrorCode.invalidOrder, message, claimedId, field));
      placed('invalid');
      return;
    }
    const order: Order = { ...parsed.data, orderId: parsed.data.orderId ?? crypto.randomUUID() };
    // Follow the order from its first status on; the workflow does not exist yet, so no catch-up now.
    subscriptions.subscribe(conn, order.orderId, 1, false);
    try {
      await opts.producer.publish(order);
    } catch (err) {
      log(`order ${order.orderId}: not accepted: ${(err as Error).message}`);
      send(
        conn,
        errorFrame(ErrorCode.kafkaUnavailable, `order not accepted: ${(err as Error).message}; resend with the same orderId`, order.orderId),
      );
      placed('kafka_unavailable');
      return;
    }
    send(conn, { event: 'orderAccepted', data: { orderId: order.orderId, workflowId: workflowIdFor(order.orderId) } });
    placed('accepted');
  };

  /** Parses a request naming an order; answers INVALID_REQUEST (naming the field) when it does not parse. */
  const orderRef = <T extends { orderId: string }>(conn: Conn, schema: z.ZodType<T>, data: unknown): T | undefined => {
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    const { field, message } = describeZodError(parsed.error);
    send(conn, errorFrame(ErrorCode.invalidRequest, message, null, field));
    return undefined;
  };

  const withOrders = (conn: Conn, orderId: string): OrderLookup | undefined => {
    if (!orders) send(conn, errorFrame(ErrorCode.temporalUnavailable, 'order look-ups are not available on this gateway', orderId));
    return orders;
  };

  const getOrder = async (conn: Conn, data: unknown): Promise<void> => {
    const ref = orderRef(conn, OrderRef, data);
    if (!ref) return;
    const lookup = withOrders(conn, ref.orderId);
    if (!lookup) return;
    try {
      const view = await lookup.view(ref.orderId);
      if (!view) send(conn, errorFrame(ErrorCode.notFound, `no order ${ref.orderId}`, ref.orderId));
      else send(conn, { event: 'order', data: view });
    } catch (err) {
      send(conn, errorFrame(ErrorCode.temporalUnavailable, `could not read order ${ref.orderId}: ${(err as Error).message}`, ref.orderId));
    }
  };

  const cancelOrder = async (conn: Conn, data: unknown): Promise<void> => {
    const ref = orderRef(conn, CancelOrderInput, data);
    if (!ref) return;
    const lookup = withOrders(conn, ref.orderId);
    if (!lookup) return;
    const outcome = await lookup.cancel(ref.orderId);
    if (outcome.kind === 'cancelled') send(conn, { event: 'orderCancelled', data: { orderId: ref.orderId } });
    else if (outcome.kind === 'not-found') send(conn, errorFrame(ErrorCode.notFound, `no order ${ref.orderId}`, ref.orderId));
    else if (outcome.kind === 'refused') send(conn, errorFrame(ErrorCode.cannotCancel, outcome.reason, ref.orderId));
    else send(conn, errorFrame(ErrorCode.temporalUnavailable, outcome.reason, ref.orderId));
  };

  const subscribeOrder = (conn: Conn, data: unknown): void => {
    const ref = orderRef(conn, SubscribeOrderInput, data);
    if (!ref) return;
    send(conn, { event: 'subscribed', data: { orderId: ref.orderId } });
    subscriptions.subscribe(conn, ref.orderId, ref.fromSeq, true);
  };

  const track = (job: Promise<void>): void => {
    const tracked = job.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const onFrame = (conn: Conn, raw: RawData, isBinary: boolean): void => {
    if (!conn.bucket.take()) {
      send(conn, errorFrame(ErrorCode.rateLimited, `too many frames: at most ${rate.perSecond}/s (burst ${rate.burst})`));
      return;
    }
    if (isBinary) {
      send(conn, errorFrame(ErrorCode.badFrame, 'binary frames are not accepted: send JSON text'));
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString());
    } catch {
      send(conn, errorFrame(ErrorCode.badJson, 'frame is not valid JSON'));
      return;
    }
    const frame = ClientFrame.safeParse(json);
    if (!frame.success) {
      send(conn, errorFrame(ErrorCode.badFrame, `expected {"event": string, "data": ...}: ${describeZodError(frame.error).message}`));
      return;
    }
    if (closing) {
      const data = frame.data.data as { orderId?: unknown } | null;
      const orderId = typeof data?.orderId === 'string' ? data.orderId.slice(0, 64) : null;
      send(conn, errorFrame(ErrorCode.shuttingDown, 'gateway is shutting down; reconnect and resend', orderId));
      return;
    }
    switch (frame.data.event) {
      case 'placeOrder':
        return track(placeOrder(conn, frame.data.data));
      case 'getOrder':
        return track(getOrder(conn, frame.data.data));
      case 'cancelOrder':
        return track(cancelOrder(conn, frame.data.data));
      case 'subscribeOrder':
        return subscribeOrder(conn, frame.data.data);
      default:
        send(
          conn,
          errorFrame(ErrorCode.unknownEvent, `unknown event "${frame.data.event.slice(0, 64)}"; supported: placeOrder, subscribeOrder, getOrder, cancelOrder`),
        );
    }
  };

  wss.on('connection', (ws) => {
    const conn: Conn = {
      ws,
      isAlive: true,
      bucket: new TokenBucket(rate.burst, rate.perSecond),
      sendStatus: (event) => send(conn, { event: 'orderStatus', data: event }),
    };
    conns.add(conn);
    ws.on('error', (err) => log(`connection error: ${err.message}`));
    ws.on('pong', () => (conn.isAlive = true));
    ws.on('message', (raw, isBinary) => onFrame(conn, raw, isBinary));
    ws.on('close', () => {
      conns.delete(conn);
      subscriptions.unsubscribeAll(conn);
    });
  });

  // Heartbeat: a peer that did not answer the last ping is gone; free its resources.
  const heartbeat = setInterval(() => {
    for (const conn of conns) {
      if (!conn.isAlive) {
        conn.ws.terminate();
        conns.delete(conn);
        subscriptions.unsubscribeAll(conn);
        continue;
      }
      conn.isAlive = false;
      conn.ws.ping();
    }
  }, opts.heartbeatMs ?? 30_000);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  log(`listening on ws://${opts.host ?? '127.0.0.1'}:${port} (health: /healthz)`);

  return {
    server,
    port,
    deliverStatus: (event) => subscriptions.onEvent(event),
    subscriptionCount: () => subscriptions.size,
    connectionCount: () => conns.size,
    async close() {
      closing = true;
      clearInterval(heartbeat);
      await Promise.allSettled([...inFlight]);
      for (const conn of conns) conn.ws.close(1001, 'gateway shutting down');
      // Give the close handshakes a moment, so clients see 1001 rather than a dropped socket.
      const handshakeDeadline = Date.now() + 2_000;
      while (conns.size > 0 && Date.now() < handshakeDeadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of conns) conn.ws.terminate();
    },
  };
}
