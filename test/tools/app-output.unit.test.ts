/**
 * Where the apps' logs go under `npm start` (tools/dev/app-output.ts): every JSON record, complete,
 * into the app's log file (appended across restarts), and the console in the chosen form.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { AppOutput, consoleFormatter } from '../../tools/dev/app-output';

const record = (msg: string, fields: Record<string, unknown> = {}): string =>
  JSON.stringify({ level: 'info', time: new Date().toISOString(), name: 'worker', ...fields, msg });

describe('npm start app output', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'app-output-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('records go whole into the log file and as one line each to the console, across restarts', async () => {
    const file = path.join(dir, 'logs', 'worker.log');
    const console: string[] = [];
    const output = new AppOutput(file, consoleFormatter('line'), (line) => console.push(line));
    const first = new PassThrough();
    output.follow(first);
    const charged = record('order A-1: charged 9.50', { orderId: 'A-1', workflowId: 'order-A-1', runId: 'r1' });
    // A record split across writes is still one record.
    first.write(charged.slice(0, 20));
    first.write(`${charged.slice(20)}\n${record('Worker state changed', { state: 'STOPPED', taskQueue: 'orders' })}\n`);
    first.end();
    // The next instance of the app (after a restart) appends to the same file.
    const second = new PassThrough();
    output.follow(second);
    second.end(`${record('polling task queue "orders"')}\n`);
    await output.close();

    const stored = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(stored).toEqual([
      expect.objectContaining({ msg: 'order A-1: charged 9.50', orderId: 'A-1', workflowId: 'order-A-1', runId: 'r1' }),
      expect.objectContaining({ msg: 'Worker state changed', state: 'STOPPED', taskQueue: 'orders' }),
      expect.objectContaining({ msg: 'polling task queue "orders"' }),
    ]);
    expect(console).toHaveLength(3);
    expect(console[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} worker  INFO  order A-1: charged 9\.50$/);
    expect(console[1]).toMatch(/ Worker state changed state=STOPPED$/);
  });

  test('LOG_FORMAT=json shows the records as they are; pretty spreads the fields over lines', () => {
    const line = record('hello', { orderId: 'A-1' });
    expect(consoleFormatter('json')(line)).toBe(line);
    const pretty = consoleFormatter('pretty')(line);
    expect(pretty).toContain('hello');
    expect(pretty.split('\n').length).toBeGreaterThan(1);
  });
});
