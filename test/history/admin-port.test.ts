/**
 * The history process's admin listener (HISTORY_HEALTH_PORT): real history processes
 * (`history/main.ts`) on the real Kafka and a real PostgreSQL. /livez answers from the start; /readyz
 * is 503 naming only `consumer` while the reader has not joined its group (Kafka unreachable), and 200
 * once it has (the group then has this member); /metrics has the process's own figures.
 */
import { AppProcess, whenAnswers200 } from '../../tools/infra/app-process';
import { freePort, httpGet } from '../../tools/infra/proc';
import { testKafka, withAdmin } from '../helpers/kafka';
import { testDatabase, type TestDatabase } from '../helpers/postgres';
import { uniqueId, waitUntil } from '../helpers/wait';

let database: TestDatabase;
const procs: AppProcess[] = [];

beforeAll(async () => {
  database = await testDatabase();
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await database?.stop();
});

/** A history process with its admin port on; resolves once /livez answers. */
async function historyProcess(env: Record<string, string>): Promise<{ proc: AppProcess; admin: string }> {
  const admin = `http://127.0.0.1:${await freePort()}`;
  const proc = new AppProcess({
    app: 'history',
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      HISTORY_HEALTH_PORT: new URL(admin).port,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ...env,
    },
    ready: whenAnswers200(`${admin}/livez`),
  });
  procs.push(proc);
  await proc.start(90_000);
  return { proc, admin };
}

describe('history admin port', () => {
  test('with Kafka unreachable the process is live but not ready, and /readyz names only its consumer', async () => {
    const { proc, admin } = await historyProcess({
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      HISTORY_GROUP_ID: uniqueId('order-history-admin'),
    });
    const readyz = await httpGet(`${admin}/readyz`, 3_000);
    expect(proc.running()).toBe(true);
    expect(readyz).toEqual({ status: 503, body: JSON.stringify({ ready: false, notReady: ['consumer'] }) });
    expect((await httpGet(`${admin}/livez`, 3_000))?.status).toBe(200);
  });

  test('once its consumer has joined its group /readyz is 200, and /metrics has the process figures', async () => {
    const groupId = uniqueId('order-history-admin');
    const { proc, admin } = await historyProcess({ HISTORY_GROUP_ID: groupId });
    await waitUntil(async () => (await httpGet(`${admin}/readyz`, 3_000))?.status === 200, {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: `${admin}/readyz to answer 200`,
      context: () => proc.output(),
    });
    expect(await httpGet(`${admin}/readyz`, 3_000)).toEqual({
      status: 200,
      body: JSON.stringify({ ready: true, notReady: [] }),
    });
    // Ready means a member of its group: the broker lists exactly this one.
    const [group] = await withAdmin(testKafka(), async (a) => (await a.describeGroups([groupId])).groups);
    expect({ state: group.state, members: group.members.length }).toEqual({ state: 'Stable', members: 1 });
    const metrics = await httpGet(`${admin}/metrics`, 3_000);
    expect(metrics?.status).toBe(200);
    expect(metrics?.body).toMatch(/^process_cpu_user_seconds_total \d/m);
  });
});
