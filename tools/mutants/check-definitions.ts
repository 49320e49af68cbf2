/**
 * Checks every breakage definition in mutants.yaml against the checkout without running anything:
 * its `find` string occurs exactly once in its file, and each test file it names exists. The full
 * run (`npm run test:mutants`) checks the same first; this answers in a second after a refactor, and
 * the unit tier runs it (test/tools/mutant-definitions.unit.test.ts).
 *
 *   npm run test:mutants:check
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../common/config';
import { MUTANTS } from './mutants';

const occurrences = (text: string, find: string): number => text.split(find).length - 1;

/** One line per definition that no longer matches the code at `root`. */
export function definitionProblems(root = PROJECT_ROOT): string[] {
  const out: string[] = [];
  for (const m of MUTANTS) {
    const problems: string[] = [];
    const file = path.join(root, m.file);
    if (!fs.existsSync(file)) problems.push(`${m.file} does not exist`);
    else {
      const n = occurrences(fs.readFileSync(file, 'utf8'), m.find);
      if (n !== 1) problems.push(`its find string occurs ${n} times in ${m.file}`);
    }
    for (const t of m.tests) if (!fs.existsSync(path.join(root, t.file))) problems.push(`no test file ${t.file}`);
    if (problems.length) out.push(`${m.id}: ${problems.join('; ')}`);
  }
  return out;
}

if (require.main === module) {
  const problems = definitionProblems();
  for (const p of problems) console.log(p);
  console.log(`${MUTANTS.length - problems.length} of ${MUTANTS.length} definitions match the code`);
  process.exitCode = problems.length ? 1 : 0;
}
