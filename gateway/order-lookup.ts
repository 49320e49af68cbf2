/**
 * The gateway's questions to Temporal about an order: its current view, who placed it, and
 * cancelling it.
 */
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { workflowIdFor } from '../common/order';
import type { Order } from '../common/order';
import type { OrderView } from '../common/status';
import { cancelUpdate, statusQuery } from '../common/workflow-api';
import type { RoutedOrder } from './status-routing';
import type { Owner } from './subscriptions';

/** What the order's run was started with, as far as look-ups need it. */
interface Described {
  customerId?: string;
  statusPartition?: number;
}

/** Owners (and status partitions) remembered per gateway (neither ever changes: workflow ids are never reused). */
const OWNER_CACHE_SIZE = 100_000;
/** How long an id Temporal did not know is answered "unknown" without asking again, and how many such ids are kept. */
export const UNKNOWN_ID_TTL_MS = 1_000;
const UNKNOWN_CACHE_SIZE = 100_000;

export type CancelOutcome =
  | { kind: 'cancelled'; view: OrderView }
  | { kind: 'refused'; reason: string }
  | { kind: 'not-found' }
  | { kind: 'unavailable'; reason: string };

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} got no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function notFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { name?: string })?.name === 'WorkflowNotFoundError';
}

export class OrderLookup {
  private readonly owners = new Map<string, Described>();
  /** Ids Temporal said it did not know, until when that answer is reused (repeats cost no Temporal call). */
  private readonly unknownUntil = new Map<string, number>();

  constructor(
    private readonly client: Client,
    private readonly timeoutMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private knownUnknown(orderId: string): boolean {
    const until = this.unknownUntil.get(orderId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.unknownUntil.delete(orderId);
    return false;
  }

  private rememberUnknown(orderId: string): void {
    if (this.unknownUntil.size >= UNKNOWN_CACHE_SIZE) this.unknownUntil.delete(this.unknownUntil.keys().next().value!);
    this.unknownUntil.set(orderId, this.now() + UNKNOWN_ID_TTL_MS);
  }

  /**
   * Who placed the order: the customer id in the order the run was started with (its memo, written
   * by the bridge from the Kafka event). `exists: false` when no such run exists (yet). Cached once
   * known, so following an order costs one describe per gateway.
   */
  async owner(orderId: string): Promise<Owner> {
    const described = await this.describe(orderId);
    return described ? { exists: true, customerId: described.customerId } : { exists: false };
  }

  /** The order's status partition (partition routing), from the same cached describe as its owner. */
  async routed(orderId: string): Promise<RoutedOrder> {
    const described = await this.describe(orderId);
    return described ? { exists: true, statusPartition: described.statusPartition } : { exists: false };
  }

  private async describe(orderId: string): Promise<Described | undefined> {
    const cached = this.owners.get(orderId);
    if (cached) return cached;
    if (this.knownUnknown(orderId)) return undefined;
    let described: Described;
    try {
      const description = await withTimeout(
        this.client.workflow.getHandle(workflowIdFor(orderId)).describe(),
        this.timeoutMs,
        'describe',
      );
      const order = (description.memo as { order?: Partial<Order> } | undefined)?.order;
      described = {
        customerId: typeof order?.customerId === 'string' ? order.customerId : undefined,
        statusPartition: typeof order?.statusPartition === 'number' ? order.statusPartition : undefined,
      };
    } catch (err) {
      if (!notFound(err)) throw err;
      this.rememberUnknown(orderId);
      return undefined;
    }
    if (this.owners.size >= OWNER_CACHE_SIZE) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(orderId, described);
    return described;
  }

  /** True when the order exists and the customer may act on it (any order when `customerId` is undefined: no auth identity). */
  async visibleTo(orderId: string, customerId: string | undefined): Promise<boolean> {
    if (customerId === undefined) return true;
    const owner = await this.owner(orderId);
    return owner.exists && owner.customerId === customerId;
  }

  /** The order's current view, or undefined when no such order (workflow) exists. */
  async view(orderId: string): Promise<OrderView | undefined> {
    if (this.knownUnknown(orderId)) return undefined;
    try {
      return await withTimeout(
        this.client.workflow.getHandle(workflowIdFor(orderId)).query(statusQuery),
        this.timeoutMs,
        'status query',
      );
    } catch (err) {
      if (!notFound(err)) throw err;
      this.rememberUnknown(orderId);
      return undefined;
    }
  }

  async cancel(orderId: string): Promise<CancelOutcome> {
    const handle = this.client.workflow.getHandle(workflowIdFor(orderId));
    try {
      const view = await withTimeout(handle.executeUpdate(cancelUpdate), 60_000, 'cancel');
      if (view.status === 'CANCELLED') return { kind: 'cancelled', view };
      return { kind: 'refused', reason: `order ${orderId} ended ${view.status} before it could be cancelled` };
    } catch (err) {
      if (notFound(err)) {
        // Either no such order, or it has finished (updates need a running workflow).
        const view = await this.view(orderId).catch(() => undefined);
        return view ? { kind: 'refused', reason: `order ${orderId} is already ${view.status}` } : { kind: 'not-found' };
      }
      if (err instanceof WorkflowUpdateFailedError) {
        return { kind: 'refused', reason: (err.cause as Error | undefined)?.message ?? err.message };
      }
      return { kind: 'unavailable', reason: `could not cancel order ${orderId}: ${(err as Error).message}` };
    }
  }
}
