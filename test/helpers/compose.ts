/**
 * Reading docker-compose.yml as the compose test needs it: services, their environment, published
 * ports, the shell commands of a service split into words, and the flags in them. Static only:
 * nothing here needs Docker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

export const COMPOSE_FILE = path.resolve(__dirname, '..', '..', 'docker-compose.yml');
export const APP_SERVICES = ['gateway', 'bridge', 'worker'] as const;

export type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asDict(value: unknown, what: string): Dict {
  if (!isDict(value)) throw new Error(`${what} should be a mapping, got ${JSON.stringify(value)}`);
  return value;
}

export function scalar(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${what} should be a scalar, got ${JSON.stringify(value)}`);
}

function loadServices(): Dict {
  // Merge keys on, as Compose has them, in case the file ever shares blocks with `<<: *anchor`.
  const doc = asDict(parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }), 'docker-compose.yml');
  return asDict(doc.services, 'services');
}

export const services = loadServices();

export function service(name: string): Dict {
  return asDict(services[name], `service ${name}`);
}

/** A service's `environment`, in either of Compose's forms (mapping, or list of KEY=VALUE). */
export function environmentOf(name: string): Map<string, string | undefined> {
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
  /** The host address it is published on; undefined: every interface. */
  ip: string | undefined;
  host: number | undefined;
  container: number;
}

/** A service's `ports`, short ("[ip:]host:container[/proto]") or long ({ target, published }) syntax. */
export function portsOf(name: string): PortMapping[] {
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
        ip: item.host_ip === undefined ? undefined : scalar(item.host_ip, 'host_ip'),
        host: item.published === undefined ? undefined : toPort(scalar(item.published, 'published'), 'published'),
        container: toPort(scalar(item.target, 'target'), 'target'),
      };
    }
    const parts = scalar(item, `${name}.ports entry`)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const container = toPort(parts[parts.length - 1], 'container port');
    return {
      ip: parts.length > 2 ? parts.slice(0, -2).join(':') : undefined,
      host: parts.length > 1 ? toPort(parts[parts.length - 2], 'host port') : undefined,
      container,
    };
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
export function argvOf(name: string): string[] {
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
export function commandsOf(name: string): string[][] {
  const argv = argvOf(name);
  const shell = argv.findIndex((w, i) => /(^|\/)(ba)?sh$/.test(w) && /^-[a-z]*c[a-z]*$/.test(argv[i + 1] ?? ''));
  if (shell === -1) return [argv];
  return shellCommands(argv.slice(shell + 2).join('\n'));
}

/** Every value given to `--flag` in a command, as `--flag value` or `--flag=value`. */
export function flagValues(words: string[], flag: string): string[] {
  const values: string[] = [];
  words.forEach((w, i) => {
    if (w === flag && i + 1 < words.length) values.push(words[i + 1]);
    else if (w.startsWith(`${flag}=`)) values.push(w.slice(flag.length + 1));
  });
  return values;
}

export function singleFlag(words: string[], flag: string): string | undefined {
  const values = flagValues(words, flag);
  if (values.length > 1) throw new Error(`${flag} given ${values.length} times in ${words.join(' ')}`);
  return values[0];
}

export function hostAndPort(address: string): { host: string; port: number } {
  const match = /^([^:/]+):(\d+)$/.exec(address.trim());
  if (!match) throw new Error(`${JSON.stringify(address)} is not host:port`);
  return { host: match[1], port: Number(match[2]) };
}

/** Kafka listeners ("NAME://host:port,...") by listener name. */
export function listeners(value: string | undefined): Map<string, { host: string; port: number }> {
  const result = new Map<string, { host: string; port: number }>();
  for (const item of (value ?? '').split(',').filter((s) => s.trim())) {
    const match = /^\s*([A-Za-z0-9_]+):\/\/([^:]*):(\d+)\s*$/.exec(item);
    if (!match) throw new Error(`listener ${JSON.stringify(item)} is not NAME://host:port`);
    result.set(match[1], { host: match[2], port: Number(match[3]) });
  }
  return result;
}

/** The Temporal dev server's options, with the CLI's defaults for the ones left out. */
export function temporalServer(): { words: string[]; ip: string; port: number; uiPort: number } {
  const words = argvOf('temporal');
  const port = Number(singleFlag(words, '--port') ?? singleFlag(words, '-p') ?? 7233);
  const uiPort = Number(singleFlag(words, '--ui-port') ?? port + 1000);
  const ip = singleFlag(words, '--ip') ?? '127.0.0.1';
  return { words, ip, port, uiPort };
}

/** The Kafka address other containers should use: the advertised listener named after the service. */
export function kafkaInternalAddress(): { host: string; port: number } {
  const advertised = listeners(environmentOf('kafka').get('KAFKA_ADVERTISED_LISTENERS'));
  const internal = [...advertised.values()].filter((l) => l.host === 'kafka');
  expect(internal).toHaveLength(1);
  return internal[0];
}
