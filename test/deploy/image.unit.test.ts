/**
 * The Docker image holds only what runs: read from the Dockerfile's stages and COPY lines, the
 * .dockerignore allow-list and tsconfig.build.json, no test or tools/ code (launcher, benchmark, chaos) can
 * reach the final stage, which runs plain `node dist/...` as a non-root user with production
 * dependencies only. Static checks: nothing here needs Docker.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');
/** Code that must never be in the image. */
const FORBIDDEN = /^(dist\/)?(test|tools)\//;

// ---- .dockerignore ----------------------------------------------------------------------------

interface IgnoreRule {
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

function readIgnoreRules(): IgnoreRule[] {
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
function ignored(rules: IgnoreRule[], file: string): boolean {
  const parts = file.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let result = false;
  for (const rule of rules) if (candidates.some((c) => rule.regex.test(c))) result = rule.exclude;
  return result;
}

// ---- Dockerfile ------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

function readStages(): Stage[] {
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
function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: rest.slice(0, -1), dest: rest[rest.length - 1] };
}

const norm = (p: string): string =>
  p
    .replace(/^\/app\/?/, '')
    .replace(/^\.\/?/, '')
    .replace(/\/$/, '');

// ---- What the build compiles -----------------------------------------------------------------

function buildInputs(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.build.json does not parse');
  return config.fileNames.map((f) => path.relative(ROOT, f).split(path.sep).join('/'));
}

/** The checkout's files that git does not ignore (what `docker build .` is handed, before .dockerignore). */
function cloneFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

// ---- The checks ------------------------------------------------------------------------------

const rules = readIgnoreRules();
const stages = readStages();
const final = stages[stages.length - 1];
const context = cloneFiles().filter((f) => !ignored(rules, f));

/** Files a stage has under /app: what its COPY lines bring from the context or from earlier stages. */
function stageFiles(stage: Stage): string[] {
  const files: string[] = [];
  for (const ins of stage.instructions.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
    const copy = parseCopy(ins.args);
    for (const source of copy.sources.map(norm)) {
      const under = (f: string): boolean => source === '' || f === source || f.startsWith(`${source}/`);
      if (copy.from === undefined) {
        const matched = context.filter(under);
        if (matched.length === 0) throw new Error(`COPY ${source} copies nothing from the build context`);
        files.push(...matched);
      } else {
        const origin = stages.find((s) => s.name === copy.from);
        if (!origin) throw new Error(`COPY --from=${copy.from}: no such stage`);
        files.push(...stageFiles(origin).filter(under), ...generated(origin).filter(under));
      }
    }
  }
  return files;
}

/** Files a stage's RUN steps produce under /app: dist/ from `npm run build`, node_modules from `npm ci`. */
function generated(stage: Stage): string[] {
  const runs = stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
  const out: string[] = [];
  if (runs.some((r) => /npm run build\b/.test(r))) {
    const available = new Set(stageFiles(stage));
    for (const input of buildInputs().filter((f) => available.has(f)))
      out.push(`dist/${input.replace(/\.ts$/, '.js')}`);
    out.push('dist/workflow-bundle.js');
  }
  if (runs.some((r) => /npm ci\b/.test(r))) out.push('node_modules/');
  return out;
}

describe('the Docker image holds only what runs', () => {
  test('the build context (.dockerignore) holds no tests, benchmark, chaos or launcher code, no local state', () => {
    expect(context.filter((f) => FORBIDDEN.test(f))).toEqual([]);
    for (const local of ['node_modules/x', '.data/x', 'dist/x', '.env', 'bench-results/x', '.git/x'])
      expect(ignored(rules, local)).toBe(true);
    // The build still gets what it compiles.
    for (const input of buildInputs()) expect(context).toContain(input);
  });

  test("the final stage's files come from the compiled build and production dependencies only", () => {
    const files = [...stageFiles(final), ...generated(final)];
    expect(files.filter((f) => FORBIDDEN.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/gateway/main.js',
        'dist/bridge/main.js',
        'dist/worker/main.js',
        'dist/workflow-bundle.js',
      ]),
    );
    // The compiler itself never sees test/ or tools/ sources.
    expect(buildInputs().filter((f) => FORBIDDEN.test(f))).toEqual([]);
  });

  test('node_modules in the final stage comes from `npm ci --omit=dev`', () => {
    const copies = final.instructions.filter((i) => i.op === 'COPY').map((i) => parseCopy(i.args));
    const modules = copies.filter((c) => c.sources.some((s) => norm(s) === 'node_modules'));
    expect(modules).toHaveLength(1);
    const origin = stages.find((s) => s.name === modules[0].from);
    expect(
      origin?.instructions
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join(' '),
    ).toMatch(/npm ci (.* )?--omit=dev/);
  });

  test('the final stage runs plain node on dist/ as a non-root user, NODE_ENV=production, on an LTS slim image', () => {
    expect(final.image).toMatch(/^node:(2[02468])-slim$/);
    const env = final.instructions.filter((i) => i.op === 'ENV').map((i) => i.args);
    expect(env).toContain('NODE_ENV=production');
    const users = final.instructions.filter((i) => i.op === 'USER').map((i) => i.args.trim());
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users[users.length - 1]);
    const cmd = final.instructions.filter((i) => i.op === 'CMD').map((i) => JSON.parse(i.args) as string[]);
    expect(cmd[cmd.length - 1]).toEqual(['node', 'dist/gateway/main.js']);
  });
});
