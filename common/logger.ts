/**
 * Structured logs for every process: pino, one JSON object per line on stdout, at LOG_LEVEL;
 * LOG_FORMAT=line prints one short line per record instead (common/log-line.ts: time, process, level,
 * message), and LOG_FORMAT=pretty prints them readably through pino-pretty, a development dependency
 * (one field per line). `npm start` runs the apps with JSON logs and formats its console itself. kafkajs's logs (logCreator) and the Temporal SDK's (Runtime logger, worker/runtime.ts)
 * are routed into the same logger, and per-order lines carry orderId, workflowId and runId fields.
 * With tracing on (common/tracing.ts, set up before the logger), lines written inside a span carry
 * its trace_id and span_id; the Temporal SDK's workflow and activity lines get them from its
 * OpenTelemetry interceptors.
 */
import pino, { DestinationStream, Logger } from 'pino';
import { logLevel as KafkaLogLevel, logCreator as KafkaLogCreator } from 'kafkajs';
import type { LogEntry } from '@temporalio/worker';
import type { LogFormat, LogLevel } from './env-variables';
import { formatLogLine } from './log-line';
import { orderIdOfWorkflowId } from './order';
import { activeTraceFields, tracing } from './tracing';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where JSON lines go (default: stdout, synchronously, so nothing is lost on process.exit). */
  destination?: DestinationStream;
}

export function createLogger(name: string, opts: LoggerOptions): Logger {
  // Only with tracing on: a mixin runs for every line.
  const traced = tracing() ? { mixin: activeTraceFields } : {};
  if (opts.format === 'pretty') {
    return pino({
      name,
      level: opts.level,
      ...traced,
      transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  const json = opts.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      name,
      level: opts.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      ...traced,
      // "level":"info" rather than 30: what log pipelines expect.
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.format === 'line' ? lineDestination(json) : json,
  );
}

/** Writes each JSON record pino hands over as its console line (common/log-line.ts) into `out`. */
function lineDestination(out: DestinationStream): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) out.write(`${formatLogLine(line)}\n`);
    },
  };
}

let root: Logger | undefined;

/** The process's logger (set by `initLogger` in each entry point; a default one otherwise). */
export function logger(): Logger {
  root ??= createLogger('order-orchestrator', { level: 'info', format: 'json' });
  return root;
}

/** Makes the process logger, named after the process, at the level and format its config reads. */
export function initLogger(name: string, opts: LoggerOptions): Logger {
  root = createLogger(name, opts);
  return root;
}

/** Fields that name an order's run; orderId is read back from the workflow id (common/order workflowIdFor). */
export function orderFields(workflowId: string | undefined, runId?: string): Record<string, string> {
  const fields: Record<string, string> = {};
  if (workflowId?.startsWith('order-')) fields.orderId = orderIdOfWorkflowId(workflowId);
  if (workflowId) fields.workflowId = workflowId;
  if (runId) fields.runId = runId;
  return fields;
}

// ---- kafkajs ----------------------------------------------------------------------------------

/** kafkajs's threshold for a pino level (kafkajs has no trace/fatal). */
export function kafkaLogLevel(level: LogLevel): KafkaLogLevel {
  switch (level) {
    case 'silent':
      return KafkaLogLevel.NOTHING;
    case 'fatal':
    case 'error':
      return KafkaLogLevel.ERROR;
    case 'warn':
      return KafkaLogLevel.WARN;
    case 'info':
      return KafkaLogLevel.INFO;
    default:
      return KafkaLogLevel.DEBUG;
  }
}

/** A kafkajs logCreator writing into `log` (component "kafkajs", the kafkajs namespace, its extra fields). */
export function kafkaLogCreator(log: () => Logger = logger): KafkaLogCreator {
  return () =>
    ({ namespace, level, log: entry }) => {
      // kafkajs's own timestamp and logger name are replaced by pino's.
      const { message, ...fields }: { message: string; timestamp?: string; logger?: string; [key: string]: unknown } =
        entry;
      delete fields.timestamp;
      delete fields.logger;
      const target = log();
      const payload = { component: 'kafkajs', namespace, ...fields };
      if (level === KafkaLogLevel.ERROR) target.error(payload, message);
      else if (level === KafkaLogLevel.WARN) target.warn(payload, message);
      else if (level === KafkaLogLevel.INFO) target.info(payload, message);
      else target.debug(payload, message);
    };
}

// ---- Temporal SDK -----------------------------------------------------------------------------

/** The Temporal Runtime's threshold for a pino level. */
export function temporalLogLevel(level: LogLevel): 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}

/**
 * Writes one Temporal SDK log entry (workflow, activity, worker or core) into `log`: component from
 * sdkComponent, the run as orderId / workflowId / runId, the rest of the SDK's attributes as they are.
 */
export function temporalLogSink(log: () => Logger = logger): (entry: LogEntry) => void {
  return (entry) => {
    const { sdkComponent, workflowId, runId, workflowRunId, ...rest } = (entry.meta ?? {}) as Record<
      string,
      unknown
    > & {
      sdkComponent?: string;
      workflowId?: string;
      runId?: string;
      workflowRunId?: string;
    };
    // An opaque base64 blob per activity attempt: noise in a log line.
    delete rest.taskToken;
    const payload = {
      component: sdkComponent ? `temporal-${sdkComponent}` : 'temporal',
      ...orderFields(workflowId, runId ?? workflowRunId),
      ...rest,
    };
    const target = log();
    switch (entry.level) {
      case 'ERROR':
        return target.error(payload, entry.message);
      case 'WARN':
        return target.warn(payload, entry.message);
      case 'INFO':
        return target.info(payload, entry.message);
      case 'DEBUG':
        return target.debug(payload, entry.message);
      default:
        return target.trace(payload, entry.message);
    }
  };
}
