/**
 * The two tools that render and check the Kubernetes manifests (deploy/helm/order-orchestrator),
 * pinned and cached per user like the servers, so a check needs nothing from the internet:
 *  - Helm (VERSIONS.helm), built with `go install` from the Go module proxy;
 *  - kubernetes-validate (VERSIONS.kubernetesValidate, the Python package index): a validator that
 *    ships the Kubernetes API schemas of every release from 1.25 on, each in a strict form that
 *    refuses unknown fields. Installed with `python3 -m pip install --target` (a plain directory, so
 *    it survives the rename into the cache), with every dependency pinned in ./kubernetes-validate.txt
 *    and `--no-deps`, so nothing unpinned comes along.
 * Each build holds a lock in the cache: test lanes that need a tool at the same time build it once.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withFileLock } from './file-lock';
import { cacheDir, VERSIONS } from './paths';
import { defaultLog, Log, requireTool, runWithProgress } from './proc';
import { buildInto, goToolchain, isComplete } from './provision-kit';

/** What a caller runs: `command` with `prefix` before its own arguments, and `env` added. */
export interface Tool {
  command: string;
  prefix: string[];
  env: NodeJS.ProcessEnv;
}

/** Long enough for a first build on a busy two-core machine. */
const LOCK_WAIT_MS = 45 * 60_000;

function lockedBuild<T>(name: string, log: Log, build: () => Promise<T>): Promise<T> {
  return withFileLock(
    path.join(cacheDir(), `${name}.lock`),
    { waitMs: LOCK_WAIT_MS, log, waiting: (owner) => `waiting for pid ${owner}, which is provisioning ${name}` },
    build,
  );
}

export const helmDir = (): string => path.join(cacheDir(), `helm-${VERSIONS.helm}`);

/** Helm at the pinned version (a `helm` on PATH is not used: its version would decide the output). */
export async function provisionHelm(log: Log = defaultLog): Promise<Tool> {
  const dir = helmDir();
  const tool = { command: path.join(dir, 'helm'), prefix: [], env: {} };
  if (isComplete(dir)) return tool;
  return lockedBuild(`helm-${VERSIONS.helm}`, log, async () => {
    if (isComplete(dir)) return tool;
    const go = goToolchain(
      'helm',
      'to build Helm, which renders the Kubernetes manifests',
      'once: the build is kept in the cache (`npm run provision -- helm` makes it ahead of time).',
      log,
    );
    log(`building Helm v${VERSIONS.helm} with go install (minutes the first time)`);
    await buildInto(dir, (scratch) =>
      go(`go install helm@v${VERSIONS.helm}`, ['install', `helm.sh/helm/v4/cmd/helm@v${VERSIONS.helm}`], {
        GOBIN: scratch,
      }),
    );
    return tool;
  });
}

/** `<major>.<minor>` of python3: the pinned packages include a compiled one (rpds-py) built for it. */
function pythonVersion(python: string): string {
  return execFileSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
    encoding: 'utf8',
    timeout: 30_000,
  }).trim();
}

/** kubernetes-validate at the pinned version, for the python3 on PATH. */
export async function provisionKubernetesValidate(log: Log = defaultLog): Promise<Tool> {
  const python = requireTool(
    'python3',
    'to run kubernetes-validate, which checks the Kubernetes manifests against the API schemas',
    'Install Python 3 with pip (e.g. apt-get install python3-pip).',
  );
  const dir = path.join(cacheDir(), `kubernetes-validate-${VERSIONS.kubernetesValidate}-py${pythonVersion(python)}`);
  // Only the pinned packages: this directory first, the user's own site-packages left out.
  const tool = {
    command: python,
    prefix: ['-m', 'kubernetes_validate'],
    env: { PYTHONPATH: dir, PYTHONNOUSERSITE: '1' },
  };
  if (isComplete(dir)) return tool;
  return lockedBuild(path.basename(dir), log, async () => {
    if (isComplete(dir)) return tool;
    const requirements = path.join(__dirname, 'kubernetes-validate.txt');
    const pinned = fs.readFileSync(requirements, 'utf8');
    if (!pinned.includes(`kubernetes-validate==${VERSIONS.kubernetesValidate}\n`)) {
      throw new Error(`${requirements} does not pin kubernetes-validate==${VERSIONS.kubernetesValidate}`);
    }
    log(`installing kubernetes-validate ${VERSIONS.kubernetesValidate} with pip`);
    await buildInto(dir, (scratch) =>
      runWithProgress(
        python,
        [
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          '--no-input',
          '--no-deps',
          '--only-binary=:all:',
          '--target',
          scratch,
          '-r',
          requirements,
        ],
        {
          label: `pip install kubernetes-validate==${VERSIONS.kubernetesValidate}`,
          log,
          outputFile: path.join(cacheDir(), 'logs', 'kubernetes-validate.log'),
          progressEveryMs: 10_000,
        },
      ),
    );
    return tool;
  });
}
