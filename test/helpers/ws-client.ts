/**
 * A small WebSocket test client: sends frames and waits for the answers it expects. A raw socket on
 * purpose, not cli's OrderClient: tests send frames that client would never send (malformed,
 * oversized, out of order, other customers' ids) and assert every frame and close code the gateway
 * answers with, which OrderClient's retries, pacing and de-duplication would hide.
 */
import WebSocket from 'ws';
import { parseServerFrame, ReceivedFrame } from '../../common/protocol';

/** A frame from the gateway, parsed by the protocol's own reader; one it cannot read is kept as `UNREADABLE`. */
export type Frame = ReceivedFrame;

export class TestClient {
  readonly received: Frame[] = [];
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  closed?: { code: number; reason: string };

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const text = raw.toString();
      const frame = parseServerFrame(text) ?? { event: 'UNREADABLE', data: { text } };
      this.received.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  /** Opens a connection; `token` goes in `Authorization: Bearer`, `protocols` are offered as subprotocols. */
  static connect(url: string, opts: { token?: string; protocols?: string[] } = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(
        url,
        opts.protocols ?? [],
        opts.token ? { headers: { authorization: `Bearer ${opts.token}` } } : {},
      );
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves once the connection is closed, with its close code and reason. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Resolves with the first frame (already received or arriving) that matches. */
  waitFor(match: (f: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.received.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Sends placeOrder and waits for the answer about that order (accepted or error). */
  async placeOrder(data: Record<string, unknown>): Promise<Frame> {
    const before = this.received.length;
    this.send({ event: 'placeOrder', data });
    return this.waitFor(
      (f) =>
        this.received.indexOf(f) >= before &&
        (f.event === 'orderAccepted' || f.event === 'error') &&
        f.data.orderId === (data.orderId ?? f.data.orderId),
    );
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
