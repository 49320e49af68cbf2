/**
 * What every provisioner shares: a finished step leaves a complete directory that later runs reuse
 * (built in a scratch directory and renamed into place), and the two toolchains the servers come
 * from: Maven Central (through `mvn`) and the Go module proxy (through `go`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDir } from './paths';
import { Log, requireTool, runWithProgress } from './proc';

const COMPLETE = '.complete';

export function isComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, COMPLETE));
}

/** Builds into a scratch directory and renames it into place, so a half-finished step is never reused. */
export async function buildInto(finalDir: string, build: (scratch: string) => Promise<void>): Promise<void> {
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

/** The build log of a step, under the cache's logs/ directory. */
const logFile = (label: string): string => path.join(cacheDir(), 'logs', `${label.replace(/\W+/g, '-')}.log`);

/** Copies the runtime dependencies of tools/infra/maven/<pom> (with these properties) into outDir. */
export function mavenCopy(
  pom: string,
  outDir: string,
  props: Record<string, string>,
  label: string,
  log: Log,
): Promise<void> {
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
    outputFile: logFile(label),
    countPattern: /^Downloaded from/,
  });
}

export function requireJava(what: string): string {
  return requireTool(
    'java',
    `to run ${what}`,
    'Install JDK 17 (e.g. apt-get install openjdk-17-jdk-headless), or use Docker (docker-compose.yml), or point KAFKA_BROKERS/TEMPORAL_ADDRESS at running servers.',
  );
}

/** A `go` command runner for one build: static binaries, modules resolved as needed, progress logged. */
export type GoRun = (label: string, args: string[], env?: NodeJS.ProcessEnv) => Promise<void>;

/**
 * Finds `go` (or throws naming `neededFor` and the `waysOut`) and returns a runner of go commands
 * in `cwd()`, each logging to its own file `<build>-<label>.log` under the cache's logs/ directory.
 */
export function goToolchain(build: string, neededFor: string, waysOut: string, log: Log, cwd?: () => string): GoRun {
  const go = requireTool('go', neededFor, `Install Go >= 1.25, ${waysOut}`);
  return (label, args, env = {}) =>
    runWithProgress(go, args, {
      label,
      log,
      cwd: cwd?.(),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', ...env },
      outputFile: logFile(`${build}-${label}`),
      countPattern: /^go: downloading/,
      progressEveryMs: 15_000,
    });
}

/**
 * Makes an empty Go module in `<scratch>/module` and returns its path: modules with `replace`
 * directives (the Temporal server, Jaeger) refuse `go install pkg@version`, but build as
 * dependencies of a module of our own.
 */
export function scratchModule(scratch: string, name: string, goVersion: string): string {
  const mod = path.join(scratch, 'module');
  fs.mkdirSync(mod);
  fs.writeFileSync(path.join(mod, 'go.mod'), `module ${name}\n\ngo ${goVersion}\n`);
  return mod;
}
