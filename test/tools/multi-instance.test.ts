// N of everything: two gateways, two bridges and two workers as separate processes on one Kafka and
// one Temporal (an isolated stack of this file's own, on free ports). Orders go through both gateways;
// a client of gateway A follows an order placed through gateway B; gateway B, bridge B and worker B are
// SIGKILLed partway (the gateway restarted, the others left down). This is the crash matrix's `multi`
// scenario (tools/chaos/multi-scenario.ts) with 40 orders; `npm run chaos -- -s multi` runs it larger.
// Partition routing is on (gateway A home partition 0, gateway B 1): A's client of B's order is served
// only because A fetches B's partition while that client follows it.
import { DEFAULT_OPTIONS, runScenario, ScenarioOptions } from '../../tools/chaos/harness';
import { useIsolatedFleet } from '../helpers/isolated-fleet';

const isolated = useIsolatedFleet({ name: 'multi', freeLowPorts: true, statusRouting: true });
const { log } = isolated;

const OPTIONS: ScenarioOptions = {
  ...DEFAULT_OPTIONS,
  orders: 40,
  connections: 4,
  rate: 20,
  completionTimeoutMs: 180_000,
  placementTimeoutMs: 90_000,
  log,
};

test('2 gateways, 2 bridges, 2 workers, one of each SIGKILLed: every acknowledged order completes once, charged once', async () => {
  const r = await runScenario(isolated.fleet, 'multi', OPTIONS);
  log(r.notes.join('; '));
  // failures names every broken check, the cross-gateway follow included.
  expect(r.failures).toEqual([]);
  expect(r.notes.some((n) => /a client of gateway A followed .* \(placed via B\) through all 8 statuses/.test(n))).toBe(
    true,
  );
  expect(r.notes.some((n) => /bridge-B, worker-B SIGKILLed/.test(n))).toBe(true);
  expect(r.notes.some((n) => /gateway-B SIGKILLed/.test(n))).toBe(true);
  expect(r.lost).toBe(0);
  expect(r.duplicated).toBe(0);
  expect(r.acknowledged).toBe(r.placed);
  expect(r.completed).toBe(r.acknowledged);
  expect(r.charges).toBe(r.completed);
  expect(r.workflows).toBe(r.acknowledged);
  expect(r.refunds).toBe(r.expectedRefunds);
}, 420_000);
