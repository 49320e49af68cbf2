/**
 * The look-up flood of the `lookups` configurations (docs/SECURITY.md "Bounded look-ups"): one
 * customer's connections send getOrder and subscribeOrder frames of random ids (orders nobody has)
 * as fast as the gateway's per-connection rate limit lets them, to loopback only, bounded in count
 * (`maxLookups` over all connections) and in time (until `stop`, and never past `maxSeconds`; a
 * connection the gateway closes stops too). Every answer is counted by kind
 * (`order`, `subscribed`, or the error code: BUSY, NOT_FOUND, RATE_LIMITED...), never retried.
 */
import * as crypto from 'node:crypto';
import { SignJWT } from 'jose';
import type { WebSocket } from 'ws';
import { parseServerFrame } from '../../common/protocol';
import { sleep } from '../infra/proc';
import type { PipelineSpec } from './pipeline';
import { ClientBucket, openConnections } from './ws-load';

export interface FloodOptions {
  url: string;
  /** The flooding customer's token. */
  token: string;
  connections: number;
  /** Look-ups to send at most, over all connections. */
  maxLookups: number;
  /** Seconds to send for at most. */
  maxSeconds: number;
}

export interface FloodResult {
  sent: number;
  /** Answers by `order`, `subscribed` or error code. */
  answers: Record<string, number>;
  seconds: number;
  sentPerSecond: number;
}

export interface Flood {
  /** Stops sending, waits a little for the last answers, closes the connections. */
  stop(): Promise<FloodResult>;
}

/** A signing secret and tokens for the bench's customers (the gateway gets the secret as GATEWAY_JWT_SECRET). */
export function benchCustomers(): { secret: string; tokenOf: (customerId: string) => Promise<string> } {
  const secret = crypto.randomBytes(32).toString('hex');
  return {
    secret,
    tokenOf: (customerId) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(customerId)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(new TextEncoder().encode(secret));
    },
  };
}

export async function startFlood(opts: FloodOptions): Promise<Flood> {
  const sockets = await openConnections(opts.url, opts.connections, 15_000, opts.token);
  const answers: Record<string, number> = {};
  let sent = 0;
  let answered = 0;
  let stopping = false;
  for (const ws of sockets) {
    ws.on('message', (raw) => {
      const frame = parseServerFrame(raw.toString());
      if (!frame || frame.event === 'orderStatus') return;
      const kind = frame.event === 'error' ? String(frame.data.code) : frame.event;
      answers[kind] = (answers[kind] ?? 0) + 1;
      answered += 1;
    });
    ws.on('error', () => undefined);
  }
  const t0 = performance.now();
  const deadline = t0 + opts.maxSeconds * 1000;
  const sendFrom = async (ws: WebSocket): Promise<void> => {
    const bucket = new ClientBucket();
    while (!stopping && sent < opts.maxLookups && ws.readyState === ws.OPEN && performance.now() < deadline) {
      for (let wait = bucket.take(); wait > 0; wait = bucket.take()) await sleep(wait);
      if (stopping || sent >= opts.maxLookups) break;
      const orderId = `flood-${crypto.randomUUID().slice(0, 13)}`;
      const event = sent % 2 === 0 ? 'getOrder' : 'subscribeOrder';
      ws.send(JSON.stringify({ event, data: { orderId } }));
      sent += 1;
    }
  };
  const sending = Promise.all(sockets.map(sendFrom));
  return {
    async stop() {
      stopping = true;
      await sending;
      const seconds = (performance.now() - t0) / 1000;
      // A customer's NOT_FOUND takes a second: the last answers are waited for a little.
      for (let i = 0; i < 40 && answered < sent; i += 1) await sleep(50);
      for (const ws of sockets) ws.terminate();
      return { sent, answers, seconds: Math.round(seconds * 10) / 10, sentPerSecond: Math.round(sent / seconds) };
    },
  };
}

/** How long the flood runs before the first order is placed. */
const FLOOD_WARM_UP_MS = 5_000;

/** What beside the orders: nothing, the flood under the gateway's default budget, or the flood with the budget opened wide. */
export type FloodMode = 'none' | 'limited' | 'open';

/** A budget wide enough never to refuse the flood: what the gateway did before look-ups were bounded. */
const OPEN_BUDGET = {
  GATEWAY_TEMPORAL_CALLS_IN_FLIGHT: '100000',
  GATEWAY_TEMPORAL_CALLS_PER_SECOND: '100000',
  GATEWAY_TEMPORAL_CUSTOMER_SHARE_PERCENT: '100',
};

export interface LookupsStep {
  id: string;
  orders: number;
  rate: number;
  flood: FloodMode;
  floodConnections: number;
  floodLookups: number;
  /** The flood's time cap, seconds. */
  floodSeconds: number;
}

/**
 * A `lookups` configuration as a pipeline: the gateway in JWT mode with partition routing on (so a
 * followed id that does not exist is described again and again, as the budget must bound), customer
 * `bench-b` placing the orders at a fixed offered rate, and beside them (unless `none`) customer
 * `bench-a`'s flood.
 */
export async function lookupsPipeline(step: LookupsStep): Promise<PipelineSpec> {
  const { secret, tokenOf } = benchCustomers();
  const flooder = await tokenOf('bench-a');
  return {
    id: step.id,
    orders: step.orders,
    stepDelayMs: 0,
    rate: step.rate,
    customer: { secret, customerId: 'bench-b', token: await tokenOf('bench-b') },
    env: { GATEWAY_STATUS_PARTITION: '0', ...(step.flood === 'open' ? OPEN_BUDGET : {}) },
    beside:
      step.flood === 'none'
        ? undefined
        : {
            what: `customer bench-a's look-up flood (${step.floodConnections} connections${step.flood === 'open' ? ', budget opened wide' : ''})`,
            start: async (url) => {
              const flood = await startFlood({
                url,
                token: flooder,
                connections: step.floodConnections,
                maxLookups: step.floodLookups,
                maxSeconds: step.floodSeconds,
              });
              // The orders meet the flood in its steady state, past its first burst.
              await sleep(FLOOD_WARM_UP_MS);
              return flood;
            },
          },
  };
}
