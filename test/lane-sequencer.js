/**
 * Splits the test files into lanes for `jest --shard=i/n` (tools/dev/test-lanes.ts runs each lane as
 * its own jest process against its own Kafka and Temporal): longest first, each file to the lane with
 * the least work so far, by the seconds each file took in a recorded run (test/suite-seconds.json;
 * `npx tsx tools/dev/suite-times.ts --json` writes it from a jest --json report). A file not listed
 * counts as UNKNOWN_SECONDS. Within a lane the files run longest first. The split depends only on the
 * file list and the table, so every lane computes the same partition.
 */
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const ROOT = path.resolve(__dirname, '..');
const UNKNOWN_SECONDS = 10;

function loadSeconds() {
  try {
    return require('./suite-seconds.json');
  } catch {
    return {};
  }
}

const seconds = loadSeconds();
const costOf = (test) => seconds[path.relative(ROOT, test.path)] ?? UNKNOWN_SECONDS;
const byCost = (a, b) => costOf(b) - costOf(a) || a.path.localeCompare(b.path);

/** Greedy longest-processing-time partition of `tests` into `count` lanes. */
function lanesOf(tests, count) {
  const lanes = Array.from({ length: count }, () => ({ load: 0, tests: [] }));
  for (const test of [...tests].sort(byCost)) {
    const lane = lanes.reduce((best, l) => (l.load < best.load ? l : best));
    lane.load += costOf(test);
    lane.tests.push(test);
  }
  return lanes;
}

class LaneSequencer extends Sequencer {
  shard(tests, { shardIndex, shardCount }) {
    return lanesOf(tests, shardCount)[shardIndex - 1].tests;
  }

  sort(tests) {
    return [...tests].sort(byCost);
  }
}

module.exports = LaneSequencer;
module.exports.lanesOf = lanesOf;
