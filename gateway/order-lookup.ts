/**
 * The gateway's questions to Temporal about an order: its current view, who placed it, and
 * cancelling or amending it. An order is named by its workflow id (common/order workflowIdFor; ./order-key).
 * Each Temporal call is charged to the `Charge` its caller passes (./lookup-budget), before the
 * call and only when one is made: an answer from the caches costs nothing.
 */
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { globalWorkflowIdOf, isScopedWorkflowId, orderIdOfWorkflowId } from '../common/order';
import { detailOf } from './internal-error';
import type { Order } from '../common/order';
import type { OrderView } from '../common/status';
import type { Amendment } from '../common/order-values';
import { amendUpdate, amendUpdateId, cancelUpdate, statusQuery, type AmendResult } from '../common/workflow-api';
import { UNCHARGED, type Charge } from './lookup-budget';
import type { RoutedOrder } from './status-routing';
import type { Owner } from './subscriptions';

/** Owners (and status partitions) remembered per gateway (neither ever changes: workflow ids are never reused). */
const OWNER_CACHE_SIZE = 100_000;
/** How long an id Temporal did not know is answered "unknown" without asking again, and how many such ids are kept. */
export const UNKNOWN_ID_TTL_MS = 1_000;
const UNKNOWN_CACHE_SIZE = 100_000;

/**
 * The workflow ids whose owner decides whether a customer may act on the order it calls by
 * `scopedId`: the id itself, and for a scoped id also the global one (an order placed before ids
 * were scoped). Their describes run at once.
 */
export function ownerCandidates(scopedId: string): string[] {
  return isScopedWorkflowId(scopedId) ? [scopedId, globalWorkflowIdOf(scopedId)] : [scopedId];
}

export type CancelOutcome =
  | { kind: 'cancelled'; view: OrderView }
  | { kind: 'refused'; reason: string }
  | { kind: 'not-found' }
  | { kind: 'unavailable'; reason: string };

export type AmendOutcome =
  | { kind: 'amended'; result: AmendResult }
  | { kind: 'refused'; reason: string }
  | { kind: 'not-found' }
  | { kind: 'unavailable'; reason: string };

/** How long an update (cancel, amend) may take before the client is told TEMPORAL_UNAVAILABLE. */
const UPDATE_TIMEOUT_MS = 60_000;

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
  return (
    err instanceof WorkflowNotFoundError || (err as { name?: string })?.name === 'WorkflowNotFoundError' || erased(err)
  );
}

/**
 * Whether an error comes from a payload sealed under a destroyed data key (common/codec
 * KeyDestroyedError, possibly wrapped by the SDK): the order's customer was erased
 * (`npm run customer:erase`), and for every client the order no longer exists.
 */
function erased(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const { name, message } = e as { name?: string; message?: string };
    if (name === 'KeyDestroyedError' || message?.startsWith('key destroyed for customer')) return true;
  }
  return false;
}

/**
 * Whether a customer may act on an order: 'mine' (its owner is this customer), or 'hidden' (someone
 * else's, no such order, or not decided in time: all answered alike).
 */
export type Ownership = 'mine' | 'hidden';

export class OrderLookup {
  private readonly owners = new Map<string, string | undefined>();
  /** The status partition of each order in `owners` that has one (partition routing). */
  private readonly statusPartitions = new Map<string, number>();
  /** Owner look-ups in flight, so repeated questions about one order share one describe. */
  private readonly asking = new Map<string, Promise<Owner>>();
  /** Ids Temporal said it did not know, until when that answer is reused (repeats cost no Temporal call). */
  private readonly unknownUntil = new Map<string, number>();

