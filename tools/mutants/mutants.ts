/**
 * The deliberate breakages of `npm run test:mutants` (tools/mutants/run.ts): the data is in
 * ./mutants.yaml (what each breakage replaces and which tests must catch it); this file reads and
 * checks it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const TestRefSchema = z.strictObject({
  /** A jest test file, relative to the repository root. */
  file: z.string().min(1),
  /** Part of a test's full name (describe + test); omitted: every test in the file. */
  name: z.string().min(1).optional(),
});

const MutantSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  /** What the breakage does to the product, in a reader's words. */
  description: z.string().min(1),
  /** File to break, relative to the repository root. */
  file: z.string().min(1),
  /** Exact text to replace; must occur exactly once in `file`. */
  find: z.string().min(1),
  replace: z.string(),
  /** Tests that should fail with the breakage applied. */
  tests: z.array(TestRefSchema).min(1),
});

export type TestRef = z.infer<typeof TestRefSchema>;
export type Mutant = z.infer<typeof MutantSchema>;

export const MUTANTS: Mutant[] = z
  .array(MutantSchema)
  .parse(parse(fs.readFileSync(path.join(__dirname, 'mutants.yaml'), 'utf8')));
