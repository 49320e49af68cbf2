/**
 * Second half of `npm run build` (after `tsc -p tsconfig.build.json`), run as
 * `node dist/worker/build-bundle.js`:
 *  - prebuilds the workflow bundle from the compiled workflows into dist/workflow-bundle.js, which
 *    the production worker loads instead of running webpack at every start, and the same with the
 *    OpenTelemetry workflow interceptors into dist/workflow-bundle-traced.js (loaded with TRACING=1);
 *  - writes dist/build-id: the build id a versioned worker of this build polls as (the hash of
 *    dist/workflow-bundle.js, worker/versioning.ts), for the rollout to name (docs/DEPLOYING.md);
 *  - copies the page (web/) to dist/web, where the compiled gateway serves it from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../common/config';
import { buildIdOf } from './versioning';
import {
  BUILD_ID_FILE,
  PREBUILT_BUNDLE_FILE,
  PREBUILT_TRACED_BUNDLE_FILE,
  WORKFLOW_TRACING_MODULES,
  workflowBundleOptions,
} from './worker';

/** The page's files; web/tsconfig.json only type-checks them and stays behind. */
const isPageFile = (file: string): boolean => path.basename(file) !== 'tsconfig.json';

async function main(): Promise<void> {
  const dist = path.join(PROJECT_ROOT, 'dist');
  const workflows = path.join(dist, 'workflows', 'index.js');
  if (!fs.existsSync(workflows)) throw new Error(`${workflows} is missing: run tsc -p tsconfig.build.json first`);
  const { code } = await bundleWorkflowCode(workflowBundleOptions(workflows));
  const out = path.join(dist, PREBUILT_BUNDLE_FILE);
  fs.writeFileSync(out, code);
  const traced = await bundleWorkflowCode({
    ...workflowBundleOptions(workflows),
    workflowInterceptorModules: WORKFLOW_TRACING_MODULES,
  });
  fs.writeFileSync(path.join(dist, PREBUILT_TRACED_BUNDLE_FILE), traced.code);
  const buildId = buildIdOf(code);
  fs.writeFileSync(path.join(dist, BUILD_ID_FILE), `${buildId}\n`);
  const pageOut = path.join(dist, 'web');
  fs.rmSync(pageOut, { recursive: true, force: true });
  fs.cpSync(path.join(PROJECT_ROOT, 'web'), pageOut, { recursive: true, filter: isPageFile });
  console.log(
    `wrote ${path.relative(PROJECT_ROOT, out)} (${(code.length / 1024).toFixed(0)} KiB, build id ${buildId}), ` +
      `${PREBUILT_TRACED_BUNDLE_FILE}, ${BUILD_ID_FILE} and dist/web`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
