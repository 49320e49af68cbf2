/**
 * The `amend` configurations' client side (docs/BENCHMARKS.md "Amending an order"): the orders are
 * followed on the connections that placed them until their VALIDATED push; with `once`, each one is
 * then amended once through the gateway's amendOrder (a new quantity and price, amendment id `a1`)
 * and followed until its orderAmended answer and its AMENDED push. VALIDATED is the trigger because
 * the workflow takes amendments from the end of validation until payment starts: sent then, an
 * amendment meets the open window (at the seed's 2 s step delay), as a customer's would.
 *
 * A BUSY or another retryable answer (TEMPORAL_UNAVAILABLE) is resent unchanged, as the protocol
 * asks (the same amendment id changes the order once), after its `retryAfterMs` or a backoff, at
 * most MAX_RESENDS times; the round trip runs from the first send, so resends are inside it and
 * counted. Bounded: `settle` gives up after `timeoutMs` and counts what is left as unanswered.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, frameOrderId, isRetryable, type AmendRequest, type ReceivedFrame } from '../../common/protocol';
import { isFinal, STEP_STATES, type OrderStatus } from '../../common/status';
import { sleep } from '../infra/proc';
import { percentiles, round, type Percentiles } from './stats';
import type { BenchOrder, Follower } from './ws-load';

/** `none`: followed to VALIDATED only (the twin); `once`: amended once right after VALIDATED. */
export type AmendMode = 'none' | 'once';

/**
 * Runs whose histories are counted in the amend configurations (5 elsewhere): an amendment that
 * reaches the workflow while it sleeps in the timer takes a workflow task of its own, one that
 * arrives before the task that handles the validation does not, so the count varies from order to order.
 */
export const AMEND_HISTORY_SAMPLE = 30;

/** Resends of one amendment answered BUSY or another retryable code, at most. */
export const MAX_RESENDS = 8;
/** The wait before a resend when the answer names none, doubled per resend. */
const BACKOFF_MS = 200;

/** Answers after which the protocol says to send the same amendment again: the retryable codes and TEMPORAL_UNAVAILABLE. */
export const resendable = (code: string): boolean => isRetryable(code) || code === ErrorCode.temporalUnavailable;

export interface AmendSummary {
  mode: AmendMode;
  /** Accepted orders followed. */
  followed: number;
  /** Orders whose VALIDATED push arrived. */
  validated: number;
  /** amendOrder requests sent (first sends; resends are counted apart). */
  sent: number;
  /** orderAmended answers. */
  amended: number;
  /** AMENDED status pushes received. */
  amendedPushes: number;
  /** Resends by the code that asked for them (BUSY, TEMPORAL_UNAVAILABLE...). */
  resends: Record<string, number>;
  /** Final refusals by code (CANNOT_AMEND, NOT_FOUND, a retryable code after MAX_RESENDS...). */
  refused: Record<string, number>;
  /** Orders not done when `settle` gave up. */
  unfinished: number;
  /** amendOrder first sent → orderAmended, ms. */
  roundTripMs: Percentiles | null;
  /** amendOrder first sent → the AMENDED push, ms. */
  toPushMs: Percentiles | null;
}

interface Followed {
  order: BenchOrder;
  validated: boolean;
  final: boolean;
  sentAt?: number;
  resends: number;
  answered?: 'amended' | 'refused';
  pushed: boolean;
  roundTripMs?: number;
  toPushMs?: number;
}

/** The amendment a bench order gets: one more of it, at one more per unit (both within placeOrder's rules). */
export function amendmentOf(order: BenchOrder): AmendRequest {
  return { orderId: order.orderId, amendmentId: 'a1', quantity: (order.quantity % 1000) + 1, price: order.price + 1 };
}

export class AmendFollower implements Follower {
  private readonly byId: Map<string, Followed>;
  private followedIds: string[] = [];
  private readonly resends: Record<string, number> = {};
  private readonly refused: Record<string, number> = {};
  private unfinished = 0;

  constructor(
    orders: BenchOrder[],
    private readonly mode: AmendMode,
    private readonly timeoutMs: number,
  ) {
    this.byId = new Map(
      orders.map((order) => [order.orderId, { order, validated: false, final: false, resends: 0, pushed: false }]),
    );
  }

  onFrame(frame: ReceivedFrame, send: (message: object) => Promise<void>): void {
    const orderId = frameOrderId(frame);
    const f = orderId === undefined ? undefined : this.byId.get(orderId);
    if (!f) return;
    if (frame.event === 'orderStatus') this.onStatus(f, frame.data.status as OrderStatus, send);
    else if (frame.event === 'orderAmended' && f.sentAt !== undefined && !f.answered) {
      f.answered = 'amended';
      f.roundTripMs = performance.now() - f.sentAt;
    } else if (frame.event === 'error' && f.sentAt !== undefined && !f.answered) {
      this.onError(f, frame.data, send);
    }
  }

  async settle(acceptedOrderIds: string[]): Promise<void> {
    this.followedIds = acceptedOrderIds.filter((id) => this.byId.has(id));
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline && this.pending().length) await sleep(50);
    this.unfinished = this.pending().length;
  }

  summary(): AmendSummary {
    const followed = this.followedIds.map((id) => this.byId.get(id) as Followed);
    const count = (p: (f: Followed) => boolean): number => followed.filter(p).length;
    return {
      mode: this.mode,
      followed: followed.length,
      validated: count((f) => f.validated),
      sent: count((f) => f.sentAt !== undefined),
      amended: count((f) => f.answered === 'amended'),
      amendedPushes: count((f) => f.pushed),
      resends: { ...this.resends },
      refused: { ...this.refused },
      unfinished: this.unfinished,
      roundTripMs: percentiles(followed.flatMap((f) => (f.roundTripMs === undefined ? [] : [round(f.roundTripMs, 1)]))),
      toPushMs: percentiles(followed.flatMap((f) => (f.toPushMs === undefined ? [] : [round(f.toPushMs, 1)]))),
    };
  }

  /** The followed orders this follower still waits for. */
  private pending(): Followed[] {
    return this.followedIds.map((id) => this.byId.get(id) as Followed).filter((f) => !this.done(f));
  }

  private done(f: Followed): boolean {
    if (f.final) return true;
    if (this.mode === 'none') return f.validated;
    return f.answered === 'refused' || (f.answered === 'amended' && f.pushed);
  }

  private onStatus(f: Followed, status: OrderStatus, send: (message: object) => Promise<void>): void {
    if (isFinal(status)) f.final = true;
    if (status === STEP_STATES.amend.done && f.sentAt !== undefined && !f.pushed) {
      f.pushed = true;
      f.toPushMs = performance.now() - f.sentAt;
    }
    if (status !== STEP_STATES.validate.done || f.validated) return;
    f.validated = true;
    if (this.mode !== 'once') return;
    f.sentAt = performance.now();
    void send({ event: 'amendOrder', data: amendmentOf(f.order) });
  }

  private onError(f: Followed, data: Record<string, unknown>, send: (message: object) => Promise<void>): void {
    const code = typeof data.code === 'string' ? data.code : 'ERROR';
    if (!resendable(code) || f.resends >= MAX_RESENDS) {
      f.answered = 'refused';
      this.refused[code] = (this.refused[code] ?? 0) + 1;
      return;
    }
    const wait = typeof data.retryAfterMs === 'number' ? data.retryAfterMs : BACKOFF_MS * 2 ** f.resends;
    f.resends += 1;
    this.resends[code] = (this.resends[code] ?? 0) + 1;
    void sleep(wait).then(() => send({ event: 'amendOrder', data: amendmentOf(f.order) }));
  }
}
