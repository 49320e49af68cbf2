/**
 * The page's ES modules (web/*.js) run in Node for unit tests: the files joined into one script in
 * the order given (imports dropped, exports kept as plain declarations), so a module's imports must
 * come before it in `files`. Returns the names asked for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { PROJECT_ROOT } from '../../common/config';

export function pageModules(files: string[], names: string[]): Record<string, unknown> {
  const source = files
    .map((file) => fs.readFileSync(path.join(PROJECT_ROOT, 'web', file), 'utf8'))
    .join('\n')
    .replace(/^import [\s\S]*? from '[^']+';$/gm, '')
    .replace(/^export (?=const|function)/gm, '')
    .replace(/^export \{[^}]*\};$/gm, '');
  return vm.runInNewContext(`${source}\n({ ${names.join(', ')} })`) as Record<string, unknown>;
}
