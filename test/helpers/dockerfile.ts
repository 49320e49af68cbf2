/**
 * Reads the Docker build as the Dockerfile and .dockerignore describe it, without Docker: the
 * stages with their instructions, COPY arguments, and which checkout files reach the build context.
 * The image checks and the production build test both read the build from here.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

// ---- .dockerignore ----------------------------------------------------------------------------

export interface IgnoreRule {
  exclude: boolean;
  regex: RegExp;
}

/** Docker's pattern syntax as far as the file may use it: `*` and `?` within a segment, `**` across. */
function globRegex(pattern: string): RegExp {
  if (/[[\]\\]/.test(pattern)) throw new Error(`.dockerignore pattern ${pattern} uses syntax this test does not model`);
  const body = pattern
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((seg) =>
      seg === '**'
        ? '.*'
        : seg
            .replace(/[.+^${}()|]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
    )
    .join('/');
  return new RegExp(`^${body}$`);
}

export function readIgnoreRules(): IgnoreRule[] {
  return fs
    .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) =>
      line.startsWith('!')
        ? { exclude: false, regex: globRegex(line.slice(1).trim()) }
        : { exclude: true, regex: globRegex(line) },
    );
}

/** Whether Docker leaves `file` out of the build context: the last rule matching it or a parent wins. */
export function ignored(rules: IgnoreRule[], file: string): boolean {
  const parts = file.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let result = false;
  for (const rule of rules) if (candidates.some((c) => rule.regex.test(c))) result = rule.exclude;
  return result;
}

// ---- Dockerfile ------------------------------------------------------------------------------

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export function readStages(): Stage[] {
  const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op) throw new Error(`unparsed Dockerfile line: ${line}`);
    if (op.toUpperCase() === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ name: name ?? String(stages.length), image, instructions: [] });
    } else {
      stages[stages.length - 1].instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

/** A COPY's flags, sources and destination (shell or JSON form). */
export function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: rest.slice(0, -1), dest: rest[rest.length - 1] };
}

export const norm = (p: string): string =>
  p
    .replace(/^\/app\/?/, '')
    .replace(/^\.\/?/, '')
    .replace(/\/$/, '');

/** The checkout's files that git does not ignore (what `docker build .` is handed, before .dockerignore). */
export function cloneFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

/** The files of the checkout that reach the build context. */
export function buildContext(): string[] {
  const rules = readIgnoreRules();
  return cloneFiles().filter((f) => !ignored(rules, f));
}
