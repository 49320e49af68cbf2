/**
 * The console form of a log record (LOG_FORMAT=line, and what `npm start` prints by default): one
 * line per record, `HH:MM:SS.mmm name LEVEL message`, plus `orderId=…` when the message does not
 * already name the order, `state=…` (the Temporal worker's state changes say nothing without it) and
 * `error=…` when the record carries an error. Every other field stays in
 * the JSON record (the apps' log files under `npm start`, or LOG_FORMAT=json): a terminal line is
 * for reading as it scrolls by, a JSON record for searching.
 */

/** A record as the JSON logger writes it (common/logger.ts): string level, ISO time. */
interface JsonRecord {
  level?: unknown;
  time?: unknown;
  name?: unknown;
  msg?: unknown;
  orderId?: unknown;
  state?: unknown;
  /** pino's error serializer: { type, message, stack }. */
  err?: { message?: unknown };
  /** kafkajs's error field: its message as a string. */
  error?: unknown;
}

/** pino's numeric levels, for records written without the label formatter. */
const NUMERIC_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

const NAME_WIDTH = 7; // "gateway"
const LEVEL_WIDTH = 5; // "FATAL"

/** One line of text: line breaks (a stack, a multi-line message) shown as `\n`. */
const oneLine = (s: string): string => s.replace(/\r?\n/g, '\\n');

/** `value` as it follows `key=`: bare when it has no space or quote, else JSON-quoted. */
const shownValue = (value: string): string => (/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value));

function clock(time: unknown): string {
  const at = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  const d = Number.isNaN(at.getTime()) ? new Date() : at;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function levelOf(level: unknown): string {
  const label = typeof level === 'number' ? (NUMERIC_LEVELS[level] ?? String(level)) : String(level ?? 'info');
  return label.toUpperCase();
}

function errorOf(record: JsonRecord): string | undefined {
  const message = record.err?.message ?? record.error;
  if (message === undefined || message === null || message === '') return undefined;
  return typeof message === 'string' ? message : JSON.stringify(message);
}

/**
 * The console line of one JSON log line. A line that is not a JSON record (a Node warning, a stack
 * printed by hand) is returned as it is.
 */
export function formatLogLine(line: string): string {
  let record: JsonRecord;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    record = parsed as JsonRecord;
  } catch {
    return line;
  }
  const msg = typeof record.msg === 'string' ? record.msg : record.msg === undefined ? '' : JSON.stringify(record.msg);
  const fields: string[] = [];
  const orderId = typeof record.orderId === 'string' ? record.orderId : undefined;
  if (orderId && !msg.includes(orderId)) fields.push(`orderId=${shownValue(orderId)}`);
  if (typeof record.state === 'string') fields.push(`state=${shownValue(record.state)}`);
  const error = errorOf(record);
  if (error && !msg.includes(error)) fields.push(`error=${shownValue(error)}`);
  const name = String(record.name ?? '').padEnd(NAME_WIDTH);
  const head = `${clock(record.time)} ${name} ${levelOf(record.level).padEnd(LEVEL_WIDTH)}`;
  return oneLine([head, msg, ...fields].filter(Boolean).join(' '));
}
