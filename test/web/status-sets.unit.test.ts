// The page keeps plain-JS copies of the status and error-code sets (web/status-sets.js): each must
// hold exactly what its source in common/ holds.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { PROJECT_ROOT } from '../../common/config';
import { RETRYABLE_ERROR_CODES } from '../../common/protocol';
import { FINAL_STATUSES, SHIPPING_STARTED } from '../../common/status';

/** The arrays web/status-sets.js exports, read by running the file without its `export` keywords. */
function pageSets(): Record<string, unknown> {
  const source = fs.readFileSync(path.join(PROJECT_ROOT, 'web', 'status-sets.js'), 'utf8');
  const names = [...source.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
  const script = source.replace(/^export /gm, '') + `\n({ ${names.join(', ')} })`;
  return vm.runInNewContext(script) as Record<string, unknown>;
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

describe('web/status-sets.js', () => {
  const sets = pageSets();

  test('exports exactly the three sets the page uses', () => {
    expect(Object.keys(sets).sort()).toEqual(['FINAL', 'RETRYABLE', 'SHIPPING_STARTED']);
  });

  test('FINAL is common/status.ts FINAL_STATUSES', () => {
    expect(sorted(sets.FINAL as string[])).toEqual(sorted(FINAL_STATUSES));
  });

  test('SHIPPING_STARTED is common/status.ts SHIPPING_STARTED', () => {
    expect(sorted(sets.SHIPPING_STARTED as string[])).toEqual(sorted(SHIPPING_STARTED));
  });

  test('RETRYABLE is common/protocol.ts RETRYABLE_ERROR_CODES', () => {
    expect(sorted(sets.RETRYABLE as string[])).toEqual(sorted(RETRYABLE_ERROR_CODES));
  });
});
