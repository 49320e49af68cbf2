/**
 * The console form of a log record (common/log-line.ts): one line per record with time, process,
 * level and message, the order and the error when there is one; every other field is left to the
 * JSON record. LOG_FORMAT=line writes it from the logger itself.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../common/logger';
import { formatLogLine } from '../../common/log-line';

const LINE = /^\d\d:\d\d:\d\d\.\d{3} \S+ +[A-Z]+ +\S/;

/** The local clock time of an ISO time, as the console line shows it. */
function clockOf(iso: string): string {
  const d = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

describe('console log lines', () => {
  const time = '2026-12-07T13:35:26.054Z';

  test('a record is one line: time, process, level, message; its other fields stay in the JSON', () => {
    const record = {
      level: 'info',
      time,
      pid: 1,
      hostname: 'vm',
      name: 'bridge',
      component: 'kafkajs',
      namespace: 'ConsumerGroup',
      groupId: 'order-bridge',
      memberId: 'order-bridge-1234',
      memberAssignment: { 'order-placement': [0, 1, 2] },
      msg: 'Consumer has joined the group',
    };
    expect(formatLogLine(JSON.stringify(record))).toBe(`${clockOf(time)} bridge  INFO  Consumer has joined the group`);
  });

  test('the order, the worker state and the error are shown as key=value when the message lacks them', () => {
    const line = formatLogLine(
      JSON.stringify({
        level: 'warn',
        time,
        name: 'worker',
        orderId: 'A-1',
        workflowId: 'order-A-1',
        runId: 'r1',
        err: { type: 'Error', message: 'card declined', stack: 'Error: card declined\n    at x' },
        msg: 'Activity failed',
      }),
    );
    expect(line).toBe(`${clockOf(time)} worker  WARN  Activity failed orderId=A-1 error="card declined"`);
    expect(
      formatLogLine(
        JSON.stringify({ level: 'info', time, name: 'worker', state: 'DRAINING', msg: 'Worker state changed' }),
      ),
    ).toMatch(/ Worker state changed state=DRAINING$/);
    // Named in the message already: not repeated.
    expect(
      formatLogLine(
        JSON.stringify({ level: 'info', time, name: 'worker', orderId: '#101', msg: 'order #101: charged 150.00' }),
      ),
    ).toBe(`${clockOf(time)} worker  INFO  order #101: charged 150.00`);
    // kafkajs puts its error's message in `error`.
    expect(
      formatLogLine(
        JSON.stringify({ level: 'error', time, name: 'gateway', error: 'Connection timeout', msg: 'Crash' }),
      ),
    ).toBe(`${clockOf(time)} gateway ERROR Crash error="Connection timeout"`);
  });

  test('a multi-line message stays on one line', () => {
    const line = formatLogLine(
      JSON.stringify({
        level: 60,
        time,
        name: 'gateway',
        msg: 'gateway failed: boom\n    at main (gateway/main.ts:1)',
      }),
    );
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toBe(`${clockOf(time)} gateway FATAL gateway failed: boom\\n    at main (gateway/main.ts:1)`);
  });

  test('a line that is not a JSON record passes through as it is', () => {
    expect(formatLogLine('(node:1) Warning: something')).toBe('(node:1) Warning: something');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
  });

  test('LOG_FORMAT=line: the logger writes one console line per record', () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('gateway', { level: 'info', format: 'line', destination });
    log.info({ orderId: 'B-2', partition: 3 }, 'accepted');
    log.error({ err: new Error('broker down') }, 'produce failed');
    const lines = chunks.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(LINE);
    expect(lines[0]).toMatch(/ gateway INFO  accepted orderId=B-2$/);
    expect(lines[1]).toMatch(/ gateway ERROR produce failed error="broker down"$/);
  });
});
