/**
 * The Docker image holds only what runs: read from the Dockerfile's stages and COPY lines, the
 * .dockerignore allow-list and tsconfig.build.json, no test or tools/ code (launcher, benchmark, chaos) can
 * reach the final stage, which runs plain `node dist/...` as a non-root user with production
 * dependencies only. Static checks: nothing here needs Docker.
 */
import * as path from 'node:path';
import * as ts from 'typescript';
import { buildContext, ignored, norm, parseCopy, readIgnoreRules, readStages, Stage } from '../helpers/dockerfile';

const ROOT = path.resolve(__dirname, '..', '..');
/** Code that must never be in the image. */
const FORBIDDEN = /^(dist\/)?(test|tools)\//;

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

// ---- The checks ------------------------------------------------------------------------------

const rules = readIgnoreRules();
const stages = readStages();
const final = stages[stages.length - 1];
const context = buildContext();

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
