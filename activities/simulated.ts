/**
 * Simulated providers with rules a user can trigger on purpose (see docs/DESIGN.md "Simulated providers"):
 *  - inventory: an item whose name contains "out of stock" is rejected;
 *  - payment: an order total (price x quantity) above the card limit (SIM_CARD_LIMIT, default 5000)
 *    is declined; charges and refunds are recorded in a durable ledger, idempotently;
 *  - shipping: an item whose name contains "unshippable" is refused by the carrier;
 *  - any call fails transiently with probability SIM_TRANSIENT_FAILURE_RATE (default 0),
 *    before it has any effect, so retries are safe.
 */
import * as crypto from 'node:crypto';
import { loadConfig } from '../common/config';
import type { Order } from '../common/order';
import { Ledger, type LedgerEntry } from './ledger';
import {
  ChargeRequest,
  ChargeResult,
  InventoryProvider,
  PaymentProvider,
  Providers,
  RefundRequest,
  ShipmentRequest,
  ShipmentResult,
  ShippingProvider,
  TransientProviderError,
} from './providers';

export interface SimulationSettings {
  cardLimit: number;
  transientFailureRate: number;
  ledgerFile: string;
  /** Milliseconds each provider call takes, to make the simulation feel like a network call. */
  latencyMs: number;
}

/** The SIM_* settings of `env` (validated with every other variable by common/config). */
export function simulationSettingsFromEnv(env?: NodeJS.ProcessEnv): SimulationSettings {
  return loadConfig(env).simulation;
}

function shortId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
}

class Flaky {
  constructor(private readonly settings: SimulationSettings) {}
  async call(what: string): Promise<void> {
    if (this.settings.latencyMs > 0) await new Promise((r) => setTimeout(r, this.settings.latencyMs));
    if (Math.random() < this.settings.transientFailureRate) {
      throw new TransientProviderError(`${what}: simulated transient failure (try again)`);
    }
  }
}

export class SimulatedInventory implements InventoryProvider {
  constructor(private readonly flaky: Flaky) {}
  async check(order: Order) {
    await this.flaky.call('inventory');
    if (/out of stock/i.test(order.item)) return { ok: false as const, reason: `"${order.item}" is out of stock` };
    return { ok: true as const };
  }
}

export class SimulatedPayment implements PaymentProvider {
  readonly ledger: Ledger;
  constructor(
    private readonly settings: SimulationSettings,
    private readonly flaky: Flaky,
  ) {
    this.ledger = new Ledger(settings.ledgerFile);
  }

  async charge(req: ChargeRequest): Promise<ChargeResult> {
    await this.flaky.call('payment');
    const existing = this.ledger.find(req.idempotencyKey);
    if (existing) return { status: 'charged', chargeId: existing.id };
    if (req.amount > this.settings.cardLimit) {
      return {
        status: 'declined',
        reason: `card declined: ${req.amount.toFixed(2)} exceeds the limit of ${this.settings.cardLimit.toFixed(2)}`,
      };
    }
    return { status: 'charged', chargeId: this.record('charge', req) };
  }

  async refund(req: RefundRequest): Promise<{ refundId: string }> {
    await this.flaky.call('payment');
    const existing = this.ledger.find(req.idempotencyKey);
    if (existing) return { refundId: existing.id };
    return { refundId: this.record('refund', req) };
  }

  /** Appends one ledger line for a new charge or refund; returns its id. */
  private record(kind: LedgerEntry['kind'], req: ChargeRequest | RefundRequest): string {
    const id = shortId(kind === 'charge' ? 'ch' : 're');
    const { idempotencyKey, orderId, amount } = req;
    this.ledger.append({ kind, idempotencyKey, id, orderId, amount, at: new Date().toISOString() });
    return id;
  }
}

export class SimulatedShipping implements ShippingProvider {
  private readonly shipped = new Map<string, string>();
  constructor(private readonly flaky: Flaky) {}
  async ship(req: ShipmentRequest): Promise<ShipmentResult> {
    await this.flaky.call('shipping');
    if (/unshippable/i.test(req.order.item))
      return { status: 'refused', reason: `carrier refused "${req.order.item}"` };
    let trackingId = this.shipped.get(req.idempotencyKey);
    if (!trackingId) {
      trackingId = shortId('trk');
      this.shipped.set(req.idempotencyKey, trackingId);
    }
    return { status: 'shipped', trackingId };
  }
}

export function simulatedProviders(
  settings: SimulationSettings = simulationSettingsFromEnv(),
): Providers & { payment: SimulatedPayment } {
  const flaky = new Flaky(settings);
  return {
    inventory: new SimulatedInventory(flaky),
    payment: new SimulatedPayment(settings, flaky),
    shipping: new SimulatedShipping(flaky),
  };
}
