/**
 * Flow control of Engine.IO sessions (the transport under each Socket.IO connection, ./socket-io):
 * stopping and restarting the reading of one session, and the bytes queued for it.
 *
 * Reading stops on either of a session's transports: over WebSocket the socket under it is paused
 * (what the client sends next waits in TCP's buffers); over long-polling the session's next POST is
 * held before its body is read (an Engine.IO client sends one POST at a time, so it sends nothing
 * more until that one is answered). A second POST to a held session is refused 400.
 *
 * Queued bytes: what Engine.IO holds in its write buffer for the session (counted as packets are
 * queued, zero once flushed to the transport) plus, over WebSocket, what the socket has not written
 * yet. A long-polling response, once written, is the HTTP connection's: at most one flush, which was
 * itself within the cap when queued.
 */
import type * as http from 'node:http';
import type { Server as IoServer, Socket } from 'socket.io';
import type { WebSocket } from 'ws';
import type { ReadControl } from './pushback';

type EngineServer = IoServer['engine'];
/** An Engine.IO session (the transport under a Socket.IO connection). */
type EngineSocket = Socket['conn'];

/** What the gateway needs of one session's flow. */
export interface SessionFlow {
  reading: ReadControl;
  /** Bytes queued for the client and not yet handed to the operating system. */
  queuedBytes(): number;
  /** Packets in Engine.IO's write buffer. */
  queuedPackets(): number;
  /** The Socket.IO connection is gone (its session may live on): reading resumes, nothing is followed any more. */
  stop(): void;
}

/** The WebSocket under a session, when its transport is WebSocket. */
function webSocketOf(conn: EngineSocket): WebSocket | undefined {
  const transport = conn.transport as unknown as { name?: string; socket?: WebSocket };
  return transport.name === 'websocket' ? transport.socket : undefined;
}

/** A session's id, as Engine.IO requests name it (`?sid=`): public in Engine.IO's API, private in its typings. */
export function sessionIdOf(conn: EngineSocket): string {
  return (conn as unknown as { id: string }).id;
}

function byteSize(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (Buffer.isBuffer(data) || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

export class EngineFlow {
  /** Sessions whose reading is paused, with the continuation of the POST held for each (if any). */
  private readonly paused = new Map<string, { release?: () => void }>();

  constructor(engine: EngineServer) {
    // Runs before Engine.IO handles any HTTP request (handshakes and polls included).
    engine.use((req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => {
      if (req.method !== 'POST') return next();
      const sid = new URL(req.url ?? '/', 'http://gateway').searchParams.get('sid');
      const state = sid === null ? undefined : this.paused.get(sid);
      if (!state) return next();
      if (state.release) {
        res.writeHead(400).end();
        return;
      }
      state.release = () => next();
    });
  }

  /** Starts following `conn`: call once, when its Socket.IO connection is accepted. */
  follow(conn: EngineSocket): SessionFlow {
    const sid = sessionIdOf(conn);
    let queued = 0;
    const onPacket = (packet: { data?: unknown }): void => void (queued += byteSize(packet.data));
    const onFlush = (): void => void (queued = 0);
    // A transport that takes over while reading is paused starts paused.
    const onUpgrade = (): void => {
      if (this.paused.has(sid)) webSocketOf(conn)?.pause();
    };
    const resume = (): void => {
      const state = this.paused.get(sid);
      if (!state) return;
      this.paused.delete(sid);
      webSocketOf(conn)?.resume();
      state.release?.();
    };
    conn.on('packetCreate', onPacket);
    conn.on('flush', onFlush);
    conn.on('upgrade', onUpgrade);
    conn.once('close', resume);
    return {
      reading: {
        pause: () => {
          if (conn.readyState !== 'open') return;
          this.paused.set(sid, {});
          webSocketOf(conn)?.pause();
        },
        resume,
      },
      queuedBytes: () => queued + (webSocketOf(conn)?.bufferedAmount ?? 0),
      queuedPackets: () => (conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0,
      stop: () => {
        resume();
        conn.off('packetCreate', onPacket);
        conn.off('flush', onFlush);
        conn.off('upgrade', onUpgrade);
        conn.off('close', resume);
      },
    };
  }
}
