/**
 * Rate limits: a token bucket (one per connection for frames, one per client address for
 * handshakes) and the per-address limits every new connection passes (./upgrade-guard, ./socket-io).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
  }

  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the bucket has refilled completely (it then remembers nothing worth keeping). */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }
}

export interface PerIpSettings {
  /** Open connections (raw WebSocket connections and Socket.IO sessions, authenticated or not) per address; 0: no limit. */
  maxConnections: number;
  /** Sustained new handshakes per second per address (bursts up to twice as many); 0: no limit. */
  handshakesPerSecond: number;
}

/** Why a new connection from an address is refused, or undefined when it may go on. */
export type PerIpRefusal = 'too many handshakes' | 'too many connections' | undefined;

/** The address a connection comes from, IPv4-mapped IPv6 written as IPv4. */
export function clientAddress(remoteAddress: string | undefined): string {
  const address = remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Per-address limits on connections: how many may be open at once, and how fast new ones may be
 * started. The address is the TCP peer's (behind a proxy, the proxy's: set the limits to 0 there
 * and limit at the proxy).
 */
export class PerIpLimits {
  private readonly open = new Map<string, number>();
  private readonly handshakes = new Map<string, TokenBucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly settings: PerIpSettings) {
    // Buckets that refilled completely are forgotten, so the map holds only recently busy addresses.
    this.sweeper = setInterval(() => {
      for (const [ip, bucket] of this.handshakes) if (bucket.isFull()) this.handshakes.delete(ip);
    }, 10_000);
    this.sweeper.unref();
  }

  /** Charges one handshake to `ip`; says why it is refused, or undefined. */
  admit(ip: string): PerIpRefusal {
    if (this.settings.maxConnections > 0 && (this.open.get(ip) ?? 0) >= this.settings.maxConnections)
      return 'too many connections';
    if (!this.takeHandshake(ip)) return 'too many handshakes';
    return undefined;
  }

  /**
   * Takes one from `ip`'s handshake budget; false when it is spent. Besides handshakes, requests that
   * name no live connection (an Engine.IO request for an unknown session) spend it: they cost as
   * much to answer and open nothing.
   */
  takeHandshake(ip: string): boolean {
    const rate = this.settings.handshakesPerSecond;
    if (rate <= 0) return true;
    let bucket = this.handshakes.get(ip);
    if (!bucket) this.handshakes.set(ip, (bucket = new TokenBucket(rate * 2, rate)));
    return bucket.take();
  }

  /** Counts an open connection of `ip`; returns its release (idempotent), called when it closes. */
  opened(ip: string): () => void {
    this.open.set(ip, (this.open.get(ip) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(ip) ?? 1) - 1;
      if (left > 0) this.open.set(ip, left);
      else this.open.delete(ip);
    };
  }

  /** Open connections of `ip`. */
  openFrom(ip: string): number {
    return this.open.get(ip) ?? 0;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}
