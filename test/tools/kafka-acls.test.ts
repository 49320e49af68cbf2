/**
 * Kafka least privilege on the real broker: each app's SCRAM user, on the launcher's SASL listener,
 * may write and read only its own topics and consumer groups (tools/infra/kafka-acls.ts). Per rule
 * one write or read the rules allow (and that arrives where it should) and the ones they refuse,
 * with the broker's own error code. The probe writes are well-formed and harmless: an order that
 * will be rejected (out of stock), a status event and a DLQ record for that probe order only.
 */
import * as crypto from 'node:crypto';
import {
  AclEntry,
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  KafkaConfig,
  logLevel,
  Message,
  RecordMetadata,
  ResourcePatternTypes,
} from 'kafkajs';
import { CONSUMER_GROUPS, TOPICS } from '../../common/names';
import { kafkaKeyOf, Order, orderPlacedEvent, workflowIdFor } from '../../common/order';
import { entryOf, numberedEvents, STATUS_SCHEMA_VERSION } from '../../common/status';
import { dlqRecord } from '../../bridge/dead-letter';
import { ensureTopics } from '../../tools/infra/app-resources';
import { aclEntries, aclsOf, KAFKA_ACL_RULES, KAFKA_ROLES, KAFKA_USERS, KafkaRole } from '../../tools/infra/kafka-acls';
import { localSasl } from '../../tools/infra/kafka-sasl';
import { infraPorts } from '../../tools/infra/ports';
import { testKafka, withAdmin } from '../helpers/kafka';
import { uniqueId } from '../helpers/wait';

const saslBroker = `127.0.0.1:${infraPorts().kafkaSasl}`;
const security = (role: KafkaRole): Pick<KafkaConfig, 'sasl'> => ({ sasl: localSasl(role) });

/**
 * Broker refusals kafkajs met but did not pass on: looking for a group's coordinator it tries every
 * broker and throws only "Failed to find group coordinator"; what the broker answered (a
 * GROUP_AUTHORIZATION_FAILED) is in its debug log line, read from there.
 */
let loggedRefusals: string[] = [];

function kafkaAs(role: KafkaRole): Kafka {
  return new Kafka({
    clientId: uniqueId(`acl-${role}`),
    brokers: [saslBroker],
    ...security(role),
    logLevel: logLevel.DEBUG,
    logCreator: () => (entry) => {
      const type = (entry.log as { error?: { type?: unknown } }).error?.type;
      if (typeof type === 'string' && type.endsWith('_FAILED')) loggedRefusals.push(type);
    },
    // Retriable errors (a coordinator still loading on a fresh broker) are retried; refusals are not.
    retry: { retries: 5, initialRetryTime: 100 },
  });
}

/** The broker's error code in a kafkajs error, looking through the wrappers kafkajs puts around it. */
function brokerError(err: unknown): string {
  const seen: unknown[] = [];
  const walk = (e: unknown): string | undefined => {
    if (typeof e !== 'object' || e === null || seen.includes(e)) return undefined;
    seen.push(e);
    const x = e as { type?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };
    if (typeof x.type === 'string' && x.type.endsWith('_FAILED')) return x.type;
    const nested = [x.cause, x.originalError, ...(Array.isArray(x.errors) ? x.errors : [])];
    for (const n of nested) {
      const found = walk(n);
      if (found) return found;
    }
    return undefined;
  };
  return walk(err) ?? loggedRefusals.at(-1) ?? `not a broker refusal: ${(err as Error)?.message ?? String(err)}`;
}

