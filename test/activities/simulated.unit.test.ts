// The simulated providers' rules and their idempotency, counted on the raw ledger file (one line per
// effect), since Ledger.entries() keeps one entry per idempotency key and would hide a repeat.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TransientProviderError } from '../../activities/providers';
import { SimulationSettings, simulatedProviders, simulationSettingsFromEnv } from '../../activities/simulated';

function settings(overrides: Partial<SimulationSettings> = {}): SimulationSettings {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-unit-'));
  return {
    cardLimit: 5000,
    transientFailureRate: 0,
    latencyMs: 0,
    ledgerFile: path.join(dir, 'payments.jsonl'),
    ...overrides,
  };
}

function rawLines(file: string): Array<{ kind: string; idempotencyKey: string; amount: number }> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const order = { orderId: 'o-1', item: 'Keyboard', price: 150, quantity: 1 };

test('a charge repeated with the same idempotency key is written once and answers the same charge id', async () => {
  const s = settings();
  const { payment } = simulatedProviders(s);
  const first = await payment.charge({ idempotencyKey: 'order-o-1:charge', orderId: 'o-1', amount: 150 });
  const again = await payment.charge({ idempotencyKey: 'order-o-1:charge', orderId: 'o-1', amount: 150 });
  expect(first).toEqual({ status: 'charged', chargeId: expect.stringMatching(/^ch_[0-9a-f]{12}$/) });
  expect(again).toEqual(first);
  expect(rawLines(s.ledgerFile)).toEqual([
    expect.objectContaining({ kind: 'charge', idempotencyKey: 'order-o-1:charge', amount: 150 }),
  ]);
});

test('another process sharing the ledger file does not charge a key again either', async () => {
  const s = settings();
  await simulatedProviders(s).payment.charge({ idempotencyKey: 'k', orderId: 'o-1', amount: 10 });
  await simulatedProviders(s).payment.charge({ idempotencyKey: 'k', orderId: 'o-1', amount: 10 });
  expect(rawLines(s.ledgerFile)).toHaveLength(1);
});

test('a refund repeated with the same idempotency key is written once', async () => {
  const s = settings();
  const { payment } = simulatedProviders(s);
  const first = await payment.refund({
    idempotencyKey: 'order-o-1:refund',
    orderId: 'o-1',
    chargeId: 'ch_1',
    amount: 150,
  });
  const again = await payment.refund({
    idempotencyKey: 'order-o-1:refund',
    orderId: 'o-1',
    chargeId: 'ch_1',
    amount: 150,
  });
  expect(first.refundId).toMatch(/^re_[0-9a-f]{12}$/);
  expect(again).toEqual(first);
  expect(rawLines(s.ledgerFile).map((l) => l.kind)).toEqual(['refund']);
});

test('different keys are different effects', async () => {
  const s = settings();
  const { payment } = simulatedProviders(s);
  await payment.charge({ idempotencyKey: 'a:charge', orderId: 'a', amount: 1 });
  await payment.charge({ idempotencyKey: 'b:charge', orderId: 'b', amount: 2 });
  expect(rawLines(s.ledgerFile).map((l) => l.idempotencyKey)).toEqual(['a:charge', 'b:charge']);
});

test('a total above the card limit is declined and writes nothing; at the limit it is charged', async () => {
  const s = settings({ cardLimit: 100 });
  const { payment } = simulatedProviders(s);
  expect(await payment.charge({ idempotencyKey: 'over', orderId: 'o', amount: 100.01 })).toEqual({
    status: 'declined',
    reason: 'card declined: 100.01 exceeds the limit of 100.00',
  });
  expect(rawLines(s.ledgerFile)).toEqual([]);
  expect((await payment.charge({ idempotencyKey: 'at', orderId: 'o', amount: 100 })).status).toBe('charged');
});

test('inventory rejects items out of stock (any case), accepts others', async () => {
  const { inventory } = simulatedProviders(settings());
  expect(await inventory.check({ ...order, item: 'Lamp (Out Of Stock)' })).toEqual({
    ok: false,
    reason: '"Lamp (Out Of Stock)" is out of stock',
  });
  expect(await inventory.check(order)).toEqual({ ok: true });
});

