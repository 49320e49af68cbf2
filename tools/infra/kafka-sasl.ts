/**
 * The local broker's second client listener, SASL_PLAINTEXT with SCRAM-SHA-256/512, where the app's
 * SASL settings (KAFKA_SASL_*) and the per-user ACLs (./kafka-acls.ts) meet a real broker
 * (test/common/kafka-sasl.test.ts, test/tools/kafka-acls.test.ts). Its port is
 * ORDERS_KAFKA_SASL_PORT (default: the Kafka port + 2).
 *
 * Who is who on the local broker: every plaintext connection (the client listener on loopback, the
 * broker's own inter-broker and controller traffic) authenticates as `User:ANONYMOUS`, which is the
 * one super user, so tests, tools and `npm start` keep full rights there; on the SASL listener each
 * SCRAM user gets only what its ACLs allow. The users' passwords are fixed below: this listener binds
 * the same loopback as the super-user plaintext one, so a password here would guard nothing the
 * plaintext port does not already give away. Deployments set their own (docker-compose.yml requires
 * them).
 */
import { Kafka, logLevel, SASLOptions } from 'kafkajs';
import { KAFKA_ROLES, KAFKA_USERS, KafkaRole } from './kafka-acls';
import { defaultLog, Log, runToCompletion } from './proc';
import { provisionKafka } from './provision';

/** The local SCRAM users, one per role of ./kafka-acls.ts, with their local-only passwords. */
export const LOCAL_KAFKA_USERS: Record<KafkaRole, { username: string; password: string }> = {
  gateway: { username: KAFKA_USERS.gateway, password: 'orders-gateway-local-secret' },
  bridge: { username: KAFKA_USERS.bridge, password: 'orders-bridge-local-secret' },
  worker: { username: KAFKA_USERS.worker, password: 'orders-worker-local-secret' },
  history: { username: KAFKA_USERS.history, password: 'orders-history-local-secret' },
  admin: { username: KAFKA_USERS.admin, password: 'orders-admin-local-secret' },
};

/** The SCRAM mechanisms the listener offers, as kafkajs (and KAFKA_SASL_MECHANISM) names them. */
export const SCRAM_MECHANISMS = ['scram-sha-256', 'scram-sha-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** kafkajs `sasl` options for a local user. */
export function localSasl(role: KafkaRole, mechanism: ScramMechanism = 'scram-sha-512'): SASLOptions {
  const { username, password } = LOCAL_KAFKA_USERS[role];
  // One branch per mechanism: kafkajs types each mechanism's options apart.
  return mechanism === 'scram-sha-256' ? { mechanism, username, password } : { mechanism, username, password };
}

/** The only principal with every right: the one of every plaintext (unauthenticated) connection. */
export const SUPER_USER = 'User:ANONYMOUS';

/** server.properties lines adding the SASL listener (merged into the plaintext broker's). */
export function saslListenerProperties(port: number): { listener: string; protocolMap: string; lines: string[] } {
  const jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return {
    listener: `SASL_PLAINTEXT://127.0.0.1:${port}`,
    protocolMap: 'SASL_PLAINTEXT:SASL_PLAINTEXT',
    lines: [
      'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${jaas}`,
      `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${jaas}`,
    ],
  };
}

/**
 * server.properties lines turning ACLs on (KRaft's authorizer, on broker and controller alike). No
 * ACL found means refused; the plaintext principal stays a super user so the broker's own traffic
 * and the loopback tools keep working.
 */
export const AUTHORIZER_PROPERTIES = [
  'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  `super.users=${SUPER_USER}`,
  'allow.everyone.if.no.acl.found=false',
];

/** kafka-storage format arguments that write every local user's credentials into a new cluster's metadata. */
export function scramFormatArguments(): string[] {
  return KAFKA_ROLES.flatMap((role) => {
    const { username, password } = LOCAL_KAFKA_USERS[role];
    return SCRAM_MECHANISMS.flatMap((mechanism) => [
      '--add-scram',
      `${mechanism.toUpperCase()}=[name=${username},password=${password}]`,
    ]);
  });
}

/** Whether a local user authenticates with `mechanism` on the SASL listener. */
async function authenticates(saslBroker: string, role: KafkaRole, mechanism: ScramMechanism): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'launcher-scram-check',
    brokers: [saslBroker],
    sasl: localSasl(role, mechanism),
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Makes every local user authenticate with both mechanisms. A cluster formatted by this launcher
 * has them from the start (`scramFormatArguments`), so this is one quick check; one formatted
 * before (or a user whose password changed here) is given its credentials through the plaintext
 * listener with Kafka's own ConfigCommand.
 */
export async function ensureScramUsers(
  plaintextBroker: string,
  saslBroker: string,
  log: Log = defaultLog,
): Promise<void> {
  const checks = KAFKA_ROLES.flatMap((role) => SCRAM_MECHANISMS.map((mechanism) => ({ role, mechanism })));
  const results = await Promise.all(checks.map((c) => authenticates(saslBroker, c.role, c.mechanism)));
  const failing = checks.filter((_, i) => !results[i]);
  if (!failing.length) return;
  const lib = await provisionKafka(log);
  // One mechanism per request: the broker refuses two changes of one user's credentials at once.
  for (const { role, mechanism } of failing) {
    const { username, password } = LOCAL_KAFKA_USERS[role];
    const config = `${mechanism.toUpperCase()}=[password=${password}]`;
    const tool = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${lib}/*`, 'kafka.admin.ConfigCommand'];
    const user = ['--entity-type', 'users', '--entity-name', username, '--add-config', config];
    await runToCompletion(
      'java',
      [...tool, '--bootstrap-server', plaintextBroker, '--alter', ...user],
      'creating a SCRAM user',
    );
  }
  log(`SCRAM credentials set on the SASL listener: ${failing.map((f) => `${f.role} ${f.mechanism}`).join(', ')}`);
}
