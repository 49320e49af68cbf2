/**
 * A time-skipping test environment on the Java test server the project provisions
 * (TEMPORAL_TEST_SERVER_PATH, set by global setup). The SDK waits only ~5 s for the server to
 * answer; on a busy machine the JVM can miss that, so creation is retried a few times.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';

export async function createTimeSkippingEnv(attempts = 4): Promise<TestWorkflowEnvironment> {
  const path = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (!path) throw new Error('TEMPORAL_TEST_SERVER_PATH is not set: run the tests through jest (global setup provisions it)');
  let lastError: unknown;
  for (let i = 1; i <= attempts; i++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path } },
      });
    } catch (err) {
      lastError = err;
      process.stderr.write(`time-skipping server attempt ${i}/${attempts} failed: ${(err as Error).message}\n`);
    }
  }
  throw lastError;
}
