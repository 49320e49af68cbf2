/**
 * The crash matrix, reduced: 40 orders per scenario on an isolated stack that this file
 * starts and stops itself (its own Kafka and Temporal on free ports, data under os.tmpdir()), so
 * it neither needs nor touches the shared servers. Gateway, bridges and worker run as separate OS
 * processes; one is SIGKILLed partway (or Kafka, or Temporal) and restarted.
 *   gateway      gateway killed, clients resend what was not acknowledged with the same orderId
 *   bridge-pair  two bridges, one killed and restarted: a kill, a restart and a rebalance
 *   kafka        broker killed and restarted: refusals while down, no false acceptance, recovery
 *   temporal     dev server killed and restarted on its SQLite file: the bridge holds its commits,
 *                reports degraded and resumes (down 25 s: longer than the client's own retries)
 *   worker       worker killed while runs sit in durable timers and charges are in flight
 * plus the DLQ replay script against the same Kafka. `npm run chaos` runs the full matrix (N = 300).
 */
import * as crypto from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import {
  DEFAULT_OPTIONS,
  formatTable,
  runScenario,
  ScenarioName,
  ScenarioOptions,
  ScenarioResult,
} from '../../tools/chaos/harness';
import { replayDlq } from '../../bridge/dlq-replay';
import { useIsolatedFleet } from '../helpers/isolated-fleet';

// Cold start: Kafka formats its storage and starts (~10 s), Temporal ~2 s.
const isolated = useIsolatedFleet({ name: 'chaos', freeLowPorts: true });
const { log } = isolated;
const results: ScenarioResult[] = [];

// Runs after the isolated fleet stopped (afterAll hooks run in the order they are registered).
afterAll(() => {
  if (results.length)
    process.stderr.write(
      `\n${formatTable(results)}\n\n${results.map((r) => `${r.scenario}: ${r.notes.join('; ')}`).join('\n')}\n`,
    );
});

const OPTIONS: ScenarioOptions = {
  ...DEFAULT_OPTIONS,
  orders: 40,
  connections: 4,
  rate: 20,
  outageMs: 5_000,
  temporalOutageMs: 25_000,
  completionTimeoutMs: 120_000,
  placementTimeoutMs: 90_000,
  log,
};

describe('crash matrix (40 orders per scenario, isolated stack)', () => {
  // The worker scenario runs last: it needs other STEP_DELAY_MS/SIM_LATENCY_MS, so its processes are new ones.
  const scenarios: ScenarioName[] = ['gateway', 'bridge-pair', 'kafka', 'temporal', 'worker'];
  test.each(scenarios)(
    '%s: every acknowledged order completes, one run and one charge each',
    async (name) => {
      const r = await runScenario(isolated.fleet, name, OPTIONS);
      results.push(r);
      // The failures list names every broken check (lost/duplicated orders, false acceptances, commits
      // while Temporal was down, processes that died on their own, ...): show it when anything is off.
      expect(r.failures).toEqual([]);
      expect(r.lost).toBe(0);
      expect(r.duplicated).toBe(0);
      expect(r.acknowledged).toBe(r.placed);
      expect(r.completed).toBe(r.acknowledged);
      expect(r.charges).toBe(r.completed);
      // Exactly one run per order: every placed order was acknowledged, so no run belongs to another.
      expect(r.duplicatedOrders).toEqual([]);
      expect(r.workflows).toBe(r.acknowledged);
      expect(r.refunds).toBe(r.expectedRefunds);
    },
    240_000,
  );
});

describe('dlq:replay', () => {
  test('re-publishes DLQ events without their dlq-* headers, stops when caught up, and --dry-run changes nothing', async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const dlqTopic = `replay-dlq-${id}`;
    const targetTopic = `replay-target-${id}`;
    const groupId = `replay-${id}`;
    const kafka = new Kafka({
      clientId: 'replay-test',
      brokers: isolated.stack.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const quiet = (): void => undefined;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: dlqTopic, numPartitions: 1, replicationFactor: 1 },
          { topic: targetTopic, numPartitions: 1, replicationFactor: 1 },
        ],
      });
      const producer = kafka.producer();
      await producer.connect();
      const dlqHeaders = (offset: string) => ({
        'dlq-reason': 'temporal rejected the start',
        'dlq-original-topic': 'order-placement',
        'dlq-original-partition': '0',
        'dlq-original-offset': offset,
        'dlq-at': new Date().toISOString(),
      });
      await producer.send({
        topic: dlqTopic,
        messages: [
          { key: 'o-1', value: '{"n":1}', headers: { eventId: 'e-1', ...dlqHeaders('7') } },
          { key: 'o-2', value: '{"n":2}', headers: { eventId: 'e-2', ...dlqHeaders('8') } },
        ],
      });
      await producer.disconnect();
      const common = {
        brokers: isolated.stack.kafkaBrokers,
        dlqTopic,
        targetTopic,
        groupId,
        timeoutMs: 30_000,
        log: quiet,
      };

      const dry = await replayDlq({ ...common, dryRun: true });
      expect(dry).toMatchObject({ examined: 2, replayed: 0, caughtUp: true });
      expect((await admin.fetchTopicOffsets(targetTopic))[0].high).toBe('0');

      const real = await replayDlq(common);
      expect(real).toMatchObject({
        examined: 2,
        replayed: 2,
        caughtUp: true,
        byReason: { 'temporal rejected the start': 2 },
      });
      const again = await replayDlq(common);
      expect(again).toMatchObject({ examined: 0, replayed: 0, caughtUp: true });

      const consumer = kafka.consumer({ groupId: `${groupId}-check` });
      await consumer.connect();
      await consumer.subscribe({ topic: targetTopic, fromBeginning: true });
      const seen: Array<{ key: string; value: string; headers: string[]; eventId: string }> = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.push({
              key: String(message.key),
              value: String(message.value),
              headers: Object.keys(message.headers ?? {}),
              eventId: String(message.headers?.eventId),
            });
            if (seen.length === 2) resolve();
          },
        });
      });
      await consumer.disconnect();
      expect(seen).toEqual([
        { key: 'o-1', value: '{"n":1}', headers: ['eventId'], eventId: 'e-1' },
        { key: 'o-2', value: '{"n":2}', headers: ['eventId'], eventId: 'e-2' },
      ]);

      // --from-beginning rewinds the replay group.
      expect(await replayDlq({ ...common, fromBeginning: true })).toMatchObject({ replayed: 2, caughtUp: true });
    } finally {
      await admin.deleteTopics({ topics: [dlqTopic, targetTopic] }).catch(() => undefined);
      await admin.disconnect();
    }
  }, 90_000);
});
