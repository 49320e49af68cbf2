/** What the app needs on the servers: its Kafka topics and its Temporal search attributes. Both idempotent. */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Kafka, KafkaConfig, logLevel } from 'kafkajs';
import { SEARCH_ATTRIBUTES, TOPIC_PARTITIONS } from '../../common/names';
import { defaultLog, Log, sleep } from './proc';

/**
 * Commits, for consumer group `groupId`, each partition of `topic` at its current end, so a consumer
 * of that group (even one subscribing `fromBeginning`) reads only what is produced from now on. Explicit
 * offsets: kafkajs' `resetOffsets({ earliest: false })` commits the logical offset -1, which the broker
 * treats as "no offset", and a `fromBeginning` consumer then reads the whole topic.
 */
export async function groupAtTopicEnd(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates the app's topics, or adds partitions to ones that have too few. Idempotent. With ACLs on,
 * the user needs Create, Describe and Alter on the three topics (orders-admin has them).
 */
export async function ensureTopics(
  brokers: string[],
  log: Log = defaultLog,
  security: Pick<KafkaConfig, 'ssl' | 'sasl'> = {},
): Promise<void> {
  const admin = new Kafka({ clientId: 'launcher', brokers, ...security, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = Object.entries(TOPIC_PARTITIONS).filter(([t]) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1 })),
      });
      log(`created topics ${missing.map(([t, n]) => `${t}(${n})`).join(', ')}`);
    }
    const present = Object.keys(TOPIC_PARTITIONS).filter((t) => existing.has(t));
    if (present.length) {
      const meta = await admin.fetchTopicMetadata({ topics: present });
      const grow = meta.topics
        .filter((t) => t.partitions.length < TOPIC_PARTITIONS[t.name])
        .map((t) => ({ topic: t.name, count: TOPIC_PARTITIONS[t.name] }));
      if (grow.length) {
        await admin.createPartitions({ topicPartitions: grow });
        log(`grew partitions of ${grow.map((g) => g.topic).join(', ')}`);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** Registers the custom search attributes the workflow sets. Idempotent. */
export async function ensureSearchAttributes(address: string, namespace: string, log: Log = defaultLog): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const current = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set(Object.keys(current.customAttributes ?? {}));
    const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
    if (!missing.length) return;
    const codes = searchAttributeTypeCodes();
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name]) => [name, codes[name]])),
    });
    log(`registered search attributes ${missing.map(([n]) => n).join(', ')}`);
    await untilSearchAttributesUsable(new Client({ connection, namespace }), log);
  } finally {
    await connection.close();
  }
}

/**
 * Waits until a workflow start carrying the search attributes is accepted. The frontend reads them
 * from a cache (the dev server runs with system.forceSearchAttributesCacheRefreshOnRead=false), so
 * for a moment after registering them (seconds) a start naming them is refused as an invalid
 * argument, and the bridge would park such an order in the DLQ. The probe run is terminated at once.
 */
async function untilSearchAttributesUsable(client: Client, log: Log, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  const searchAttributes = Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, ['probe']]));
  for (;;) {
    try {
      const probe = await client.workflow.start('searchAttributesProbe', {
        taskQueue: 'search-attributes-probe',
        workflowId: `search-attributes-probe-${randomUUID()}`,
        searchAttributes,
      });
      await probe.terminate('search attributes probe');
      log(`search attributes usable after ${Date.now() - started} ms`);
      return;
    } catch (err) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`search attributes still refused after ${timeoutMs} ms: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

type IndexedValueTypeName = keyof typeof temporal.api.enums.v1.IndexedValueType;

/** Each custom search attribute's type as the operator API wants it (SEARCH_ATTRIBUTES names types as the CLI does: "Keyword"). */
export function searchAttributeTypeCodes(): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(
    Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => {
      const enumName =
        `INDEXED_VALUE_TYPE_${type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}` as IndexedValueTypeName;
      return [name, temporal.api.enums.v1.IndexedValueType[enumName]];
    }),
  );
}
