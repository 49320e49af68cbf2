/**
 * How many Temporal calls the gateway makes for its clients, and for whom. Each look-up a client
 * asks for (getOrder, cancelOrder, subscribeOrder's first catch-up) and each re-describe partition
 * routing makes of an order a client follows is a describe, query or update the bridge and the
 * workers' Temporal also has to answer; a client sending random ids would otherwise turn its frames
 * into Temporal load every customer's orders share. So:
 *
 * - **Global:** at most `inFlight` such calls at once and `perSecond` sustained (a bucket of one
 *   second's worth), whoever asks (GATEWAY_TEMPORAL_CALLS_IN_FLIGHT, GATEWAY_TEMPORAL_CALLS_PER_SECOND).
 * - **Per customer:** one customer (in JWT mode; without customer identity, one connection) may use
 *   at most `sharePercent` of each (GATEWAY_TEMPORAL_CUSTOMER_SHARE_PERCENT), so a flood from one
 *   leaves the rest to the others; its bucket holds SHARE_BURST_SECONDS of its share.
 *
 * A look-up is admitted whole or not at all: at admission it reserves the most calls it can make
 * and the most it makes at once (its `LookupCost`); over either limit the client is answered BUSY
 * with a retry hint, before anything about the order is read, and Temporal never sees the request.
 * The customer's share is charged that reservation in full, its calls per second for good and its
 * places until the look-up is answered, whatever the gateway's caches saved: so what a customer sees
 * of its own share never depends on which orders the gateway knows (another customer's order and an
 * unknown id cost alike, and a customer's NOT_FOUND is answered at one fixed time). The global budget
 * gets back the calls a look-up did not make, and its places once its calls have ended (a call still
 * running after the answer, Temporal being slow, still counts).
 *
 * Work nobody waits for (partition routing asking again about an order that does not exist yet) is
 * charged call by call, to the global budget and to a second bucket of the customer's, the same size
 * as its share: when either is spent the call is refused (`BusyError`) and its caller asks again
 * later. A separate bucket, so that following orders that do not exist never makes the customer's
 * own look-ups BUSY sooner than following someone else's.
 *
 * Calls that follow from an order's own status events or its placement here (the owner check before
 * the first push, a catch-up behind a gap) are not charged: there are at most a few per real order.
 */

import type { GatewayLimits } from '../common/config';

/**
 * `inFlight`: Temporal calls for clients at once, all customers together; `perSecond`: sustained
 * (bursts of one second's worth); `sharePercent`: the share of both one customer (one connection
 * without customer identity) may use.
 */
export type LookupBudgetSettings = GatewayLimits['temporalCalls'];

/** Who a look-up is charged to: its customer id (JWT mode), else the connection itself. */
export type Party = string | object;

/** The party of a client (or subscriber): its customer, else itself. */
export const partyOf = (client: { readonly customerId?: string }): Party => client.customerId ?? client;

/** The most Temporal calls one look-up makes, and the most of them at once. */
export interface LookupCost {
  calls: number;
  atOnce: number;
}

/** The largest cost of any look-up (cancelOrder in JWT mode: two owner describes, the update, a status query). */
export const MAX_LOOKUP_COST: LookupCost = { calls: 4, atOnce: 2 };

/** When a refusal is for want of a free place (not of calls per second), the client is told to retry after this long. */
export const SLOT_RETRY_MS = 100;

/** A call refused for want of budget: ask again after `retryAfterMs`. */
export class BusyError extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`too many Temporal calls right now: retry in ${retryAfterMs} ms`);
    this.name = 'BusyError';
  }
}

/** What one Temporal call is charged to: `take` before the call (throws BusyError when refused), its result's release after. */
export interface Charge {
  take(): () => void;
}

/** Calls charged to nobody: those that follow from an order's own events or its placement here. */
export const UNCHARGED: Charge = { take: () => () => undefined };

/** A customer's buckets hold this many seconds of its share: a client catching up after a reconnect (resubscribing its orders) gets through at once. */
export const SHARE_BURST_SECONDS = 3;

/** Calls per second as a bucket holding `capacity` of them, that can also be given calls back. */
class Allowance {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
  }

  /** 0 when `n` calls may be taken now, else the ms until they may. */
  waitFor(n: number): number {
    this.refill();
    return this.tokens >= n ? 0 : Math.ceil(((n - this.tokens) / this.perSecond) * 1000);
  }

  take(n: number): void {
    this.refill();
    this.tokens -= n;
  }

  giveBack(n: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + n);
  }

  isFull(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }
}

/** One customer's (or connection's) use of its share. */
interface Share {
  lookups: Allowance;
  inFlight: number;
  /** Calls nobody waits for (partition routing's re-describes), in a bucket of their own. */
  background: Allowance;
}

/** The outcome of asking to start a look-up. */
export type Admission = { ticket: LookupTicket } | { retryAfterMs: number };

