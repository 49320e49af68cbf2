/**
 * The lifecycle of the gateway's WebSocket connections: each gets a rate limit (./pushback: over it,
 * the socket is not read until a token is back; closed 1008 after repeated episodes) and a liveness
 * flag when it opens; a heartbeat pings every connection and drops the ones that did not answer the
 * last ping; a frame that would take what is queued for a reader past `maxBufferedBytes` is not sent
 * and the connection is closed (1008); on shutdown every connection is closed with 1001; when the
 * session's token expires, with 4401. This is the raw WebSocket transport's adapter: each connection
 * is a ./client Client.
 */
import { RawData, WebSocket } from 'ws';
import { CloseCode, ServerFrame } from '../common/protocol';
import type { Identity } from './auth';
import { Client, LinkOptions, onTokenExpiry } from './client';
import { FrameThrottle } from './pushback';

export interface Conn extends Client {
  ws: WebSocket;
  isAlive: boolean;
}

export interface ConnectionOptions extends LinkOptions {
  log: (line: string) => void;
  onFrame: (conn: Conn, raw: RawData, isBinary: boolean) => void;
  /** A connection is gone (closed, or dropped by the heartbeat): free what it held. */
  onGone: (conn: Conn) => void;
}

export class Connections {
  private readonly conns = new Set<Conn>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly opts: ConnectionOptions) {
    // A peer that did not answer the last ping is gone; free its resources.
    this.heartbeat = setInterval(() => {
      for (const conn of this.conns) {
        // Paused by its rate limit (for less than a second at the lowest rate), it cannot have read
        // the pong yet: judged at the next beat.
        if (conn.throttle.paused) continue;
        if (!conn.isAlive) {
          conn.ws.terminate();
          this.conns.delete(conn);
          opts.onGone(conn);
          continue;
        }
        conn.isAlive = false;
        conn.ws.ping();
      }
    }, opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.conns.size;
  }

  /** Bytes queued for these connections and not yet handed to the network. */
  bufferedBytes(): number {
    let total = 0;
    for (const conn of this.conns) total += conn.ws.bufferedAmount;
    return total;
  }

  private send(conn: Conn, frame: ServerFrame): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    const text = JSON.stringify(frame);
    if (conn.ws.bufferedAmount + Buffer.byteLength(text) > this.opts.maxBufferedBytes) {
      // A reader this far behind would make us buffer without bound: drop it (1008: policy).
      conn.ws.close(1008, 'reader too slow');
      return;
    }
    conn.ws.send(text);
  }

  private closeForPolicy(conn: Conn, reason: string): void {
    conn.ws.close(1008, reason);
    // Read again, so the client's answer to the close completes it (its frames are dropped meanwhile).
    if (conn.ws.isPaused) conn.ws.resume();
  }

  /** Takes a freshly upgraded WebSocket of this (authenticated) identity into the set. */
  accept(ws: WebSocket, identity: Identity): void {
    const conn: Conn = {
      ws,
      isAlive: true,
      customerId: identity.customerId,
      throttle: new FrameThrottle(this.opts.rate, this.opts.rateAbuse, {
        pause: () => ws.pause(),
        resume: () => ws.resume(),
      }),
      send: (frame) => this.send(conn, frame),
      sendStatus: (event) => this.send(conn, { event: 'orderStatus', data: event }),
      closeForPolicy: (reason) => this.closeForPolicy(conn, reason),
    };
    this.conns.add(conn);
    ws.on('error', (err) => this.opts.log(`connection error: ${err.message}`));
    ws.on('pong', () => (conn.isAlive = true));
    ws.on('message', (raw, isBinary) => this.opts.onFrame(conn, raw, isBinary));
    const cancelExpiry = onTokenExpiry(identity, () => ws.close(CloseCode.tokenExpired, 'token expired'));
    ws.on('close', () => {
      cancelExpiry();
      conn.throttle.stop();
      this.conns.delete(conn);
      this.opts.onGone(conn);
    });
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  /** Closes every connection with 1001, giving the close handshakes up to 2 s. */
  async closeAll(): Promise<void> {
    for (const conn of this.conns) conn.ws.close(1001, 'gateway shutting down');
    // Give the close handshakes a moment, so clients see 1001 rather than a dropped socket.
    const handshakeDeadline = Date.now() + 2_000;
    while (this.conns.size > 0 && Date.now() < handshakeDeadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Drops whatever did not finish its close handshake. */
  terminateAll(): void {
    for (const conn of this.conns) conn.ws.terminate();
  }
}
