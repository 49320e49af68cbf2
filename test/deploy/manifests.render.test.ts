/**
 * The Kubernetes manifests (deploy/helm/order-orchestrator), rendered with the pinned Helm for the
 * chart's defaults and for ci/full-values.yaml (every option on): they pass the Kubernetes API schemas
 * (kubernetes-validate, strict) of the oldest and newest release the chart targets, and the policies
 * of docs/SECURITY.md and docs/DEPLOYING.md: no container as root, requests and limits everywhere,
 * only the gateway's client Service exposed, NetworkPolicies as the threat model draws them, a drain
 * that matches the processes', the bridge within order-placement's partitions, a worker Deployment
 * per build, the order history serving nothing but its probes and metrics. Each policy check is also
 * shown to go red on a manifest that breaks it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { VARIABLE_NAMES, VARIABLES } from '../../common/env-variables';
import { TOPIC_PARTITIONS, TOPICS } from '../../common/names';
import { SHUTDOWN_GRACE_MS } from '../../common/shutdown';
import {
  CHART_DIR,
  containersOf,
  componentOf,
  dict,
  Dict,
  environmentOf,
  FULL_VALUES,
  K8sObject,
  KUBE_VERSIONS,
  list,
  named,
  objectsOf,
  ofKind,
  podSpecOf,
  policyBreaches,
  RELEASE,
  render,
  renderError,
  renderYaml,
  schemaErrors,
} from '../helpers/manifests';

const DEFAULTS = parse(fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Dict;
const APPS = ['gateway', 'bridge', 'worker', 'history'] as const;
/** The apps that talk to each server, and so may reach it when it runs in the namespace. */
const USERS_OF = { kafka: APPS, temporal: ['gateway', 'bridge', 'worker'] } as const;
/** The apps that read the order history's database (listOrders in the gateway). */
const DATABASE_READERS = ['gateway', 'history'];
const FULL = `${RELEASE}-order-orchestrator`;

/** Variables the manifests may set that the env table does not have (none: every name is a row). */
const PENDING_VARIABLES: string[] = [];

const cases: Record<string, { valuesFiles: string[] }> = {
  defaults: { valuesFiles: [] },
  'full-values': { valuesFiles: [FULL_VALUES] },
};
const rendered: Record<string, { yaml: string; objects: K8sObject[] }> = {};

beforeAll(async () => {
  for (const [name, opts] of Object.entries(cases)) {
    const yaml = await renderYaml(opts);
    rendered[name] = { yaml, objects: objectsOf(yaml) };
  }
});

const workloads = (objects: K8sObject[]): K8sObject[] => objects.filter((o) => podSpecOf(o) !== undefined);
const clone = <T>(value: T): T => structuredClone(value);

/** The labels of a workload's pods. */
const podLabelsOf = (o: K8sObject): Dict => dict(dict(dict(o.spec).template).metadata).labels as Dict;

/** Whether a label selector (matchLabels, and matchExpressions with In / NotIn) selects pods with these labels. */
function selects(selector: unknown, labels: Dict): boolean {
  const { matchLabels, matchExpressions } = dict(selector);
  const byLabel = Object.entries(dict(matchLabels)).every(([k, v]) => labels[k] === v);
  const byExpression = list(matchExpressions)
    .map(dict)
    .every((e) => {
      const has = list(e.values).includes(labels[String(e.key)]);
      return e.operator === 'In' ? has : e.operator === 'NotIn' ? !has : false;
    });
  return byLabel && byExpression;
}

