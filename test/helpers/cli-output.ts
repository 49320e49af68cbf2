/** An Output for runCli that keeps what the CLI printed, stdout and stderr apart. */
import type { Output } from '../../cli/order';

export function captureOutput(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}
