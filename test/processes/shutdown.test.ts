// Graceful shutdown of the real processes: SIGTERM drains in-flight work and exits 0.
import { ChildProcess, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { freePort } from '../../infra/proc';
import { TestClient } from '../helpers/ws-client';

const ROOT = path.resolve(__dirname, '..', '..');


function start(entry: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('gateway: SIGTERM answers every order it read (stored, or refused as shutting down), closes clients with 1001, exits 0', async () => {
  const port = await freePort();
  const gw = start('gateway/main.ts', { GATEWAY_PORT: String(port) });
  try {
    await waitFor(() => gw.output().includes('ready: following order-status'), 60_000, 'the gateway to be ready');
    const client = await TestClient.connect(`ws://127.0.0.1:${port}`);
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    const ids = Array.from({ length: 20 }, (_, i) => `sigterm-${i}-${crypto.randomUUID().slice(0, 8)}`);
    // Orders keep arriving around the signal: none may go unanswered.
    for (const [i, orderId] of ids.entries()) {
      client.send({ event: 'placeOrder', data: { orderId, item: 'Mouse', price: 10 } });
      if (i === 10) gw.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, i === 0 ? 100 : 1));
    }
    expect(await closed).toBe(1001);
    // Frames the client sent after the server's close frame are not read (that is the close
    // handshake: the client sees 1001 and resends them). Everything before them is answered,
    // each with Kafka's verdict or SHUTTING_DOWN: the answered orders form a prefix, no gaps.
    const outcomes = ids.map((orderId) => {
      const answer = client.received.find((f) => f.data.orderId === orderId);
      return answer === undefined ? 'none' : answer.event === 'orderAccepted' ? 'accepted' : String(answer.data.code);
    });
    const answered = outcomes.filter((o) => o !== 'none');
    expect(outcomes.slice(answered.length).every((o) => o === 'none')).toBe(true);
    expect(answered.every((o) => o === 'accepted' || o === 'SHUTTING_DOWN')).toBe(true);
    // The ones sent before the signal were in flight: they were answered with Kafka's verdict.
    expect(client.received.find((f) => f.data.orderId === ids[0])?.event).toBe('orderAccepted');
    expect(await gw.exited).toBe(0);
  } finally {
    gw.child.kill('SIGKILL');
  }
});

test('worker: SIGTERM stops polling, lets running tasks finish, exits 0', async () => {
  const worker = start('worker/main.ts', { SIM_LEDGER_FILE: path.join(ROOT, '.data', 'ledger', 'shutdown-test.jsonl') });
  try {
    await waitFor(() => worker.output().includes('polling task queue'), 90_000, 'the worker to poll');
    worker.child.kill('SIGTERM');
    const code = await Promise.race([worker.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
    expect(code).toBe(0);
  } finally {
    worker.child.kill('SIGKILL');
  }
});
