// Every deliberate breakage in tools/mutants/mutants.yaml still names code that exists exactly once
// and test files that exist, so a refactor cannot quietly retire a breakage from `npm run test:mutants`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { definitionProblems } from '../../tools/mutants/check-definitions';
import { MUTANTS } from '../../tools/mutants/mutants';

test('every breakage definition matches the code', () => {
  expect(MUTANTS.length).toBeGreaterThan(0);
  expect(definitionProblems()).toEqual([]);
});

test('a definition whose find string no longer matches is reported by id', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mutant-defs-'));
  try {
    const [first] = MUTANTS;
    fs.mkdirSync(path.dirname(path.join(root, first.file)), { recursive: true });
    fs.writeFileSync(path.join(root, first.file), 'refactored away\n');
    expect(definitionProblems(root)).toContainEqual(
      expect.stringMatching(new RegExp(`^${first.id}: its find string occurs 0 times`)),
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
