/**
 * A gateway in-process on real Kafka, for the gateway's own tests: one fresh placement topic per
 * file with an OrderProducer writing to it, gateways started on free ports and closed after the
 * file, and the HTTP status an upgrade gets.
 */
import WebSocket from 'ws';
import { OrderProducer } from '../../gateway/order-producer';
import { Gateway, GatewayOptions, startGateway } from '../../gateway/server';
import { createTopic, deleteTopics, messagesIn, testKafka } from './kafka';

export interface GatewayFixture {
  readonly kafka: ReturnType<typeof testKafka>;
  /** The file's placement topic (set in beforeAll). */
  topic(): string;
  /** The producer writing to it. */
  producer(): OrderProducer;
  /** Starts a gateway on a free port writing through the file's producer (unless `opts` says otherwise). */
  start(opts?: Partial<GatewayOptions>): Promise<Gateway>;
  /** Messages stored in the file's topic now. */
  stored(): Promise<number>;
}

/** Registers beforeAll/afterAll hooks for a fresh topic named `prefix-…` and its producer. */
export function useGatewayFixture(prefix: string): GatewayFixture {
  const kafka = testKafka(prefix);
  const gateways: Gateway[] = [];
  let topic: string | undefined;
  let producer: OrderProducer | undefined;
  const must = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is set up in beforeAll`);
    return v;
  };

  beforeAll(async () => {
    topic = await createTopic(kafka, prefix);
    producer = new OrderProducer(kafka, 5_000, topic);
    await producer.connect();
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await producer?.disconnect();
    if (topic) await deleteTopics(kafka, [topic]);
  });

  return {
    kafka,
    topic: () => must(topic, 'the topic'),
    producer: () => must(producer, 'the producer'),
    async start(opts = {}) {
      const gw = await startGateway({
        port: 0,
        producer: must(producer, 'the producer'),
        log: () => undefined,
        ...opts,
      });
      gateways.push(gw);
      return gw;
    },
    stored: () => messagesIn(kafka, must(topic, 'the topic')),
  };
}

export interface UpgradeOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
  protocols?: string[];
}

/** Attempts a WebSocket upgrade at `url`; resolves with the HTTP status it was refused with, or 101 when it opened. */
export function upgradeStatus(url: string, opts: UpgradeOptions = {}): Promise<number> {
  const headers = { ...opts.headers, ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) };
  return new Promise((resolve) => {
    const ws = new WebSocket(url, opts.protocols ?? [], { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}