/** An admitted look-up's reservation, and the Charge of its calls. */
export interface LookupTicket extends Charge {
  /** The client has its answer: the customer's places are free again (calls may still follow, e.g. a subscription's catch-up). */
  answered(): void;
  /**
   * The look-up makes no more calls (implies `answered`): the calls it did not make go back to the
   * global budget, and its global places are freed once the calls it made have ended.
   */
  end(): void;
}

export class LookupBudget {
  private readonly calls: Allowance;
  private inFlight = 0;
  private readonly shares = new Map<Party, Share>();
  private readonly shareInFlight: number;
  private readonly sharePerSecond: number;
  private readonly shareBurst: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly settings: LookupBudgetSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.calls = new Allowance(settings.perSecond, settings.perSecond, now);
    // A share always fits the largest look-up, or a small setting would refuse some look-ups forever.
    const part = (n: number): number => Math.ceil((n * settings.sharePercent) / 100);
    this.shareInFlight = Math.max(MAX_LOOKUP_COST.atOnce, part(settings.inFlight));
    this.sharePerSecond = part(settings.perSecond);
    this.shareBurst = Math.max(MAX_LOOKUP_COST.calls, this.sharePerSecond * SHARE_BURST_SECONDS);
    // Shares that are idle and full again are forgotten, so the map holds only recently busy parties.
    this.sweeper = setInterval(() => this.forgetIdle(), 10_000);
    this.sweeper.unref();
  }

  /** Temporal calls for clients in flight right now (for tests and health output). */
  get callsInFlight(): number {
    return this.inFlight;
  }

  private shareOf(party: Party): Share {
    let share = this.shares.get(party);
    if (!share)
      this.shares.set(
        party,
        (share = {
          lookups: new Allowance(this.sharePerSecond, this.shareBurst, this.now),
          inFlight: 0,
          background: new Allowance(this.sharePerSecond, this.shareBurst, this.now),
        }),
      );
    return share;
  }

  private forgetIdle(): void {
    for (const [party, share] of this.shares)
      if (share.inFlight === 0 && share.lookups.isFull() && share.background.isFull()) this.shares.delete(party);
  }

  /** How long until `calls` calls (`atOnce` of them at once) fit both the global budget and `share`'s `bucket`; 0: now. */
  private wait(bucket: Allowance, shareInFlight: number, cost: LookupCost): number {
    const slotsFree =
      this.inFlight + cost.atOnce <= this.settings.inFlight && shareInFlight + cost.atOnce <= this.shareInFlight;
    return Math.max(bucket.waitFor(cost.calls), this.calls.waitFor(cost.calls), slotsFree ? 0 : SLOT_RETRY_MS);
  }

  /** Starts a look-up for `party` if its whole cost fits now; otherwise says when to ask again. */
  admit(party: Party, cost: LookupCost): Admission {
    const share = this.shareOf(party);
    const retryAfterMs = this.wait(share.lookups, share.inFlight, cost);
    if (retryAfterMs > 0) return { retryAfterMs };
    share.lookups.take(cost.calls);
    this.calls.take(cost.calls);
    share.inFlight += cost.atOnce;
    this.inFlight += cost.atOnce;
    return { ticket: this.ticket(party, share, cost) };
  }

  private ticket(party: Party, share: Share, cost: LookupCost): LookupTicket {
    let unspent = cost.calls;
    let running = 0;
    let answered = false;
    let ended = false;
    let released = false;
    const settle = (): void => {
      if (!ended || running > 0 || released) return;
      released = true;
      this.inFlight -= cost.atOnce;
    };
    const answer = (): void => {
      if (answered) return;
      answered = true;
      share.inFlight -= cost.atOnce;
    };
    return {
      take: () => {
        // Beyond its reservation (the costs are the most a look-up makes, so not expected): charged like background work.
        if (unspent === 0) return this.background(party).take();
        unspent -= 1;
        running += 1;
        let done = false;
        return () => {
          if (done) return;
          done = true;
          running -= 1;
          settle();
        };
      },
      answered: answer,
      end: () => {
        answer();
        if (ended) return;
        ended = true;
        // Calls not made go back to the global budget only: the customer's share is charged in full.
        this.calls.giveBack(unspent);
        unspent = 0;
        settle();
      },
    };
  }

  /** The Charge of calls made for `party` that no client waits for: one call at a time, refused (BusyError) when over. */
  background(party: Party): Charge {
    return {
      take: () => {
        const share = this.shareOf(party);
        const retryAfterMs = this.wait(share.background, 0, { calls: 1, atOnce: 1 });
        if (retryAfterMs > 0) throw new BusyError(retryAfterMs);
        share.background.take(1);
        this.calls.take(1);
        this.inFlight += 1;
        let done = false;
        return () => {
          if (done) return;
          done = true;
          this.inFlight -= 1;
        };
      },
    };
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}
