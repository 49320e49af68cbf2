/**
 * Client-side pacing: frames queue up and go out at most `framesPerSecond`, while the socket is open,
 * so bulk runs stay under the gateway's per-connection rate limit.
 */
import WebSocket from 'ws';

export class FramePacer {
  private readonly queue: string[] = [];
  private timer?: NodeJS.Timeout;
  private lastSendAt = 0;

  constructor(
    private readonly framesPerSecond: number,
    /** The socket to send on now, if any. */
    private readonly socket: () => WebSocket | undefined,
  ) {}

  push(frame: unknown): void {
    this.queue.push(JSON.stringify(frame));
    this.flush();
  }

  /** Sends queued frames, at most framesPerSecond, while the socket is open. */
  flush(): void {
    if (this.timer) return;
    const ws = this.socket();
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const gap = 1000 / this.framesPerSecond;
    while (this.queue.length > 0) {
      const wait = this.lastSendAt + gap - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, wait);
        return;
      }
      ws.send(this.queue.shift()!);
      this.lastSendAt = Date.now();
    }
  }

  /** Stops sending and drops what is queued. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  /** Stops the pending send (the queue stays). */
  pause(): void {
    clearTimeout(this.timer);
  }
}
