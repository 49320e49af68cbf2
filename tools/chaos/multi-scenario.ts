/**
 * `multi`: N of everything. Two gateways, two bridges and two workers on one Kafka and one Temporal;
 * orders go through both gateways (the harness splits them). Partway, a client of gateway A starts
 * following an order placed through gateway B, and then one process of each kind is SIGKILLed:
 * gateway B (restarted, its clients resend what was not acknowledged), bridge B and worker B (for
 * good: bridge A takes the partitions over once B's session expires, worker A runs every task).
 * The audit then requires every acknowledged order completed once and charged once, as always.
 */
import WebSocket from 'ws';
import { readLedgerLines } from '../../activities/ledger';
import { sleep } from '../infra/proc';
import { secs, type Ctx, type ScenarioDef } from './scenario-kit';

const HAPPY = ['ACCEPTED', 'VALIDATING', 'VALIDATED', 'CHARGING', 'CHARGED', 'SHIPPING', 'SHIPPED', 'COMPLETED'];

interface Frame {
  event: string;
  data: { orderId?: string; status?: string; seq?: number; code?: string };
}

// A raw socket, not cli's OrderClient: the follow check below must see every frame the gateway sends
// (a repeated or missing seq), which that client's de-duplication by seq would hide.
function open(url: string): Promise<{ ws: WebSocket; frames: Frame[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: Frame[] = [];
    ws.on('message', (raw: Buffer) => void frames.push(JSON.parse(raw.toString()) as Frame));
    ws.once('open', () => resolve({ ws, frames }));
    ws.once('error', reject);
  });
}

async function until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: nothing within ${secs(timeoutMs)}`);
    await sleep(50);
  }
}

/**
 * Places one order through gateway B and follows it from a client of gateway A: the follower must
 * see every status of the order, numbered 1..n without a gap, though A never received the order.
 * Returns once the order is acknowledged, with a promise of the follow's outcome.
 */
async function followAcrossGateways(ctx: Ctx): Promise<Promise<void>> {
  const orderId = `f${ctx.prefix}`; // outside the scenario's prefix: the audit counts only the stream's orders
  const placer = await open(`ws://127.0.0.1:${ctx.portOf(ctx.gateways[1])}`);
  placer.ws.send(JSON.stringify({ event: 'placeOrder', data: { orderId, item: 'USB cable', price: 9.5 } }));
  const answer = await until(() => placer.frames.find((f) => f.data.orderId === orderId), 30_000, 'placing via B');
  placer.ws.close();
  if (answer.event !== 'orderAccepted')
    throw new Error(`gateway B refused the followed order: ${JSON.stringify(answer)}`);
  const follower = await open(`ws://127.0.0.1:${ctx.portOf(ctx.gateways[0])}`);
  follower.ws.send(JSON.stringify({ event: 'subscribeOrder', data: { orderId, fromSeq: 1 } }));
  const statuses = (): Frame[] =>
    follower.frames.filter((f) => f.event === 'orderStatus' && f.data.orderId === orderId);
  return (async () => {
    try {
      await until(
        () => statuses().find((f) => f.data.status === 'COMPLETED'),
        ctx.opts.completionTimeoutMs,
        `gateway A's client following ${orderId}`,
      );
      const seen = statuses();
      const got = seen.map((f) => `${f.data.seq}:${f.data.status}`).join(',');
      const want = HAPPY.map((st, i) => `${i + 1}:${st}`).join(',');
      if (got !== want) ctx.failures.push(`gateway A's follower of ${orderId} saw ${got}, expected ${want}`);
      const charges = readLedgerLines(ctx.ledgerFile).filter((e) => e.orderId === orderId && e.kind === 'charge');
      if (charges.length !== 1) ctx.failures.push(`${orderId} charged ${charges.length} times`);
      ctx.notes.push(`a client of gateway A followed ${orderId} (placed via B) through all ${seen.length} statuses`);
    } finally {
      follower.ws.close();
    }
  })();
}

export const MULTI: ScenarioDef = {
  bridges: 2,
  gateways: 2,
  workers: 2,
  stepDelayMs: 1_000,
  latencyMs: 300,
  // Slow placing, so the kills land while orders are still arriving.
  rate: 5,
  trigger: (ctx) => Promise.resolve(ctx.acked() >= Math.ceil(ctx.opts.orders / 5)),
  async strike(ctx) {
    const [gatewayB, bridgeB, workerB] = [ctx.gateways[1], ctx.bridges[1], ctx.workers[1]];
    for (const p of [gatewayB, bridgeB, workerB]) ctx.killedOnPurpose.add(p);
    // Bridge B and worker B first: runs are in flight and orders still arriving.
    await Promise.all([bridgeB.kill(), workerB.kill()]);
    ctx.killedAt = Date.now();
    ctx.notes.push(`${bridgeB.name}, ${workerB.name} SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged`);
    const follow = await followAcrossGateways(ctx).catch((err: Error) => {
      ctx.failures.push(err.message);
      return Promise.resolve();
    });
    const at = Date.now();
    await gatewayB.kill();
    ctx.notes.push(`${gatewayB.name} SIGKILLed at ${ctx.acked()}/${ctx.opts.orders} acknowledged`);
    await sleep(500);
    await gatewayB.start();
    ctx.killedOnPurpose.delete(gatewayB);
    ctx.notes.push(`${gatewayB.name} back in ${secs(Date.now() - at)}; ${bridgeB.name} and ${workerB.name} stay down`);
    await follow;
  },
};
