/**
 * The Socket.IO transport: a `socket.io` server on the gateway's HTTP server (path /socket.io/), so
 * the clients of a NestJS Socket.IO gateway (socket.io-client front ends, Postman's Socket.IO mode)
 * connect unchanged. It is only an adapter: each event becomes a `Dispatcher.handle` call, the same
 * one raw WebSocket frames get (./frame-handlers), so validation, limits, rate limits, ownership and
 * the Kafka path are shared. Answers are emitted as events (`orderAccepted`, `error`, …) and, when
 * the client passed an ack callback, also given to it as the `{event, data}` frame.
 *
 * Transport-level checks: Origin allow-list and connection cap at the handshake (403), the token
 * (handshake `auth.token`, or an `Authorization: Bearer` header) in a middleware (`connect_error`
 * "unauthorized"), the payload cap (maxHttpBufferSize), Socket.IO's own ping/pong for dead peers,
 * and a slow-reader cap on the packets queued for a client.
 */
import type * as http from 'node:http';
import { Server as IoServer, Socket } from 'socket.io';
import { ErrorCode, errorFrame, ServerFrame } from '../common/protocol';
import type { Authenticator, Identity } from './auth';
import { Client, onTokenExpiry } from './client';
import type { Dispatcher } from './frame-handlers';
import { ReadRequest, readEnvelope } from './read-request';
import { TokenBucket } from './rate-limit';
import { originAllowed } from './upgrade-guard';

export const SOCKET_IO_PATH = '/socket.io/';

/** Packets queued for one client (not yet written to its transport) before it counts as a reader too slow to keep. */
const MAX_QUEUED_PACKETS = 10_000;

export interface SocketIoOptions {
  server: http.Server;
  auth: Authenticator;
  allowedOrigins?: string[];
  /** True when no further connection may be opened (shutting down, or at the connection limit). */
  full: () => boolean;
  dispatcher: Dispatcher;
  rate: { burst: number; perSecond: number };
  maxPayloadBytes: number;
  maxBufferedBytes: number;
  heartbeatMs: number;
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

/** How many bytes/packets wait for this client: the engine's queue, and the WebSocket's buffer under it. */
function backlog(socket: Socket): { packets: number; bytes: number } {
  const conn = socket.conn as unknown as {
    writeBuffer?: unknown[];
    transport?: { socket?: { bufferedAmount?: number } };
  };
  return { packets: conn.writeBuffer?.length ?? 0, bytes: conn.transport?.socket?.bufferedAmount ?? 0 };
}

export class SocketIoTransport {
  private readonly io: IoServer;

  constructor(private readonly opts: SocketIoOptions) {
    this.io = new IoServer(opts.server, {
      path: SOCKET_IO_PATH,
      serveClient: false,
      maxHttpBufferSize: opts.maxPayloadBytes,
      pingInterval: opts.heartbeatMs,
      // Upgrades to other paths are the raw WebSocket transport's: never close them.
      destroyUpgrade: false,
      // Same Origin policy as the raw WebSocket transport: any, unless an allow-list is set.
      cors: { origin: opts.allowedOrigins?.length ? opts.allowedOrigins : true },
      allowRequest: (req, callback) => {
        if (!originAllowed(req.headers.origin, opts.allowedOrigins)) return callback('origin not allowed', false);
        if (opts.full()) return callback('gateway full or shutting down', false);
        callback(null, true);
      },
    });
    this.io.use((socket, next) => {
      opts.auth.verify(tokenOf(socket)).then(
        (result) => {
          if (result.ok) {
            (socket.data as { identity?: Identity }).identity = result.identity;
            next();
          } else next(Object.assign(new Error('unauthorized'), { data: { reason: result.reason } }));
        },
        (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
      );
    });
    this.io.on('connection', (socket) => this.accept(socket, (socket.data as { identity: Identity }).identity));
  }

  /** Open Socket.IO connections. */
  get size(): number {
    return this.io.engine.clientsCount;
  }

  private accept(socket: Socket, identity: Identity): void {
    const emit = (frame: ServerFrame): void => {
      if (!socket.connected) return;
      const queued = backlog(socket);
      if (queued.packets > MAX_QUEUED_PACKETS || queued.bytes > this.opts.maxBufferedBytes) {
        socket.disconnect(true);
        return;
      }
      socket.emit(frame.event, frame.data);
    };
    const client: Client = {
      customerId: identity.customerId,
      bucket: new TokenBucket(this.opts.rate.burst, this.opts.rate.perSecond),
      send: emit,
      sendStatus: (event) => emit({ event: 'orderStatus', data: event }),
    };
    socket.onAny((event: string, ...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (frame: ServerFrame) => void) : undefined;
      const reply = (frame: ServerFrame): void => {
        emit(frame);
        if (socket.connected) ack?.(frame);
      };
      this.opts.dispatcher.handle(client, () => readSocketIoEvent(event, args), reply);
    });
    const cancelExpiry = onTokenExpiry(identity, () => {
      emit(errorFrame(ErrorCode.tokenExpired, 'token expired: reconnect with a fresh token'));
      socket.disconnect(true);
    });
    socket.on('disconnect', () => {
      cancelExpiry();
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
