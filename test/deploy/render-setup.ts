/**
 * Global setup of jest's `render` project (the `*.render.test.ts` files): provisions the pinned Helm and
 * kubernetes-validate into the per-user cache (built once per machine, minutes the first time; then
 * instant) and hands them to the tests. It starts no server: rendering and schema checks need none.
 */
import { provisionHelm, provisionKubernetesValidate } from '../../tools/infra/provision-manifest-tools';
import { TOOLS_VARIABLE } from '../helpers/manifests';

const log = (line: string): void => void process.stderr.write(`[render-setup] ${line}\n`);

export default async function renderSetup(): Promise<void> {
  const [helm, validator] = await Promise.all([provisionHelm(log), provisionKubernetesValidate(log)]);
  process.env[TOOLS_VARIABLE] = JSON.stringify({ helm, validator });
}
