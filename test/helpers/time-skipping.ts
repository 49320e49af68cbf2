/**
 * A time-skipping test environment on the Java test server the project provisions
 * (TEMPORAL_TEST_SERVER_PATH, set by global setup). The SDK waits only ~5 s for the server to
 * answer; on a busy machine the JVM can miss that, so creation is retried a few times.
 */
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../../common/names';

export async function createTimeSkippingEnv(attempts = 4): Promise<TestWorkflowEnvironment> {
  const path = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (!path)
    throw new Error('TEMPORAL_TEST_SERVER_PATH is not set: run the tests through jest (global setup provisions it)');
  let lastError: unknown;
  for (let i = 1; i <= attempts; i++) {
    try {
      const env = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path } },
      });
      // The workflow keeps custom search attributes current; the test server must know them too.
      await env.connection.operatorService.addSearchAttributes({
        namespace: 'default',
        searchAttributes: Object.fromEntries(
          Object.keys(SEARCH_ATTRIBUTES).map((name) => [
            name,
            temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
          ]),
        ),
      });
      return env;
    } catch (err) {
      lastError = err;
      process.stderr.write(`time-skipping server attempt ${i}/${attempts} failed: ${(err as Error).message}\n`);
    }
  }
  throw lastError;
}
