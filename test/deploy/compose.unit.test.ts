/**
 * docker-compose.yml must agree with common/config.ts: the ports it publishes, the environment
 * variables the app containers get, the topics kafka-init creates and the search attributes the
 * Temporal dev server registers. Static checks only: nothing here needs Docker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { parse } from 'yaml';
import { DEFAULT_PORTS } from '../../tools/infra/ports';
import { ENV, VARIABLES, VARIABLE_NAMES } from '../../common/env-variables';
import { SEARCH_ATTRIBUTES, TOPIC_PARTITIONS, TOPICS } from '../../common/names';
import { TEMPORAL_DEV_DYNAMIC_CONFIG } from '../../tools/infra/temporal-dynamic-config';
import { KAFKA_ACL_RULES, KAFKA_ROLES, KAFKA_USERS, KafkaRole } from '../../tools/infra/kafka-acls';
import { SUPER_USER } from '../../tools/infra/kafka-sasl';
import {
  COMPOSE_FILE,
  APP_SERVICES,
  Dict,
  asDict,
  scalar,
  services,
  service,
  environmentOf,
  portsOf,
  argvOf,
  commandsOf,
  flagValues,
  singleFlag,
  hostAndPort,
  listeners,
  temporalServer,
  kafkaInternalAddress,
} from '../helpers/compose';

/** The compose variable holding a Kafka user's password. */
const composePasswordOf = (role: KafkaRole): string => `ORDERS_COMPOSE_KAFKA_${role.toUpperCase()}_PASSWORD`;

/** The variable of a value that is exactly one required interpolation, `${VAR:?message}`. */
function requiredVariable(value: string | undefined): string {
  const match = /^\$\{([A-Za-z0-9_]+):\?[^}]+\}$/.exec(value ?? '');
  if (!match) throw new Error(`${JSON.stringify(value)} is not a required variable (\${VAR:?message})`);
  return match[1];
}

/** kafka-init's SCRAM users: user name -> mechanism and the compose variable its password comes from. */
function scramUsersOfKafkaInit(): Map<string, { mechanism: string; password: string }> {
  const env = environmentOf('kafka-init');
  const users = new Map<string, { mechanism: string; password: string }>();
  for (const words of commandsOf('kafka-init').filter((w) => /(^|\/)kafka-configs(\.sh)?$/.test(w[0]))) {
    expect(singleFlag(words, '--entity-type')).toBe('users');
    const user = singleFlag(words, '--entity-name') ?? '';
    // `$$` is compose's escape for a `$` the container's shell expands.
    const config = /^(SCRAM-SHA-(?:256|512))=\[password=\$\$([A-Za-z0-9_]+)\]$/.exec(
      singleFlag(words, '--add-config') ?? '',
    );
    if (!config)
      throw new Error(`kafka-configs should set a password from kafka-init's environment: ${words.join(' ')}`);
    expect(users.has(user)).toBe(false);
    users.set(user, { mechanism: config[1], password: requiredVariable(env.get(config[2])) });
  }
  return users;
}

/** kafka-init's kafka-acls.sh grants, one `User:x Operation resource pattern name` per binding. */
function aclsOfKafkaInit(): string[] {
  const known = new Set([
    '--bootstrap-server',
    '--add',
    '--allow-principal',
    '--operation',
    '--topic',
    '--group',
    '--resource-pattern-type',
  ]);
  return commandsOf('kafka-init')
    .filter((w) => /(^|\/)kafka-acls(\.sh)?$/.test(w[0]))
    .flatMap((words) => {
      // Any other flag (a deny, --cluster, the --producer/--consumer shortcuts) would grant what this reading misses.
      const unknown = words.slice(1).filter((w) => w.startsWith('--') && !known.has(w));
      expect({ command: words.join(' '), unknown }).toEqual({ command: words.join(' '), unknown: [] });
      expect(words).toContain('--add');
      const pattern = singleFlag(words, '--resource-pattern-type') ?? 'literal';
      const resources = [
        ...flagValues(words, '--topic').map((name) => `topic ${pattern} ${name}`),
        ...flagValues(words, '--group').map((name) => `group ${pattern} ${name}`),
      ];
      return flagValues(words, '--allow-principal').flatMap((principal) =>
        flagValues(words, '--operation').flatMap((op) => resources.map((resource) => `${principal} ${op} ${resource}`)),
      );
    });
}

