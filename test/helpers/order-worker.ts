/**
 * Test wiring for the order activities: real activity code over simulated providers with a
 * throw-away ledger, each activity wrapped in a typed jest.fn so tests can count calls.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createActivities, OrderActivities } from '../../activities';
import { SimulationSettings, simulatedProviders } from '../../activities/simulated';
import type { Providers } from '../../activities/providers';
import { MemoryStatusPublisher } from '../../activities/status-publisher';

export type CountedActivities = {
  [K in keyof OrderActivities]: jest.Mock<ReturnType<OrderActivities[K]>, Parameters<OrderActivities[K]>>;
};

export function tempLedgerFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orders-ledger-')), 'payments.jsonl');
}

export function simulation(overrides: Partial<SimulationSettings> = {}): SimulationSettings {
  return { cardLimit: 5000, transientFailureRate: 0, latencyMs: 0, ledgerFile: tempLedgerFile(), ...overrides };
}

export function countedActivities(
  providers: Providers,
  statusPublisher = new MemoryStatusPublisher(),
): CountedActivities {
  const real = createActivities(providers, statusPublisher);
  return {
    publishStatus: jest.fn(real.publishStatus),
    publishStatuses: jest.fn(real.publishStatuses),
    validateOrder: jest.fn(real.validateOrder),
    chargePayment: jest.fn(real.chargePayment),
    refundPayment: jest.fn(real.refundPayment),
    shipOrder: jest.fn(real.shipOrder),
  };
}

export function simulatedSetup(overrides: Partial<SimulationSettings> = {}) {
  const providers = simulatedProviders(simulation(overrides));
  const statuses = new MemoryStatusPublisher();
  return { providers, statuses, ledger: providers.payment.ledger, activities: countedActivities(providers, statuses) };
}
