// StrykerJS for the unit tier (`npm run test:stryker`): mutates the pure modules below and runs the
// unit tests (jest.unit.config.js: no servers, no global setup) against each mutant. Slow by design,
// so not part of `npm test`; the score and what survived are in docs/TESTING.md.
// @ts-check
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { configFile: 'jest.unit.config.js', enableFindRelatedTests: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // Only the pure modules the unit tests cover. bridge/bridge.ts: parseOrderEvent alone (the rest
  // of the file needs Kafka and Temporal; the integration tests and `npm run test:mutants` cover it).
  mutate: [
    'activities/ledger.ts',
    'activities/simulated.ts',
    'gateway/rate-limit.ts',
    'gateway/subscriptions.ts',
    'common/order.ts',
    'bridge/parse-event.ts',
  ],
  // The sandbox needs the sources and configs only: not the servers' data, results or images.
  // docs/ is copied: the contract test compares docs/schemas and docs/asyncapi.yaml with the code.
  ignorePatterns: ['/.data', '/bench-results', '/reports', '/dist', '/coverage'],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 10000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 75, break: null },
  cleanTempDir: 'always',
};
export default config;
