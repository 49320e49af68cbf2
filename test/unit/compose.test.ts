/**
 * docker-compose.yml must agree with common/config.ts: the ports it publishes, the environment
 * variables the app containers get, the topics kafka-init creates and the search attributes the
 * Temporal dev server registers. Static checks only: nothing here needs Docker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { parse } from 'yaml';
import {
  DEFAULT_PORTS,
  ENV,
  SEARCH_ATTRIBUTES,
  TEMPORAL_DEV_DYNAMIC_CONFIG,
  TOPIC_PARTITIONS,
  TOPICS,
  VARIABLE_NAMES,
} from '../../common/config';

const COMPOSE_FILE = path.resolve(__dirname, '..', '..', 'docker-compose.yml');
const APP_SERVICES = ['gateway', 'bridge', 'worker'] as const;

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asDict(value: unknown, what: string): Dict {
  if (!isDict(value)) throw new Error(`${what} should be a mapping, got ${JSON.stringify(value)}`);
  return value;
}

function scalar(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${what} should be a scalar, got ${JSON.stringify(value)}`);
}

function loadServices(): Dict {
  // Merge keys on, as Compose has them, in case the file ever shares blocks with `<<: *anchor`.
  const doc = asDict(parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }), 'docker-compose.yml');
  return asDict(doc.services, 'services');
}

const services = loadServices();

function service(name: string): Dict {
  return asDict(services[name], `service ${name}`);
}

/** A service's `environment`, in either of Compose's forms (mapping, or list of KEY=VALUE). */
function environmentOf(name: string): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  const raw = service(name).environment;
  if (raw === undefined || raw === null) return env;
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const entry = scalar(item, `${name}.environment entry`);
      const eq = entry.indexOf('=');
      if (eq === -1) env.set(entry, undefined);
      else env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  } else {
    for (const [key, value] of Object.entries(asDict(raw, `${name}.environment`))) {
      env.set(key, value === null || value === undefined ? undefined : scalar(value, `${name}.environment.${key}`));
    }
  }
  return env;
}

interface PortMapping {
  host: number | undefined;
  container: number;
}

/** A service's `ports`, short ("[ip:]host:container[/proto]") or long ({ target, published }) syntax. */
function portsOf(name: string): PortMapping[] {
  const raw = service(name).ports;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${name}.ports should be a list`);
  const toPort = (text: string, where: string): number => {
    if (!/^\d+$/.test(text)) throw new Error(`${name}.ports: ${where} ${JSON.stringify(text)} is not a single port`);
    return Number(text);
  };
  return raw.map((item): PortMapping => {
    if (isDict(item)) {
      return {
        host: item.published === undefined ? undefined : toPort(scalar(item.published, 'published'), 'published'),
        container: toPort(scalar(item.target, 'target'), 'target'),
      };
    }
    const parts = scalar(item, `${name}.ports entry`)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const container = toPort(parts[parts.length - 1], 'container port');
    return { host: parts.length > 1 ? toPort(parts[parts.length - 2], 'host port') : undefined, container };
  });
}

/**
 * Splits a command into simple commands of words, the way a POSIX shell would for the plain
 * scripts used here: quotes, backslash-newline continuations, and `;`, `&&`, `||`, `|`, newlines
 * as separators. Enough for `sh -c` scripts; no expansions.
 */
function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = (): void => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length) commands.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    if (c === '\\' && script[i + 1] === '\n') {
      i++;
    } else if (c === "'" || c === '"') {
      const close = script.indexOf(c, i + 1);
      if (close === -1) throw new Error(`unterminated ${c} in ${JSON.stringify(script)}`);
      word += script.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (c === '\n' || c === ';' || c === '|' || c === '&') {
      endCommand();
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

/** What a container runs, as words: `entrypoint` + `command`, each a list or a string. */
function argvOf(name: string): string[] {
  const svc = service(name);
  const words = (field: 'entrypoint' | 'command'): string[] => {
    const value = svc[field];
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) return value.map((v) => scalar(v, `${name}.${field} entry`));
    return shellCommands(scalar(value, `${name}.${field}`)).flat();
  };
  return [...words('entrypoint'), ...words('command')];
}

/** Simple commands a container runs, looking inside `sh -c SCRIPT` / `bash -ec SCRIPT` forms. */
function commandsOf(name: string): string[][] {
  const argv = argvOf(name);
  const shell = argv.findIndex((w, i) => /(^|\/)(ba)?sh$/.test(w) && /^-[a-z]*c[a-z]*$/.test(argv[i + 1] ?? ''));
  if (shell === -1) return [argv];
  return shellCommands(argv.slice(shell + 2).join('\n'));
}

/** Every value given to `--flag` in a command, as `--flag value` or `--flag=value`. */
function flagValues(words: string[], flag: string): string[] {
  const values: string[] = [];
  words.forEach((w, i) => {
    if (w === flag && i + 1 < words.length) values.push(words[i + 1]);
    else if (w.startsWith(`${flag}=`)) values.push(w.slice(flag.length + 1));
  });
  return values;
}

function singleFlag(words: string[], flag: string): string | undefined {
  const values = flagValues(words, flag);
  if (values.length > 1) throw new Error(`${flag} given ${values.length} times in ${words.join(' ')}`);
  return values[0];
}

function hostAndPort(address: string): { host: string; port: number } {
  const match = /^([^:/]+):(\d+)$/.exec(address.trim());
  if (!match) throw new Error(`${JSON.stringify(address)} is not host:port`);
  return { host: match[1], port: Number(match[2]) };
}

/** Kafka listeners ("NAME://host:port,...") by listener name. */
function listeners(value: string | undefined): Map<string, { host: string; port: number }> {
  const result = new Map<string, { host: string; port: number }>();
  for (const item of (value ?? '').split(',').filter((s) => s.trim())) {
    const match = /^\s*([A-Za-z0-9_]+):\/\/([^:]*):(\d+)\s*$/.exec(item);
    if (!match) throw new Error(`listener ${JSON.stringify(item)} is not NAME://host:port`);
    result.set(match[1], { host: match[2], port: Number(match[3]) });
  }
  return result;
}

