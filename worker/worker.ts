/** Builds the order worker: the processOrder workflow plus activities over the given providers. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker, WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createActivities } from '../activities';
import { FAILURE_CONVERTER_PATH } from '../common/codec';
import type { Providers } from '../activities/providers';
import type { StatusPublisher } from '../activities/status-publisher';
import { TASK_QUEUE } from '../common/names';
import { tracing } from '../common/tracing';
import { buildIdOf, versionedWorkerOptions, type WorkerDeploymentVersion } from './versioning';

export interface OrderWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The app's data converter (common/codec dataConverterOf): payloads sealed per customer, or in clear. */
  dataConverter: DataConverter;
  providers: Providers;
  statusPublisher: StatusPublisher;
  taskQueue?: string;
  /**
   * Prebuilt workflow bundle (tests bundle once per file). Otherwise the one `npm run build` wrote
   * next to the compiled code (dist/workflow-bundle.js) when there is one, else workflows/ is
   * bundled at start (development, through tsx). With tracing on, a given bundle must include the
   * workflow tracing interceptors (WORKFLOW_TRACING_MODULES).
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * The deployment version this worker polls as (Worker Deployment Versioning, worker/versioning.ts);
   * undefined: it polls unversioned, as every worker did before versioning.
   */
  deployment?: WorkerDeploymentVersion;
  /** The worker's identity in histories (the SDK's default: pid@host). */
  identity?: string;
  tuning?: Partial<
    Pick<
      WorkerOptions,
      'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'
    >
  >;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * The workflow-side OpenTelemetry interceptors (run, timers and activity schedules as spans, the
 * context carried on in Temporal headers). They live in the workflow bundle, so the bundle is
 * made with them only when tracing is on: off, a workflow runs no tracing code at all.
 */
export const WORKFLOW_TRACING_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/** File names of the prebuilt bundles in dist/ (worker/build-bundle.ts writes both). */
export const PREBUILT_BUNDLE_FILE = 'workflow-bundle.js';
export const PREBUILT_TRACED_BUNDLE_FILE = 'workflow-bundle-traced.js';
/** In dist/: the build id of PREBUILT_BUNDLE_FILE, one line (what a versioned worker of this build polls as). */
export const BUILD_ID_FILE = 'build-id';

/** The bundle `npm run build` made for this compiled code, if this code is the compiled one. */
export function prebuiltBundlePath(traced = tracing() !== undefined): string | undefined {
  const file = path.join(__dirname, '..', traced ? PREBUILT_TRACED_BUNDLE_FILE : PREBUILT_BUNDLE_FILE);
  return __filename.endsWith('.js') && fs.existsSync(file) ? file : undefined;
}

function workflowSource(opts: OrderWorkerOptions): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (opts.workflowBundle) return { workflowBundle: opts.workflowBundle };
  const prebuilt = prebuiltBundlePath();
  return prebuilt ? { workflowBundle: { codePath: prebuilt } } : { workflowsPath: WORKFLOWS_PATH };
}

/**
 * With tracing on: each activity attempt is a span under the workflow's schedule span (its context
 * comes in the activity's Temporal headers, so an attempt on another worker joins the same trace),
 * and the workflow's own spans leave the sandbox through a sink into this process's span processor.
 * Sinks are not called while a workflow replays, so a run replayed on another worker exports no
 * span twice; its span ids are deterministic, so what it exports later still links up.
 */
function tracingOptions(bundled: boolean): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const t = tracing();
  if (!t) return {};
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      ...(bundled ? {} : { workflowModules: WORKFLOW_TRACING_MODULES }),
    },
    sinks: { exporter: makeWorkflowExporter(t.processor, t.resource) },
  };
}

/**
 * The deployment version of a worker configured with WORKER_DEPLOYMENT_NAME: the build id set
 * (WORKER_BUILD_ID), else the hash of the untraced workflow bundle, the prebuilt one next to compiled
 * code or one bundled now from workflows/. The untraced bundle is hashed even with tracing on, so
 * turning tracing on does not make the same workflow code another version (the tracing interceptors
 * add no commands). A bundle made here is returned for the worker to run, so it is not made twice.
 */
export async function deploymentVersionFor(setting: {
  deploymentName: string;
  buildId?: string;
}): Promise<{ version: WorkerDeploymentVersion; workflowBundle?: WorkerOptions['workflowBundle'] }> {
  const { deploymentName } = setting;
  if (setting.buildId) return { version: { deploymentName, buildId: setting.buildId } };
  const prebuilt = prebuiltBundlePath(false);
  const code = prebuilt
    ? fs.readFileSync(prebuilt, 'utf8')
    : (await bundleWorkflowCode({ ...workflowBundleOptions(), logger: Runtime.instance().logger })).code;
  const version = { deploymentName, buildId: buildIdOf(code) };
  if (tracing()) return { version };
  return { version, workflowBundle: prebuilt ? { codePath: prebuilt } : { code } };
}

/**
 * What every workflow bundle of the app is made with: the workflows module and the app's failure
 * converter (common/codec/failure-converter: failure messages sealed by the codec). Bundles made
 * elsewhere (npm run build, deploy:check) use this too, so one code has one build id.
 */
export function workflowBundleOptions(workflowsPath: string = WORKFLOWS_PATH): {
  workflowsPath: string;
  failureConverterPath: string;
} {
  return { workflowsPath, failureConverterPath: FAILURE_CONVERTER_PATH };
}

export function createOrderWorker(opts: OrderWorkerOptions): Promise<Worker> {
  const source = workflowSource(opts);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    dataConverter: opts.dataConverter,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    ...(opts.deployment ? { workerDeploymentOptions: versionedWorkerOptions(opts.deployment) } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...source,
    ...tracingOptions(source.workflowBundle !== undefined),
    activities: createActivities(opts.providers, opts.statusPublisher),
    // A workflow task waits this long on a (possibly killed) worker's sticky queue before going to
    // the shared one: 3 s rather than the SDK's 10 s, so a timer that fires while its worker is
    // dead is picked up by another within seconds. A live worker takes its tasks well within it.
    stickyQueueScheduleToStartTimeout: '3s',
    ...opts.tuning,
  });
}