/** What a call came to: 'ok', or the broker's error code. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  loggedRefusals = [];
  try {
    await call();
    return 'ok';
  } catch (err) {
    return brokerError(err);
  }
}

/** Writes one message as `role`, with an idempotent producer and acks from all replicas, as the apps do. */
async function writeAs(role: KafkaRole, topic: string, message: Message): Promise<RecordMetadata> {
  const producer = kafkaAs(role).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const [stored] = await producer.send({ topic, acks: -1, messages: [message] });
    return stored;
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads as `role` in consumer group `groupId`. With `from` (a partition and offset): resolves with
 * the key of the first message read from there. Without: resolves with '' after the first fetch the
 * broker answered. Rejects with what the broker refused.
 */
async function readAs(
  role: KafkaRole,
  topic: string,
  groupId: string,
  from?: Pick<RecordMetadata, 'partition' | 'baseOffset'>,
): Promise<string> {
  const consumer = kafkaAs(role).consumer({
    groupId,
    maxWaitTimeInMs: 200,
    retry: { retries: 5, initialRetryTime: 100, restartOnFailure: () => Promise.resolve(false) },
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to the read within 30 s`)), 30_000);
      const settle = (fn: () => void): void => {
        clearTimeout(timer);
        fn();
      };
      consumer.on(consumer.events.CRASH, ({ payload }) => settle(() => reject(payload.error)));
      if (!from) consumer.on(consumer.events.FETCH, () => settle(() => resolve('')));
      const run = async (): Promise<void> => {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: false });
        await consumer.run({
          eachMessage: async ({ message }) => settle(() => resolve(message.key?.toString() ?? '')),
        });
        if (from) consumer.seek({ topic, partition: from.partition, offset: String(from.baseOffset) });
      };
      run().catch((err: unknown) => settle(() => reject(err)));
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/** The probe: an order that validation rejects, so whatever bridge reads it charges nothing. */
const probe: Order = { orderId: uniqueId('acl-probe'), item: 'ACL probe, out of stock', price: 1, quantity: 1 };
const probeKey = kafkaKeyOf(workflowIdFor(probe));
const placed: Message = {
  key: probeKey,
  value: JSON.stringify(orderPlacedEvent(probe, crypto.randomUUID(), Date.now())),
};
const status: Message = {
  key: probeKey,
  value: JSON.stringify({
    ...numberedEvents(probe.orderId, [entryOf('REJECTED', Date.now(), 'ACL probe')], 1)[0],
    workflowId: workflowIdFor(probe),
    schemaVersion: STATUS_SCHEMA_VERSION,
  }),
};
const deadLetter = (): Message =>
  dlqRecord(
    {
      key: Buffer.from(probeKey),
      value: Buffer.from('not an order'),
      headers: {},
      offset: '0',
      timestamp: String(Date.now()),
      attributes: 0,
    },
    'ACL probe',
    { topic: TOPICS.orderPlacement, partition: 0 },
  );

const group = (prefix: string): string => uniqueId(`${prefix}acl`);
const ANY_ACL = {
  resourceType: AclResourceTypes.ANY,
  resourcePatternType: ResourcePatternTypes.ANY,
  operation: AclOperationTypes.ANY,
  permissionType: AclPermissionTypes.ANY,
};
const REFUSED_TOPIC = 'TOPIC_AUTHORIZATION_FAILED';
const REFUSED_GROUP = 'GROUP_AUTHORIZATION_FAILED';

describe('Kafka least privilege on the SASL listener', () => {
  test('the gateway user writes order-placement and nothing else; the bridge user reads it there in its group', async () => {
    const stored = await writeAs('gateway', TOPICS.orderPlacement, placed);
    expect(await readAs('bridge', TOPICS.orderPlacement, group(`${CONSUMER_GROUPS.bridge}-`), stored)).toBe(probeKey);
    expect({
      status: await outcome(() => writeAs('gateway', TOPICS.orderStatus, status)),
      dlq: await outcome(() => writeAs('gateway', TOPICS.orderPlacementDlq, deadLetter())),
    }).toEqual({ status: REFUSED_TOPIC, dlq: REFUSED_TOPIC });
  });

  test('the worker user writes order-status and nothing else; the gateway user reads it there in a gateway-status- group', async () => {
    const stored = await writeAs('worker', TOPICS.orderStatus, status);
    expect(await readAs('gateway', TOPICS.orderStatus, group(CONSUMER_GROUPS.gatewayStatusPrefix), stored)).toBe(
      probeKey,
    );
    expect({
      placement: await outcome(() => writeAs('worker', TOPICS.orderPlacement, placed)),
      dlq: await outcome(() => writeAs('worker', TOPICS.orderPlacementDlq, deadLetter())),
    }).toEqual({ placement: REFUSED_TOPIC, dlq: REFUSED_TOPIC });
  });

  test('the bridge user writes the DLQ and nothing else; the admin user reads it in the replay group and writes order-placement', async () => {
    const stored = await writeAs('bridge', TOPICS.orderPlacementDlq, deadLetter());
    expect(await readAs('admin', TOPICS.orderPlacementDlq, group(`${CONSUMER_GROUPS.dlqReplay}-`), stored)).toBe(
      probeKey,
    );
    expect(await outcome(() => writeAs('admin', TOPICS.orderPlacement, placed))).toBe('ok');
    expect({
      placement: await outcome(() => writeAs('bridge', TOPICS.orderPlacement, placed)),
      status: await outcome(() => writeAs('bridge', TOPICS.orderStatus, status)),
      adminStatus: await outcome(() => writeAs('admin', TOPICS.orderStatus, status)),
    }).toEqual({ placement: REFUSED_TOPIC, status: REFUSED_TOPIC, adminStatus: REFUSED_TOPIC });
  });

  test('the history user reads order-placement and order-status in its groups and writes nothing', async () => {
    const placedAt = await writeAs('gateway', TOPICS.orderPlacement, placed);
    const statusAt = await writeAs('worker', TOPICS.orderStatus, status);
    expect(await readAs('history', TOPICS.orderPlacement, group(`${CONSUMER_GROUPS.history}-`), placedAt)).toBe(
      probeKey,
    );
    expect(await readAs('history', TOPICS.orderStatus, group(`${CONSUMER_GROUPS.history}-`), statusAt)).toBe(probeKey);
    expect({
      placement: await outcome(() => writeAs('history', TOPICS.orderPlacement, placed)),
      status: await outcome(() => writeAs('history', TOPICS.orderStatus, status)),
      bridgeGroup: await outcome(() => readAs('history', TOPICS.orderPlacement, group(`${CONSUMER_GROUPS.bridge}-`))),
      dlq: await outcome(() => readAs('history', TOPICS.orderPlacementDlq, group(`${CONSUMER_GROUPS.history}-`))),
    }).toEqual({ placement: REFUSED_TOPIC, status: REFUSED_TOPIC, bridgeGroup: REFUSED_GROUP, dlq: REFUSED_TOPIC });
  });

  test('each user reads only its own topic, and only in its own groups', async () => {
    const refusals = {
      gatewayReadsPlacement: await outcome(() =>
        readAs('gateway', TOPICS.orderPlacement, group(CONSUMER_GROUPS.gatewayStatusPrefix)),
      ),
      gatewayInBridgeGroup: await outcome(() =>
        readAs('gateway', TOPICS.orderStatus, group(`${CONSUMER_GROUPS.bridge}-`)),
      ),
      bridgeReadsStatus: await outcome(() => readAs('bridge', TOPICS.orderStatus, group(`${CONSUMER_GROUPS.bridge}-`))),
      bridgeReadsDlq: await outcome(() =>
        readAs('bridge', TOPICS.orderPlacementDlq, group(`${CONSUMER_GROUPS.bridge}-`)),
      ),
      bridgeInGatewayGroup: await outcome(() =>
        readAs('bridge', TOPICS.orderPlacement, group(CONSUMER_GROUPS.gatewayStatusPrefix)),
      ),
      workerReadsStatus: await outcome(() =>
        readAs('worker', TOPICS.orderStatus, group(CONSUMER_GROUPS.gatewayStatusPrefix)),
      ),
      adminReadsStatus: await outcome(() =>
        readAs('admin', TOPICS.orderStatus, group(`${CONSUMER_GROUPS.dlqReplay}-`)),
      ),
    };
    expect(refusals).toEqual({
      gatewayReadsPlacement: REFUSED_TOPIC,
      gatewayInBridgeGroup: REFUSED_GROUP,
      bridgeReadsStatus: REFUSED_TOPIC,
      // Write implies Describe, never Read: the bridge sees the DLQ but may not fetch from it.
      bridgeReadsDlq: REFUSED_TOPIC,
      bridgeInGatewayGroup: REFUSED_GROUP,
      // The worker has no group at all: the broker refuses the group before the topic.
      workerReadsStatus: REFUSED_GROUP,
      // Create/Describe/Alter on order-status are not Read.
      adminReadsStatus: REFUSED_TOPIC,
    });
  });

  test('only the admin user creates the app topics (the launcher as orders-admin); it may create no other topic', async () => {
    expect(await outcome(() => ensureTopics([saslBroker], () => undefined, security('admin')))).toBe('ok');
    const create = (role: KafkaRole, topics: string[]): Promise<string> =>
      outcome(() =>
        withAdmin(kafkaAs(role), (admin) =>
          admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })) }),
        ),
      );
    const appTopics = Object.values(TOPICS);
    expect({
      gateway: await create('gateway', appTopics),
      bridge: await create('bridge', appTopics),
      worker: await create('worker', appTopics),
      adminOtherTopic: await create('admin', [uniqueId('acl-not-an-app-topic')]),
    }).toEqual({
      gateway: REFUSED_TOPIC,
      bridge: REFUSED_TOPIC,
      worker: REFUSED_TOPIC,
      adminOtherTopic: REFUSED_TOPIC,
    });
  });

  test('no app user may read or change the ACLs; the loopback plaintext listener is the super user that set them', async () => {
    const grantMyself = aclEntries({ ...KAFKA_ACL_RULES, worker: KAFKA_ACL_RULES.gateway }).filter((e) =>
      e.principal.endsWith('orders-worker'),
    );
    expect({
      create: await outcome(() => withAdmin(kafkaAs('worker'), (admin) => admin.createAcls({ acl: grantMyself }))),
      describe: await outcome(() => withAdmin(kafkaAs('gateway'), (admin) => admin.describeAcls(ANY_ACL))),
    }).toEqual({ create: 'CLUSTER_AUTHORIZATION_FAILED', describe: 'CLUSTER_AUTHORIZATION_FAILED' });
    // The plaintext connection may read them: they are exactly the table's.
    const principals = new Set(KAFKA_ROLES.map((role) => `User:${KAFKA_USERS[role]}`));
    const keyOf = (e: AclEntry): string => JSON.stringify(Object.entries(e).sort());
    const held = await withAdmin(testKafka(), (admin) => aclsOf(admin, principals));
    expect(held.map(keyOf).sort()).toEqual(aclEntries().map(keyOf).sort());
  });
});
