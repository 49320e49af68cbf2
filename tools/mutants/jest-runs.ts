/**
 * The mutants runner's two checks on a scratch copy: type-check it, and run the jest tests named for
 * a breakage, bounded in time, collecting which tests failed from jest's JSON report.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { killGroup } from '../infra/proc';
import type { TestRef } from './mutants';

export interface JestRun {
  /** Full names ("file › describe › test") of the tests that failed, plus suites that failed to run. */
  failed: string[];
  /** How many tests ran (passed or failed). */
  ran: number;
  timedOut: boolean;
  exitCode: number | null;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs a command in its own process group; on timeout the whole group is killed. */
function runBounded(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  logFile: string,
): Promise<{ code: number | null; timedOut: boolean }> {
  return new Promise((resolve) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', out, out] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid!, 'SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fs.closeSync(out);
      resolve({ code, timedOut });
    });
  });
}

interface JestReport {
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ fullName: string; status: string }>;
  }>;
}

/** Runs the given tests (grouped: named ones with one -t pattern, whole files without). */
export async function runTests(
  dir: string,
  refs: TestRef[],
  env: NodeJS.ProcessEnv,
  deadline: number,
  logFile: string,
): Promise<JestRun> {
  const groups: Array<{ files: string[]; pattern?: string }> = [];
  const named = refs.filter((r) => r.name !== undefined);
  const whole = refs.filter((r) => r.name === undefined);
  if (named.length)
    groups.push({
      files: [...new Set(named.map((r) => r.file))],
      pattern: [...new Set(named.map((r) => escapeRegex(r.name!)))].join('|'),
    });
  if (whole.length) groups.push({ files: [...new Set(whole.map((r) => r.file))] });
  const result: JestRun = { failed: [], ran: 0, timedOut: false, exitCode: 0 };
  for (const group of groups) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      result.timedOut = true;
      break;
    }
    const json = path.join(path.dirname(logFile), `jest-${crypto.randomUUID().slice(0, 8)}.json`);
    const args = [
      path.join(dir, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--runInBand',
      '--ci',
      '--forceExit',
      '--json',
      '--outputFile',
      json,
      '--runTestsByPath',
      ...group.files,
    ];
    if (group.pattern) args.push('--testNamePattern', group.pattern);
    fs.appendFileSync(logFile, `\n$ jest ${args.slice(1).join(' ')}\n`);
    const { code, timedOut } = await runBounded(process.execPath, args, dir, env, remaining, logFile);
    if (code !== 0) result.exitCode = code;
    if (timedOut) {
      result.timedOut = true;
      break;
    }
    let report: JestReport | undefined;
    try {
      report = JSON.parse(fs.readFileSync(json, 'utf8')) as JestReport;
    } catch {
      report = undefined;
    }
    if (!report) {
      result.failed.push(`(jest wrote no report; exit code ${code})`);
      continue;
    }
    for (const suite of report.testResults) {
      const file = path.relative(dir, suite.name);
      const failedTests = suite.assertionResults.filter((a) => a.status === 'failed');
      result.ran += suite.assertionResults.filter((a) => a.status === 'passed' || a.status === 'failed').length;
      for (const a of failedTests) result.failed.push(`${file} › ${a.fullName}`);
      if (suite.status === 'failed' && failedTests.length === 0) result.failed.push(`${file} (suite failed to run)`);
    }
  }
  return result;
}

export function typecheck(dir: string, logFile: string): boolean {
  const out = spawnSync(
    process.execPath,
    [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', dir],
    { cwd: dir, encoding: 'utf8' },
  );
  fs.appendFileSync(logFile, `\n$ tsc --noEmit\n${out.stdout}${out.stderr}`);
  return out.status === 0;
}
