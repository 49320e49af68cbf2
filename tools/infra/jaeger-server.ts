/**
 * Jaeger v2 all-in-one (the trace viewer of `TRACING=1 npm start`) on loopback: OTLP in over gRPC and
 * HTTP, traces kept in memory, UI and query API on one port. Its config is written next to the
 * stack's data; only the receivers and the query extension are enabled, all bound to 127.0.0.1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataPaths } from './paths';
import { Log } from './proc';
import { provisionJaeger } from './provision';
import { spawnServer, waitReady } from './server-process';
import { StackOptions } from './stack-options';

export const jaegerUiUrlOf = (stack: StackOptions): string => `http://127.0.0.1:${stack.ports.jaegerUi}`;
export const jaegerOtlpUrlOf = (stack: StackOptions): string => `http://127.0.0.1:${stack.ports.jaegerOtlp}`;

/** The collector configuration (OpenTelemetry Collector format, Jaeger's extensions). */
export function jaegerConfig(stack: StackOptions): string {
  const { jaegerUi, jaegerOtlp } = stack.ports;
  return [
    'service:',
    '  extensions: [jaeger_storage, jaeger_query]',
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      processors: [batch]',
    '      exporters: [jaeger_storage_exporter]',
    '  telemetry:',
    '    metrics:',
    '      level: none',
    '    logs:',
    '      level: warn',
    'extensions:',
    '  jaeger_storage:',
    '    backends:',
    '      memstore:',
    '        memory:',
    '          max_traces: 100000',
    '  jaeger_query:',
    '    storage:',
    '      traces: memstore',
    '    http:',
    `      endpoint: 127.0.0.1:${jaegerUi}`,
    '    grpc:',
    `      endpoint: 127.0.0.1:${jaegerUi - 1}`,
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      grpc:',
    `        endpoint: 127.0.0.1:${jaegerOtlp - 1}`,
    '      http:',
    `        endpoint: 127.0.0.1:${jaegerOtlp}`,
    'processors:',
    '  batch:',
    'exporters:',
    '  jaeger_storage_exporter:',
    '    trace_storage: memstore',
    '',
  ].join('\n');
}

/** Does Jaeger's query API answer at this URL? */
export async function jaegerReady(uiUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${uiUrl}/api/services`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Starts Jaeger for the stack (building it on first use) and waits until its query API answers. */
export async function startJaeger(stack: StackOptions, log: Log): Promise<number> {
  const bin = await provisionJaeger(log);
  const config = dataPaths.jaegerConfig(stack.dataDir);
  fs.mkdirSync(path.dirname(config), { recursive: true });
  fs.writeFileSync(config, jaegerConfig(stack));
  const pid = spawnServer('jaeger', stack, bin, ['--config', config]);
  await waitReady('jaeger', stack, pid, () => jaegerReady(jaegerUiUrlOf(stack)), 60_000, log);
  return pid;
}
