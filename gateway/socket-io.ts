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
 * One session holds at most one socket: a CONNECT that arrives while another of its session is being
 * checked closes the session (Socket.IO itself closes one whose socket is connected), and each
 * CONNECT takes its connection slot before its token is checked (./connection-slots), so neither a
 * burst of CONNECTs in one request nor many sessions at once get past the caps. Requests naming a
 * session that does not exist are counted and share their address's handshake budget.
 * Engine.IO sessions that have not passed a CONNECT also count against the gateway-wide pre-auth cap
 * (`preAuth`, shared with raw WebSocket upgrades), so a flood of them is bounded even when the
 * per-address caps are off (behind a proxy). Also the payload cap (maxHttpBufferSize), Socket.IO's
 * own ping/pong for dead peers, the rate limit's pushback (./pushback: the session is not read while
 * its bucket is empty, ./engine-flow), and a cap on the bytes and packets queued for a client.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { Server as IoServer, Socket } from 'socket.io';
import { ErrorCode, errorFrame, ServerFrame } from '../common/protocol';
import { AUTH_UNAVAILABLE, type Identity } from './auth';
import { detailOf, internalErrorLine } from './internal-error';
import { Client, LinkOptions, onTokenExpiry } from './client';
import type { SlotRelease } from './connection-slots';
import type { Dispatcher } from './frame-handlers';
import { EngineFlow, sessionIdOf, type SessionFlow } from './engine-flow';
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
  /** Told each Engine.IO request naming a session that does not exist, with the client's address (a count, no log line). */
  onUnknownSession?: (address: string) => void;
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
        if (opts.slots.full()) return callback('gateway full or shutting down', false);
        if (opts.preAuth.full()) return callback('too many unauthenticated connections', false);
        callback(null, true);
      },
    });
    this.flow = new EngineFlow(this.io.engine);
    // Refused handshakes and malformed requests: one log line each (never a token). Requests naming
    // a session that no longer exists (code 1) are not: a client's last poll after its session was
    // closed is routine (they are counted, and limited, by guardUnknownSessions, which also reports
    // the ones it refuses: its refusals reach here as MIDDLEWARE_FAILURE).
    this.io.engine.on(
      'connection_error',
      (err: {
        req: http.IncomingMessage;
        code: number;
        message: string;
        context?: { message?: unknown; name?: unknown };
      }) => {
        if (err.code === 1 || err.context?.name === 'MIDDLEWARE_FAILURE') return;
        const reason = typeof err.context?.message === 'string' ? err.context.message : err.message;
        opts.onRefusal?.('socket.io', err.code === 4 ? 403 : 400, reason, clientAddress(err.req.socket?.remoteAddress));
      },
    );
    // Every Engine.IO session counts against its address until it closes, authenticated or not, and
    // against the pre-auth cap until its CONNECT passes; it is closed (at once, not after the polling
    // transport's 30 s close wait) when it has not passed a CONNECT within preAuthTimeoutMs.
    const joined = new WeakSet<EngineConn>();
    const preAuthPlaces = new WeakMap<EngineConn, () => void>();
    const live = this.guardUnknownSessions();
    this.io.engine.on('connection', (conn: EngineConn) => {
      const sid = sessionIdOf(conn);
      live.add(sid);
      conn.once('close', () => live.delete(sid));
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
    this.guardConnects(joined);
    this.io.on('connection', (socket) => {
      // Authenticated: the session leaves the pre-auth count.
      preAuthPlaces.get(socket.conn)?.();
      this.accept(socket, (socket.data as { identity: Identity }).identity);
    });
  }

  /**
   * The Socket.IO CONNECT check (a middleware, so `connect_error` tells the client why): one CONNECT
   * of a session at a time, a connection slot taken before the token is verified, the token, and
   * the failed-attempt limit. Sockets that pass are added to `joined`.
   */
  private guardConnects(joined: WeakSet<EngineConn>): void {
    // Each session's CONNECTs: how many failed, and whether one is being checked or connected now.
    const sessions = new WeakMap<EngineConn, { failures: number; busy: boolean }>();
    // The slot of each socket that passed the check, handed over once it is in the namespace's count.
    const slots = new WeakMap<Socket, SlotRelease>();
    this.io.on('connection', (socket) => {
      joined.add(socket.conn);
      slots.get(socket)?.();
      socket.once('disconnect', () => {
        const session = sessions.get(socket.conn);
        if (session) session.busy = false;
      });
    });
    this.io.use((socket, next) => {
      const conn = socket.conn;
      const address = clientAddress(conn.remoteAddress);
      let session = sessions.get(conn);
      if (!session) sessions.set(conn, (session = { failures: 0, busy: false }));
      if (session.busy) {
        // Socket.IO records a socket only after this check calls back, so every CONNECT of a burst
        // would open one: a second CONNECT while one is pending ends the session instead.
        if (conn.readyState === 'open')
          this.opts.onRefusal?.('socket.io', 400, 'second CONNECT on one session', address);
        next(new Error('one connection per session'));
        conn.close(true);
        return;
      }
      const refuse = (message: string, data: Record<string, unknown>): void => {
        session.busy = false;
        session.failures += 1;
        next(Object.assign(new Error(message), { data }));
        if (session.failures >= MAX_CONNECT_ATTEMPTS) conn.close(true);
      };
      const reserved = this.opts.slots.reserve();
      if (!reserved)
        return refuse('gateway full', { reason: 'the gateway is at its connection limit or shutting down' });
      session.busy = true;
      // Given back if the session closes before the socket is counted; the listener goes with the slot.
      const onClose = (): void => reserved();
      conn.once('close', onClose);
      const slot: SlotRelease = () => {
        conn.off('close', onClose);
        reserved();
      };
      this.opts.auth.verify(tokenOf(socket)).then(
        (result) => {
          if (!result.ok) {
            slot();
            this.opts.onAuthFailure?.('socket.io', result.reason, address, result.detail);
            return refuse('unauthorized', { reason: result.reason });
          }
          if (this.opts.slots.closing) {
            slot();
            return refuse('gateway full', { reason: 'the gateway is shutting down' });
          }
          (socket.data as { identity?: Identity }).identity = result.identity;
          slots.set(socket, slot);
          next();
        },
        (err: unknown) => {
          slot();
          session.busy = false;
          // The verifier failed (not the token): the client learns only that (retryable), and a correlation id.
          const correlationId = crypto.randomUUID();
          this.opts.log(internalErrorLine(correlationId, `token check failed: ${detailOf(err)}`));
          this.opts.onAuthUnavailable?.('socket.io', clientAddress(socket.conn.remoteAddress));
          next(Object.assign(new Error('auth unavailable'), { data: { ...AUTH_UNAVAILABLE, correlationId } }));
        },
      );
    });
  }

  /**
   * Engine.IO requests naming a session that does not exist are counted (onUnknownSession) and spend
   * their address's handshake budget (./rate-limit takeHandshake); once it is spent they are refused
   * 429 before Engine.IO looks at them, and reported as refusals. Returns the set of live session
   * ids, which the caller keeps.
   */
  private guardUnknownSessions(): Set<string> {
    const live = new Set<string>();
    // Runs for every Engine.IO request and upgrade, before Engine.IO's own checks.
    this.io.engine.use((req: http.IncomingMessage, res: unknown, next: (err?: Error) => void) => {
      const sid = new URLSearchParams(req.url?.split('?')[1]).get('sid');
      if (sid === null || live.has(sid)) return next();
      const address = clientAddress(req.socket.remoteAddress);
      this.opts.onUnknownSession?.(address);
      if (this.opts.perIp.takeHandshake(address)) return next();
      this.opts.onRefusal?.('socket.io', 429, 'too many requests for unknown sessions', address);
      const body = JSON.stringify({ message: 'too many requests for unknown sessions' });
      if (res instanceof http.ServerResponse) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        // An upgrade (Engine.IO's stand-in response writes nothing): answer on the socket itself.
        req.socket.end(`HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      }
      // Engine.IO then skips its own answer (headers sent, or the socket no longer writable).
      next(new Error('too many requests for unknown sessions'));
    });
    return live;
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
