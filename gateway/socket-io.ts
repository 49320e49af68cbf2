/**
 * The Socket.IO transport: a `socket.io` server on the gateway's HTTP server (path /socket.io/), so
 * the clients of a NestJS Socket.IO gateway (socket.io-client front ends, Postman's Socket.IO mode)
 * connect unchanged. It is only an adapter: each event becomes a `Dispatcher.handle` call, the same
 * one raw WebSocket frames get (./frame-handlers), so validation, limits, rate limits, ownership and
 * the Kafka path are shared. Answers are emitted as events (`orderAccepted`, `error`, …) and, when
 * the client passed an ack callback, also given to it as the `{event, data}` frame.
 *
 * Transport-level checks: Host, Origin, per-address limits and a full gateway at the Engine.IO
 * handshake (403); the token (handshake `auth.token`, or an `Authorization: Bearer` header) and the
 * connection cap at the Socket.IO CONNECT, in a middleware (`connect_error` "unauthorized" / "gateway
 * full"). Only sockets that passed that middleware count as connections; an Engine.IO session that
 * has not connected within `preAuthTimeoutMs`, or failed its CONNECT `MAX_CONNECT_ATTEMPTS` times, is
 * closed (so bare handshakes cannot fill the gateway, and tokens cannot be guessed on one session).
 * Engine.IO sessions that have not passed a CONNECT also count against the gateway-wide pre-auth cap
 * (`preAuth`, shared with raw WebSocket upgrades), so a flood of them is bounded even when the
 * per-address caps are off (behind a proxy). Also the payload cap (maxHttpBufferSize), Socket.IO's
 * own ping/pong for dead peers, the rate limit's pushback (./pushback: the session is not read while
 * its bucket is empty, ./engine-flow), and a cap on the bytes and packets queued for a client.
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { Server as IoServer, Socket } from 'socket.io';
import { ErrorCode, errorFrame, ServerFrame } from '../common/protocol';
import type { Identity } from './auth';
import { detailOf, internalErrorLine } from './internal-error';
import { Client, LinkOptions, onTokenExpiry } from './client';
import type { Dispatcher } from './frame-handlers';
import { EngineFlow, type SessionFlow } from './engine-flow';
import { FrameThrottle } from './pushback';
import { clientAddress } from './rate-limit';
import { claimedOrderId, ReadRequest, readEnvelope } from './read-request';
import { AdmissionOptions, hostAllowed, originAllowed } from './upgrade-guard';

export const SOCKET_IO_PATH = '/socket.io/';

/** An Engine.IO session (the transport under a Socket.IO connection). */
type EngineConn = Socket['conn'];

/** Packets queued for one client (not yet written to its transport) before it counts as a reader too slow to keep. */
const MAX_QUEUED_PACKETS = 10_000;

/** Failed CONNECTs (wrong token, gateway full) one Engine.IO session may make before it is closed. */
export const MAX_CONNECT_ATTEMPTS = 3;

export interface SocketIoOptions extends AdmissionOptions, LinkOptions {
  server: http.Server;
  /** An Engine.IO session that has not passed a Socket.IO CONNECT within this time is closed. */
  preAuthTimeoutMs: number;
  dispatcher: Dispatcher;
  maxPayloadBytes: number;
  /** A client is gone: free what it held. */
  onGone: (client: Client) => void;
  log: (line: string) => void;
}

/** Socket.IO's parsing: one data argument (plus the optional ack), no binary attachments. */
function readSocketIoEvent(event: string, args: unknown[]): ReadRequest {
  if (args.length > 1)
    return {
      error: errorFrame(ErrorCode.badFrame, `expected one data argument (and an optional ack), got ${args.length}`),
    };
  if (Buffer.isBuffer(args[0]) || args[0] instanceof ArrayBuffer || ArrayBuffer.isView(args[0])) {
    return { error: errorFrame(ErrorCode.badFrame, 'binary data is not accepted: send a JSON object') };
  }
  return readEnvelope({ event, data: args[0] });
}

function tokenOf(socket: Socket): string | undefined {
  const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof fromAuth === 'string') return fromAuth;
  const header = socket.handshake.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

export class SocketIoTransport {
  private readonly io: IoServer;
  private readonly flow: EngineFlow;
  /** The flow of each accepted client's session, for the gateway's count of queued bytes. */
  private readonly flows = new Set<SessionFlow>();

