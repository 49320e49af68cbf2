/**
 * The whole pipeline in this process, against the real Kafka and Temporal dev server:
 * gateway (ephemeral port) -> a fresh topic -> bridge (fresh group) -> Temporal -> worker (fresh task queue).
 * Fresh names per stack keep test files from seeing each other's orders.
 */
import * as crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Kafka, logLevel } from 'kafkajs';
import { simulatedProviders } from '../../activities/simulated';
import { KafkaStatusPublisher } from '../../activities/status-publisher';
import { OrderLookup } from '../../gateway/order-lookup';
import { StatusFeed } from '../../gateway/status-feed';
import { infraPorts } from '../../tools/infra/ports';
import { loadConfig } from '../../common/config';
import { startBridge, Bridge } from '../../bridge/bridge';
import { OrderProducer } from '../../gateway/order-producer';
import { Gateway, GatewayOptions, startGateway } from '../../gateway/server';
import { createOrderWorker } from '../../worker/worker';
import { simulation } from './order-worker';
import { Gate, gate } from './wait';
import type { LedgerEntry } from '../../activities/ledger';
import { appDataConverter } from './codec';
import type { KeyStore } from '../../common/codec';

export interface Stack {
  url: string;
  gateway: Gateway;
  bridge: Bridge;
  client: Client;
  kafka: Kafka;
  topic: string;
  dlqTopic: string;
  statusTopic: string;
  taskQueue: string;
  ledger: ReturnType<typeof simulatedProviders>['payment']['ledger'];
  /** The worker's providers: a test may wrap a method (e.g. hold one order's charge behind a gate). */
  providers: ReturnType<typeof simulatedProviders>;
  /** The raw ledger lines (repeats included) written for one order: what "charged once" counts. */
  ledgerLines(orderId: string): LedgerEntry[];
  stop(): Promise<void>;
}

/**
 * Starts a stack before the file's tests and stops it after them; returns a getter for it.
 * (beforeAll/afterAll are registered where it is called: at the top of a file or inside a describe.)
 */
export function useStack(opts: Parameters<typeof startStack>[0] = {}): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(opts);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return () => {
    if (!stack) throw new Error('the stack is not running (beforeAll failed?)');
    return stack;
  };
}

export async function startStack(
  opts: {
    stepDelayMs?: number;
    gateway?: Partial<GatewayOptions>;
    /** KAFKA_ENCRYPT_ORDER_FIELDS: the gateway seals orders with this key store, and the bridge opens them with `bridgeKeyStore`. */
    sealWith?: KeyStore;
    bridgeKeyStore?: () => KeyStore;
  } = {},
): Promise<Stack> {
  const config = loadConfig();
  const id = crypto.randomUUID().slice(0, 8);
  const topic = `order-placement-test-${id}`;
  const dlqTopic = `${topic}.dlq`;
  const statusTopic = `order-status-test-${id}`;
  const taskQueue = `orders-test-${id}`;
  const kafka = new Kafka({ clientId: `test-${id}`, brokers: config.kafkaBrokers, logLevel: logLevel.ERROR });

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: 6, replicationFactor: 1 },
      { topic: dlqTopic, numPartitions: 1, replicationFactor: 1 },
      { topic: statusTopic, numPartitions: 3, replicationFactor: 1 },
    ],
  });
  await admin.disconnect();

  const producer = new OrderProducer(kafka, 5_000, topic, { sealWith: opts.sealWith });
  await producer.connect();
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace, dataConverter: appDataConverter() });
  const gateway = await startGateway({
    port: 0,
    producer,
    orders: new OrderLookup(client),
    temporalUi: { url: `http://127.0.0.1:${infraPorts().temporalUi}`, namespace: config.temporalNamespace },
    log: () => undefined,
    ...opts.gateway,
  });
  const feed = new StatusFeed(kafka, { topic: statusTopic, log: () => undefined });
  await feed.start(gateway);
  const bridge = await startBridge({
    kafka,
    client,
    stepDelayMs: opts.stepDelayMs ?? 100,
    groupId: `bridge-${id}`,
    topic,
    dlqTopic,
    taskQueue,
    keyStore: opts.bridgeKeyStore,
    log: () => undefined,
  });

  const nativeConnection = await NativeConnection.connect({ address: config.temporalAddress });
  const providers = simulatedProviders(simulation());
  const statusPublisher = new KafkaStatusPublisher(kafka, statusTopic);
  const worker: Worker = await createOrderWorker({
    connection: nativeConnection,
    namespace: config.temporalNamespace,
    dataConverter: appDataConverter(),
    providers,
    statusPublisher,
    taskQueue,
  });
  const running = worker.run();

  return {
    url: `ws://127.0.0.1:${gateway.port}`,
    gateway,
    bridge,
    client,
    kafka,
    topic,
    dlqTopic,
    statusTopic,
    taskQueue,
    ledger: providers.payment.ledger,
    providers,
    ledgerLines: (orderId) => providers.payment.ledger.lines().filter((e) => e.orderId === orderId),
    async stop() {
      await gateway.close();
      await producer.disconnect();
      await feed.stop();
      await bridge.stop();
      worker.shutdown();
      await running;
      await statusPublisher.disconnect();
      await nativeConnection.close();
      await connection.close();
      const cleanup = kafka.admin();
      await cleanup.connect();
      await cleanup.deleteTopics({ topics: [topic, dlqTopic, statusTopic] }).catch(() => undefined);
      await cleanup.disconnect();
    },
  };
}

type ProviderStep = 'validate' | 'charge' | 'ship';

/**
 * Holds one order at a provider step (validation, charge or shipment) until the returned gate is
 * opened: the workflow sits in VALIDATING, CHARGING or SHIPPING for as long as the test needs,
 * with no wall-clock race. Other orders pass through untouched.
 */
export function holdOrderAt(stack: Stack, step: ProviderStep, orderId: string): Gate {
  const held = gate();
  const p = stack.providers;
  if (step === 'validate') {
    const real = p.inventory.check.bind(p.inventory);
    p.inventory.check = async (order) => {
      if (order.orderId === orderId) await held.wait();
      return real(order);
    };
  } else if (step === 'charge') {
    const real = p.payment.charge.bind(p.payment);
    p.payment.charge = async (req) => {
      if (req.orderId === orderId) await held.wait();
      return real(req);
    };
  } else {
    const real = p.shipping.ship.bind(p.shipping);
    p.shipping.ship = async (req) => {
      if (req.order.orderId === orderId) await held.wait();
      return real(req);
    };
  }
  return held;
}
