/**
 * Where the apps' logs go under `npm start`: each app writes JSON records on stdout; every record is
 * appended, complete, to `<data dir>/logs/<app>.log`, and the console gets it in the form LOG_FORMAT
 * names (default `line`: one line per record, common/log-line.ts; `json`: the record as it is;
 * `pretty`: pino-pretty's multi-line form).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { LogFormat } from '../../common/env-variables';
import { formatLogLine } from '../../common/log-line';

export type ConsoleFormatter = (jsonLine: string) => string;

/** The console form of a JSON line for a LOG_FORMAT. */
export function consoleFormatter(format: LogFormat): ConsoleFormatter {
  if (format === 'json') return (line) => line;
  if (format === 'line') return formatLogLine;
  // A development dependency, loaded only when asked for.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
  const pretty = prettyFactory({ ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l', colorize: false });
  return (line) => pretty(line).replace(/\n$/, '');
}

/** One app's log: its JSON file (appended across restarts) and the console. */
export class AppOutput {
  private readonly file: fs.WriteStream;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    readonly logFile: string,
    private readonly format: ConsoleFormatter,
    private readonly console: (line: string) => void = (line) => void process.stdout.write(`${line}\n`),
  ) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    this.file = fs.createWriteStream(logFile, { flags: 'a' });
  }

  /** Copies one instance's stdout, line by line, until it ends. */
  follow(stdout: Readable): void {
    const lines = readline.createInterface({ input: stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      this.file.write(`${line}\n`);
      this.console(this.format(line));
    });
    const done = new Promise<void>((resolve) => lines.once('close', resolve));
    this.pending.add(done);
    void done.then(() => this.pending.delete(done));
  }

  /** Resolves once every followed stdout has ended and the file is flushed and closed. */
  async close(): Promise<void> {
    await Promise.all(this.pending);
    await new Promise<void>((resolve) => this.file.end(resolve));
  }
}