describe('rendering and the Kubernetes API schemas', () => {
  test.each(Object.keys(cases).flatMap((c) => KUBE_VERSIONS.map((v) => [c, v] as const)))(
    'the chart rendered with %s passes the Kubernetes %s API schemas (strict: unknown fields refused)',
    async (name, version) => {
      const { yaml, objects } = rendered[name];
      expect(objects.length).toBeGreaterThan(10);
      expect(await schemaErrors(yaml, version)).toEqual([]);
    },
  );

  test('the schema check refuses an unknown field and a wrong type, as the API server would', async () => {
    const broken = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'typo' },
      spec: { selectr: { app: 'x' }, ports: [{ port: 'eighty' }] },
    };
    const yaml = await renderYaml({ args: ['--set-json', `extraObjects=${JSON.stringify([broken])}`] });
    const errors = (await schemaErrors(yaml, KUBE_VERSIONS[0])).join('\n');
    expect(errors).toMatch(/service\/typo/);
    expect(errors).toMatch(/selectr|eighty/);
  });

  test('values the chart does not know, or that break a rule of its own, stop rendering with a message naming them', async () => {
    expect(await renderError({ args: ['--set', 'gateway.replica=3'] })).toMatch(/'replica' not allowed/);
    expect(await renderError({ args: ['--set', 'gateway.env.GATEWAY_PORT=4000'] })).toMatch(
      /gateway\.env\.GATEWAY_PORT: the chart sets GATEWAY_PORT itself/,
    );
    expect(await renderError({ args: ['--set', 'secret.create=true'] })).toMatch(
      /secret\.values\.gatewayKafkaPassword is needed/,
    );
    expect(await renderError({ kubeVersion: '1.29.0' })).toMatch(/requires kubeVersion/);
    // A credential would land in a ConfigMap: only the Secret may hold it.
    expect(await renderError({ args: ['--set', 'history.env.DATABASE_URL=postgresql://u:p@db/h'] })).toMatch(
      /history\.env\.DATABASE_URL: a credential, read from the Secret/,
    );
    expect(await renderError({ args: ['--set', 'config.KAFKA_SASL_PASSWORD=hunter2'] })).toMatch(
      /config\.KAFKA_SASL_PASSWORD: a credential, read from the Secret/,
    );
    expect(
      await renderError({
        args: ['--set', 'secret.create=true', '--set', 'kafka.saslMechanism=', '--set', 'secret.values.databaseUrl='],
      }),
    ).toMatch(/secret\.values\.databaseUrl is needed/);
  });
});