describe('docker-compose.yml agrees with common/config.ts', () => {
  test('defines the infrastructure and app services', () => {
    for (const name of ['kafka', 'kafka-init', 'temporal', ...APP_SERVICES]) {
      expect(Object.keys(services)).toContain(name);
    }
    // Each app service runs its compiled entry point with plain node (the image has no TypeScript).
    const built = ts.getParsedCommandLineOfConfigFile(
      path.resolve(__dirname, '..', '..', 'tsconfig.build.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: () => undefined,
      },
    );
    const compiled = (built?.fileNames ?? []).map((f) =>
      path
        .relative(path.resolve(__dirname, '..', '..'), f)
        .split(path.sep)
        .join('/'),
    );
    for (const name of APP_SERVICES) {
      expect(service(name).build).toBeDefined();
      expect(argvOf(name)).toEqual(['node', `dist/${name}/main.js`]);
      expect(compiled).toContain(`${name}/main.ts`);
    }
  });

  test("publishes only the gateway and the UIs (Temporal UI; Jaeger and Prometheus with their profiles), each on 127.0.0.1 only: never Kafka, the Temporal frontend or the apps' health and metrics ports", () => {
    const expected: Record<string, number[]> = {
      gateway: [DEFAULT_PORTS.gateway],
      temporal: [DEFAULT_PORTS.temporalUi],
      prometheus: [9090],
      jaeger: [DEFAULT_PORTS.jaegerUi],
    };
    for (const name of Object.keys(services)) {
      const published = portsOf(name).map(
        (p) => `${p.ip ?? 'every interface'}:${p.host ?? 'unpublished'}->${p.container}`,
      );
      const wanted = (expected[name] ?? []).map((port) => `127.0.0.1:${port}->${port}`);
      expect({ service: name, published: published.sort() }).toEqual({ service: name, published: wanted.sort() });
    }
    // The optional UIs come only with their profiles.
    expect(service('prometheus').profiles).toEqual(['metrics']);
    expect(service('jaeger').profiles).toEqual(['tracing']);
  });

  test('the servers listen where the app containers and the published ports lead; Kafka has no plaintext listener beyond its own loopback', () => {
    const kafkaEnv = environmentOf('kafka');
    const bound = listeners(kafkaEnv.get('KAFKA_LISTENERS'));
    const protocols = new Map(
      (kafkaEnv.get('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP') ?? '').split(',').map((pair) => {
        const [listener, protocol] = pair.split(':').map((w) => w.trim());
        return [listener, protocol] as const;
      }),
    );
    for (const [name, { host }] of bound) {
      const protocol = protocols.get(name);
      // Plaintext (no client authentication) only on the container's loopback.
      if (protocol !== 'SASL_PLAINTEXT' && protocol !== 'SASL_SSL')
        expect({ listener: name, protocol, host }).toEqual({ listener: name, protocol, host: '127.0.0.1' });
    }
    // The broker talks to itself on its loopback listener.
    const interBroker = kafkaEnv.get('KAFKA_INTER_BROKER_LISTENER_NAME') ?? '';
    expect(bound.get(interBroker)?.host).toBe('127.0.0.1');
    expect(String(kafkaEnv.get('KAFKA_CONTROLLER_QUORUM_VOTERS'))).toMatch(/@(localhost|127\.0\.0\.1):/);

    // Temporal: frontend and UI on the configured ports, reachable from other containers.
    const temporal = temporalServer();
    expect(temporal.words.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(temporal.port).toBe(DEFAULT_PORTS.temporal);
    expect(temporal.uiPort).toBe(DEFAULT_PORTS.temporalUi);
    expect(temporal.ip).toBe('0.0.0.0');

    // Gateway and bridge: the app's port variable, if set, matches what is published.
    const gatewayPort = environmentOf('gateway').get(ENV.gatewayPort);
    expect(Number(gatewayPort ?? DEFAULT_PORTS.gateway)).toBe(DEFAULT_PORTS.gateway);
    expect(environmentOf('gateway').get('GATEWAY_HOST')).toBe('0.0.0.0');
    // The gateway's admin listener: its own port (not the published one), reachable from Prometheus's container.
    expect(Number(environmentOf('gateway').get(ENV.gatewayHealthPort))).toBe(DEFAULT_PORTS.gatewayHealth);
    expect(environmentOf('gateway').get('GATEWAY_HEALTH_HOST')).toBe('0.0.0.0');
    const bridgePort = environmentOf('bridge').get(ENV.bridgeHealthPort);
    expect(Number(bridgePort ?? DEFAULT_PORTS.bridgeHealth)).toBe(DEFAULT_PORTS.bridgeHealth);
    expect(environmentOf('bridge').get('BRIDGE_HOST')).toBe('0.0.0.0');
  });

  test.each(APP_SERVICES)(
    '%s reaches Kafka over SASL/SCRAM as its own user: the listener it uses is SASL_PLAINTEXT with its mechanism, kafka-init creates that user with the same required password',
    (name) => {
      const env = environmentOf(name);
      const kafkaEnv = environmentOf('kafka');
      const mechanism = env.get('KAFKA_SASL_MECHANISM') ?? '';
      expect(mechanism).toMatch(/^scram-sha-(256|512)$/);
      expect(env.get('KAFKA_SASL_USERNAME')).toBe(KAFKA_USERS[name]);
      const password = requiredVariable(env.get('KAFKA_SASL_PASSWORD'));
      expect(password).toBe(composePasswordOf(name));
      // The advertised listener the apps' broker address names, and its protocol.
      const kafka = kafkaInternalAddress();
      const [listener] = [...listeners(kafkaEnv.get('KAFKA_ADVERTISED_LISTENERS'))].find(
        ([, l]) => l.host === kafka.host && l.port === kafka.port,
      ) ?? [''];
      expect(kafkaEnv.get('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP')).toContain(`${listener}:SASL_PLAINTEXT`);
      const upper = mechanism.toUpperCase();
      expect((kafkaEnv.get('KAFKA_SASL_ENABLED_MECHANISMS') ?? '').split(',')).toContain(upper);
      const jaasVariable = `KAFKA_LISTENER_NAME_${listener}_${upper.replace(/-/g, '___')}_SASL_JAAS_CONFIG`;
      expect(kafkaEnv.get(jaasVariable)).toContain('ScramLoginModule required');
      expect(scramUsersOfKafkaInit().get(KAFKA_USERS[name])).toEqual({ mechanism: upper, password });
      expect(asDict(asDict(service(name).depends_on, `${name}.depends_on`)['kafka-init'], 'kafka-init').condition).toBe(
        'service_completed_successfully',
      );
    },
  );

  test('every Kafka user has its own password, which compose requires (`${VAR:?...}`, never a default): it refuses to start without one', () => {
    const users = scramUsersOfKafkaInit();
    expect([...users.keys()].sort()).toEqual(KAFKA_ROLES.map((role) => KAFKA_USERS[role]).sort());
    expect(KAFKA_ROLES.map((role) => users.get(KAFKA_USERS[role])?.password)).toEqual(
      KAFKA_ROLES.map(composePasswordOf),
    );
    // Every mention of a password variable anywhere in the file is the required form.
    const text = fs.readFileSync(COMPOSE_FILE, 'utf8');
    // The order history's PostgreSQL password and the payload KEK are required the same way.
    const passwords = new Set([
      ...KAFKA_ROLES.map(composePasswordOf),
      'ORDERS_COMPOSE_HISTORY_DB_PASSWORD',
      'ORDERS_COMPOSE_PAYLOAD_KEK',
    ]);
    const mentions = [...text.matchAll(/\$\{([A-Za-z0-9_]+)([^}]*)\}/g)].filter(([, variable]) =>
      passwords.has(variable),
    );
    expect(mentions.length).toBeGreaterThanOrEqual(KAFKA_ROLES.length + APP_SERVICES.length);
    for (const [mention, , rest] of mentions)
      expect({ mention, required: /^:\?./.test(rest) }).toEqual({ mention, required: true });
    // The variables compose reads are rows of the env table (docs/CONFIGURATION.md), secrets all.
    const composeRows = VARIABLE_NAMES.filter((v) => (VARIABLES[v].readers as string[]).includes('compose'));
    expect(composeRows.sort()).toEqual([...passwords].sort());
    for (const v of composeRows) expect(VARIABLES[v]).toMatchObject({ secret: true });
  });

  test("Kafka enforces ACLs (plaintext's ANONYMOUS the only super user) and kafka-init grants exactly tools/infra/kafka-acls.ts's rules", () => {
    const kafkaEnv = environmentOf('kafka');
    expect(kafkaEnv.get('KAFKA_AUTHORIZER_CLASS_NAME')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(kafkaEnv.get('KAFKA_SUPER_USERS')).toBe(SUPER_USER);
    expect(kafkaEnv.get('KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND')).toBe('false');
    const wanted = KAFKA_ROLES.flatMap((role) =>
      KAFKA_ACL_RULES[role].flatMap((rule) =>
        rule.operations.map((op) => `User:${KAFKA_USERS[role]} ${op} ${rule.resource} ${rule.pattern} ${rule.name}`),
      ),
    );
    expect(aclsOfKafkaInit().sort()).toEqual(wanted.sort());
  });

  test.each(APP_SERVICES)('%s sets only variables of the configuration schema, declared inline', (name) => {
    const allowed = new Set<string>(VARIABLE_NAMES);
    // An env_file would hide variables from this check.
    expect(service(name).env_file).toBeUndefined();
    const unknown = [...environmentOf(name).keys()].filter((key) => !allowed.has(key));
    expect(unknown).toEqual([]);
  });

  test.each(APP_SERVICES)('%s reaches Kafka and Temporal through their services', (name) => {
    const env = environmentOf(name);
    const kafka = kafkaInternalAddress();
    const brokers = (env.get(ENV.kafkaBrokers) ?? '').split(',').filter((b) => b.trim());
    expect(brokers.length).toBeGreaterThan(0);
    for (const broker of brokers) expect(hostAndPort(broker)).toEqual(kafka);

    const temporal = env.get(ENV.temporalAddress);
    expect(temporal).toBeDefined();
    expect(hostAndPort(temporal ?? '')).toEqual({ host: 'temporal', port: temporalServer().port });
  });

  test('kafka-init creates every topic with its partition count', () => {
    // Every topic the app names has a partition count to be created with.
    expect(Object.keys(TOPIC_PARTITIONS).sort()).toEqual(Object.values(TOPICS).sort());

    // kafka-init shares the kafka container's network, and works through its loopback plaintext listener.
    expect(service('kafka-init').network_mode).toBe('service:kafka');
    const interBroker = environmentOf('kafka').get('KAFKA_INTER_BROKER_LISTENER_NAME') ?? '';
    const kafka = listeners(environmentOf('kafka').get('KAFKA_ADVERTISED_LISTENERS')).get(interBroker);
    expect(kafka?.host).toBe('localhost');
    const creates = commandsOf('kafka-init').filter(
      (words) => /(^|\/)kafka-topics(\.sh)?$/.test(words[0]) && words.includes('--create'),
    );
    const created: Record<string, number> = {};
    for (const words of creates) {
      const topic = singleFlag(words, '--topic');
      const partitions = singleFlag(words, '--partitions');
      if (topic === undefined || partitions === undefined || !/^\d+$/.test(partitions)) {
        throw new Error(`kafka-topics --create needs --topic and a --partitions count: ${words.join(' ')}`);
      }
      expect(words).toContain('--if-not-exists');
      expect(hostAndPort(singleFlag(words, '--bootstrap-server') ?? '')).toEqual(kafka);
      expect(Object.keys(created)).not.toContain(topic);
      created[topic] = Number(partitions);
    }
    expect(created).toEqual(TOPIC_PARTITIONS);

    const dependsOn = asDict(service('kafka-init').depends_on, 'kafka-init.depends_on');
    expect(asDict(dependsOn.kafka, 'kafka-init.depends_on.kafka').condition).toBe('service_healthy');
  });

  test('the worker serves health and SDK metrics on the documented ports, reachable from other containers', () => {
    const env = environmentOf('worker');
    expect(env.get('WORKER_HOST')).toBe('0.0.0.0');
    expect(Number(env.get('WORKER_HEALTH_PORT'))).toBe(DEFAULT_PORTS.workerHealth);
    expect(Number(env.get('WORKER_METRICS_PORT'))).toBe(DEFAULT_PORTS.workerMetrics);
  });

  test('each app healthcheck asks its own /readyz on the port its variable names', () => {
    const portVar: Record<string, string> = {
      gateway: ENV.gatewayHealthPort,
      bridge: ENV.bridgeHealthPort,
      worker: 'WORKER_HEALTH_PORT',
    };
    for (const name of APP_SERVICES) {
      const test = asDict(service(name).healthcheck, `${name}.healthcheck`).test;
      const words = Array.isArray(test)
        ? test.map((w) => scalar(w, 'healthcheck word'))
        : [scalar(test, 'healthcheck')];
      expect(words.join(' ')).toContain(`process.env.${portVar[name]} + '/readyz'`);
    }
  });

  test('the optional Prometheus service scrapes exactly the app metrics endpoints: each admin listener and the worker SDK exporter', () => {
    const prometheus = service('prometheus');
    expect(prometheus.profiles).toEqual(['metrics']);
    const mounts = (prometheus.volumes as unknown[]).map((v) => scalar(v, 'prometheus volume'));
    const mount = mounts.find((m) => m.endsWith(':/etc/prometheus/prometheus.yml:ro'));
    expect(mount).toBeDefined();
    const file = path.resolve(path.dirname(COMPOSE_FILE), (mount ?? '').split(':')[0]);
    const config = asDict(parse(fs.readFileSync(file, 'utf8')), 'prometheus.yml');
    const targets = (config.scrape_configs as Dict[]).flatMap((job) =>
      (job.static_configs as Dict[]).flatMap((c) => (c.targets as unknown[]).map((t) => scalar(t, 'target'))),
    );
    expect(targets.sort()).toEqual(
      [
        `gateway:${environmentOf('gateway').get(ENV.gatewayHealthPort)}`,
        `bridge:${environmentOf('bridge').get(ENV.bridgeHealthPort)}`,
        `worker:${environmentOf('worker').get('WORKER_HEALTH_PORT')}`,
        `worker:${environmentOf('worker').get('WORKER_METRICS_PORT')}`,
      ].sort(),
    );
  });

  test('the Temporal dev server registers every search attribute with its type', () => {
    const registered: Record<string, string> = {};
    for (const pair of flagValues(temporalServer().words, '--search-attribute')) {
      const eq = pair.indexOf('=');
      expect(eq).toBeGreaterThan(0);
      registered[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    expect(registered).toEqual({ ...SEARCH_ATTRIBUTES });
  });

  test('the Temporal dev server runs with the same dynamic-config values as the launcher', () => {
    const values: Record<string, string> = {};
    for (const pair of flagValues(temporalServer().words, '--dynamic-config-value')) {
      const eq = pair.indexOf('=');
      expect(eq).toBeGreaterThan(0);
      values[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    expect(values).toEqual({ ...TEMPORAL_DEV_DYNAMIC_CONFIG });
  });
});

test('the three apps that talk to Temporal get the payload KEK from a required variable and share one keys volume', () => {
  for (const name of ['gateway', 'bridge', 'worker']) {
    const env = environmentOf(name);
    expect({ name, kek: env.get('PAYLOAD_KEK'), dir: env.get('PAYLOAD_KEYS_DIR') }).toEqual({
      name,
      kek: expect.stringMatching(/^\$\{ORDERS_COMPOSE_PAYLOAD_KEK:\?/),
      dir: '/data/keys',
    });
    expect(service(name).volumes).toContain('keys:/data/keys');
  }
});
