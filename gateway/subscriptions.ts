/**
 * Who wants which order's status events, and how far each of them has got.
 *
 * Every (subscriber, order) pair keeps the next sequence number it expects. A live event with that
 * number is sent at once; an older one is a repeat and dropped; a newer one means a gap (events
 * missed before subscribing or while disconnected), which is filled from the workflow's status
 * query before anything newer is sent. So each subscriber sees each step once, in order.
 *
 * Ownership (JWT mode): a subscriber with a customer id gets nothing about an order until the
 * order's owner (the customer id the order was placed with, read from its workflow) is confirmed to
 * be that customer. Until then its events wait; if the owner is someone else (or nobody) the
 * subscription stays, hidden: it gets nothing, holds its place under the per-connection cap and
 * expires exactly as one to an order that never appears (`unseenExpiryMs`), so neither the answers
 * nor the cap tell someone else's order from no order. This covers
 * the placer too: the gateway subscribes whoever places an workflowId before it knows whether that id
 * already belongs to another customer's order, so a re-placement under another customer never
 * attaches the caller to it.
 *
 * Orders are named by workflow id (common/order workflowIdFor): a customer's `#101` and another's are
 * two orders. A customer's order placed before ids were scoped runs under its global id; a
 * subscription under the scoped id whose run does not exist moves to the global id once that run is
 * confirmed to be the same customer's (`globalIdOf`).
 */
import { globalWorkflowIdOf, isScopedWorkflowId, workflowIdFor } from '../common/order';
import type { OrderView, StatusEvent } from '../common/status';
import { eventsOf, isFinal } from '../common/status';
import type { Charge } from './lookup-budget';

export interface Subscriber {
  /** The customer behind this subscriber (JWT mode); undefined: may follow any order. */
  readonly customerId?: string;
  sendStatus(event: StatusEvent): void;
}

/** Who placed an order: `exists: false` while no workflow has that id (yet). */
export type Owner = { exists: false } | { exists: true; customerId?: string };

interface Progress {
  nextSeq: number;
  catchingUp: boolean;
  pending: StatusEvent[];
  retries: number;
  /** The subscriber may see this order (no customer identity, or the owner was confirmed). */
  cleared: boolean;
  /** When the subscription began, and whether the order has shown any sign of existing since (an event, a view, an owner). */
  since: number;
  seen: boolean;
  /** The order is someone else's: nothing about it is ever sent or held, and it is never `seen` (it expires as an unknown id). */
  hidden: boolean;
}

export interface SubscriptionOptions {
  /**
   * The order's owner; without it, subscribers with a customer id are never served. `charge`: what
   * the Temporal call is charged to (./lookup-budget), given for a subscribeOrder's first catch-up
   * only; the calls that follow from the order's own events are charged to nobody.
   */
  ownerOf?: (orderId: string, charge?: Charge) => Promise<Owner>;
  /** A view behind Kafka is asked again after this long (default 250 ms), at most `maxRetries` times (default 20). */
  retryDelayMs?: number;
  maxRetries?: number;
  /** A subscription whose order has shown no sign of existing this long after it began is dropped; undefined: never. */
  unseenExpiryMs?: number;
  now?: () => number;
  /** Partition routing (./status-routing.ts): an order gained its first subscriber `sub` (its partition if known), lost its last. */
  onFollow?: (workflowId: string, statusPartition: number | undefined, sub: Subscriber) => void;
  onUnfollow?: (workflowId: string) => void;
}

export class Subscriptions {
  private readonly byOrder = new Map<string, Map<Subscriber, Progress>>();
  /** Each subscriber's orders, so that ending a connection costs its own subscriptions, not everyone's. */
  private readonly bySubscriber = new Map<Subscriber, Set<string>>();
  private pairs = 0;
  private readonly sweeper?: NodeJS.Timeout;
  private readonly now: () => number;

  private readonly retryDelayMs: number;
  private readonly maxRetries: number;
  private readonly ownerOf?: (orderId: string, charge?: Charge) => Promise<Owner>;

