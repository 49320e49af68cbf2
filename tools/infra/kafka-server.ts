/** Kafka: a single-node KRaft broker+controller on loopback, from the jars provisioning fetched. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kafkaReady } from '../../common/health';
import { AUTHORIZER_PROPERTIES, saslListenerProperties, scramFormatArguments } from './kafka-sasl';
import { dataPaths } from './paths';
import { Log, runToCompletion } from './proc';
import { provisionKafka } from './provision';
import { startupTimeline } from './timeline';
import { spawnServer, waitReady } from './server-process';
import { kafkaBrokersOf, StackOptions } from './stack-options';

function kafkaProperties(stack: StackOptions): string {
  const { kafka, kafkaController, kafkaSasl } = stack.ports;
  const sasl = kafkaSasl === undefined ? undefined : saslListenerProperties(kafkaSasl);
  return [
    '# Written by tools/infra/kafka-server.ts: single-node KRaft broker+controller on loopback.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${kafkaController}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}${sasl ? `,${sasl.listener}` : ''}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}${sasl ? `,${sasl.listener}` : ''}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${sasl ? `,${sasl.protocolMap}` : ''}`,
    ...(sasl?.lines ?? []),
    // ACLs on: the SASL listener's users get only their rules; plaintext connections are the super user.
    ...AUTHORIZER_PROPERTIES,
    `log.dirs=${dataPaths.kafkaLogDir(stack.dataDir)}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Topics are created on purpose by the launcher and the tests; a typo should fail, not create one.
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

const LOG4J2 = [
  '# Broker logging (Kafka 4.x leaves the backend out of its pom; log4j2 is added in tools/infra/maven/kafka-pom.xml)',
  'status = warn',
  'appender.out.type = Console',
  'appender.out.name = out',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.out.ref = out',
  'logger.kafka.name = kafka',
  'logger.kafka.level = WARN',
  'logger.apache.name = org.apache.kafka',
  'logger.apache.level = WARN',
  'logger.state.name = state.change.logger',
  'logger.state.level = WARN',
  'logger.started.name = kafka.server.KafkaRaftServer',
  'logger.started.level = INFO',
  '',
].join('\n');

/** Starts the broker on the stack's data (formatting its storage on first use) and waits until it answers. */
export async function startKafka(stack: StackOptions, log: Log): Promise<number> {
  const lib = await provisionKafka(log);
  const confDir = dataPaths.kafkaConfigDir(stack.dataDir);
  const kafkaLogDir = dataPaths.kafkaLogDir(stack.dataDir);
  fs.mkdirSync(confDir, { recursive: true });
  fs.mkdirSync(kafkaLogDir, { recursive: true });
  const props = path.join(confDir, 'server.properties');
  const log4j = path.join(confDir, 'log4j2.properties');
  fs.writeFileSync(props, kafkaProperties(stack));
  fs.writeFileSync(log4j, LOG4J2);
  const classpath = `${lib}/*`;
  const jvm = [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${dataPaths.logs(stack.dataDir)}`,
  ];
  if (!fs.existsSync(path.join(kafkaLogDir, 'meta.properties'))) {
    // Format once. A KRaft cluster id is 16 random bytes in URL-safe base64.
    let clusterId = crypto.randomBytes(16).toString('base64url');
    // Kafka's tools would read an id starting with '-' as an option (1 in 64 ids); its own
    // generator never starts one with '-', so neither do we.
    while (clusterId.startsWith('-')) clusterId = crypto.randomBytes(16).toString('base64url');
    log(`formatting Kafka storage in ${kafkaLogDir} (cluster ${clusterId})`);
    const format = [
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      props,
      '--standalone',
      '--ignore-formatted',
      // The SASL listener's users, written with the cluster's first metadata (no tool run afterwards).
      ...(stack.ports.kafkaSasl === undefined ? [] : scramFormatArguments()),
    ];
    // A short-lived tool: the client compiler only and a small serial heap start it in about half the
    // time of the broker's flags on two busy cores (measured 7-12 s against 11-20 s, load ~28).
    const toolJvm = ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', ...jvm.slice(4)];
    await startupTimeline.time('Kafka storage format', () =>
      runToCompletion('java', [...toolJvm, '-cp', classpath, ...format], 'Kafka storage format'),
    );
  }
  const startedAt = Date.now();
  const pid = spawnServer('kafka', stack, 'java', [...jvm, '-cp', classpath, 'kafka.Kafka', props]);
  await waitReady('kafka', stack, pid, () => kafkaReady(kafkaBrokersOf(stack)), 120_000, log);
  startupTimeline.record('Kafka broker start until it answers', startedAt);
  return pid;
}
