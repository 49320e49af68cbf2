/**
 * Tests sit under test/<part>/ for the part they test; the tier is chosen by file name:
 *  - unit: `*.unit.test.ts`, pure code, no servers, no global setup (`npm run test:unit`, seconds);
 *  - integration: every other `*.test.ts`, against real Kafka, Temporal and Chromium; the global
 *    setup brings the servers up when they are not reachable (provisioning them on first use);
 *  - render: `*.render.test.ts`, the Kubernetes manifests rendered and checked with pinned tools; its
 *    global setup provisions those tools (no server), and runs only in a lane that has such a test.
 * `npx jest` (and `npm test`) runs all three.
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120000,
  // Longest files first, and the split behind `--shard` (the lanes of tools/dev/test-lanes.ts).
  testSequencer: '<rootDir>/test/lane-sequencer.js',
  verbose: true,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/**/*.unit.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.unit\\.test\\.ts$', '\\.render\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      setupFiles: ['<rootDir>/test/helpers/quiet-runtime.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/helpers/open-gates.ts'],
    },
    {
      ...shared,
      displayName: 'render',
      testMatch: ['<rootDir>/test/**/*.render.test.ts'],
      globalSetup: '<rootDir>/test/deploy/render-setup.ts',
    },
  ],
};
