/**
 * `npm run test:mutants`: proves that the tests notice deliberate breakages.
 *
 * For each breakage in tools/mutants/mutants.yaml: copy the checkout (tracked and untracked,
 * not ignored files; node_modules symlinked) to a scratch directory, replace the breakage's `find`
 * text there, type-check, and run the jest tests named for it. A breakage is CAUGHT when at least
 * one of those tests fails (and passed on the unbroken copy, the baseline). Prints a Markdown
 * table and exits non-zero when any breakage survived, timed out, did not compile, or no longer
 * matches the code (BROKEN-DEFINITION).
 *
 *   npm run test:mutants                         # every breakage
 *   npm run test:mutants -- --list               # list them
 *   npm run test:mutants -- rate-limiter-lets-everything-through dlq-drops-message
 *   npm run test:mutants -- --exclude test/tools/crash-matrix.test.ts --report mutants.md
 *
 * Servers: the runner makes Kafka and Temporal reachable first (tools/infra/launcher `up`, honouring
 * ORDERS_*_PORT, ORDERS_DATA_DIR, KAFKA_BROKERS, TEMPORAL_ADDRESS, which pass through to every
 * jest run), so each run reuses them; it stops at the end only what it started.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { stop, up, type Server } from '../infra/launcher';
import { runTests, typecheck } from './jest-runs';
import { MUTANTS, type Mutant, type TestRef } from './mutants';

const ROOT = path.resolve(__dirname, '..', '..');

type Outcome = 'CAUGHT' | 'SURVIVED' | 'BROKEN-DEFINITION' | 'DOES-NOT-COMPILE' | 'TIMEOUT' | 'NOT-RUN';

interface Result {
  mutant: Mutant;
  outcome: Outcome;
  failing: string[];
  note?: string;
  seconds: number;
}

const log = (line: string): void => void process.stderr.write(`[mutants] ${line}\n`);

function occurrences(text: string, find: string): number {
  if (!find) return 0;
  let n = 0;
  for (let i = text.indexOf(find); i !== -1; i = text.indexOf(find, i + 1)) n += 1;
  return n;
}

/** The checkout's files as git sees them: tracked (still present) and untracked but not ignored. */
function checkoutFiles(): string[] {
  const out = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`git ls-files failed: ${out.stderr}`);
  return [...new Set(out.stdout.split('\0').filter(Boolean))].filter(
    (f) => fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile(),
  );
}

/** A fixed scratch path per checkout, so jest's transform cache is reused from one breakage to the next. */
function scratchDir(): string {
  const key = crypto.createHash('sha256').update(ROOT).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), 'order-orchestrator-mutants', key, 'work');
}

function freshCopy(dir: string, files: string[]): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const f of files) {
    const to = path.join(dir, f);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), to);
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
}

function describeTests(refs: TestRef[]): string {
  return refs.map((r) => (r.name ? `\`${r.file}\` "${r.name}"` : `\`${r.file}\``)).join('<br>');
}

function table(results: Result[]): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '| breakage | file | tests run | failing test(s) | caught |',
    '| --- | --- | --- | --- | --- |',
    ...results.map((r) => {
      const caught = r.outcome === 'CAUGHT' ? 'yes' : r.outcome === 'SURVIVED' ? '**no**' : `**${r.outcome}**`;
      const failing = r.failing.length ? r.failing.map(cell).join('<br>') : r.note ? cell(r.note) : '—';
      return `| \`${r.mutant.id}\`: ${cell(r.mutant.description)} | \`${r.mutant.file}\` | ${describeTests(r.mutant.tests)} | ${failing} | ${caught} |`;
    }),
  ];
  return lines.join('\n');
}

