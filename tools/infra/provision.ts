/**
 * Provisions the three real servers from package registries, into the per-user cache:
 *  - Apache Kafka (broker jars from Maven Central),
 *  - the Temporal CLI dev server with its web UI (built from the Go module proxy),
 *  - Temporal's Java time-skipping test server (Maven Central), behind a wrapper script.
 * Every step is idempotent: a finished step leaves a complete directory that later runs reuse.
 *
 * Run directly: `npm run provision [-- kafka temporal test-server]`.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDir, cachePaths, VERSIONS } from './paths';
import { defaultLog, findOnPath, freePort, Log, requireTool, runWithProgress, sleep, waitForPort } from './proc';
import { startupTimeline } from './timeline';

const COMPLETE = '.complete';

function isComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, COMPLETE));
}

/** Builds into a scratch directory and renames it into place, so a half-finished step is never reused. */
async function buildInto(finalDir: string, build: (scratch: string) => Promise<void>): Promise<void> {
  const scratch = `${finalDir}.partial-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  try {
    await build(scratch);
    fs.writeFileSync(path.join(scratch, COMPLETE), new Date().toISOString() + '\n');
    fs.rmSync(finalDir, { recursive: true, force: true });
    fs.renameSync(scratch, finalDir);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function mavenCopy(pom: string, outDir: string, props: Record<string, string>, label: string, log: Log): Promise<void> {
  const mvn = requireTool(
    'mvn',
    `to fetch ${label} from Maven Central`,
    'Install Maven (e.g. apt-get install maven), or use Docker (docker-compose.yml), or point KAFKA_BROKERS/TEMPORAL_ADDRESS at running servers.',
  );
  const args = [
    '-B',
    '-f',
    path.join(__dirname, 'maven', pom),
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${outDir}`,
    ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
  ];
  return runWithProgress(mvn, args, {
    label: `fetching ${label}`,
    log,
    outputFile: path.join(cacheDir(), 'logs', `${label.replace(/\W+/g, '-')}.log`),
    countPattern: /^Downloaded from/,
  });
}

function requireJava(what: string): string {
  return requireTool(
    'java',
    `to run ${what}`,
    'Install JDK 17 (e.g. apt-get install openjdk-17-jdk-headless), or use Docker (docker-compose.yml), or point KAFKA_BROKERS/TEMPORAL_ADDRESS at running servers.',
  );
}

/** Kafka broker jars (plus a log4j backend). Returns the lib directory to put on the classpath. */
export async function provisionKafka(log: Log = defaultLog): Promise<string> {
  const lib = cachePaths.kafkaLib();
  const dir = path.dirname(lib);
  requireJava('the Kafka broker');
  if (isComplete(dir)) return lib;
  log(`provisioning Kafka ${VERSIONS.kafka} from Maven Central into ${dir}`);
  const startedAt = Date.now();
  await buildInto(dir, (scratch) =>
    mavenCopy(
      'kafka-pom.xml',
      path.join(scratch, 'lib'),
      { 'kafka.version': VERSIONS.kafka, 'log4j.version': VERSIONS.log4j },
      `kafka-${VERSIONS.kafka}`,
      log,
    ),
  );
  startupTimeline.record('Kafka jars from Maven', startedAt);
  return lib;
}

/** The Temporal CLI (dev server + web UI). Uses a `temporal` already on PATH, else builds it with Go. */
export async function provisionTemporalCli(log: Log = defaultLog): Promise<string> {
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  const bin = cachePaths.temporalCliBin();
  const dir = path.dirname(bin);
  if (isComplete(dir)) return bin;
  const go = requireTool(
    'go',
    'to build the Temporal CLI dev server',
    'Install Go >= 1.25, or put a `temporal` binary on PATH, or set TEMPORAL_ADDRESS to a running Temporal server, or use Docker (docker-compose.yml).',
  );
  log(`building the Temporal CLI v${VERSIONS.temporalCli} with go install (a few minutes the first time)`);
  const startedAt = Date.now();
  await buildInto(dir, (scratch) =>
    runWithProgress(go, ['install', `github.com/temporalio/cli/cmd/temporal@v${VERSIONS.temporalCli}`], {
      label: `go install temporal@v${VERSIONS.temporalCli}`,
      log,
      env: { ...process.env, CGO_ENABLED: '0', GOBIN: scratch, GOFLAGS: '-mod=mod' },
      outputFile: path.join(cacheDir(), 'logs', 'temporal-cli-build.log'),
      countPattern: /^go: downloading/,
      progressEveryMs: 15_000,
    }),
  );
  startupTimeline.record('Temporal CLI build (go install)', startedAt);
  return bin;
}

/**
 * The Temporal server (`cmd/server`) and its SQL schema tool (`cmd/tools/sql`, temporal-sql-tool)
 * of the release the dev server embeds, for the PostgreSQL engine. The server's go.mod has replace
 * directives, so `go install pkg@version` is refused: a scratch module requires it and `go build`s both.
 */
