/**
 * Worker Deployment Versioning for the order worker (docs/DEPLOYING.md, "Rolling out a workflow
 * change"). A versioned worker declares a deployment name and a build id; Temporal then pins each
 * processOrder run to the build it started on (versionedWorkerOptions) and routes new runs to
 * the deployment's current build, which an operator moves with `npm run deploy:promote`.
 *
 *  - buildIdOf: the build id of a workflow bundle, derived from its bytes, so identical workflow code
 *    is one version and any change to it is another, with nothing typed by hand.
 *  - versionedWorkerOptions: the SDK's workerDeploymentOptions for a version.
 *  - becomeCurrentIfNone: the first versioned worker of a deployment makes its build current, since
 *    until a deployment has a current build, Temporal hands new runs only to unversioned workers.
 */
import { createHash } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { WorkerDeploymentOptions } from '@temporalio/worker';

export type { WorkerDeploymentVersion };
type WorkflowService = temporal.api.workflowservice.v1.WorkflowService;
type DescribeResponse = temporal.api.workflowservice.v1.DescribeWorkerDeploymentResponse;

/** Hex digits of the bundle's SHA-256 kept in a build id: 64 bits, short enough for a resource name. */
const BUILD_ID_HEX_DIGITS = 16;

/**
 * The build id of a workflow bundle: the first 16 hex digits of its SHA-256. The bundle holds the
 * workflow code and everything it imports (with the paths it was bundled from), so the id changes
 * exactly when what Temporal replays could change; an activity-only change keeps the version.
 */
export function buildIdOf(bundleCode: string | Buffer): string {
  return createHash('sha256').update(bundleCode).digest('hex').slice(0, BUILD_ID_HEX_DIGITS);
}

/**
 * The SDK's deployment options for a version: versioned polling, and every run PINNED to the build
 * it started on. processOrder gets its behaviour from this default rather than from
 * `setWorkflowOptions` in workflows/: Temporal refuses a workflow task that names a behaviour from an
 * unversioned worker, and the same workflow code runs on both (npm start and the tests poll
 * unversioned). Why pinned: docs/DESIGN.md, "Versions of the workflow".
 */
