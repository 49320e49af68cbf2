/**
 * Jaeger v2 all-in-one (the trace viewer of `TRACING=1 npm start`) on loopback: OTLP in over gRPC and
 * HTTP, traces kept in memory, UI and query API on one port. Its config is written next to the
 * stack's data; only the receivers and the query extension are enabled, all bound to 127.0.0.1.
 * A Jaeger built from the Go module has no UI (its assets come from the jaeger-ui project's build,
 * which no registry serves): ORDERS_JAEGER_UI_ASSETS names such a build for it to serve.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readEnv } from '../../common/env-variables';
import { dataPaths } from './paths';
import { Log } from './proc';
import { provisionJaeger } from './provision';
import { spawnServer, waitReady } from './server-process';
import { StackOptions } from './stack-options';

export const jaegerUiUrlOf = (stack: StackOptions): string => `http://127.0.0.1:${stack.ports.jaegerUi}`;
export const jaegerOtlpUrlOf = (stack: StackOptions): string => `http://127.0.0.1:${stack.ports.jaegerOtlp}`;

/** The collector configuration (OpenTelemetry Collector format, Jaeger's extensions); `uiAssets`: a UI build to serve. */
export function jaegerConfig(stack: StackOptions, uiAssets?: string): string {
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
    // A double-quoted YAML string: JSON's escaping is valid YAML.
    ...(uiAssets ? ['    ui:', `      assets_path: ${JSON.stringify(uiAssets)}`] : []),
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

/**
 * Does this Jaeger serve its UI? One without UI assets answers the UI's routes with a placeholder
 * page; the UI's own index.html holds the element the app mounts on.
 */
export async function jaegerHasUi(uiUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${uiUrl}/`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200 && (await res.text()).includes('id="jaeger-ui-root"');
  } catch {
    return false;
  }
}

/** ORDERS_JAEGER_UI_ASSETS, checked: a directory holding a UI build's index.html. */
function uiAssetsDir(): string | undefined {
  const dir = readEnv().ORDERS_JAEGER_UI_ASSETS;
  if (dir === undefined) return undefined;
  const abs = path.resolve(dir);
  if (!fs.existsSync(path.join(abs, 'index.html')))
    throw new Error(`ORDERS_JAEGER_UI_ASSETS=${dir}: no index.html there (expected a Jaeger UI build directory)`);
  return abs;
}

/** Starts Jaeger for the stack (building it on first use) and waits until its query API answers. */
export async function startJaeger(stack: StackOptions, log: Log): Promise<number> {
  const uiAssets = uiAssetsDir();
  const bin = await provisionJaeger(log);
  const config = dataPaths.jaegerConfig(stack.dataDir);
  fs.mkdirSync(path.dirname(config), { recursive: true });
  fs.writeFileSync(config, jaegerConfig(stack, uiAssets));
  const pid = spawnServer('jaeger', stack, bin, ['--config', config]);
  await waitReady('jaeger', stack, pid, () => jaegerReady(jaegerUiUrlOf(stack)), 60_000, log);
  return pid;
}
