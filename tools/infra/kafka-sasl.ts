/**
 * The local broker's second client listener, SASL_PLAINTEXT with SCRAM-SHA-256/512, so the app's
 * SASL settings (KAFKA_SASL_*) are exercised against a real broker (test/kafka-sasl.test.ts).
 * Its port is ORDERS_KAFKA_SASL_PORT (default: the Kafka port + 2). One user exists on it,
 * LOCAL_SCRAM_USER, created through the plaintext listener with Kafka's own ConfigCommand.
 */
import { defaultLog, Log, runToCompletion } from './proc';
import { provisionKafka } from './provision';

export const LOCAL_SCRAM_USER = { username: 'orders-app', password: 'orders-app-local-secret' } as const;

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

/** Creates (or resets) LOCAL_SCRAM_USER's SCRAM-SHA-256 and -512 credentials via the plaintext listener. */
export async function ensureScramUser(plaintextBroker: string, log: Log = defaultLog): Promise<void> {
  const lib = await provisionKafka(log);
  const { username, password } = LOCAL_SCRAM_USER;
  // One mechanism per request: the broker refuses two changes of one user's credentials at once.
  for (const config of [
    `SCRAM-SHA-256=[iterations=4096,password=${password}]`,
    `SCRAM-SHA-512=[password=${password}]`,
  ]) {
    const tool = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${lib}/*`, 'kafka.admin.ConfigCommand'];
    const user = ['--entity-type', 'users', '--entity-name', username, '--add-config', config];
    await runToCompletion(
      'java',
      [...tool, '--bootstrap-server', plaintextBroker, '--alter', ...user],
      'creating the SCRAM user',
    );
  }
  log(`SCRAM user ${username} ready on the SASL listener`);
}
