/**
 * What `deploy:promote` and `deploy:status` do to and read from a Worker Deployment, as functions
 * the tests call too: which build takes new orders (current, or ramping by a percentage), and how
 * many orders are still open on each build. Orders are pinned (workflows/order.ts), so an open
 * order stays on the build it started on: a build may be stopped once it has none left.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  describeRouting,
  hasGrpcStatus,
  routingOf,
  visibilityVersionOf,
  type DeploymentRouting,
} from '../../worker/versioning';

type WorkflowService = temporal.api.workflowservice.v1.WorkflowService;

/** A promotion that cannot be done as asked (unknown deployment or build, a ramp of the current build). */
export class PromoteError extends Error {
  override name = 'PromoteError';
}

export interface DeploymentTarget {
  service: WorkflowService;
  namespace: string;
  deploymentName: string;
  /** Recorded by Temporal as who changed the routing. */
  identity: string;
}

async function routingForChange(target: DeploymentTarget, buildId: string): Promise<DeploymentRouting> {
  const routing = await describeRouting(target.service, target.namespace, target.deploymentName);
  if (!routing)
    throw new PromoteError(
      `Temporal knows no deployment "${target.deploymentName}" in namespace ${target.namespace}: ` +
        'no worker with that WORKER_DEPLOYMENT_NAME has polled yet',
    );
  if (!routing.buildIds.includes(buildId))
    throw new PromoteError(
      `build ${buildId} has never polled in deployment "${target.deploymentName}" ` +
        `(its builds: ${routing.buildIds.join(', ') || 'none'}): start its workers first`,
    );
  return routing;
}

/** The change a promotion made: the routing before it, so the caller can say what moved. */
export interface PromoteResult {
  before: DeploymentRouting;
}

/**
 * Makes `buildId` the current build: every new order goes to it (a ramp of it ends). Orders open on
 * the previous current build stay there (pinned). Temporal refuses a build none of whose workers
 * polls right now, so new orders never go to a build that cannot run them.
 */
export async function setCurrentBuild(target: DeploymentTarget, buildId: string): Promise<PromoteResult> {
  const before = await routingForChange(target, buildId);
  if (before.current === buildId) return { before };
  try {
    await target.service.setWorkerDeploymentCurrentVersion({
      namespace: target.namespace,
      deploymentName: target.deploymentName,
      buildId,
      conflictToken: before.conflictToken,
      identity: target.identity,
    });
  } catch (err) {
    // A worker registers each task queue it polls (workflows, activities) on its own first poll, so
    // for a moment after it starts a build may be known with only some of the current build's
    // queues; Temporal then refuses it rather than leave a queue without a versioned worker.
    if (hasGrpcStatus(err, GrpcStatus.FAILED_PRECONDITION) && /missing active task queues/.test((err as Error).message))
      throw new PromoteError(
        `build ${buildId} does not poll every task queue of the current build ${before.current ?? ''} yet: ` +
          'wait until its workers have started (or start the missing ones), then promote again',
      );
    throw err;
  }
  return { before };
}

/**
 * Hands new orders back to unversioned workers (leaving versioning, or a development stack going
 * back to a plain `npm start`). Orders pinned to a build still finish on that build.
 */
export async function setCurrentUnversioned(target: DeploymentTarget): Promise<PromoteResult> {
  const before = await describeRouting(target.service, target.namespace, target.deploymentName);
  if (!before)
    throw new PromoteError(`Temporal knows no deployment "${target.deploymentName}" in namespace ${target.namespace}`);
  if (before.current !== undefined)
    await target.service.setWorkerDeploymentCurrentVersion({
      namespace: target.namespace,
      deploymentName: target.deploymentName,
      buildId: '',
      conflictToken: before.conflictToken,
      identity: target.identity,
    });
  return { before };
}

/**
 * Sends `percentage` % of new orders to `buildId` and the rest to the current build (Temporal picks
 * by workflow id, so a given order id always lands on the same side). 0 keeps it ramping with no traffic.
 */
export async function rampBuild(target: DeploymentTarget, buildId: string, percentage: number): Promise<PromoteResult> {
  if (!(percentage >= 0 && percentage <= 100)) throw new PromoteError(`a ramp is 0-100 %, not ${percentage}`);
  const before = await routingForChange(target, buildId);
  if (before.current === buildId)
    throw new PromoteError(`build ${buildId} is already current: it takes every new order, there is nothing to ramp`);
  await target.service.setWorkerDeploymentRampingVersion({
    namespace: target.namespace,
    deploymentName: target.deploymentName,
    buildId,
    percentage,
    conflictToken: before.conflictToken,
    identity: target.identity,
  });
  return { before };
}

export type BuildState = 'current' | 'ramping' | 'draining' | 'drained' | 'inactive';

export interface BuildStatus {
  buildId: string;
  /** What Temporal reports for the build; "draining" / "drained" lag by its drainage check (minutes). */
  state: BuildState;
  /** For the ramping build: the share of new orders it takes. */
  rampPercentage?: number;
  /** Open runs pinned to this build, counted in visibility now: the build may stop at 0. */
  openOrders: number;
}

export interface DeploymentStatus {
  deploymentName: string;
  current?: string;
  builds: BuildStatus[];
}

const STATES: Record<number, BuildState> = {
  [temporal.api.enums.v1.WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT]: 'current',
  [temporal.api.enums.v1.WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING]: 'ramping',
  [temporal.api.enums.v1.WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING]: 'draining',
  [temporal.api.enums.v1.WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED]: 'drained',
};

/** Open runs pinned to a build, from visibility (which trails a start or an end by a moment). */
export async function openRunsOn(client: Client, deploymentName: string, buildId: string): Promise<number> {
  const version = visibilityVersionOf({ deploymentName, buildId });
  const { count } = await client.workflow.count(
    `TemporalWorkerDeploymentVersion = '${version}' AND ExecutionStatus = 'Running'`,
  );
  return count;
}

/** Every build of the deployment with its state and open orders; undefined when Temporal knows no such deployment. */
export async function deploymentStatus(
  client: Client,
  namespace: string,
  deploymentName: string,
): Promise<DeploymentStatus | undefined> {
  let described;
  try {
    described = await client.workflowService.describeWorkerDeployment({ namespace, deploymentName });
  } catch (err) {
    if (hasGrpcStatus(err, GrpcStatus.NOT_FOUND)) return undefined;
    throw err;
  }
  const routing = routingOf(described);
  const summaries = described.workerDeploymentInfo?.versionSummaries ?? [];
  const builds: BuildStatus[] = [];
  for (const buildId of routing.buildIds) {
    const summary = summaries.find((s) => s.deploymentVersion?.buildId === buildId);
    const state = STATES[summary?.status ?? 0] ?? 'inactive';
    builds.push({
      buildId,
      state,
      ...(routing.ramping?.buildId === buildId ? { rampPercentage: routing.ramping.percentage } : {}),
      openOrders: await openRunsOn(client, deploymentName, buildId),
    });
  }
  return { deploymentName, ...(routing.current ? { current: routing.current } : {}), builds };
}
