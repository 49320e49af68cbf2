/**
 * Managed services by variables: the Temporal connection (address, namespace, API key, mTLS files,
 * server CA, profile file) through @temporalio/envconfig, and kafkajs SSL / SASL options. The
 * option mapping, from the environment to what Connection / NativeConnection / Kafka receive.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../common/env-variables';
import { loadConfig } from '../../common/config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'managed-'));
const file = (name: string, content: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Temporal connection from the environment (@temporalio/envconfig)', () => {
  test('nothing set: the local dev server, namespace default, no TLS', () => {
    const { temporal } = loadConfig({ TEMPORAL_CONFIG_FILE: file('empty.toml', '') });
    expect(temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default' });
  });

  test('Temporal Cloud with an API key: address, namespace, key, and TLS on', () => {
    const { temporal, temporalAddress, temporalNamespace } = loadConfig({
      TEMPORAL_CONFIG_FILE: file('empty.toml', ''),
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'orders.a1b2c',
      TEMPORAL_API_KEY: 'key-123',
    });
    expect(temporal).toEqual({
      address: 'us-east-1.aws.api.temporal.io:7233',
      namespace: 'orders.a1b2c',
      apiKey: 'key-123',
      tls: true,
    });
    expect([temporalAddress, temporalNamespace]).toEqual(['us-east-1.aws.api.temporal.io:7233', 'orders.a1b2c']);
  });

  test('mTLS: client certificate pair, server CA and server name read from the files named', () => {
    const { temporal } = loadConfig({
      TEMPORAL_CONFIG_FILE: file('empty.toml', ''),
      TEMPORAL_ADDRESS: 'orders.a1b2c.tmprl.cloud:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', 'CERT'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'orders.internal',
    });
    expect(temporal.tls).toEqual({
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
      serverRootCACertificate: Buffer.from('CA'),
      serverNameOverride: 'orders.internal',
    });
  });

  test('a profile file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), overridden by variables', () => {
    const profiles = file(
      'temporal.toml',
      [
        '[profile.default]',
        'address = "localhost:7233"',
        '',
        '[profile.prod]',
        'address = "prod.tmprl.cloud:7233"',
        'namespace = "prod.a1b2c"',
        'api_key = "from-file"',
      ].join('\n'),
    );
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'prod' }).temporal).toEqual({
      address: 'prod.tmprl.cloud:7233',
      namespace: 'prod.a1b2c',
      apiKey: 'from-file',
      tls: true,
    });
    expect(
      loadConfig({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'staging.a1b2c' })
        .temporal.namespace,
    ).toBe('staging.a1b2c');
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: profiles }).temporal.address).toBe('localhost:7233');
  });

  test('half an mTLS pair is refused naming the missing variable', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/x.pem' })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/x.pem' })).toThrow(/TEMPORAL_TLS_CLIENT_KEY_PATH/);
  });
});

describe('Kafka SSL and SASL from the environment', () => {
  test('nothing set: plaintext, no authentication', () => {
    expect(loadConfig({}).kafkaSecurity).toEqual({});
  });

  test('KAFKA_SSL=true: TLS with the system CAs', () => {
    expect(loadConfig({ KAFKA_SSL: 'true' }).kafkaSecurity).toEqual({ ssl: true });
  });

  test('CA and client certificate files: TLS with them', () => {
    const security = loadConfig({
      KAFKA_SSL_CA_FILE: file('kafka-ca.pem', 'KCA'),
      KAFKA_SSL_CERT_FILE: file('kafka-client.pem', 'KCERT'),
      KAFKA_SSL_KEY_FILE: file('kafka-client.key', 'KKEY'),
    }).kafkaSecurity;
    expect(security).toEqual({
      ssl: { ca: [Buffer.from('KCA')], cert: Buffer.from('KCERT'), key: Buffer.from('KKEY') },
    });
  });

  test.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)(
    'SASL %s with user and password (over TLS, as managed clusters want)',
    (mechanism) => {
      const security = loadConfig({
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: 'api-key',
        KAFKA_SASL_PASSWORD: 'api-secret',
      }).kafkaSecurity;
      expect(security).toEqual({ ssl: true, sasl: { mechanism, username: 'api-key', password: 'api-secret' } });
    },
  );

  test('SASL without credentials, or an unknown mechanism, is refused naming the variable', () => {
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toThrow(
      /KAFKA_SASL_PASSWORD="" is not set/,
    );
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(
      /KAFKA_SASL_MECHANISM="gssapi" is not one of plain, scram-sha-256, scram-sha-512/,
    );
  });
});
