/**
 * Zipkin (the trace viewer of `TRACING=1 npm start`) on loopback: its runnable jar from Maven Central
 * (tools/infra/provision-java.ts) with traces kept in memory. One port serves everything: spans in
 * (POST /api/v2/spans, what OTEL_TRACES_EXPORTER=zipkin sends), the query API (/api/v2/trace/<id>)
 * and the Lens UI (/zipkin/, one trace at /zipkin/traces/<id>).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TRACE_ID_MARK } from '../../common/names';
import { dataPaths } from './paths';
import { Log } from './proc';
import { requireJava } from './provision-kit';
import { provisionZipkin } from './provision';
import { spawnServer, waitReady } from './server-process';
import { StackOptions } from './stack-options';
import { startupTimeline } from './timeline';

export const zipkinUrlOf = (stack: StackOptions): string => `http://127.0.0.1:${stack.ports.zipkin}`;
/** Where the apps post their spans (OTEL_EXPORTER_ZIPKIN_ENDPOINT). */
export const zipkinSpansUrlOf = (stack: StackOptions): string => `${zipkinUrlOf(stack)}/api/v2/spans`;
/** The UI's page of one trace, TRACE_ID_MARK where the id goes (TRACE_UI_URL). */
export const zipkinTraceUrlTemplate = (baseUrl: string): string =>
  `${baseUrl.replace(/\/+$/, '')}/zipkin/traces/${TRACE_ID_MARK}`;

/** Spans kept in memory (oldest traces dropped beyond it): thousands of orders, within the heap below. */
const MAX_SPANS = 50_000;

/** The JVM's flags: a small heap and a quick start (C1 only, serial GC: a dev tool, not a collector under load). */
const JVM_FLAGS = ['-Xms64m', '-Xmx384m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Djava.awt.headless=true'];

/** `java` arguments for the stack's Zipkin: bound to 127.0.0.1 on its port, in-memory storage, no gRPC collector. */
export function zipkinArgs(stack: StackOptions, jar: string): string[] {
  return [
    ...JVM_FLAGS,
    // Native libraries the server unpacks at start go under the stack's data (this also marks whose it is).
    `-Djava.io.tmpdir=${path.join(dataPaths.zipkinDir(stack.dataDir), 'tmp')}`,
    '-jar',
    jar,
    // Spring Boot properties. A list set here replaces the jar's whole list, so the port names its protocol too.
    `--armeria.ports[0].ip=127.0.0.1`,
    `--armeria.ports[0].port=${stack.ports.zipkin}`,
    '--armeria.ports[0].protocols[0]=http',
    '--zipkin.storage.type=mem',
    `--zipkin.storage.mem.max-spans=${MAX_SPANS}`,
    '--zipkin.collector.grpc.enabled=false',
    '--zipkin.self-tracing.enabled=false',
  ];
}

/** Does Zipkin answer at this URL (its health check names it)? */
export async function zipkinReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200 && (await res.text()).includes('"zipkin"');
  } catch {
    return false;
  }
}

/** Starts Zipkin for the stack (fetching its jar on first use) and waits until it answers. */
export async function startZipkin(stack: StackOptions, log: Log): Promise<number> {
  const java = requireJava('Zipkin (the trace viewer of TRACING=1 npm start)');
  const jar = await provisionZipkin(log);
  fs.mkdirSync(path.join(dataPaths.zipkinDir(stack.dataDir), 'tmp'), { recursive: true });
  const startedAt = Date.now();
  const pid = spawnServer('zipkin', stack, java, zipkinArgs(stack, jar));
  await waitReady('zipkin', stack, pid, () => zipkinReady(zipkinUrlOf(stack)), 120_000, log);
  startupTimeline.record('Zipkin start until it answers', startedAt);
  return pid;
}
