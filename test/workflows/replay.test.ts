// Determinism guard: every recorded history in test/fixtures must replay against today's workflow
// code. A change that reorders, adds or removes commands fails here before it reaches running
// orders. Re-record with: UPDATE_REPLAY_FIXTURES=1 npx jest test/workflows/process-order
// (and test/workflows/cancel, test/workflows/amend for the cancelled and amended histories).
// The v1-* histories were recorded before status plans (workflows/order-v1.ts) and are never
// re-recorded: runs like them may still be open when new code is deployed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode, ReplayResult, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromFixture } from '../helpers/history';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
/** Each path of the saga has a fixture; more may be added, none may silently go missing. */
const REQUIRED = [
  'happy',
  'declined',
  'refunded',
  'cancelled',
  'routed-cancelled',
  'amended',
  'v1-happy',
  'v1-declined',
  'v1-refunded',
  'v1-cancelled',
];
const NAMES = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.history.json'))
  .map((f) => f.slice(0, -'.history.json'.length))
  .sort();

function load(name: string) {
  return {
    workflowId: `fixture-${name}`,
    history: historyFromFixture(fs.readFileSync(path.join(FIXTURES, `${name}.history.json`), 'utf8')),
  };
}

async function replay(workflowsPath: string, names: string[]): Promise<ReplayResult[]> {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath });
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle }, names.map(load))) results.push(result);
  return results;
}

describe('processOrder replay of recorded histories', () => {
  test('every recorded order history replays without nondeterminism', async () => {
    expect(NAMES).toEqual(expect.arrayContaining(REQUIRED));
    const results = await replay(require.resolve('../../workflows'), NAMES);
    expect(results.map((r) => r.workflowId)).toEqual(NAMES.map((n) => `fixture-${n}`));
    expect(results.map((r) => ({ id: r.workflowId, error: r.error?.message }))).toEqual(
      NAMES.map((n) => ({ id: `fixture-${n}`, error: undefined })),
    );
  });

  test('a workflow whose commands changed fails replay with a determinism violation', async () => {
    // The same histories, against a build whose timers were removed.
    const results = await replay(require.resolve('./broken-order-workflow'), ['happy', 'v1-happy']);
    expect(results).toHaveLength(2);
    for (const r of results) expect(r.error).toBeInstanceOf(DeterminismViolationError);
  });
});
