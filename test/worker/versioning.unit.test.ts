// The worker's deployment version: its build id derived from the workflow bundle, and the two
// settings that turn versioning on and override the id (checked at start, like every setting).
import { ConfigError } from '../../common/env-variables';
import { loadConfig } from '../../common/config';
import { buildIdOf, versionedWorkerOptions, visibilityVersionOf } from '../../worker/versioning';

describe('build id of a workflow bundle', () => {
  test('is 16 hex digits of its SHA-256: the same for the same bytes, another for any change', () => {
    const code = 'var processOrder = async function () {}';
    expect(buildIdOf(code)).toMatch(/^[0-9a-f]{16}$/);
    expect(buildIdOf(code)).toBe(buildIdOf(Buffer.from(code)));
    expect(buildIdOf(`${code};`)).not.toBe(buildIdOf(code));
  });
});

describe('versioned worker options', () => {
  test('poll as the version, with PINNED for workflow types that declare no behaviour', () => {
    const version = { deploymentName: 'order-worker', buildId: '0123456789abcdef' };
    expect(versionedWorkerOptions(version)).toEqual({
      useWorkerVersioning: true,
      version,
      defaultVersioningBehavior: 'PINNED',
    });
    expect(visibilityVersionOf(version)).toBe('order-worker:0123456789abcdef');
  });
});

describe('WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID', () => {
  test('unset: versioning is off', () => {
    expect(loadConfig({}).workerDeployment).toBeUndefined();
  });

  test('a deployment name alone: versioned, the build id left to the bundle', () => {
    expect(loadConfig({ WORKER_DEPLOYMENT_NAME: 'order-worker' }).workerDeployment).toEqual({
      deploymentName: 'order-worker',
    });
  });

  test('both: the build id as given', () => {
    expect(
      loadConfig({ WORKER_DEPLOYMENT_NAME: 'order-worker', WORKER_BUILD_ID: '2026.12.1-rc1' }).workerDeployment,
    ).toEqual({ deploymentName: 'order-worker', buildId: '2026.12.1-rc1' });
  });

  test.each([
    [{ WORKER_BUILD_ID: 'abc' }, 'WORKER_DEPLOYMENT_NAME="" is not set (WORKER_BUILD_ID needs it)'],
    [{ WORKER_DEPLOYMENT_NAME: 'orders.v2' }, 'WORKER_DEPLOYMENT_NAME="orders.v2" is not a deployment name'],
    [{ WORKER_DEPLOYMENT_NAME: '__internal' }, 'WORKER_DEPLOYMENT_NAME="__internal" is not a deployment name'],
    [{ WORKER_DEPLOYMENT_NAME: 'w', WORKER_BUILD_ID: 'has space' }, 'WORKER_BUILD_ID="has space" is not a build id'],
  ])('%j is refused, naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