describe('policies (docs/SECURITY.md)', () => {
  test.each(Object.keys(cases))(
    "%s: no container runs as root or can gain privileges, each has CPU and memory requests and limits, and no Service but the gateway's client Service is exposed",
    (name) => {
      const { objects } = rendered[name];
      expect(new Set(workloads(objects).map(componentOf))).toEqual(new Set(APPS));
      expect(policyBreaches(objects)).toEqual([]);
    },
  );

  test('the full values expose the gateway on a LoadBalancer, which the policy allows for its client port only', () => {
    const service = named(rendered['full-values'].objects, 'Service', `${FULL}-gateway`);
    expect(dict(service.spec).type).toBe('LoadBalancer');
    expect(list(dict(service.spec).ports).map((p) => dict(p).targetPort)).toEqual(['clients']);
    // The same Service leading to the admin port as well is a breach.
    const widened = clone(service);
    list(dict(widened.spec).ports).push({ name: 'admin', port: 3003, targetPort: 'admin' });
    expect(policyBreaches([widened])).toEqual([
      `Service/${FULL}-gateway: exposed outside the cluster (LoadBalancer) but is not the gateway's client Service`,
    ]);
  });

  test('goes red on a container running as root', async () => {
    const objects = await render({ args: ['--set', 'containerSecurityContext.runAsUser=0'] });
    const breaches = policyBreaches(objects);
    for (const w of workloads(objects)) {
      for (const c of containersOf(podSpecOf(w) ?? {})) {
        expect(breaches).toContain(
          `Deployment/${w.metadata.name} container ${String(c.name)}: runs as root (runAsUser 0)`,
        );
      }
    }
    const noCheck = await render({
      args: ['--set', 'containerSecurityContext.runAsNonRoot=false', '--set', 'podSecurityContext.runAsNonRoot=false'],
    });
    expect(policyBreaches(noCheck)).toContain(`Deployment/${FULL}-bridge container bridge: runAsNonRoot is not true`);
    expect(policyBreaches(noCheck)).toContain(`Deployment/${FULL}-history container history: runAsNonRoot is not true`);
  });

  test('goes red on a container without limits (and the chart refuses to render one)', async () => {
    expect(await renderError({ args: ['--set', 'bridge.resources.limits=null'] })).toMatch(
      /\/bridge\/resources.*missing property 'limits'/,
    );
    const bridge = clone(named(rendered.defaults.objects, 'Deployment', `${FULL}-bridge`));
    delete dict(containersOf(podSpecOf(bridge) ?? {})[0].resources).limits;
    expect(policyBreaches([bridge])).toEqual([
      `Deployment/${FULL}-bridge container bridge: no cpu limits`,
      `Deployment/${FULL}-bridge container bridge: no memory limits`,
    ]);
    expect(await renderError({ args: ['--set', 'history.resources.limits=null'] })).toMatch(
      /\/history\/resources.*missing property 'limits'/,
    );
    const history = clone(named(rendered.defaults.objects, 'Deployment', `${FULL}-history`));
    delete dict(dict(containersOf(podSpecOf(history) ?? {})[0].resources).requests).memory;
    expect(policyBreaches([history])).toEqual([`Deployment/${FULL}-history container history: no memory requests`]);
  });

  test('goes red on a public Service for Kafka', async () => {
    const kafka = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kafka-public' },
      spec: { type: 'LoadBalancer', selector: { 'app.kubernetes.io/name': 'kafka' }, ports: [{ port: 9094 }] },
    };
    const objects = await render({ args: ['--set-json', `extraObjects=${JSON.stringify([kafka])}`] });
    expect(policyBreaches(objects)).toEqual([
      "Service/kafka-public: exposed outside the cluster (LoadBalancer) but is not the gateway's client Service",
    ]);
    const nodePort = { ...kafka, spec: { ...kafka.spec, type: 'NodePort' } };
    expect(policyBreaches(objectsOf(JSON.stringify(nodePort)))).toHaveLength(1);
  });

  test("NetworkPolicies: every app pod denies ingress by default; only the gateway's client port is open to anyone; admin ports only to the scrapers", () => {
    for (const name of Object.keys(cases)) {
      const { objects } = rendered[name];
      const policies = ofKind(objects, 'NetworkPolicy');
      const deny = named(objects, 'NetworkPolicy', `${FULL}-deny-ingress`);
      expect(dict(deny.spec).podSelector).toEqual({
        matchLabels: { 'app.kubernetes.io/name': 'order-orchestrator', 'app.kubernetes.io/instance': RELEASE },
      });
      expect(dict(deny.spec).policyTypes).toEqual(['Ingress']);
      expect(dict(deny.spec).ingress).toBeUndefined();
      // Rules that admit anyone: no `from` at all. Only the gateway's client port may have one.
      const open = policies.flatMap((p) =>
        list(dict(p.spec).ingress)
          .map(dict)
          .filter((rule) => rule.from === undefined)
          .map((rule) => ({
            pods: dict(dict(dict(p.spec).podSelector).matchLabels)['app.kubernetes.io/component'],
            ports: list(rule.ports).map((port) => dict(port).port),
          })),
      );
      const expectedOpen = name === 'defaults' ? [{ pods: 'gateway', ports: ['clients'] }] : [];
      expect({ name, open }).toEqual({ name, open: expectedOpen });
    }
    const full = rendered['full-values'].objects;
    const clients = dict(list(dict(named(full, 'NetworkPolicy', `${FULL}-gateway-clients`).spec).ingress)[0]);
    expect(clients.ports).toEqual([{ port: 'clients', protocol: 'TCP' }]);
    const metrics = dict(list(dict(named(full, 'NetworkPolicy', `${FULL}-metrics`).spec).ingress)[0]);
    expect(list(metrics.ports).map((p) => dict(p).port)).toEqual(['admin', 'metrics']);
    expect(metrics.from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
  });

  test('the order history serves nothing: no Service, no port but its admin port, and no policy admits anyone to its pods but the scrapers there', () => {
    for (const name of Object.keys(cases)) {
      const { objects } = rendered[name];
      const history = named(objects, 'Deployment', `${FULL}-history`);
      const labels = podLabelsOf(history);
      const [container] = containersOf(podSpecOf(history) ?? {});
      expect({ name, ports: list(container.ports).map((p) => dict(p).name) }).toEqual({ name, ports: ['admin'] });
      expect({
        name,
        services: ofKind(objects, 'Service').filter((svc) => selects({ matchLabels: dict(svc.spec).selector }, labels)),
      }).toEqual({ name, services: [] });
      // Every policy selecting its pods, and what each lets in.
      const admitted = ofKind(objects, 'NetworkPolicy')
        .filter((p) => selects(dict(p.spec).podSelector, labels))
        .map((p) => ({
          policy: p.metadata.name,
          ingress: list(dict(p.spec).ingress).map((rule) => ({
            ports: list(dict(rule).ports).map((port) => dict(port).port),
            from: dict(rule).from,
          })),
        }));
      const scrapers =
        name === 'full-values'
          ? [
              {
                policy: `${FULL}-metrics`,
                ingress: [
                  {
                    ports: ['admin', 'metrics'],
                    from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
                  },
                ],
              },
            ]
          : [];
      expect({ name, admitted }).toEqual({
        name,
        admitted: [{ policy: `${FULL}-deny-ingress`, ingress: [] }, ...scrapers],
      });
    }
  });

  test.each(['kafka', 'temporal'] as const)(
    '%s in the namespace is reachable only from the apps that use it (its own pods and the named extras aside)',
    (server) => {
      const values = parse(fs.readFileSync(FULL_VALUES, 'utf8')) as Dict;
      const wanted = dict(dict(values.networkPolicy)[server]);
      const policy = named(rendered['full-values'].objects, 'NetworkPolicy', `${FULL}-${server}-from-apps`);
      const spec = dict(policy.spec);
      expect(spec.podSelector).toEqual(wanted.podSelector);
      const [fromApps, fromItself, ...others] = list(spec.ingress).map(dict);
      expect(others).toEqual([]);
      expect(fromApps.from).toEqual([
        {
          podSelector: {
            matchLabels: { 'app.kubernetes.io/name': 'order-orchestrator', 'app.kubernetes.io/instance': RELEASE },
            matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: [...USERS_OF[server]] }],
          },
        },
        ...list(wanted.extraFrom),
      ]);
      expect(list(fromApps.ports).map((p) => dict(p).port)).toEqual(wanted.ports);
      expect(fromItself.from).toEqual([{ podSelector: wanted.podSelector }]);
      // Without a selector the chart writes no policy for servers it does not know.
      expect(ofKind(rendered.defaults.objects, 'NetworkPolicy').map((p) => p.metadata.name)).not.toContain(
        `${FULL}-${server}-from-apps`,
      );
    },
  );
});

