/** One cli-progress bar per phase, on stderr (a plain line every few seconds when not a terminal). */
import * as cliProgress from 'cli-progress';

export class Progress {
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly enabled: boolean) {}

  start(phase: string, total: number, unit: string): void {
    this.stop();
    if (!this.enabled) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `${phase.padEnd(34)} |{bar}| {value}/{total} ${unit} | {duration_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 5_000,
        barsize: 30,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0);
  }

  update(value: number): void {
    this.bar?.update(value);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  /** Writes a log line without tearing an active bar. */
  log(line: string): void {
    const active = this.bar;
    if (active) {
      process.stderr.write('\n');
    }
    process.stderr.write(`[bench] ${line}\n`);
  }
}
