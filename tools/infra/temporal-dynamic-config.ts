/**
 * Dynamic-config values the dev server starts with (launcher and docker-compose.yml), each cutting
 * what one workflow costs the server. Measured effects: docs/DESIGN.md "Engine settings", docs/BENCHMARKS.md.
 */
export const TEMPORAL_DEV_DYNAMIC_CONFIG: Record<string, string> = {
  // The CLI's dev server re-reads search-attribute metadata from SQLite on every task by default
  // (so attributes registered a moment ago are visible at once). Ours are registered at start.
  'system.forceSearchAttributesCacheRefreshOnRead': 'false',
  // Hand an activity to the worker in the reply that schedules it (no matching round trip).
  'system.enableActivityEagerExecution': 'true',
  // One task-queue partition: with a single worker pool, extra partitions only add forwarding.
  'matching.numTaskqueueReadPartitions': '1',
  'matching.numTaskqueueWritePartitions': '1',
};
