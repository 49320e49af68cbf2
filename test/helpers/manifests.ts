/**
 * The Kubernetes manifests as the tests see them: the chart (deploy/helm/order-orchestrator) rendered
 * with the pinned Helm, checked with the pinned kubernetes-validate, and read back as objects; and the
 * policies every rendered object must meet. The tools come from the `render` project's global setup
 * (test/deploy/render-setup.ts), which provisions them into the per-user cache.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import type { Tool } from '../../tools/infra/provision-manifest-tools';

const run = promisify(execFile);

export const CHART_DIR = path.resolve(__dirname, '..', '..', 'deploy', 'helm', 'order-orchestrator');
export const FULL_VALUES = path.join(CHART_DIR, 'ci', 'full-values.yaml');
export const RELEASE = 'orders';
/** The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest whose schemas the validator has. */
export const KUBE_VERSIONS = ['1.30.0', '1.37.0'] as const;

/** Where the global setup leaves the tools (JSON of { helm, validator }). */
export const TOOLS_VARIABLE = 'ORDERS_TEST_MANIFEST_TOOLS';

function tools(): { helm: Tool; validator: Tool } {
  const raw = process.env[TOOLS_VARIABLE];
  if (!raw) throw new Error(`${TOOLS_VARIABLE} is not set: run these tests through jest's "render" project`);
  return JSON.parse(raw) as { helm: Tool; validator: Tool };
}

