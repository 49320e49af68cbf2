/**
 * Requests waiting for their answer, keyed by orderId: a getOrder sent while status events for the
 * same order flow in is answered by the first frame its matcher accepts; every other frame stays news.
 */
import type { ReceivedFrame } from '../common/protocol';

interface Waiter {
  match: (frame: ReceivedFrame) => boolean;
  resolve: (frame: ReceivedFrame | null) => void;
}

export class AnswerWaiters {
  private readonly byOrder = new Map<string, Waiter[]>();

  /** Resolves with the first frame for `orderId` that `match` accepts, or null after `timeoutMs`. */
  wait(orderId: string, match: Waiter['match'], timeoutMs: number): Promise<ReceivedFrame | null> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.remove(orderId, waiter);
        resolve(null);
      }, timeoutMs);
      this.byOrder.set(orderId, [...(this.byOrder.get(orderId) ?? []), waiter]);
    });
  }

  /** Hands `frame` to the first waiter for `orderId` that accepts it; false when none does. */
  deliver(orderId: string, frame: ReceivedFrame): boolean {
    const hit = this.byOrder.get(orderId)?.find((w) => w.match(frame));
    if (!hit) return false;
    this.remove(orderId, hit);
    hit.resolve(frame);
    return true;
  }

  private remove(orderId: string, waiter: Waiter): void {
    const rest = (this.byOrder.get(orderId) ?? []).filter((w) => w !== waiter);
    if (rest.length > 0) this.byOrder.set(orderId, rest);
    else this.byOrder.delete(orderId);
  }
}
