// Determinism guard: recorded histories (happy, declined, refunded) must replay against today's
// workflow code. A change that reorders, adds or removes commands fails here before it reaches
// running orders. Re-record with: UPDATE_REPLAY_FIXTURES=1 npx jest test/workflows/process-order
// The v1-* histories were recorded before status plans (workflows/order-v1.ts) and are never
// re-recorded: runs like them may still be open when new code is deployed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { historyFromFixture } from '../helpers/history';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const NAMES = ['happy', 'declined', 'refunded', 'v1-happy', 'v1-declined', 'v1-refunded'];

test('recorded order histories replay without nondeterminism', async () => {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') });
  const histories = NAMES.map((name) => ({
    workflowId: `fixture-${name}`,
    history: historyFromFixture(fs.readFileSync(path.join(FIXTURES, `${name}.history.json`), 'utf8')),
  }));
  const results = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) results.push(result);
  expect(results.map((r) => r.workflowId)).toEqual(NAMES.map((n) => `fixture-${n}`));
  for (const r of results) expect(r.error).toBeUndefined();
});

test('a determinism break is detected by replay', async () => {
  // Same histories, but a workflow build whose timers were removed: replay must fail.
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./broken-order-workflow') });
  const history = historyFromFixture(fs.readFileSync(path.join(FIXTURES, 'v1-happy.history.json'), 'utf8'));
  const results = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle }, [{ workflowId: 'fixture-happy', history }])) results.push(result);
  expect(results).toHaveLength(1);
  expect(results[0].error).toBeDefined();
});