describe('the processes as they must run', () => {
  test('the gateway drains: a preStop sleep, then SIGTERM and its own drain (SHUTDOWN_GRACE_MS) within the grace period; a disruption budget and a CPU autoscaler', () => {
    const objects = rendered.defaults.objects;
    const gateway = named(objects, 'Deployment', `${FULL}-gateway`);
    const pod = podSpecOf(gateway) ?? {};
    const [container] = containersOf(pod);
    const preStop = Number(dict(dict(dict(container.lifecycle).preStop).sleep).seconds);
    expect(preStop).toBeGreaterThan(0);
    const drainSeconds = SHUTDOWN_GRACE_MS / 1000;
    expect(dict(DEFAULTS.gateway).drainSeconds).toBe(drainSeconds);
    expect(dict(DEFAULTS.bridge).drainSeconds).toBe(drainSeconds);
    expect(Number(pod.terminationGracePeriodSeconds)).toBeGreaterThan(preStop + drainSeconds);
    const bridge = podSpecOf(named(objects, 'Deployment', `${FULL}-bridge`)) ?? {};
    expect(Number(bridge.terminationGracePeriodSeconds)).toBeGreaterThan(drainSeconds);
    expect(dict(DEFAULTS.history).drainSeconds).toBe(drainSeconds);
    const history = podSpecOf(named(objects, 'Deployment', `${FULL}-history`)) ?? {};
    expect(Number(history.terminationGracePeriodSeconds)).toBeGreaterThan(drainSeconds);
    // Rolling updates never take a gateway away before its replacement is ready.
    expect(dict(dict(gateway.spec).strategy).rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });

    const selector = dict(dict(gateway.spec).selector).matchLabels;
    const pdb = named(objects, 'PodDisruptionBudget', `${FULL}-gateway`);
    expect(dict(dict(pdb.spec).selector).matchLabels).toEqual(selector);
    expect(dict(pdb.spec).maxUnavailable).toBe(1);
    const hpa = named(objects, 'HorizontalPodAutoscaler', `${FULL}-gateway`);
    expect(dict(hpa.spec).scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: `${FULL}-gateway`,
    });
    expect(list(dict(hpa.spec).metrics).map((m) => dict(dict(m).resource).name)).toEqual(['cpu']);
    // The autoscaler owns the replica count.
    expect(dict(gateway.spec).replicas).toBeUndefined();
  });

  test('the bridge runs no more replicas than order-placement has partitions', async () => {
    const partitions = TOPIC_PARTITIONS[TOPICS.orderPlacement];
    expect(dict(DEFAULTS.kafka).orderPlacementPartitions).toBe(partitions);
    for (const name of Object.keys(cases)) {
      const replicas = Number(dict(named(rendered[name].objects, 'Deployment', `${FULL}-bridge`).spec).replicas);
      expect(replicas).toBeGreaterThan(0);
      expect(replicas).toBeLessThanOrEqual(partitions);
    }
    expect(await renderError({ args: ['--set', `bridge.replicas=${partitions + 1}`] })).toMatch(
      new RegExp(`bridge.replicas is ${partitions + 1}, but order-placement has ${partitions} partitions`),
    );
  });

  test('the order history runs one reader by default, and no more than order-placement and order-status have partitions', async () => {
    const partitions = TOPIC_PARTITIONS[TOPICS.orderPlacement] + TOPIC_PARTITIONS[TOPICS.orderStatus];
    expect(dict(DEFAULTS.kafka).orderStatusPartitions).toBe(TOPIC_PARTITIONS[TOPICS.orderStatus]);
    expect(dict(named(rendered.defaults.objects, 'Deployment', `${FULL}-history`).spec).replicas).toBe(1);
    const full = parse(fs.readFileSync(FULL_VALUES, 'utf8')) as Dict;
    expect(dict(named(rendered['full-values'].objects, 'Deployment', `${FULL}-history`).spec).replicas).toBe(
      dict(full.history).replicas,
    );
    expect(await render({ args: ['--set', `history.replicas=${partitions}`] })).not.toHaveLength(0);
    expect(await renderError({ args: ['--set', `history.replicas=${partitions + 1}`] })).toMatch(
      new RegExp(
        `history.replicas is ${partitions + 1}, but order-placement and order-status have ${partitions} partitions together`,
      ),
    );
  });

  test('one worker Deployment per build, each naming the worker deployment and its build id, side by side', () => {
    const objects = rendered['full-values'].objects;
    const values = dict(parse(fs.readFileSync(FULL_VALUES, 'utf8')) as Dict).worker as Dict;
    const builds = list(values.builds).map(dict);
    const workers = ofKind(objects, 'Deployment').filter((d) => componentOf(d) === 'worker');
    expect(workers.map((w) => w.metadata.name)).toEqual(builds.map((b) => `${FULL}-worker-${String(b.buildId)}`));
    const selectors = workers.map((w) => JSON.stringify(dict(dict(w.spec).selector).matchLabels));
    expect(new Set(selectors).size).toBe(workers.length);
    workers.forEach((worker, i) => {
      const [container] = containersOf(podSpecOf(worker) ?? {});
      const env = environmentOf(objects, container);
      expect(env.get('WORKER_DEPLOYMENT_NAME')).toBe(dict(DEFAULTS.worker).deploymentName);
      expect(env.get('WORKER_BUILD_ID')).toBe(builds[i].buildId);
      expect(String(container.image)).toMatch(new RegExp(`:${String(builds[i].imageTag).replace(/\./g, '\\.')}$`));
      expect(dict(worker.spec).replicas).toBe(builds[i].replicas);
    });
  });

  test.each(Object.keys(cases))(
    '%s: probes ask /livez and /readyz on the admin port, which listens on every interface; no Service leads to it',
    (name) => {
      const { objects } = rendered[name];
      for (const workload of workloads(objects)) {
        const app = componentOf(workload) ?? '';
        const admin = dict(dict(DEFAULTS[app]).admin);
        const [container] = containersOf(podSpecOf(workload) ?? {});
        const env = environmentOf(objects, container);
        expect(env.get(String(admin.hostVariable))).toBe('0.0.0.0');
        const adminPort = list(container.ports)
          .map(dict)
          .find((p) => p.name === 'admin');
        expect(adminPort?.containerPort).toBe(Number(env.get(String(admin.portVariable))));
        for (const [probe, pathWanted] of [
          ['startupProbe', '/livez'],
          ['livenessProbe', '/livez'],
          ['readinessProbe', '/readyz'],
        ]) {
          expect({ probe, get: dict(container[probe]).httpGet }).toEqual({
            probe,
            get: { path: pathWanted, port: 'admin' },
          });
        }
      }
      for (const service of ofKind(objects, 'Service')) {
        expect(list(dict(service.spec).ports).map((p) => dict(p).targetPort)).not.toContain('admin');
      }
    },
  );

  test.each(Object.keys(cases))(
    '%s: settings come from ConfigMaps, credentials only from the Secret, and every variable is one the apps read',
    (name) => {
      const { objects } = rendered[name];
      const known = new Set<string>([...VARIABLE_NAMES, ...PENDING_VARIABLES]);
      const secrets = new Set<string>(VARIABLE_NAMES.filter((v) => (VARIABLES[v] as { secret?: true }).secret));
      for (const map of ofKind(objects, 'ConfigMap')) {
        const keys = Object.keys(dict(map.data));
        expect({ map: map.metadata.name, unknown: keys.filter((k) => !known.has(k)) }).toEqual({
          map: map.metadata.name,
          unknown: [],
        });
        expect({ map: map.metadata.name, secrets: keys.filter((k) => secrets.has(k)) }).toEqual({
          map: map.metadata.name,
          secrets: [],
        });
      }
      const secretName = `${FULL}-credentials`;
      const users = new Set<string>();
      for (const workload of workloads(objects)) {
        const app = componentOf(workload) ?? '';
        const [container] = containersOf(podSpecOf(workload) ?? {});
        for (const e of list(container.env).map(dict)) {
          expect(known.has(String(e.name))).toBe(true);
          if (!secrets.has(String(e.name))) continue;
          // A credential is never a literal: always a reference into the Secret.
          expect({ name: e.name, value: e.value }).toEqual({ name: e.name, value: undefined });
          expect(dict(dict(e.valueFrom).secretKeyRef).name).toBe(secretName);
        }
        const password = list(container.env)
          .map(dict)
          .find((e) => e.name === 'KAFKA_SASL_PASSWORD');
        expect(dict(dict(password?.valueFrom).secretKeyRef).key).toBe(`${app}-kafka-password`);
        users.add(String(environmentOf(objects, container).get('KAFKA_SASL_USERNAME')));
        // The order history's database URL (it may hold a password), only for the apps that read it.
        const database = list(container.env)
          .map(dict)
          .find((e) => e.name === 'DATABASE_URL');
        expect({ app, database: dict(dict(database?.valueFrom).secretKeyRef).key }).toEqual({
          app,
          database: DATABASE_READERS.includes(app) ? 'database-url' : undefined,
        });
      }
      // One Kafka user per app (docs/SECURITY.md).
      expect(users.size).toBe(APPS.length);
      if (name === 'full-values') {
        const secret = named(objects, 'Secret', secretName);
        const referenced = workloads(objects).flatMap((w) =>
          containersOf(podSpecOf(w) ?? {}).flatMap((c) =>
            list(c.env)
              .map((e) => dict(dict(dict(e).valueFrom).secretKeyRef).key)
              .filter((k) => k !== undefined),
          ),
        );
        expect(Object.keys(dict(secret.stringData)).sort()).toEqual([...new Set(referenced)].sort());
      } else {
        // By default the operator brings the Secret: the chart writes none.
        expect(ofKind(objects, 'Secret')).toEqual([]);
      }
    },
  );
});
