/**
 * Rate limits: a token bucket (one per connection for frames, see ./pushback; one per client address
 * for handshakes), the per-address limits every new connection passes (./upgrade-guard, ./socket-io),
 * keyed by the address an attacker cannot cheaply multiply (an IPv4 address, an IPv6 /64), and the
 * global cap on connections that have not yet authenticated.
 */
import ipaddr from 'ipaddr.js';

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

  /** Milliseconds until the bucket holds a whole token again (0 when it holds one now). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
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
 * The key per-address limits count under: an IPv4 address (IPv4-mapped IPv6 included) as it is, an
 * IPv6 address by its /64 (`2001:db8:1:2::/64`), since one subscriber is routinely given a whole /64
 * and could otherwise open each connection from a fresh address. Anything else (no address) as given.
 */
export function limitKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const prefix = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...prefix, 0, 0, 0, 0]).toString()}/64`;
}

/**
 * Per-address limits on connections: how many may be open at once, and how fast new ones may be
 * started. The address is the TCP peer's (behind a proxy, the proxy's: set the limits to 0 there
 * and limit at the proxy), counted under its `limitKey` (an IPv6 peer by its /64).
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

  /** Charges one handshake to `address` (its /64 for IPv6); says why it is refused, or undefined. */
  admit(address: string): PerIpRefusal {
    const ip = limitKey(address);
    if (this.settings.maxConnections > 0 && (this.open.get(ip) ?? 0) >= this.settings.maxConnections)
      return 'too many connections';
    if (!this.takeHandshakeOf(ip)) return 'too many handshakes';
    return undefined;
  }

  /**
   * Takes one from the handshake budget of `address` (its /64 for IPv6); false when it is spent.
   * Besides handshakes, requests that name no live connection (an Engine.IO request for an unknown
   * session) spend it: they cost as much to answer and open nothing.
   */
  takeHandshake(address: string): boolean {
    return this.takeHandshakeOf(limitKey(address));
  }

  private takeHandshakeOf(key: string): boolean {
    const rate = this.settings.handshakesPerSecond;
    if (rate <= 0) return true;
    let bucket = this.handshakes.get(key);
    if (!bucket) this.handshakes.set(key, (bucket = new TokenBucket(rate * 2, rate)));
    return bucket.take();
  }

  /** Counts an open connection of `address` (its /64 for IPv6); returns its release (idempotent), called when it closes. */
  opened(address: string): () => void {
    const ip = limitKey(address);
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

  /** Open connections of `address` (of its /64 for IPv6). */
  openFrom(address: string): number {
    return this.open.get(limitKey(address)) ?? 0;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}

/**
 * A cap on connections that have not authenticated yet, over all addresses: raw WebSocket upgrades
 * whose token is being checked and Socket.IO sessions that have not passed their CONNECT. The
 * per-address caps do not bound these behind a proxy (every client has the proxy's address, and the
 * caps are set to 0 there); this one still does.
 */
export class PreAuthCap {
  private pending = 0;

  constructor(private readonly max: number) {}

  /** Takes a place; returns its release (idempotent), or undefined when the cap is reached. */
  enter(): (() => void) | undefined {
    if (this.pending >= this.max) return undefined;
    this.pending += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pending -= 1;
    };
  }

  /** True when no further unauthenticated connection may start. */
  full(): boolean {
    return this.pending >= this.max;
  }

  get size(): number {
    return this.pending;
  }
}
