// The launcher's start-up wait on a stand-in server (a Node child named like Kafka): a server that
// exits during start-up, or is still not ready at the deadline, leaves no pid file behind, and the
// second one is killed rather than left holding its ports.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAlive } from '../../tools/infra/proc';
import { ownedPid, refuseServerStarts, spawnServer, waitReady } from '../../tools/infra/server-process';
import { stackOptions } from '../../tools/infra/stack-options';
import { waitUntil } from '../helpers/wait';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-server-process-'));
const stack = stackOptions({ dataDir });
const pidFile = path.join(dataDir, 'run', 'kafka.pid');
const quiet = (): void => undefined;
const neverReady = async (): Promise<boolean> => false;

/** A Node process whose command line carries the marks ownedPid looks for (the server's class and the data dir). */
function standIn(script: string): number {
  return spawnServer('kafka', stack, process.execPath, ['-e', script, 'kafka.Kafka', path.join(dataDir, 'x')]);
}

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('waitReady', () => {
  test('a server that exits during start-up: the error says so, and its pid is no longer recorded', async () => {
    const pid = standIn('process.exit(3)');
    expect(fs.existsSync(pidFile)).toBe(true);
    await expect(waitReady('kafka', stack, pid, neverReady, 10_000, quiet)).rejects.toThrow(/exited during start-up/);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  test('a server still not ready at the deadline is killed and forgotten', async () => {
    const pid = standIn('setTimeout(() => undefined, 60_000)');
    expect(ownedPid('kafka', stack)).toBe(pid);
    await expect(waitReady('kafka', stack, pid, neverReady, 600, quiet)).rejects.toThrow(/did not become ready/);
    expect(fs.existsSync(pidFile)).toBe(false);
    await waitUntil(() => !isAlive(pid), { timeoutMs: 5_000, intervalMs: 20, what: `pid ${pid} to be gone` });
  });

  test('a server that becomes ready keeps its pid recorded', async () => {
    const pid = standIn('setTimeout(() => undefined, 60_000)');
    try {
      await waitReady('kafka', stack, pid, async () => true, 5_000, quiet);
      expect(ownedPid('kafka', stack)).toBe(pid);
    } finally {
      process.kill(-pid, 'SIGKILL');
    }
  });
});

// Last in this file: the refusal lasts for the rest of the process.
describe('refuseServerStarts', () => {
  test('once npm start is stopping, a server whose turn comes is not spawned: the start throws, no pid file', () => {
    fs.rmSync(pidFile, { force: true }); // the previous test's server kept its pid file
    refuseServerStarts('npm start received SIGINT');
    expect(() => standIn('setTimeout(() => undefined, 60_000)')).toThrow(
      /kafka not started: npm start received SIGINT/,
    );
    expect(fs.existsSync(pidFile)).toBe(false);
  });
});
