/**
 * Kafka SASL/SCRAM for real: the launcher's broker has a SASL_PLAINTEXT listener with SCRAM-SHA-256
 * and -512 (tools/infra/kafka-sasl.ts). The app's KAFKA_SASL_* settings authenticate on it, a wrong
 * password is refused, and the gateway, bridge and worker processes, each as its own user with only
 * its own ACLs (tools/infra/kafka-acls.ts), carry an order end to end through it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import WebSocket from 'ws';
import { infraPorts } from '../../tools/infra/ports';
import { loadConfig } from '../../common/config';
import { CONSUMER_GROUPS } from '../../common/names';
import { KAFKA_ROLES, KafkaRole } from '../../tools/infra/kafka-acls';
import { LOCAL_KAFKA_USERS, SCRAM_MECHANISMS } from '../../tools/infra/kafka-sasl';
import { AppName, AppProcess } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/proc';
import { waitUntil } from '../helpers/wait';
import { answers200 } from '../../tools/infra/proc';

const saslBroker = `127.0.0.1:${infraPorts().kafkaSasl}`;
const children: AppProcess[] = [];

function saslEnv(role: KafkaRole, mechanism = 'scram-sha-512', password?: string): Record<string, string> {
  return {
    KAFKA_BROKERS: saslBroker,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: LOCAL_KAFKA_USERS[role].username,
    KAFKA_SASL_PASSWORD: password ?? LOCAL_KAFKA_USERS[role].password,
  };
}

async function describeWith(env: Record<string, string>): Promise<number> {
  const config = loadConfig(env);
  const admin = new Kafka({
    clientId: 'sasl-test',
    brokers: config.kafkaBrokers,
    ...config.kafkaSecurity,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
});

describe('Kafka SASL/SCRAM', () => {
  test.each(KAFKA_ROLES.flatMap((role) => SCRAM_MECHANISMS.map((mechanism) => [mechanism, role])))(
    'KAFKA_SASL_MECHANISM=%s authenticates the %s user on the SCRAM listener',
    async (mechanism, role) => {
      expect(await describeWith(saslEnv(role as KafkaRole, mechanism))).toBe(1);
    },
  );

  test('a wrong SCRAM password is refused', async () => {
    await expect(describeWith(saslEnv('gateway', 'scram-sha-512', 'not-the-password'))).rejects.toThrow(
      /SASL|[Aa]uthentication/,
    );
  });

  test('gateway, bridge and worker carry an order end to end over SASL/SCRAM', async () => {
    const [gatewayPort, gatewayAdminPort, bridgePort] = await Promise.all([freePort(), freePort(), freePort()]);
    const ledgerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sasl-'));
    const env = { ...process.env, LOG_LEVEL: 'warn', STEP_DELAY_MS: '0' };
    // Each app as its own Kafka user: what its ACLs allow is all it needs.
    const start = async (app: Exclude<AppName, 'codec-server'>, extra: Record<string, string>): Promise<void> => {
      const proc = new AppProcess({ app, env: { ...env, ...saslEnv(app), ...extra } });
      children.push(proc);
      await proc.start();
    };
    await start('worker', { SIM_LEDGER_FILE: path.join(ledgerDir, 'ledger.jsonl') });
    await start('bridge', {
      BRIDGE_HEALTH_PORT: String(bridgePort),
      // A group of its own, inside the bridge user's group prefix.
      BRIDGE_GROUP_ID: `${CONSUMER_GROUPS.bridge}-sasl-${crypto.randomUUID().slice(0, 8)}`,
    });
    await start('gateway', { GATEWAY_PORT: String(gatewayPort), GATEWAY_HEALTH_PORT: String(gatewayAdminPort) });
    for (const url of [`http://127.0.0.1:${gatewayAdminPort}/readyz`, `http://127.0.0.1:${bridgePort}/readyz`])
      await waitUntil(async () => (await answers200(url)) || undefined, {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `${url} to answer 200`,
      });
    const orderId = `sasl-${crypto.randomUUID().slice(0, 8)}`;
    const statuses = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const ws = new WebSocket(`ws://127.0.0.1:${gatewayPort}`);
      const timer = setTimeout(
        () => reject(new Error(`order ${orderId} did not complete; saw ${seen.join(', ')}`)),
        120_000,
      );
      ws.on('open', () =>
        ws.send(JSON.stringify({ event: 'placeOrder', data: { orderId, item: 'SCRAM keyboard', price: 20 } })),
      );
      ws.on('message', (raw) => {
        const frame = JSON.parse(raw.toString()) as { event: string; data: { status?: string; code?: string } };
        if (frame.event === 'error') reject(new Error(`refused: ${frame.data.code}`));
        if (frame.event === 'orderStatus' && frame.data.status) seen.push(frame.data.status);
        if (frame.data.status === 'COMPLETED') {
          clearTimeout(timer);
          ws.close();
          resolve(seen);
        }
      });
      ws.on('error', reject);
    });
    // Placed through the gateway user's producer, started by the bridge user's consumer, statuses
    // published by the worker user and read back by the gateway user's consumer.
    expect(statuses[0]).toBe('ACCEPTED');
    expect(statuses[statuses.length - 1]).toBe('COMPLETED');
    fs.rmSync(ledgerDir, { recursive: true, force: true });
  });
});