export function versionedWorkerOptions(version: WorkerDeploymentVersion): WorkerDeploymentOptions {
  return { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' };
}

/** How Temporal names a version in visibility (`TemporalWorkerDeploymentVersion`): `<deployment>:<build id>`. */
export function visibilityVersionOf(version: WorkerDeploymentVersion): string {
  return `${version.deploymentName}:${version.buildId}`;
}

/** Whether a Temporal call failed with this gRPC status (the client's and the worker's connections both set `code`). */
export function hasGrpcStatus(err: unknown, code: GrpcStatus): boolean {
  return (err as { code?: unknown } | undefined)?.code === code;
}

/** A deployment's routing as the deploy tools and the worker read it. */
export interface DeploymentRouting {
  /** The current build id; undefined while new runs still go to unversioned workers. */
  current?: string;
  ramping?: { buildId: string; percentage: number };
  /** Every build id that has polled (or been registered) in the deployment, oldest first. */
  buildIds: string[];
  /** Passed back on a change so it fails if someone else changed the routing in between. */
  conflictToken: Uint8Array;
}

export function routingOf(described: DescribeResponse): DeploymentRouting {
  const info = described.workerDeploymentInfo;
  const routing = info?.routingConfig;
  const ramping = routing?.rampingDeploymentVersion?.buildId;
  const versions = [...(info?.versionSummaries ?? [])].sort(
    (a, b) => Number(a.createTime?.seconds ?? 0) - Number(b.createTime?.seconds ?? 0),
  );
  return {
    ...(routing?.currentDeploymentVersion?.buildId ? { current: routing.currentDeploymentVersion.buildId } : {}),
    ...(ramping ? { ramping: { buildId: ramping, percentage: routing?.rampingVersionPercentage ?? 0 } } : {}),
    buildIds: versions.flatMap((v) => (v.deploymentVersion?.buildId ? [v.deploymentVersion.buildId] : [])),
    conflictToken: described.conflictToken,
  };
}

/** The deployment's routing, or undefined when Temporal knows no such deployment (no worker of it has polled yet). */
export async function describeRouting(
  service: WorkflowService,
  namespace: string,
  deploymentName: string,
): Promise<DeploymentRouting | undefined> {
  try {
    return routingOf(await service.describeWorkerDeployment({ namespace, deploymentName }));
  } catch (err) {
    if (hasGrpcStatus(err, GrpcStatus.NOT_FOUND)) return undefined;
    throw err;
  }
}

/**
 * The deployment version a task queue hands new runs to, if any. Once a versioned build was current
 * on a queue, new runs keep going to that deployment's current build even when none of its workers
 * is left; unversioned workers get them again only after `npm run deploy:promote -- --unversioned`.
 */
export async function currentVersionOfQueue(
  service: WorkflowService,
  namespace: string,
  taskQueue: string,
): Promise<WorkerDeploymentVersion | undefined> {
  const described = await service.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const current = described.versioningInfo?.currentDeploymentVersion;
  return current?.buildId && current.deploymentName
    ? { deploymentName: current.deploymentName, buildId: current.buildId }
    : undefined;
}

export type BootstrapOutcome =
  | { outcome: 'made-current' }
  | { outcome: 'already-current' }
  | { outcome: 'other-current'; current: string }
  | { outcome: 'stopped' };

export interface BootstrapOptions {
  service: WorkflowService;
  namespace: string;
  version: WorkerDeploymentVersion;
  identity: string;
  /** Aborted when the worker stops: the attempts end. */
  signal: AbortSignal;
  log: (level: 'info' | 'warn', message: string) => void;
  /** First pause between attempts (doubling to 5 s). */
  initialBackoffMs?: number;
}

const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

/**
 * Makes this worker's build the deployment's current one if the deployment has none, and changes
 * nothing otherwise: a later build waits for `npm run deploy:promote` (after the replay gate), so
 * starting a new build never moves new orders by itself. The version exists only once this worker
 * has polled, so this runs beside `worker.run()` and retries (200 ms doubling to 5 s) until the
 * version is registered; the change carries the describe's conflict token, so of two first builds
 * starting at once one wins and the other finds it current. Never rejects: failures are logged and
 * retried until the signal aborts.
 */
export async function becomeCurrentIfNone(opts: BootstrapOptions): Promise<BootstrapOutcome> {
  const { service, namespace, version, signal } = opts;
  let backoff = opts.initialBackoffMs ?? 200;
  while (!signal.aborted) {
    try {
      const routing = await describeRouting(service, namespace, version.deploymentName);
      if (routing?.current === version.buildId) return { outcome: 'already-current' };
      if (routing?.current) return { outcome: 'other-current', current: routing.current };
      if (routing?.buildIds.includes(version.buildId)) {
        await service.setWorkerDeploymentCurrentVersion({
          namespace,
          deploymentName: version.deploymentName,
          buildId: version.buildId,
          conflictToken: routing.conflictToken,
          identity: opts.identity,
        });
        opts.log(
          'info',
          `no build was current in deployment ${version.deploymentName}: made ${version.buildId} current`,
        );
        return { outcome: 'made-current' };
      }
      // Not registered yet: the worker's first poll has not reached the server.
    } catch (err) {
      // A conflict (someone changed the routing since the describe) is settled by the next describe.
      if (!hasGrpcStatus(err, GrpcStatus.ABORTED) && !hasGrpcStatus(err, GrpcStatus.FAILED_PRECONDITION))
        opts.log('warn', `could not check the current build of ${version.deploymentName}: ${(err as Error).message}`);
    }
    await abortableSleep(backoff, signal);
    backoff = Math.min(backoff * 2, 5_000);
  }
  return { outcome: 'stopped' };
}