  constructor(
    /** The order's current view from the workflow, or undefined when it does not exist (yet); `charge` as for `ownerOf`. */
    private readonly fetchView: (workflowId: string, charge?: Charge) => Promise<OrderView | undefined>,
    private readonly options: SubscriptionOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.maxRetries = options.maxRetries ?? 20;
    this.ownerOf = options.ownerOf;
    const expiry = options.unseenExpiryMs;
    if (expiry !== undefined) {
      this.sweeper = setInterval(() => this.expireUnseen(), Math.max(1_000, Math.min(60_000, expiry / 4)));
      this.sweeper.unref();
    }
  }

  /** Drops the subscriptions whose order has shown no sign of existing within `unseenExpiryMs`; returns how many. */
  expireUnseen(): number {
    const expiry = this.options.unseenExpiryMs;
    if (expiry === undefined) return 0;
    const cutoff = this.now() - expiry;
    let dropped = 0;
    for (const [workflowId, subs] of this.byOrder)
      for (const [sub, progress] of subs)
        if (!progress.seen && progress.since <= cutoff) {
          this.drop(sub, workflowId);
          dropped += 1;
        }
    return dropped;
  }

  /** How many orders `sub` follows. */
  countOf(sub: Subscriber): number {
    return this.bySubscriber.get(sub)?.size ?? 0;
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /** Starts following an order from `fromSeq`; with `catchUpNow`, sends what already happened. */
  subscribe(sub: Subscriber, workflowId: string, fromSeq = 1, catchUpNow = true, statusPartition?: number): void {
    const progress = this.start(sub, workflowId, fromSeq, statusPartition);
    if (catchUpNow) void this.catchUp(sub, workflowId, progress);
  }

  /**
   * A client's subscribeOrder: starts following an order from `fromSeq` and sends what already
   * happened, the Temporal calls of this first catch-up charged to `charge`. Resolves when that
   * catch-up has made its last call (retries later on are the order's own: uncharged).
   */
  follow(sub: Subscriber, workflowId: string, fromSeq: number, charge: Charge): Promise<void> {
    return this.catchUp(sub, workflowId, this.start(sub, workflowId, fromSeq), charge);
  }

  private start(sub: Subscriber, workflowId: string, fromSeq: number, statusPartition?: number): Progress {
    const progress: Progress = {
      nextSeq: fromSeq,
      catchingUp: false,
      pending: [],
      retries: 0,
      cleared: sub.customerId === undefined,
      since: this.now(),
      seen: false,
      hidden: false,
    };
    this.attach(sub, workflowId, progress, statusPartition);
    return progress;
  }

  /** Records `progress` as `sub`'s following of `workflowId` (replacing any it had). */
  private attach(sub: Subscriber, workflowId: string, progress: Progress, statusPartition?: number): void {
    let subs = this.byOrder.get(workflowId);
    if (!subs) {
      this.byOrder.set(workflowId, (subs = new Map()));
      this.options.onFollow?.(workflowId, statusPartition, sub);
    }
    if (!subs.has(sub)) {
      this.pairs += 1;
      let own = this.bySubscriber.get(sub);
      if (!own) this.bySubscriber.set(sub, (own = new Set()));
      own.add(workflowId);
    }
    subs.set(sub, progress);
  }

  /**
   * After a placement: if no event of the order has reached `sub` within `afterMs`, reads the order
   * from the workflow once. A placement of an id whose workflow already exists (a resend from a new
   * connection, or an order completed long ago) starts no new run and so publishes no new status;
   * without this read its placer would wait for events that never come.
   */
  catchUpIfUnseen(sub: Subscriber, workflowId: string, afterMs: number): void {
    setTimeout(() => {
      const progress = this.byOrder.get(workflowId)?.get(sub);
      if (progress && !progress.seen && !progress.catchingUp && !progress.hidden)
        void this.catchUp(sub, workflowId, progress);
    }, afterMs).unref();
  }

  /** Does anyone here follow `workflowId`? (The status feed drops other orders' events unparsed.) */
  follows(workflowId: string): boolean {
    return this.byOrder.has(workflowId);
  }

  /** Is `sub` following `workflowId`? */
  has(sub: Subscriber, workflowId: string): boolean {
    return this.byOrder.get(workflowId)?.has(sub) ?? false;
  }

  /** Stops `sub` following `workflowId` (no-op when it does not). */
  unsubscribe(sub: Subscriber, workflowId: string): void {
    this.drop(sub, workflowId);
  }

  /** Ends every subscription of `sub` (a connection that is gone); costs its own subscriptions only. */
  unsubscribeAll(sub: Subscriber): void {
    for (const workflowId of [...(this.bySubscriber.get(sub) ?? [])]) this.drop(sub, workflowId);
  }

  /** Number of (subscriber, order) pairs: for health output and leak checks. */
  get size(): number {
    return this.pairs;
  }

  /** Routes a status event by the run it names (events of older workers name none: their run's id is global). */
  onEvent(event: StatusEvent): void {
    const workflowId = event.workflowId ?? workflowIdFor({ orderId: event.orderId });
    const subs = this.byOrder.get(workflowId);
    if (!subs) return;
    for (const [sub, progress] of subs) this.offer(sub, workflowId, progress, event);
  }

  /**
   * Stops `sub` following the order a client means by `workflowId`, wherever it runs (its global id,
   * for a subscription moved there: see `globalIdOf`).
   */
  unsubscribeOrder(sub: Subscriber, workflowId: string): void {
    this.drop(sub, workflowId);
    const global = this.globalIdOf(workflowId);
    if (global !== undefined) this.drop(sub, global);
  }

  /** Where the order of a scoped id runs if it was placed before ids were scoped; none for a global id. */
  private globalIdOf(workflowId: string): string | undefined {
    return isScopedWorkflowId(workflowId) ? globalWorkflowIdOf(workflowId) : undefined;
  }

  private offer(sub: Subscriber, workflowId: string, progress: Progress, event: StatusEvent): void {
    if (progress.hidden) return;
    progress.seen = true;
    if (progress.catchingUp) {
      progress.pending.push(event);
      return;
    }
    if (!progress.cleared) {
      // Nothing goes out before the owner is confirmed: hold it, and check (catchUp does).
      progress.pending.push(event);
      void this.catchUp(sub, workflowId, progress);
      return;
    }
    if (event.seq < progress.nextSeq) return;
    if (event.seq === progress.nextSeq) {
      this.deliver(sub, workflowId, progress, event);
      // Events held behind a gap that an earlier catch-up gave up on follow it, as far as they are in order.
      this.deliverHeld(sub, workflowId, progress);
      return;
    }
    progress.pending.push(event);
    void this.catchUp(sub, workflowId, progress);
  }

  /**
   * Sends the held events that continue the sequence; returns false when a gap remains (the rest
   * stays held) or the subscription ended on the way.
   */
  private deliverHeld(sub: Subscriber, workflowId: string, progress: Progress): boolean {
    if (progress.pending.length === 0) return true; // the usual case, on every live event: nothing to sort or copy
    const held = progress.pending.sort((a, b) => a.seq - b.seq);
    progress.pending = [];
    for (const [i, event] of held.entries()) {
      if (event.seq < progress.nextSeq) continue;
      if (event.seq > progress.nextSeq) {
        progress.pending = held.slice(i);
        return false;
      }
      this.deliver(sub, workflowId, progress, event);
      if (!this.active(sub, workflowId, progress)) return false;
    }
    return true;
  }

  private deliver(sub: Subscriber, workflowId: string, progress: Progress, event: StatusEvent): void {
    // The client knows the order by its workflowId; the run's id stays inside.
    const push = { ...event };
    delete push.workflowId;
    sub.sendStatus(push);
    progress.nextSeq = event.seq + 1;
    if (isFinal(event.status)) this.drop(sub, workflowId);
  }

  private drop(sub: Subscriber, workflowId: string): void {
    const subs = this.byOrder.get(workflowId);
    if (!subs?.delete(sub)) return;
    this.pairs -= 1;
    if (subs.size === 0 && this.byOrder.delete(workflowId)) this.options.onUnfollow?.(workflowId);
    const own = this.bySubscriber.get(sub);
    own?.delete(workflowId);
    if (own?.size === 0) this.bySubscriber.delete(sub);
  }

  private active(sub: Subscriber, workflowId: string, progress: Progress): boolean {
    return this.byOrder.get(workflowId)?.get(sub) === progress;
  }

  /** 'yes' when the subscriber may see the order, 'no' when it belongs to someone else, 'unknown' when it does not exist yet (or Temporal did not answer). */
  private async mayFollow(
    sub: Subscriber,
    workflowId: string,
    charge?: Charge,
  ): Promise<'yes' | 'no' | 'unknown' | 'absent'> {
    if (!this.ownerOf) return 'no';
    try {
      const owner = await this.ownerOf(workflowId, charge);
      if (!owner.exists) return 'absent';
      return owner.customerId === sub.customerId ? 'yes' : 'no';
    } catch {
      return 'unknown';
    }
  }

  /**
   * For a scoped id whose run does not exist: the global id, when its run is this subscriber's own
   * (an order placed before ids were scoped); the subscription moves there. Undefined otherwise.
   */
  private async movedToGlobal(
    sub: Subscriber,
    workflowId: string,
    progress: Progress,
    charge?: Charge,
  ): Promise<string | undefined> {
    const global = this.globalIdOf(workflowId);
    if (global === undefined || (await this.mayFollow(sub, global, charge)) !== 'yes') return undefined;
    if (!this.active(sub, workflowId, progress)) return undefined;
    this.drop(sub, workflowId);
    if (this.has(sub, global)) return undefined;
    this.attach(sub, global, progress);
    return global;
  }

  /** `charge`: a subscribeOrder's first catch-up; undefined for the ones an order's events start (uncharged). */
  private async catchUp(sub: Subscriber, subscribedAs: string, progress: Progress, charge?: Charge): Promise<void> {
    let workflowId = subscribedAs;
    progress.catchingUp = true;
    if (!progress.cleared) {
      let verdict = await this.mayFollow(sub, workflowId, charge);
      if (!this.active(sub, workflowId, progress)) return;
      if (verdict === 'absent') {
        const moved = await this.movedToGlobal(sub, workflowId, progress, charge);
        if (moved !== undefined) [workflowId, verdict] = [moved, 'yes'];
        else if (!this.active(sub, workflowId, progress)) return;
        else verdict = 'unknown';
      }
      if (verdict === 'no') {
        // Someone else's order: kept as if it did not exist (see the class comment), never dropped early.
        progress.hidden = true;
        progress.seen = false;
        progress.pending = [];
        progress.catchingUp = false;
        return;
      }
      if (verdict === 'unknown') {
        progress.catchingUp = false;
        // Events are held only when the order exists: ask again shortly (Temporal was unreachable, or slower than Kafka).
        if (progress.pending.length > 0 && progress.retries++ < this.maxRetries) {
          progress.catchingUp = true;
          setTimeout(() => {
            progress.catchingUp = false;
            void this.catchUp(sub, workflowId, progress);
          }, this.retryDelayMs).unref();
        }
        return;
      }
      progress.cleared = true;
      progress.seen = true;
    }
    let view: OrderView | undefined;
    try {
      view = await this.fetchView(workflowId, charge);
    } catch {
      view = undefined;
    }
    if (!this.active(sub, workflowId, progress)) return;
    if (view) {
      progress.seen = true;
      for (const event of eventsOf(view, progress.nextSeq)) {
        this.deliver(sub, workflowId, progress, event);
        if (!this.active(sub, workflowId, progress)) return;
      }
    }
    progress.catchingUp = false;
    if (this.deliverHeld(sub, workflowId, progress)) {
      // Caught up: a later gap gets the full number of retries again.
      progress.retries = 0;
      return;
    }
    if (!this.active(sub, workflowId, progress)) return;
    // The query was behind Kafka: keep the rest and ask again shortly. After maxRetries the held
    // events wait for the order's next event (the missing one is sent and releases them; a newer
    // one starts a new catch-up).
    if (progress.retries++ < this.maxRetries) {
      progress.catchingUp = true;
      setTimeout(() => void this.catchUp(sub, workflowId, progress), this.retryDelayMs).unref();
    }
  }
}
