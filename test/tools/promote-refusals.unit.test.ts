// How setCurrentBuild (npm run deploy:promote) reads Temporal's refusals: a build that does not
// poll every task queue of the current build yet is a PromoteError saying to wait for its workers
// (the rollout test and an operator promoting right after a start retry or wait on it), while any
// other refusal is passed on as Temporal's own error.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { PromoteError, setCurrentBuild, type DeploymentTarget } from '../../tools/deploy/routing';

/** A workflow service whose deployment knows builds A (current) and B, and whose promotion fails with `refusal`. */
function target(refusal: Error & { code?: number }): DeploymentTarget {
  const service = {
    describeWorkerDeployment: async () => ({
      workerDeploymentInfo: {
        routingConfig: { currentDeploymentVersion: { buildId: 'A' } },
        versionSummaries: [{ deploymentVersion: { buildId: 'A' } }, { deploymentVersion: { buildId: 'B' } }],
      },
      conflictToken: new Uint8Array([1]),
    }),
    setWorkerDeploymentCurrentVersion: async () => {
      throw refusal;
    },
  };
  return {
    service: service as unknown as DeploymentTarget['service'],
    namespace: 'ns',
    deploymentName: 'orders',
    identity: 'test',
  };
}

const grpcError = (code: number, message: string): Error & { code: number } =>
  Object.assign(new Error(`${code} ${message}`), { code });

describe('promoting a build Temporal refuses', () => {
  test('a build missing some of the current build task queues: a PromoteError that says to wait for its workers', async () => {
    const refusal = grpcError(
      GrpcStatus.FAILED_PRECONDITION,
      "proposed current version 'orders:B' is missing active task queues from the current version",
    );
    const promoted = setCurrentBuild(target(refusal), 'B');
    await expect(promoted).rejects.toBeInstanceOf(PromoteError);
    await expect(promoted).rejects.toThrow(/build B does not poll every task queue of the current build A yet/);
  });

  test('any other refusal is Temporal own error, unchanged', async () => {
    const other = grpcError(GrpcStatus.FAILED_PRECONDITION, 'conflict token does not match');
    await expect(setCurrentBuild(target(other), 'B')).rejects.toBe(other);
    const denied = grpcError(GrpcStatus.PERMISSION_DENIED, 'missing active task queues');
    await expect(setCurrentBuild(target(denied), 'B')).rejects.toBe(denied);
  });
});
