/**
 * Who wants which order's status events, and how far each of them has got.
 *
 * Every (subscriber, order) pair keeps the next sequence number it expects. A live event with that
 * number is sent at once; an older one is a repeat and dropped; a newer one means a gap (events
 * missed before subscribing or while disconnected), which is filled from the workflow's status
 * query before anything newer is sent. So each subscriber sees each step once, in order.
 */
import type { OrderView, StatusEvent } from '../common/status';
import { isFinal } from '../common/status';

export interface Subscriber {
  sendStatus(event: StatusEvent): void;
}

interface Progress {
  nextSeq: number;
  catchingUp: boolean;
  pending: StatusEvent[];
  retries: number;
}

export function eventsOf(view: OrderView, fromSeq: number): StatusEvent[] {
  return view.steps.slice(Math.max(0, fromSeq - 1)).map((step, i) => ({
    orderId: view.orderId,
    status: step.status,
    seq: Math.max(1, fromSeq) + i,
    at: step.at,
    ...(step.detail === undefined ? {} : { detail: step.detail }),
  }));
}

export class Subscriptions {
  private readonly byOrder = new Map<string, Map<Subscriber, Progress>>();

  constructor(
    /** The order's current view from the workflow, or undefined when it does not exist (yet). */
    private readonly fetchView: (orderId: string) => Promise<OrderView | undefined>,
    private readonly retryDelayMs = 250,
    private readonly maxRetries = 20,
  ) {}

  /** Starts following an order from `fromSeq`; with `catchUpNow`, sends what already happened. */
  subscribe(sub: Subscriber, orderId: string, fromSeq = 1, catchUpNow = true): void {
    let subs = this.byOrder.get(orderId);
    if (!subs) this.byOrder.set(orderId, (subs = new Map()));
    const progress: Progress = { nextSeq: fromSeq, catchingUp: false, pending: [], retries: 0 };
    subs.set(sub, progress);
    if (catchUpNow) void this.catchUp(sub, orderId, progress);
  }

  /** Is `sub` following `orderId`? */
  has(sub: Subscriber, orderId: string): boolean {
    return this.byOrder.get(orderId)?.has(sub) ?? false;
  }

  /** Stops `sub` following `orderId` (no-op when it does not). */
  unsubscribe(sub: Subscriber, orderId: string): void {
    this.drop(sub, orderId);
  }

  unsubscribeAll(sub: Subscriber): void {
    for (const [orderId, subs] of this.byOrder) {
      subs.delete(sub);
      if (subs.size === 0) this.byOrder.delete(orderId);
    }
  }

  /** Number of (subscriber, order) pairs: for health output and leak checks. */
  get size(): number {
    let n = 0;
    for (const subs of this.byOrder.values()) n += subs.size;
    return n;
  }

  onEvent(event: StatusEvent): void {
    const subs = this.byOrder.get(event.orderId);
    if (!subs) return;
    for (const [sub, progress] of subs) this.offer(sub, event.orderId, progress, event);
  }

  private offer(sub: Subscriber, orderId: string, progress: Progress, event: StatusEvent): void {
    if (progress.catchingUp) {
      progress.pending.push(event);
      return;
    }
    if (event.seq < progress.nextSeq) return;
    if (event.seq === progress.nextSeq) {
      this.deliver(sub, orderId, progress, event);
      return;
    }
    progress.pending.push(event);
    void this.catchUp(sub, orderId, progress);
  }

  private deliver(sub: Subscriber, orderId: string, progress: Progress, event: StatusEvent): void {
    sub.sendStatus(event);
    progress.nextSeq = event.seq + 1;
    if (isFinal(event.status)) this.drop(sub, orderId);
  }

  private drop(sub: Subscriber, orderId: string): void {
    const subs = this.byOrder.get(orderId);
    subs?.delete(sub);
    if (subs?.size === 0) this.byOrder.delete(orderId);
  }

  private active(sub: Subscriber, orderId: string, progress: Progress): boolean {
    return this.byOrder.get(orderId)?.get(sub) === progress;
  }

  private async catchUp(sub: Subscriber, orderId: string, progress: Progress): Promise<void> {
    progress.catchingUp = true;
    let view: OrderView | undefined;
    try {
      view = await this.fetchView(orderId);
    } catch {
      view = undefined;
    }
    if (!this.active(sub, orderId, progress)) return;
    if (view) {
      for (const event of eventsOf(view, progress.nextSeq)) {
        this.deliver(sub, orderId, progress, event);
        if (!this.active(sub, orderId, progress)) return;
      }
    }
    progress.catchingUp = false;
    const pending = progress.pending.sort((a, b) => a.seq - b.seq);
    progress.pending = [];
    for (const event of pending) {
      if (event.seq < progress.nextSeq) continue;
      if (event.seq === progress.nextSeq) {
        this.deliver(sub, orderId, progress, event);
        if (!this.active(sub, orderId, progress)) return;
        continue;
      }
      // The query was behind Kafka: keep the rest and ask again shortly.
      progress.pending.push(...pending.filter((e) => e.seq >= progress.nextSeq));
      if (progress.retries++ < this.maxRetries) {
        progress.catchingUp = true;
        setTimeout(() => void this.catchUp(sub, orderId, progress), this.retryDelayMs).unref();
      }
      return;
    }
  }
}
