/**
 * Second half of `npm run build` (after `tsc -p tsconfig.build.json`): prebuilds the workflow bundle
 * from the compiled workflows (dist/workflow-bundle.js, which the production worker loads instead
 * of running webpack at every start) and copies the gateway's static page next to its code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../common/config';
import { PREBUILT_BUNDLE_FILE } from '../worker/worker';

async function main(): Promise<void> {
  const dist = path.join(PROJECT_ROOT, 'dist');
  const workflows = path.join(dist, 'workflows', 'index.js');
  if (!fs.existsSync(workflows)) throw new Error(`${workflows} is missing: run tsc -p tsconfig.build.json first`);
  const { code } = await bundleWorkflowCode({ workflowsPath: workflows });
  const out = path.join(dist, PREBUILT_BUNDLE_FILE);
  fs.writeFileSync(out, code);
  fs.cpSync(path.join(PROJECT_ROOT, 'gateway', 'public'), path.join(dist, 'gateway', 'public'), { recursive: true });
  console.log(
    `wrote ${path.relative(PROJECT_ROOT, out)} (${(code.length / 1024).toFixed(0)} KiB) and dist/gateway/public`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