  constructor(
    private readonly client: Client,
    private readonly timeoutMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private knownUnknown(workflowId: string): boolean {
    const until = this.unknownUntil.get(workflowId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.unknownUntil.delete(workflowId);
    return false;
  }

  private rememberUnknown(workflowId: string): void {
    if (this.unknownUntil.size >= UNKNOWN_CACHE_SIZE) this.unknownUntil.delete(this.unknownUntil.keys().next().value!);
    this.unknownUntil.set(workflowId, this.now() + UNKNOWN_ID_TTL_MS);
  }

  /**
   * Who placed the order: the customer id in the order the run was started with (its memo, written
   * by the bridge from the Kafka event). `exists: false` when no such run exists (yet). Cached once
   * known, so following an order costs one describe per gateway.
   */
  async owner(workflowId: string, charge: Charge = UNCHARGED): Promise<Owner> {
    if (this.owners.has(workflowId)) return { exists: true, customerId: this.owners.get(workflowId) };
    if (this.knownUnknown(workflowId)) return { exists: false };
    let pending = this.asking.get(workflowId);
    if (!pending) {
      // Charged before the describe is shared: a refused charge (BusyError) fails only this caller.
      const release = charge.take();
      pending = this.describeOwner(workflowId).finally(() => {
        release();
        this.asking.delete(workflowId);
      });
      this.asking.set(workflowId, pending);
    }
    return pending;
  }

  /**
   * Decides whether `customerId` owns the order, from the cache when it can (no Temporal call), else
   * from Temporal within `deadlineMs`. Anything but a confirmed owner (someone else's order, no such
   * order, Temporal failing or slower than the deadline) is 'hidden': the caller is told nothing it
   * could tell apart. A look-up still running at the deadline goes on and fills the cache.
   */
  async ownership(
    workflowId: string,
    customerId: string,
    deadlineMs: number,
    charge: Charge = UNCHARGED,
  ): Promise<Ownership> {
    if (this.owners.has(workflowId)) return this.owners.get(workflowId) === customerId ? 'mine' : 'hidden';
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), deadlineMs)));
    const owner = await Promise.race([this.owner(workflowId, charge).catch(() => undefined), late]).finally(() =>
      clearTimeout(timer),
    );
    return owner?.exists && owner.customerId === customerId ? 'mine' : 'hidden';
  }

  /**
   * The workflow id under which `customerId` owns the order it calls `orderId`: its scoped id, else
   * (an order placed before ids were scoped) the global id when this customer placed it; undefined
   * when neither is theirs (decided alike, within `deadlineMs`: both are asked at once).
   */
  async ownedWorkflowId(
    scopedId: string,
    customerId: string,
    deadlineMs: number,
    charge: Charge = UNCHARGED,
  ): Promise<string | undefined> {
    const candidates = ownerCandidates(scopedId);
    const verdicts = await Promise.all(candidates.map((id) => this.ownership(id, customerId, deadlineMs, charge)));
    return candidates.find((_, i) => verdicts[i] === 'mine');
  }

  /** The order's status partition (partition routing), from the same cached describe as its owner. */
  async routed(workflowId: string, charge: Charge = UNCHARGED): Promise<RoutedOrder> {
    const owner = await this.owner(workflowId, charge);
    return owner.exists ? { exists: true, statusPartition: this.statusPartitions.get(workflowId) } : { exists: false };
  }

  private async describeOwner(workflowId: string): Promise<Owner> {
    let customerId: string | undefined;
    let statusPartition: number | undefined;
    try {
      const description = await withTimeout(
        this.client.workflow.getHandle(workflowId).describe(),
        this.timeoutMs,
        'describe',
      );
      const order = (description.memo as { order?: Partial<Order> } | undefined)?.order;
      customerId = typeof order?.customerId === 'string' ? order.customerId : undefined;
      statusPartition = typeof order?.statusPartition === 'number' ? order.statusPartition : undefined;
    } catch (err) {
      if (!notFound(err)) throw err;
      this.rememberUnknown(workflowId);
      return { exists: false };
    }
    if (this.owners.size >= OWNER_CACHE_SIZE) {
      const oldest = this.owners.keys().next().value!;
      this.owners.delete(oldest);
      this.statusPartitions.delete(oldest);
    }
    this.owners.set(workflowId, customerId);
    if (statusPartition !== undefined) this.statusPartitions.set(workflowId, statusPartition);
    return { exists: true, customerId };
  }

  /** The order's current view, or undefined when no such order (workflow) exists. */
  async view(workflowId: string, charge: Charge = UNCHARGED): Promise<OrderView | undefined> {
    if (this.knownUnknown(workflowId)) return undefined;
    const release = charge.take();
    try {
      return await withTimeout(
        this.client.workflow.getHandle(workflowId).query(statusQuery),
        this.timeoutMs,
        'status query',
      );
    } catch (err) {
      if (!notFound(err)) throw err;
      this.rememberUnknown(workflowId);
      return undefined;
    } finally {
      release();
    }
  }

  async cancel(workflowId: string, charge: Charge = UNCHARGED): Promise<CancelOutcome> {
    const handle = this.client.workflow.getHandle(workflowId);
    try {
      const release = charge.take();
      const view = await withTimeout(handle.executeUpdate(cancelUpdate), UPDATE_TIMEOUT_MS, 'cancel').finally(release);
      if (view.status === 'CANCELLED') return { kind: 'cancelled', view };
      return {
        kind: 'refused',
        reason: `order ${orderIdOfWorkflowId(workflowId)} ended ${view.status} before it could be cancelled`,
      };
    } catch (err) {
      return this.updateFailure(workflowId, err, charge);
    }
  }

  /**
   * Amends the order (the workflow's amend update, under the update id of its amendment id, so a
   * resend joins the first one and the server answers it once).
   */
  async amend(workflowId: string, amendment: Amendment, charge: Charge = UNCHARGED): Promise<AmendOutcome> {
    const handle = this.client.workflow.getHandle(workflowId);
    try {
      const release = charge.take();
      const update = handle.executeUpdate(amendUpdate, {
        args: [amendment],
        updateId: amendUpdateId(amendment.amendmentId),
      });
      const result = await withTimeout(update, UPDATE_TIMEOUT_MS, 'amend').finally(release);
      return { kind: 'amended', result };
    } catch (err) {
      return this.updateFailure(workflowId, err, charge);
    }
  }

  /** What an update's failure means to the client: refused (by the workflow, or the order has ended), unknown, or unavailable. */
  private async updateFailure(
    workflowId: string,
    err: unknown,
    charge: Charge,
  ): Promise<{ kind: 'refused'; reason: string } | { kind: 'not-found' } | { kind: 'unavailable'; reason: string }> {
    if (notFound(err)) {
      // Either no such order, or it has finished (updates need a running workflow).
      const view = await this.view(workflowId, charge).catch(() => undefined);
      return view
        ? { kind: 'refused', reason: `order ${orderIdOfWorkflowId(workflowId)} is already ${view.status}` }
        : { kind: 'not-found' };
    }
    if (err instanceof WorkflowUpdateFailedError) {
      return { kind: 'refused', reason: (err.cause as Error | undefined)?.message ?? err.message };
    }
    return { kind: 'unavailable', reason: detailOf(err) };
  }
}
