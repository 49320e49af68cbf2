/**
 * The unit tier: pure modules, no servers, no global setup (`npm run test:unit`, and StrykerJS's
 * `npm run test:stryker` runs these). `npm test` runs the same files too, through jest.config.js.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: ['<rootDir>/test/**/*.unit.test.ts'],
  testTimeout: 10000,
};
