/**
 * The outside services an order touches, as interfaces, so a real inventory, payment or shipping
 * provider can replace the simulated ones without touching the activities.
 */
import type { Order } from '../common/order';

export type InventoryCheck = { ok: true } | { ok: false; reason: string };

export interface InventoryProvider {
  check(order: Order): Promise<InventoryCheck>;
}

export interface ChargeRequest {
  /** The same key always yields the same charge: a retried activity never charges twice. */
  idempotencyKey: string;
  orderId: string;
  amount: number;
}
export type ChargeResult = { status: 'charged'; chargeId: string } | { status: 'declined'; reason: string };

export interface RefundRequest {
  idempotencyKey: string;
  orderId: string;
  chargeId: string;
  amount: number;
}

export interface PaymentProvider {
  charge(req: ChargeRequest): Promise<ChargeResult>;
  refund(req: RefundRequest): Promise<{ refundId: string }>;
}

export interface ShipmentRequest {
  idempotencyKey: string;
  order: Order;
}
export type ShipmentResult = { status: 'shipped'; trackingId: string } | { status: 'refused'; reason: string };

export interface ShippingProvider {
  ship(req: ShipmentRequest): Promise<ShipmentResult>;
}

export interface Providers {
  inventory: InventoryProvider;
  payment: PaymentProvider;
  shipping: ShippingProvider;
}

/** A provider error worth retrying (network blip, 503...). Anything not marked permanent is retried. */
export class TransientProviderError extends Error {
  override name = 'TransientProviderError';
}