/** The Temporal dev server's options, with the CLI's defaults for the ones left out. */
function temporalServer(): { words: string[]; ip: string; port: number; uiPort: number } {
  const words = argvOf('temporal');
  const port = Number(singleFlag(words, '--port') ?? singleFlag(words, '-p') ?? 7233);
  const uiPort = Number(singleFlag(words, '--ui-port') ?? port + 1000);
  const ip = singleFlag(words, '--ip') ?? '127.0.0.1';
  return { words, ip, port, uiPort };
}

/** The Kafka address other containers should use: the advertised listener named after the service. */
function kafkaInternalAddress(): { host: string; port: number } {
  const advertised = listeners(environmentOf('kafka').get('KAFKA_ADVERTISED_LISTENERS'));
  const internal = [...advertised.values()].filter((l) => l.host === 'kafka');
  expect(internal).toHaveLength(1);
  return internal[0];
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

  test('publishes exactly the ports in DEFAULT_PORTS, each on the same port inside', () => {
    const expected: Record<string, number[]> = {
      kafka: [DEFAULT_PORTS.kafka],
      temporal: [DEFAULT_PORTS.temporal, DEFAULT_PORTS.temporalUi],
      gateway: [DEFAULT_PORTS.gateway],
      bridge: [DEFAULT_PORTS.bridgeHealth],
      prometheus: [9090],
    };
    for (const name of Object.keys(services)) {
      const published = portsOf(name).map((p) => `${p.host ?? 'unpublished'}->${p.container}`);
      const wanted = (expected[name] ?? []).map((port) => `${port}->${port}`);
      expect({ service: name, published: published.sort() }).toEqual({ service: name, published: wanted.sort() });
    }
  });

  test('the servers listen where the published ports lead', () => {
    // Kafka: a listener on the published port, advertised to host clients as localhost.
    const kafkaEnv = environmentOf('kafka');
    const listenPorts = [...listeners(kafkaEnv.get('KAFKA_LISTENERS')).values()].map((l) => l.port);
    expect(listenPorts).toContain(DEFAULT_PORTS.kafka);
    const advertised = [...listeners(kafkaEnv.get('KAFKA_ADVERTISED_LISTENERS')).values()];
    expect(advertised).toContainEqual({ host: 'localhost', port: DEFAULT_PORTS.kafka });
    expect(listenPorts).toContain(kafkaInternalAddress().port);

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
    const bridgePort = environmentOf('bridge').get(ENV.bridgeHealthPort);
    expect(Number(bridgePort ?? DEFAULT_PORTS.bridgeHealth)).toBe(DEFAULT_PORTS.bridgeHealth);
    expect(environmentOf('bridge').get('BRIDGE_HOST')).toBe('0.0.0.0');
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

    const kafka = kafkaInternalAddress();
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
      gateway: ENV.gatewayPort,
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

  test('the optional Prometheus service scrapes exactly the app metrics endpoints', () => {
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
        `gateway:${environmentOf('gateway').get(ENV.gatewayPort)}`,
        `bridge:${environmentOf('bridge').get(ENV.bridgeHealthPort)}`,
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