async function runTool(tool: Tool, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(tool.command, [...tool.prefix, ...args], {
    env: { ...process.env, ...tool.env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
}

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // The tests read whatever the kind holds.
  [field: string]: unknown;
};

export interface RenderOptions {
  valuesFiles?: string[];
  /** `--set` / `--set-json` arguments, e.g. ['--set', 'bridge.replicas=7']. */
  args?: string[];
  kubeVersion?: string;
}

function helmArgs(opts: RenderOptions): string[] {
  return [
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    'orders',
    '--kube-version',
    opts.kubeVersion ?? KUBE_VERSIONS[0],
    ...(opts.valuesFiles ?? []).flatMap((f) => ['--values', f]),
    ...(opts.args ?? []),
  ];
}

/** `helm template` of the chart: the YAML stream. */
export async function renderYaml(opts: RenderOptions = {}): Promise<string> {
  return (await runTool(tools().helm, helmArgs(opts))).stdout;
}

/** Reads a YAML stream into its objects (empty documents skipped). */
export function objectsOf(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export async function render(opts: RenderOptions = {}): Promise<K8sObject[]> {
  return objectsOf(await renderYaml(opts));
}

/** The error Helm stops with (throws if rendering succeeds). */
export async function renderError(opts: RenderOptions): Promise<string> {
  try {
    await runTool(tools().helm, helmArgs(opts));
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`helm ${helmArgs(opts).join(' ')} rendered, but should have failed`);
}

/**
 * kubernetes-validate --strict against one Kubernetes release's API schemas: unknown fields, wrong
 * types and missing required fields are errors. Returns the lines that are not a pass.
 */
export async function schemaErrors(yaml: string, kubeVersion: string): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifests-'));
  const file = path.join(dir, 'rendered.yaml');
  fs.writeFileSync(file, yaml);
  try {
    const { stdout, stderr } = await runTool(tools().validator, ['--strict', '-k', kubeVersion, file]).catch(
      (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? String(err) }),
    );
    const lines = `${stdout}\n${stderr}`.split('\n').filter((l) => l.trim());
    const passed = /^INFO .* passed for resource /;
    const problems = lines.filter((l) => !passed.test(l));
    // Every object must have been checked and passed: a kind without a schema is a problem too.
    const documents = objectsOf(yaml).length;
    const passes = lines.length - problems.length;
    if (passes !== documents) problems.push(`${passes} of ${documents} objects passed`);
    return problems.map((l) => l.replace(file, '<rendered>'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Reading objects ------------------------------------------------------------------------

export type Dict = Record<string, unknown>;
export const dict = (value: unknown): Dict =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Dict) : {};
export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
};
export const ofKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
export const componentOf = (o: K8sObject): string | undefined => o.metadata.labels?.['app.kubernetes.io/component'];

/** The pod template (or pod spec) of a workload, for every kind that runs containers. */
export function podSpecOf(o: K8sObject): Dict | undefined {
  switch (o.kind) {
    case 'Pod':
      return dict(o.spec);
    case 'CronJob':
      return dict(dict(dict(dict(dict(o.spec).jobTemplate).spec).template).spec);
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return dict(dict(dict(o.spec).template).spec);
    default:
      return undefined;
  }
}

export const containersOf = (pod: Dict): Dict[] =>
  [...list(pod.initContainers), ...list(pod.containers), ...list(pod.ephemeralContainers)].map(dict);

/** A container's settings from the ConfigMaps it reads and its own `env` (values only; secret refs aside). */
export function environmentOf(objects: K8sObject[], container: Dict): Map<string, string> {
  const env = new Map<string, string>();
  for (const source of list(container.envFrom).map(dict)) {
    const ref = dict(source.configMapRef);
    if (!ref.name) continue;
    for (const [k, v] of Object.entries(dict(named(objects, 'ConfigMap', String(ref.name)).data)))
      env.set(k, String(v));
  }
  for (const e of list(container.env).map(dict)) if ('value' in e) env.set(String(e.name), String(e.value));
  return env;
}

// ---- Policies -------------------------------------------------------------------------------

/** Service types that take traffic from outside the cluster. */
const EXPOSED_TYPES = new Set(['LoadBalancer', 'NodePort']);

/**
 * What no rendered object may do, as one line per breach: a container that may run as root (no
 * runAsNonRoot, no numeric non-zero runAsUser, or uid 0), may gain privileges, writes its root
 * filesystem, keeps a capability or lacks CPU and memory requests and limits; a pod on the host's
 * network or ports; a Service exposed outside the cluster (LoadBalancer, NodePort, external IPs) that
 * is not the gateway's client Service.
 */
export function policyBreaches(objects: K8sObject[]): string[] {
  const breaches: string[] = [];
  for (const o of objects) {
    const where = `${o.kind}/${o.metadata.name}`;
    const pod = podSpecOf(o);
    if (pod) {
      const podContext = dict(pod.securityContext);
      for (const flag of ['hostNetwork', 'hostPID', 'hostIPC']) {
        if (pod[flag] === true) breaches.push(`${where}: ${flag}`);
      }
      for (const c of containersOf(pod)) {
        const at = `${where} container ${String(c.name)}`;
        const own = dict(c.securityContext);
        const effective = (key: string): unknown => (key in own ? own[key] : podContext[key]);
        const uid = effective('runAsUser');
        if (effective('runAsNonRoot') !== true) breaches.push(`${at}: runAsNonRoot is not true`);
        if (typeof uid !== 'number')
          breaches.push(`${at}: no numeric runAsUser (a named image user cannot be checked)`);
        else if (uid === 0) breaches.push(`${at}: runs as root (runAsUser 0)`);
        if (own.allowPrivilegeEscalation !== false) breaches.push(`${at}: allowPrivilegeEscalation is not false`);
        if (own.privileged === true) breaches.push(`${at}: privileged`);
        if (own.readOnlyRootFilesystem !== true) breaches.push(`${at}: root filesystem is writable`);
        const caps = dict(own.capabilities);
        if (!list(caps.drop).includes('ALL')) breaches.push(`${at}: capabilities not dropped (drop: [ALL])`);
        if (list(caps.add).length) breaches.push(`${at}: adds capabilities ${JSON.stringify(caps.add)}`);
        const resources = dict(c.resources);
        for (const kind of ['requests', 'limits']) {
          for (const resource of ['cpu', 'memory']) {
            if (dict(resources[kind])[resource] === undefined) breaches.push(`${at}: no ${resource} ${kind}`);
          }
        }
        for (const p of list(c.ports).map(dict)) {
          if (p.hostPort !== undefined) breaches.push(`${at}: hostPort ${String(p.hostPort)}`);
        }
      }
    }
    if (o.kind === 'Service') {
      const spec = dict(o.spec);
      const exposed = EXPOSED_TYPES.has(String(spec.type)) || list(spec.externalIPs).length > 0;
      if (!exposed) continue;
      const selector = dict(spec.selector);
      const gatewayClients =
        selector['app.kubernetes.io/component'] === 'gateway' &&
        selector['app.kubernetes.io/instance'] === RELEASE &&
        list(spec.ports).every((p) => dict(p).targetPort === 'clients');
      if (!gatewayClients) {
        breaches.push(
          `${where}: exposed outside the cluster (${String(spec.type)}) but is not the gateway's client Service`,
        );
      }
    }
  }
  return breaches;
}
