/** Small numeric helpers: percentiles (nearest rank), a bounded-concurrency pool. */

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of the finite values; null when there are none. */
export function percentiles(values: number[]): Percentiles | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const rank = (p: number): number => v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
  const round = (x: number): number => Math.round(x * 10) / 10;
  return {
    count: v.length,
    p50: round(rank(50)),
    p95: round(rank(95)),
    p99: round(rank(99)),
    max: round(v[v.length - 1]),
    mean: round(v.reduce((s, x) => s + x, 0) / v.length),
  };
}

/**
 * Runs task(i) for i in [0, count) with at most `concurrency` running at once.
 * Stops handing out new work once `deadline` (epoch ms) has passed.
 */
export async function pool(
  count: number,
  concurrency: number,
  deadline: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
    while (next < count && Date.now() < deadline) {
      const i = next;
      next += 1;
      await task(i);
    }
  });
  await Promise.all(lanes);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