  constructor(private readonly opts: SocketIoOptions) {
    this.io = new IoServer(opts.server, {
      path: SOCKET_IO_PATH,
      serveClient: false,
      maxHttpBufferSize: opts.maxPayloadBytes,
      pingInterval: opts.heartbeatMs,
      // Upgrades to other paths are the raw WebSocket transport's: never close them.
      destroyUpgrade: false,
      // Cross-origin reads are allowed only to the listed origins; without a list none are (the
      // page is same-origin and needs no CORS), as allowRequest refuses any other Origin anyway.
      cors: { origin: opts.allowedOrigins?.length ? opts.allowedOrigins : false },
      // A backstop only: the pre-auth timer below closes such sessions first, and at once (Socket.IO's
      // own close of a polling session waits for its next poll, up to 30 s).
      connectTimeout: 2 * opts.preAuthTimeoutMs + 1_000,
      // Called for each new Engine.IO session (not for the requests of an existing one).
      allowRequest: (req, callback) => {
        if (!hostAllowed(req.headers.host, opts.allowedHosts)) return callback('host not allowed', false);
        const refusal = opts.perIp.admit(clientAddress(req.socket.remoteAddress));
        if (refusal) return callback(refusal, false);
        if (!originAllowed(req.headers.origin, req.headers.host, opts.allowedOrigins))
          return callback('origin not allowed', false);
        if (opts.full()) return callback('gateway full or shutting down', false);
        if (opts.preAuth.full()) return callback('too many unauthenticated connections', false);
        callback(null, true);
      },
    });
    this.flow = new EngineFlow(this.io.engine);
    // Refused handshakes and malformed requests: one log line each (never a token). Requests naming
    // a session that no longer exists (code 1) are not: a client's last poll after its session was
    // closed is routine.
    this.io.engine.on(
      'connection_error',
      (err: { req: http.IncomingMessage; code: number; message: string; context?: { message?: unknown } }) => {
        if (err.code === 1) return;
        const reason = typeof err.context?.message === 'string' ? err.context.message : err.message;
        opts.onRefusal?.('socket.io', err.code === 4 ? 403 : 400, reason, clientAddress(err.req.socket?.remoteAddress));
      },
    );
    // Every Engine.IO session counts against its address until it closes, authenticated or not, and
    // against the pre-auth cap until its CONNECT passes; it is closed (at once, not after the polling
    // transport's 30 s close wait) when it has not passed a CONNECT within preAuthTimeoutMs.
    const joined = new WeakSet<EngineConn>();
    const preAuthPlaces = new WeakMap<EngineConn, () => void>();
    this.io.engine.on('connection', (conn: EngineConn) => {
      const timer = setTimeout(() => {
        if (!joined.has(conn)) conn.close(true);
      }, opts.preAuthTimeoutMs);
      timer.unref();
      const release = opts.perIp.opened(clientAddress(conn.remoteAddress));
      // allowRequest checked for room just before; a session that still finds none is closed.
      const leavePreAuth = opts.preAuth.enter() ?? (() => conn.close(true));
      preAuthPlaces.set(conn, leavePreAuth);
      conn.once('close', () => {
        clearTimeout(timer);
        release();
        leavePreAuth();
      });
    });
    this.io.on('connection', (socket) => {
      joined.add(socket.conn);
      preAuthPlaces.get(socket.conn)?.();
    });
    const failedConnects = new WeakMap<object, number>();
    this.io.use((socket, next) => {
      const refuse = (message: string, reason: string): void => {
        const failures = (failedConnects.get(socket.conn) ?? 0) + 1;
        failedConnects.set(socket.conn, failures);
        next(Object.assign(new Error(message), { data: { reason } }));
        if (failures >= MAX_CONNECT_ATTEMPTS) socket.conn.close(true);
      };
      opts.auth.verify(tokenOf(socket)).then(
        (result) => {
          if (!result.ok) {
            opts.onAuthFailure?.('socket.io', result.reason, clientAddress(socket.conn.remoteAddress), result.detail);
            return refuse('unauthorized', result.reason);
          }
          if (opts.full()) return refuse('gateway full', 'the gateway is at its connection limit or shutting down');
          (socket.data as { identity?: Identity }).identity = result.identity;
          next();
        },
        (err: unknown) => {
          // The verifier failed (not the token): the client learns only that, and a correlation id.
          const correlationId = crypto.randomUUID();
          opts.log(internalErrorLine(correlationId, `token check failed: ${detailOf(err)}`));
          next(Object.assign(new Error('auth unavailable'), { data: { correlationId } }));
        },
      );
    });
    this.io.on('connection', (socket) => this.accept(socket, (socket.data as { identity: Identity }).identity));
  }

  /** Open Socket.IO connections: sockets that passed the CONNECT middleware (bare Engine.IO sessions do not count). */
  get size(): number {
    return this.io.of('/').sockets.size;
  }

  /** Bytes queued for the Socket.IO clients, over all of them. */
  bufferedBytes(): number {
    let total = 0;
    for (const flow of this.flows) total += flow.queuedBytes();
    return total;
  }

  private accept(socket: Socket, identity: Identity): void {
    const flow = this.flow.follow(socket.conn);
    this.flows.add(flow);
    const emit = (frame: ServerFrame): void => {
      if (!socket.connected) return;
      socket.emit(frame.event, frame.data);
      if (flow.queuedPackets() > MAX_QUEUED_PACKETS || flow.queuedBytes() > this.opts.maxBufferedBytes) {
        // A reader this far behind would make us buffer without bound: its session is closed at
        // once, dropping what it queued (a close that waited for the queue to drain never would).
        socket.conn.close(true);
      }
    };
    const client: Client = {
      customerId: identity.customerId,
      throttle: new FrameThrottle(this.opts.rate, this.opts.rateAbuse, flow.reading),
      send: emit,
      sendStatus: (event) => emit({ event: 'orderStatus', data: event }),
      // The client sees the last notice, then a server disconnect ("io server disconnect").
      closeForPolicy: () => socket.disconnect(true),
    };
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (frame: ServerFrame) => void) : undefined;
      const reply = (frame: ServerFrame): void => {
        emit(frame);
        if (socket.connected) ack?.(frame);
      };
      this.opts.dispatcher.handle(
        client,
        () => readSocketIoEvent(event, args),
        reply,
        () => claimedOrderId(args[0]),
      );
    });
    const cancelExpiry = onTokenExpiry(identity, () => {
      emit(errorFrame(ErrorCode.tokenExpired, 'token expired: reconnect with a fresh token'));
      socket.disconnect(true);
    });
    socket.on('disconnect', () => {
      cancelExpiry();
      client.throttle.stop();
      flow.stop();
      this.flows.delete(flow);
      this.opts.onGone(client);
    });
    socket.on('error', (err) => this.opts.log(`socket.io connection error: ${err.message}`));
  }

  /** Disconnects every client and stops the engine (the HTTP server is closed by its owner). */
  close(): void {
    this.io.disconnectSockets(true);
    this.io.engine.close();
  }
}
