/**
 * Pushback on a connection that sends faster than its rate limit, the same on both transports. Its
 * frames come out of a token bucket; when the bucket is empty, the transport stops reading from the
 * connection (the client's further frames wait in its own buffers and TCP's, costing the gateway
 * nothing) until a token is back. That stretch is an episode: it gets one RATE_LIMITED notice, and
 * the frames already read when it began are dropped unanswered. A connection with `abuse.episodes`
 * episodes within `abuse.windowMs` is closed with a policy code (./connections, ./socket-io).
 */
import { TokenBucket } from './rate-limit';

export interface RateSettings {
  /** Frames at once (the bucket's size) and sustained frames per second. */
  burst: number;
  perSecond: number;
}

export interface AbuseSettings {
  /** Episodes of an empty bucket within `windowMs` after which the connection is closed. */
  episodes: number;
  windowMs: number;
}

/** How a transport stops and restarts reading one connection. */
export interface ReadControl {
  pause(): void;
  resume(): void;
}

/**
 * What to do with one frame: handle it (`pass`); drop it unanswered (`drop`: read before the pause
 * took effect, or the connection is closing); drop it and send the episode's one notice (`notify`);
 * drop it, send a last notice and close the connection (`close`).
 */
export type Admission = 'pass' | 'drop' | 'notify' | 'close';

export class FrameThrottle {
  private readonly bucket: TokenBucket;
  /** When each episode within the abuse window began. */
  private readonly episodes: number[] = [];
  private resumeTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    rate: RateSettings,
    private readonly abuse: AbuseSettings,
    private readonly reading: ReadControl,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.bucket = new TokenBucket(rate.burst, rate.perSecond, now);
  }

  /** True while reading is paused (an episode is under way). */
  get paused(): boolean {
    return this.resumeTimer !== undefined;
  }

  admit(): Admission {
    if (this.ended || this.paused) return 'drop';
    if (this.bucket.take()) return 'pass';
    const at = this.now();
    while (this.episodes.length > 0 && this.episodes[0] <= at - this.abuse.windowMs) this.episodes.shift();
    this.episodes.push(at);
    if (this.episodes.length >= this.abuse.episodes) {
      this.ended = true;
      return 'close';
    }
    this.reading.pause();
    this.resumeWhenTokenIsBack();
    return 'notify';
  }

  private resumeWhenTokenIsBack(): void {
    this.resumeTimer = setTimeout(
      () => {
        // A timer may fire a little before the bucket's clock says the token is back: wait for the rest,
        // or the first frame read would start a new episode.
        if (this.bucket.msUntilToken() > 0) return this.resumeWhenTokenIsBack();
        this.resumeTimer = undefined;
        if (!this.ended) this.reading.resume();
      },
      Math.max(1, this.bucket.msUntilToken()),
    );
    this.resumeTimer.unref();
  }

  /** The connection is gone: no timer is left behind, and nothing more is admitted. */
  stop(): void {
    this.ended = true;
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
  }
}