async function main(): Promise<number> {
  const program = new Command()
    .name('test:mutants')
    .description('Apply each deliberate breakage to a scratch copy and check that its tests fail.')
    .argument('[ids...]', 'breakages to run (default: all)')
    .option('--list', 'list the breakages and exit')
    .option(
      '--exclude <path-part...>',
      'skip test files whose path contains this (e.g. test/tools/crash-matrix.test.ts)',
    )
    .option('--timeout <seconds>', 'bound per breakage (type-check and tests)', '600')
    .option('--no-baseline', 'skip running the same tests on the unbroken copy first')
    .option('--no-typecheck', 'skip the tsc check of each broken copy')
    .option('--report <file>', 'also write the Markdown table (and a .json of the results) here')
    .option('--keep', 'keep the scratch copy of the last breakage')
    .parse();
  const opts = program.opts<{
    list?: boolean;
    exclude?: string[];
    timeout: string;
    baseline: boolean;
    typecheck: boolean;
    report?: string;
    keep?: boolean;
  }>();
  const ids = program.args;

  const dupes = MUTANTS.map((m) => m.id).filter((id, i, all) => all.indexOf(id) !== i);
  if (dupes.length) throw new Error(`duplicate breakage ids: ${dupes.join(', ')}`);
  if (opts.list) {
    for (const m of MUTANTS) {
      process.stdout.write(
        `${m.id}\n  ${m.description}\n  ${m.file}\n  tests: ${m.tests.map((t) => (t.name ? `${t.file} -t "${t.name}"` : t.file)).join('; ')}\n`,
      );
    }
    return 0;
  }
  const unknown = ids.filter((id) => !MUTANTS.some((m) => m.id === id));
  if (unknown.length) {
    log(`unknown breakage id(s): ${unknown.join(', ')} (see --list)`);
    return 2;
  }
  const selected = ids.length ? MUTANTS.filter((m) => ids.includes(m.id)) : MUTANTS;
  const excluded = (ref: TestRef): boolean => (opts.exclude ?? []).some((part) => ref.file.includes(part));
  const timeoutMs = Number(opts.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`--timeout must be a positive number of seconds`);

  const results: Result[] = [];
  const runnable: Mutant[] = [];
  for (const m of selected) {
    const source = fs.existsSync(path.join(ROOT, m.file))
      ? fs.readFileSync(path.join(ROOT, m.file), 'utf8')
      : undefined;
    const n = source === undefined ? 0 : occurrences(source, m.find);
    const missing = m.tests.filter((t) => !fs.existsSync(path.join(ROOT, t.file))).map((t) => t.file);
    if (source === undefined || n !== 1 || missing.length) {
      const note =
        source === undefined
          ? `${m.file} does not exist`
          : n !== 1
            ? `\`find\` occurs ${n} times in ${m.file} (must be exactly once)`
            : `no such test file: ${missing.join(', ')}`;
      results.push({ mutant: m, outcome: 'BROKEN-DEFINITION', failing: [], note, seconds: 0 });
      log(`${m.id}: BROKEN-DEFINITION (${note})`);
    } else runnable.push(m);
  }

  const work = scratchDir();
  const logDir = path.join(path.dirname(work), 'logs');
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, KEEP_INFRA: '1', FORCE_COLOR: '0' };
  let started: Server[] = [];
  const files = checkoutFiles();

  try {
    if (runnable.length) {
      log(`making Kafka and Temporal reachable (ORDERS_*_PORT / KAFKA_BROKERS / TEMPORAL_ADDRESS pass through)`);
      started = (await up((line) => log(line))).started;
    }

    // Baseline: the same tests on the unbroken copy. A test failing here proves nothing below.
    const baselineFailed = new Set<string>();
    const allRefs = runnable.flatMap((m) => m.tests).filter((t) => !excluded(t));
    if (opts.baseline && allRefs.length) {
      log(`baseline: ${allRefs.length} test selections on the unbroken copy (log: ${logDir}/baseline.log)`);
      freshCopy(work, files);
      const t0 = Date.now();
      const run = await runTests(work, allRefs, env, Date.now() + timeoutMs * 2, path.join(logDir, 'baseline.log'));
      for (const f of run.failed) baselineFailed.add(f);
      log(
        `baseline: ${run.ran} tests ran, ${run.failed.length} failed${run.timedOut ? ', TIMED OUT' : ''} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
      );
      for (const f of run.failed) log(`  baseline failure (ignored as evidence below): ${f}`);
    }

    for (const m of runnable) {
      const t0 = Date.now();
      const deadline = t0 + timeoutMs;
      const logFile = path.join(logDir, `${m.id}.log`);
      const refs = m.tests.filter((t) => !excluded(t));
      const done = (outcome: Outcome, failing: string[], note?: string): void => {
        const seconds = Math.round((Date.now() - t0) / 1000);
        results.push({ mutant: m, outcome, failing, note, seconds });
        log(
          `${m.id}: ${outcome} in ${seconds} s${failing.length ? ` (${failing.length} failing: ${failing.join('; ')})` : ''}${note ? ` — ${note}` : ''}`,
        );
      };
      if (!refs.length) {
        done('NOT-RUN', [], `every test of this breakage is excluded (${m.tests.map((t) => t.file).join(', ')})`);
        continue;
      }
      log(
        `${m.id}: breaking ${m.file}; running ${refs.map((t) => (t.name ? `${t.file} -t "${t.name}"` : t.file)).join(', ')} (log: ${logFile})`,
      );
      freshCopy(work, files);
      const target = path.join(work, m.file);
      fs.writeFileSync(
        target,
        fs.readFileSync(target, 'utf8').replace(m.find, () => m.replace),
      );
      if (opts.typecheck && !typecheck(work, logFile)) {
        done('DOES-NOT-COMPILE', [], 'the broken copy fails tsc: fix `replace` so the breakage is caught by behaviour');
        continue;
      }
      const run = await runTests(work, refs, env, deadline, logFile);
      const evidence = run.failed.filter((f) => !baselineFailed.has(f));
      if (run.timedOut) done('TIMEOUT', evidence, `no verdict within ${opts.timeout} s`);
      else if (evidence.length) done('CAUGHT', evidence);
      else if (run.ran === 0 && run.failed.length === 0) done('NOT-RUN', [], 'no test matched the selection');
      else
        done(
          'SURVIVED',
          [],
          `${run.ran} test(s) ran and passed${run.failed.length ? ` (only baseline failures: ${run.failed.join('; ')})` : ''}`,
        );
    }
  } finally {
    if (!opts.keep) fs.rmSync(work, { recursive: true, force: true });
    if (started.length && !process.env.KEEP_INFRA) await stop(started, (line) => log(line));
  }

  const order = new Map(MUTANTS.map((m, i) => [m.id, i]));
  results.sort((a, b) => order.get(a.mutant.id)! - order.get(b.mutant.id)!);
  const markdown = table(results);
  process.stdout.write(`\n${markdown}\n\n`);
  const caught = results.filter((r) => r.outcome === 'CAUGHT').length;
  process.stdout.write(`${caught} of ${results.length} breakages caught.\n`);
  if (opts.report) {
    fs.writeFileSync(opts.report, `${markdown}\n`);
    fs.writeFileSync(
      opts.report.replace(/(\.md)?$/, '.json'),
      JSON.stringify(
        results.map((r) => ({
          id: r.mutant.id,
          outcome: r.outcome,
          failing: r.failing,
          note: r.note,
          seconds: r.seconds,
        })),
        null,
        2,
      ),
    );
  }
  return results.every((r) => r.outcome === 'CAUGHT') ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  },
);