export async function provisionTemporalServer(log: Log = defaultLog): Promise<{ server: string; sqlTool: string }> {
  const dir = cachePaths.temporalServerDir();
  const bins = { server: path.join(dir, 'temporal-server'), sqlTool: path.join(dir, 'temporal-sql-tool') };
  if (isComplete(dir)) return bins;
  const go = requireTool(
    'go',
    'to build the Temporal server for the PostgreSQL engine',
    'Install Go >= 1.25, or run the dev server engine (ORDERS_TEMPORAL_ENGINE=dev), or set TEMPORAL_ADDRESS to a running Temporal server.',
  );
  const version = VERSIONS.temporalServer;
  log(`building the Temporal server v${version} and temporal-sql-tool with go build (minutes the first time)`);
  await buildInto(dir, async (scratch) => {
    const mod = path.join(scratch, 'module');
    fs.mkdirSync(mod);
    fs.writeFileSync(path.join(mod, 'go.mod'), 'module orders.local/temporal-server-build\n\ngo 1.25\n');
    const run = (label: string, args: string[]): Promise<void> =>
      runWithProgress(go, args, {
        label,
        log,
        cwd: mod,
        env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
        outputFile: path.join(cacheDir(), 'logs', `temporal-server-${label.replace(/\W+/g, '-')}.log`),
        countPattern: /^go: downloading/,
        progressEveryMs: 15_000,
      });
    await run('go get', ['get', `go.temporal.io/server@v${version}`]);
    await run('go build server', [
      'build',
      '-o',
      bins.server.replace(dir, scratch),
      'go.temporal.io/server/cmd/server',
    ]);
    await run('go build sql tool', [
      'build',
      '-o',
      bins.sqlTool.replace(dir, scratch),
      'go.temporal.io/server/cmd/tools/sql',
    ]);
    fs.rmSync(mod, { recursive: true, force: true });
  });
  return bins;
}

/** JVM flags for a fast start: the SDK gives the test server ~5 s to answer. */
const TEST_SERVER_JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xms64m', '-Xmx512m', '-Xss512k'];

function wrapperScript(java: string, withArchive: boolean): string {
  const archive = withArchive ? ' -XX:SharedArchiveFile="$here/app.jsa" -Xshare:auto' : '';
  return [
    '#!/bin/sh',
    "# Starts Temporal's Java time-skipping test server. @temporalio/testing runs this with <port>.",
    "# exec replaces the shell with the JVM, so the SDK's kill reaches the server itself.",
    'here="$(cd "$(dirname "$0")" && pwd)"',
    `exec "${java}" ${TEST_SERVER_JVM_FLAGS.join(' ')}${archive} -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"`,
    '',
  ].join('\n');
}

/**
 * Records a class-data-sharing archive of the test server's start-up, so later starts load
 * pre-parsed classes. Best effort: without it the server still starts, only slower.
 */
async function recordClassArchive(dir: string, java: string, log: Log): Promise<boolean> {
  const port = await freePort();
  const args = [
    ...TEST_SERVER_JVM_FLAGS,
    `-XX:ArchiveClassesAtExit=${path.join(dir, 'app.jsa')}`,
    '-cp',
    `${path.join(dir, 'lib')}/*`,
    'io.temporal.testserver.TestServer',
    String(port),
  ];
  const child = spawn(java, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const up = await waitForPort(port, 60_000);
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(30_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const ok = up && fs.existsSync(path.join(dir, 'app.jsa'));
  log(
    ok
      ? 'recorded a class-data-sharing archive for the test server'
      : 'no class-data archive recorded (start-up will be slower)',
  );
  return ok;
}

/** Temporal's time-skipping test server. Returns the wrapper script to hand to @temporalio/testing. */
export async function provisionTestServer(log: Log = defaultLog): Promise<string> {
  const dir = cachePaths.testServerDir();
  const script = path.join(dir, 'temporal-test-server');
  const java = requireJava("Temporal's time-skipping test server");
  if (!isComplete(dir)) {
    log(
      `provisioning Temporal's time-skipping test server ${VERSIONS.temporalTestServer} from Maven Central into ${dir}`,
    );
    await buildInto(dir, async (scratch) => {
      await mavenCopy(
        'test-server-pom.xml',
        path.join(scratch, 'lib'),
        { 'temporal.testserver.version': VERSIONS.temporalTestServer },
        `temporal-test-server-${VERSIONS.temporalTestServer}`,
        log,
      );
      fs.writeFileSync(path.join(scratch, 'temporal-test-server'), wrapperScript(java, false), { mode: 0o755 });
    });
  }
  // The archive pins the classpath's absolute paths, so it is recorded in the final directory.
  const tried = path.join(dir, '.cds-recorded');
  if (!fs.existsSync(tried)) {
    const withArchive = await recordClassArchive(dir, java, log);
    fs.writeFileSync(script, wrapperScript(java, withArchive), { mode: 0o755 });
    fs.writeFileSync(tried, String(withArchive) + '\n');
  }
  return script;
}

export type ProvisionTarget = 'kafka' | 'temporal' | 'test-server' | 'temporal-server';

export async function provision(targets: ProvisionTarget[], log: Log = defaultLog): Promise<void> {
  for (const c of targets) {
    if (c === 'kafka') log(`Kafka jars: ${await provisionKafka(log)}`);
    if (c === 'temporal') log(`Temporal CLI: ${await provisionTemporalCli(log)}`);
    if (c === 'test-server') log(`time-skipping test server: ${await provisionTestServer(log)}`);
    if (c === 'temporal-server') log(`Temporal server: ${(await provisionTemporalServer(log)).server}`);
  }
}

if (require.main === module) {
  const wanted = process.argv.slice(2) as ProvisionTarget[];
  const all: ProvisionTarget[] = ['kafka', 'temporal', 'test-server', 'temporal-server'];
  const bad = wanted.filter((w) => !all.includes(w));
  if (bad.length) {
    console.error(`unknown target(s): ${bad.join(', ')}; choose from ${all.join(', ')}`);
    process.exit(2);
  }
  provision(wanted.length ? wanted : all).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