test('shipping refuses unshippable items and answers the same tracking id for the same key', async () => {
  const { shipping } = simulatedProviders(settings());
  expect(await shipping.ship({ idempotencyKey: 'x', order: { ...order, item: 'UNSHIPPABLE piano' } })).toEqual({
    status: 'refused',
    reason: 'carrier refused "UNSHIPPABLE piano"',
  });
  const first = await shipping.ship({ idempotencyKey: 's1', order });
  expect(first).toEqual({ status: 'shipped', trackingId: expect.stringMatching(/^trk_[0-9a-f]{12}$/) });
  expect(await shipping.ship({ idempotencyKey: 's1', order })).toEqual(first);
  expect(await shipping.ship({ idempotencyKey: 's2', order })).not.toEqual(first);
});

test('with a transient failure rate of 1 every call fails transiently, before any effect', async () => {
  const s = settings({ transientFailureRate: 1 });
  const p = simulatedProviders(s);
  await expect(p.payment.charge({ idempotencyKey: 'k', orderId: 'o', amount: 1 })).rejects.toBeInstanceOf(
    TransientProviderError,
  );
  await expect(p.payment.charge({ idempotencyKey: 'k', orderId: 'o', amount: 1 })).rejects.toThrow(
    'payment: simulated transient failure (try again)',
  );
  await expect(p.payment.refund({ idempotencyKey: 'r', orderId: 'o', chargeId: 'c', amount: 1 })).rejects.toThrow(
    'payment: simulated transient failure (try again)',
  );
  await expect(p.inventory.check(order)).rejects.toThrow('inventory: simulated transient failure');
  await expect(p.shipping.ship({ idempotencyKey: 's', order })).rejects.toThrow(
    'shipping: simulated transient failure',
  );
  expect(rawLines(s.ledgerFile)).toEqual([]);
});

test('with simulated latency a call answers only once that time has passed (fake clock)', async () => {
  jest.useFakeTimers();
  try {
    const { inventory } = simulatedProviders(settings({ latencyMs: 30 }));
    let answered = false;
    const call = inventory.check(order).then(() => (answered = true));
    await jest.advanceTimersByTimeAsync(29);
    expect(answered).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await call;
    expect(answered).toBe(true);
  } finally {
    jest.useRealTimers();
  }
});

describe('settings from the environment', () => {
  test('defaults', () => {
    const s = simulationSettingsFromEnv({});
    expect(s).toEqual({
      cardLimit: 5000,
      transientFailureRate: 0,
      latencyMs: 0,
      ledgerFile: path.resolve(__dirname, '..', '..', '.data', 'ledger', 'payments.jsonl'),
    });
  });
  test('overrides, and an empty value means the default', () => {
    expect(
      simulationSettingsFromEnv({
        SIM_CARD_LIMIT: '',
        SIM_TRANSIENT_FAILURE_RATE: '1',
        SIM_LATENCY_MS: '0',
        SIM_LEDGER_FILE: '/tmp/x.jsonl',
      }),
    ).toEqual({
      cardLimit: 5000,
      transientFailureRate: 1,
      latencyMs: 0,
      ledgerFile: '/tmp/x.jsonl',
    });
    expect(simulationSettingsFromEnv({ SIM_CARD_LIMIT: '100' }).cardLimit).toBe(100);
  });
  test.each([
    ['SIM_TRANSIENT_FAILURE_RATE', '1.5', 'SIM_TRANSIENT_FAILURE_RATE="1.5" is not a number between 0 and 1'],
    ['SIM_CARD_LIMIT', '-1', 'SIM_CARD_LIMIT="-1" is not a number ≥ 0'],
    ['SIM_LATENCY_MS', 'abc', 'SIM_LATENCY_MS="abc" is not a whole number of milliseconds'],
    ['SIM_CARD_LIMIT', 'Infinity', 'SIM_CARD_LIMIT="Infinity" is not a number ≥ 0'],
  ])('%s=%s is refused', (name, value, message) => {
    expect(() => simulationSettingsFromEnv({ [name]: value })).toThrow(message);
  });
});
