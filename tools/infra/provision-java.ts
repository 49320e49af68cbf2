/**
 * The servers fetched from Maven Central into the per-user cache: the Apache Kafka broker jars,
 * Temporal's Java time-skipping test server behind a wrapper script (with a class-data archive of
 * its start-up, so the SDK's ~5 s start window is met), and Zipkin's runnable server jar (the trace
 * viewer of `TRACING=1 npm start`).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cachePaths, VERSIONS } from './paths';
import { defaultLog, freePort, Log, sleep, waitForPort } from './proc';
import { buildInto, isComplete, mavenCopy, requireJava } from './provision-kit';
import { startupTimeline } from './timeline';

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

/** Zipkin's runnable jar (its UI inside). Returns the jar's path, for `java -jar`. */
export async function provisionZipkin(log: Log = defaultLog): Promise<string> {
  const jar = cachePaths.zipkinJar();
  const dir = path.dirname(jar);
  requireJava('Zipkin (the trace viewer of TRACING=1 npm start)');
  if (isComplete(dir)) return jar;
  log(`provisioning Zipkin ${VERSIONS.zipkin} from Maven Central into ${dir} (an 86 MB jar)`);
  const startedAt = Date.now();
  await buildInto(dir, (scratch) =>
    mavenCopy('zipkin-pom.xml', scratch, { 'zipkin.version': VERSIONS.zipkin }, `zipkin-${VERSIONS.zipkin}`, log),
  );
  startupTimeline.record('Zipkin jar from Maven', startedAt);
  return jar;
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
