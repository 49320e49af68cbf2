/**
 * Structured logs: kafkajs's logCreator and the Temporal SDK's Runtime logger write into the
 * process's pino logger as JSON lines with the order's fields, at LOG_LEVEL. No servers needed
 * (test/observability.test.ts reads the real processes' logs after an order).
 */
import { Writable } from 'node:stream';
import { logLevel as KafkaLevel } from 'kafkajs';
import type { LogEntry } from '@temporalio/worker';
import type { LogLevel } from '../../common/env-variables';
import {
  createLogger,
  kafkaLogCreator,
  kafkaLogLevel,
  Logger,
  temporalLogLevel,
  temporalLogSink,
} from '../../common/logger';

function memoryLogger(level: LogLevel): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = createLogger('worker', { level, format: 'json', destination });
  const lines = (): Array<Record<string, unknown>> =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines };
}

function temporalEntry(level: LogEntry['level'], message: string, meta: Record<string, unknown>): LogEntry {
  return { level, message, meta, timestampNanos: BigInt(Date.now()) * 1_000_000n };
}

describe('structured logs', () => {
  test('JSON lines carry the process name, a string level and an ISO time', () => {
    const { log, lines } = memoryLogger('info');
    log.info({ orderId: '#1' }, 'hello');
    expect(lines()).toEqual([
      expect.objectContaining({
        name: 'worker',
        level: 'info',
        msg: 'hello',
        orderId: '#1',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      }),
    ]);
  });

  test('kafkajs log entries become pino lines with their fields, at the matching level', () => {
    const { log, lines } = memoryLogger('info');
    const write = kafkaLogCreator(() => log)(KafkaLevel.INFO);
    write({
      namespace: 'Consumer',
      level: KafkaLevel.WARN,
      label: 'WARN',
      log: { message: 'group rebalancing', timestamp: 'x', logger: 'kafkajs', groupId: 'order-bridge' },
    });
    write({
      namespace: 'Connection',
      level: KafkaLevel.ERROR,
      label: 'ERROR',
      log: { message: 'broker down', timestamp: 'x', logger: 'kafkajs', broker: '127.0.0.1:9092' },
    });
    // Below the logger's level: dropped by pino even if kafkajs was told to emit it.
    write({
      namespace: 'Consumer',
      level: KafkaLevel.DEBUG,
      label: 'DEBUG',
      log: { message: 'fetch', timestamp: 'x', logger: 'kafkajs' },
    });
    const out = lines();
    expect(out).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'group rebalancing',
        component: 'kafkajs',
        namespace: 'Consumer',
        groupId: 'order-bridge',
      }),
      expect.objectContaining({ level: 'error', msg: 'broker down', component: 'kafkajs', broker: '127.0.0.1:9092' }),
    ]);
    expect(out[0]).not.toHaveProperty('logger');
    expect(out[0].time).not.toBe('x');
  });

  test('Temporal SDK entries carry orderId, workflowId and runId as fields', () => {
    const { log, lines } = memoryLogger('info');
    const sink = temporalLogSink(() => log);
    sink(
      temporalEntry('INFO', 'order #101: charged 150.00', {
        sdkComponent: 'activity',
        workflowId: 'order-#101',
        workflowRunId: 'run-1',
        activityType: 'chargePayment',
        taskToken: 'opaque',
        attempt: 1,
      }),
    );
    sink(
      temporalEntry('WARN', 'order #101: workflow started', {
        sdkComponent: 'workflow',
        workflowId: 'order-#101',
        runId: 'run-1',
        workflowType: 'processOrder',
      }),
    );
    sink(temporalEntry('DEBUG', 'poller detail', { sdkComponent: 'worker' }));
    const out = lines();
    expect(out).toEqual([
      expect.objectContaining({
        level: 'info',
        component: 'temporal-activity',
        orderId: '#101',
        workflowId: 'order-#101',
        runId: 'run-1',
        activityType: 'chargePayment',
        attempt: 1,
      }),
      expect.objectContaining({
        level: 'warn',
        component: 'temporal-workflow',
        orderId: '#101',
        workflowId: 'order-#101',
        runId: 'run-1',
        workflowType: 'processOrder',
      }),
    ]);
    expect(out[0]).not.toHaveProperty('taskToken');
    expect(out[0]).not.toHaveProperty('workflowRunId');
  });

  test('LOG_LEVEL sets the threshold of the kafkajs and Temporal loggers too', () => {
    expect(kafkaLogLevel('warn')).toBe(KafkaLevel.WARN);
    expect(kafkaLogLevel('debug')).toBe(KafkaLevel.DEBUG);
    expect(kafkaLogLevel('silent')).toBe(KafkaLevel.NOTHING);
    expect(temporalLogLevel('info')).toBe('INFO');
    expect(temporalLogLevel('error')).toBe('ERROR');
  });
});
