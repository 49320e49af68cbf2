// The bench's plan and its process-tree sampling: the PostgreSQL and fan-out configurations are in the
// default plan and selectable alone with --only, run against their own server, and PostgreSQL (one
// backend process per connection) is sampled with its children's CPU, not only its postmaster's.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseOptions } from '../../tools/bench/options';
import { codecEnv } from '../../tools/bench/pipeline';
import { planSteps, postgresOrders } from '../../tools/bench/plan';
import { treeUsage } from '../../tools/bench/proc-tree';
import { waitUntil } from '../helpers/wait';

const planOf = (args: string[]) => {
  const { opts, kinds } = parseOptions(['node', 'bench', ...args]);
  return { opts, kinds, steps: planSteps({ ...opts, kinds }) };
};

describe('bench plan', () => {
  test('the default plan runs the bare engine and the pipeline on PostgreSQL, and the fan-out', () => {
    const { kinds, steps } = planOf([]);
    const onPostgres = steps.filter((s) => s.server === 'postgres').map((s) => s.id);
    expect(onPostgres).toEqual(['bare-postgres', 'pipe-full-d0-postgres']);
    expect(steps.map((s) => s.id)).toEqual(expect.arrayContaining(['bare-tuned', 'pipe-full-d0']));
    expect(kinds.has('fanout')).toBe(true);
  });

  test('--only postgres selects just the two PostgreSQL configurations, at most 600 orders each', () => {
    const { steps, opts } = planOf(['--only', 'postgres']);
    expect(steps.map((s) => [s.id, s.server])).toEqual([
      ['bare-postgres', 'postgres'],
      ['pipe-full-d0-postgres', 'postgres'],
    ]);
    expect(postgresOrders(opts.orders)).toBe(600);
    expect(postgresOrders(200)).toBe(200);
  });

  test('--only codec runs the full-speed pipeline three times in one run: payload encryption off, on, and on with the order fields sealed on the topics', () => {
    const { steps } = planOf(['--only', 'codec']);
    expect(steps.map((s) => [s.id, s.server])).toEqual([
      ['pipe-codec-off-d0', 'tuned'],
      ['pipe-codec-on-d0', 'tuned'],
      ['pipe-codec-topics-d0', 'tuned'],
    ]);
    expect(planOf([]).steps.map((s) => s.id)).toEqual(
      expect.arrayContaining(['pipe-codec-off-d0', 'pipe-codec-on-d0']),
    );
    // What each of the three hands the apps it starts.
    expect(codecEnv('off')).toEqual({ PAYLOAD_ENCRYPTION: 'off', KAFKA_ENCRYPT_ORDER_FIELDS: 'off' });
    expect(codecEnv('on')).toEqual({ PAYLOAD_ENCRYPTION: 'on', KAFKA_ENCRYPT_ORDER_FIELDS: 'off' });
    expect(codecEnv('topics')).toEqual({ PAYLOAD_ENCRYPTION: 'on', KAFKA_ENCRYPT_ORDER_FIELDS: 'on' });
  });

  test('--only fanout runs no Temporal configuration; --quick offers 1 000 events/s for 5 s', () => {
    const { steps, kinds, opts } = planOf(['--quick', '--only', 'fanout']);
    expect(steps).toEqual([]);
    expect([...kinds]).toEqual(['fanout']);
    expect(opts.fanoutRates).toEqual([1000]);
    expect(opts.fanoutSeconds).toBe(5);
  });
});

describe('treeUsage', () => {
  test("a parent's tree counts the CPU its busy child used, after the child exited", async () => {
    // A shell starts a child that burns 400 ms of CPU (not wall time: the machine may be busy), waits
    // for it (reaping it), leaves a mark, then idles.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-proc-tree-'));
    const mark = path.join(dir, 'child-done');
    const burn = 'while (process.cpuUsage().user < 400000);';
    const parent = spawn('sh', ['-c', `${process.execPath} -e "${burn}" ; touch ${mark} ; sleep 30`], {
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => parent.once('exit', resolve));
    try {
      await waitUntil(() => fs.existsSync(mark) || undefined, { timeoutMs: 30_000, what: 'the child to finish' });
      const usage = treeUsage(parent.pid!);
      expect(usage).toBeDefined();
      // The shell itself used almost nothing; the child's 400 ms are in its reaped time.
      expect(usage!.ctime).toBeGreaterThanOrEqual(400);
    } finally {
      parent.kill('SIGKILL');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a process that does not exist has no usage', () => {
    expect(treeUsage(2 ** 22 + 12345)).toBeUndefined();
  });
});
