/**
 * order: place an order (or follow one, or place many) through the gateway and watch it to a final state.
 *
 *   npm run order -- --item "Mechanical Keyboard" --price 150
 *   npm run order -- --follow '#101'
 *   npm run order -- --item "USB cable" --price 9.5 --count 50
 *
 * The logic lives in placeAndFollow / followOrder / placeMany, which take the gateway URL and options and
 * return the outcome (with its exit code), so tests drive them without a child process; runCli parses argv.
 */
import * as crypto from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { readEnv } from '../common/config';
import { FINAL_STATUSES, OrderStatus, OrderView } from '../common/status';
import { GatewayError, OrderClient, OrderRequest, StatusEvent, TrackResult } from './order-client';

export const DEFAULT_URL = 'ws://127.0.0.1:3000';
export const DEFAULT_TIMEOUT_SECONDS = 120;

/** Exit codes, one per outcome. */
export const EXIT = {
  completed: 0,
  unexpected: 1,
  usage: 2,
  rejected: 3,
  paymentDeclined: 4,
  cancelled: 5,
  failed: 6,
  gatewayError: 7,
  timeout: 8,
  connection: 9,
  batchIncomplete: 10,
} as const;

const EXIT_BY_STATUS: Partial<Record<OrderStatus, number>> = {
  COMPLETED: EXIT.completed,
  REJECTED: EXIT.rejected,
  PAYMENT_DECLINED: EXIT.paymentDeclined,
  CANCELLED: EXIT.cancelled,
  FAILED: EXIT.failed,
};

export type OutcomeKind = (typeof FINAL_STATUSES)[number] | 'GATEWAY_ERROR' | 'TIMEOUT' | 'CONNECTION';

export interface OrderOutcome {
  orderId: string;
  workflowId?: string;
  outcome: OutcomeKind;
  exitCode: number;
  /** Every status event seen, in seq order, without repeats. */
  events: StatusEvent[];
  /** The gateway's error frame, for GATEWAY_ERROR. */
  error?: GatewayError;
  /** Human-readable reason for GATEWAY_ERROR, TIMEOUT and CONNECTION. */
  message?: string;
  /** getOrder's answer after a final state (null when the gateway could not say). */
  view?: OrderView | null;
}

export interface BatchOutcome {
  outcomes: OrderOutcome[];
  /** How many orders ended in each outcome. */
  counts: Partial<Record<OutcomeKind, number>>;
  exitCode: number;
  elapsedMs: number;
}

export interface Output {
  /** Progress and results (stdout in the CLI). */
  out: (line: string) => void;
  /** Diagnostics (stderr in the CLI). */
  err: (line: string) => void;
}

const consoleOutput: Output = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};
const silent: Output = { out: () => undefined, err: () => undefined };

export interface CommonOptions {
  /** Give up after this long without a final state (default 120 s). */
  timeoutMs?: number;
  output?: Output;
  /** Ask getOrder for charge/tracking ids after a final state (default true; single order only). */
  summary?: boolean;
}

export interface PlaceOptions extends CommonOptions {
  item: string;
  price: number;
  quantity?: number;
  /** Default: a fresh "cli-xxxxxxxx" id, chosen here so that a resend after a dropped connection is idempotent. */
  orderId?: string;
  customerId?: string;
}

export interface ManyOptions extends Omit<PlaceOptions, 'orderId' | 'summary'> {
  count: number;
  /** Ids are `${prefix}-${n}`; default "bulk-xxxxxx". */
  prefix?: string;
  /** Show a cli-progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
}

export function newOrderId(prefix = 'cli'): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export function temporalRunUrl(temporalUiUrl: string, namespace: string, workflowId: string): string {
  return `${temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function toOutcome(result: TrackResult, timeoutMs: number): OrderOutcome {
  const base = { orderId: result.orderId, workflowId: result.workflowId, events: result.events };
  switch (result.kind) {
    case 'final':
      return { ...base, outcome: result.status as OutcomeKind, exitCode: EXIT_BY_STATUS[result.status] ?? EXIT.unexpected };
    case 'error':
      return { ...base, outcome: 'GATEWAY_ERROR', exitCode: EXIT.gatewayError, error: result.error, message: describeError(result.error) };
    case 'timeout':
      return {
        ...base,
        outcome: 'TIMEOUT',
        exitCode: EXIT.timeout,
        message: `no final state within ${formatSeconds(timeoutMs)}${result.lastStatus ? ` (last status ${result.lastStatus})` : ' (no status received)'}`,
      };
    case 'connection':
      return { ...base, outcome: 'CONNECTION', exitCode: EXIT.connection, message: result.message };
  }
}

export function describeError(error: GatewayError): string {
  const hints: Record<string, string> = {
    NOT_FOUND: 'no such order',
    CANNOT_CANCEL: 'too late to cancel',
    INVALID_ORDER: 'the gateway refused the order',
    UNKNOWN_EVENT: 'the gateway does not support this request',
    KAFKA_UNAVAILABLE: 'the order could not be stored',
  };
  const hint = hints[error.code] ? ` (${hints[error.code]})` : '';
  return `${error.code}${hint}: ${error.message}${error.field ? ` [field ${error.field}]` : ''}`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function clock(at: number): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '--:--:--.---';
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function statusLine(e: StatusEvent): string {
  return `  ${clock(e.at)}  #${String(e.seq).padEnd(3)} ${e.status.padEnd(17)}${e.detail ? ` ${e.detail}` : ''}`.trimEnd();
}

/** The Temporal UI address the gateway advertises at /config.json, or null. */
async function fetchUiConfig(wsUrl: string): Promise<{ temporalUiUrl: string; namespace: string } | null> {
  try {
    const url = new URL(wsUrl);
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    url.pathname = '/config.json';
    url.search = '';
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return null;
    const body = (await res.json()) as { temporalUiUrl?: unknown; namespace?: unknown };
    return typeof body.temporalUiUrl === 'string' && typeof body.namespace === 'string' ? { temporalUiUrl: body.temporalUiUrl, namespace: body.namespace } : null;
  } catch {
    return null;
  }
}

async function connected(url: string, output: Output): Promise<OrderClient | OrderOutcome> {
  const client = new OrderClient(url, {
    onConnection: (state, detail) => {
      if (state !== 'open') output.err(`! ${detail ?? state}`);
    },
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    return { orderId: '', outcome: 'CONNECTION', exitCode: EXIT.connection, events: [], message: (err as Error).message };
  }
}

function reportEnd(o: OrderOutcome, output: Output): void {
  if (o.outcome === 'GATEWAY_ERROR' || o.outcome === 'TIMEOUT' || o.outcome === 'CONNECTION') {
    output.err(`✗ ${o.orderId ? `order ${o.orderId}: ` : ''}${o.message}`);
    return;
  }
  const mark = o.outcome === 'COMPLETED' ? '✓' : '✗';
  const last = o.events.at(-1);
  const extra: string[] = [];
  if (o.view?.chargeId) extra.push(`charge ${o.view.chargeId}`);
  if (o.view?.trackingId) extra.push(`tracking ${o.view.trackingId}`);
  if (o.view?.failure) extra.push(`${o.view.failure.type}: ${o.view.failure.message}`);
  else if (o.outcome !== 'COMPLETED' && last?.detail) extra.push(last.detail);
  output.out(`${mark} order ${o.orderId} ${o.outcome}${extra.length ? ` (${extra.join(', ')})` : ''}`);
}

async function followToEnd(
  client: OrderClient,
  start: (c: OrderClient) => Promise<TrackResult>,
  opts: CommonOptions & { timeoutMs: number },
  output: Output,
): Promise<OrderOutcome> {
  const outcome = toOutcome(await start(client), opts.timeoutMs);
  if (opts.summary !== false && outcome.events.length > 0 && outcome.outcome !== 'CONNECTION') {
    outcome.view = await client.getOrder(outcome.orderId);
    if (!outcome.workflowId && outcome.view) outcome.workflowId = outcome.view.workflowId;
  }
  reportEnd(outcome, output);
  return outcome;
}

/** Places one order and prints each status until a final one. */
export async function placeAndFollow(url: string, opts: PlaceOptions): Promise<OrderOutcome> {
  const output = opts.output ?? consoleOutput;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000;
  const request: OrderRequest = { orderId: opts.orderId ?? newOrderId(), item: opts.item, price: opts.price, quantity: opts.quantity ?? 1 };
  if (opts.customerId) request.customerId = opts.customerId;

  const client = await connected(url, output);
  if (!(client instanceof OrderClient)) {
    reportEnd({ ...client, orderId: request.orderId }, output);
    return { ...client, orderId: request.orderId };
  }
  const ui = await fetchUiConfig(url);
  output.out(`→ order ${request.orderId}: ${request.quantity} × "${request.item}" at ${request.price.toFixed(2)} via ${url}`);
  try {
    return await followToEnd(
      client,
      (c) =>
        c.place(request, timeoutMs, {
          onAccepted: (orderId, workflowId) => {
            output.out(`  accepted: workflow ${workflowId}`);
            if (ui) output.out(`  temporal: ${temporalRunUrl(ui.temporalUiUrl, ui.namespace, workflowId)}`);
          },
          onStatus: (e) => output.out(statusLine(e)),
        }),
      { ...opts, timeoutMs },
      output,
    );
  } finally {
    client.close();
  }
}

/** Follows an existing order from its first status (subscribeOrder fromSeq 1) until a final one. */
export async function followOrder(url: string, orderId: string, opts: CommonOptions = {}): Promise<OrderOutcome> {
  const output = opts.output ?? consoleOutput;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000;
  const client = await connected(url, output);
  if (!(client instanceof OrderClient)) {
    reportEnd({ ...client, orderId }, output);
    return { ...client, orderId };
  }
  output.out(`→ following order ${orderId} via ${url}`);
  try {
    return await followToEnd(client, (c) => c.follow(orderId, timeoutMs, { onStatus: (e) => output.out(statusLine(e)) }), { ...opts, timeoutMs }, output);
  } finally {
    client.close();
  }
}

/** Places `count` orders over one connection and reports how many reached each final state. */
export async function placeMany(url: string, opts: ManyOptions): Promise<BatchOutcome> {
  const output = opts.output ?? consoleOutput;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000;
  const prefix = opts.prefix ?? newOrderId('bulk').slice(0, 11);
  const width = String(opts.count).length;
  const ids = Array.from({ length: opts.count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
  const started = Date.now();

  const client = await connected(url, output);
  if (!(client instanceof OrderClient)) {
    output.err(`✗ ${client.message}`);
    const outcomes = ids.map((orderId) => ({ ...client, orderId }));
    return { outcomes, counts: { CONNECTION: outcomes.length }, exitCode: EXIT.connection, elapsedMs: Date.now() - started };
  }

  output.out(`→ placing ${opts.count} orders ${ids[0]} … ${ids.at(-1)}: ${opts.quantity ?? 1} × "${opts.item}" at ${opts.price.toFixed(2)} via ${url}`);
  const showBar = opts.progress ?? process.stderr.isTTY === true;
  const bar = showBar
    ? new SingleBar(
        { format: '  {bar} {value}/{total} final | {completed} completed, {other} not | {duration_formatted}', hideCursor: true, stream: process.stderr },
        Presets.shades_classic,
      )
    : null;
  let completed = 0;
  let other = 0;
  bar?.start(opts.count, 0, { completed, other });

  try {
    const outcomes = await Promise.all(
      ids.map(async (orderId) => {
        const request: OrderRequest = { orderId, item: opts.item, price: opts.price, quantity: opts.quantity ?? 1 };
        if (opts.customerId) request.customerId = opts.customerId;
        const outcome = toOutcome(await client.place(request, timeoutMs), timeoutMs);
        if (outcome.outcome === 'COMPLETED') completed++;
        else other++;
        bar?.increment({ completed, other });
        return outcome;
      }),
    );
    bar?.stop();

    const counts: BatchOutcome['counts'] = {};
    for (const o of outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
    const elapsedMs = Date.now() - started;
    output.out(`${opts.count} orders in ${(elapsedMs / 1000).toFixed(1)} s:`);
    for (const [kind, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) output.out(`  ${kind.padEnd(17)} ${n}`);
    const misses = outcomes.filter((o) => o.outcome !== 'COMPLETED');
    for (const o of misses.slice(0, 20)) output.err(`  ✗ ${o.orderId}: ${o.outcome}${o.message ? ` – ${o.message}` : o.events.at(-1)?.detail ? ` – ${o.events.at(-1)?.detail}` : ''}`);
    if (misses.length > 20) output.err(`  … and ${misses.length - 20} more`);
    return { outcomes, counts, exitCode: misses.length === 0 ? EXIT.completed : EXIT.batchIncomplete, elapsedMs };
  } finally {
    bar?.stop();
    client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Command line

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number greater than 0.');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1.');
  return n;
}

function wsUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a ws:// or wss:// URL, e.g. ws://127.0.0.1:3000.');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new InvalidArgumentError('must start with ws:// or wss://.');
  return value;
}

function orderIdArg(value: string): string {
  if (!/^[A-Za-z0-9#_.:-]{1,64}$/.test(value)) throw new InvalidArgumentError('must be 1-64 of letters, digits and # _ . : -');
  return value;
}

interface CliFlags {
  item?: string;
  price?: number;
  quantity?: number;
  orderId?: string;
  customerId?: string;
  url: string;
  follow?: string;
  count?: number;
  timeout: number;
  progress: boolean;
  summary: boolean;
}

const EXIT_HELP = `
Exit codes:
  0   COMPLETED (with --count: every order COMPLETED)
  1   unexpected error
  2   bad command line
  3   REJECTED          (validation refused the order)
  4   PAYMENT_DECLINED
  5   CANCELLED
  6   FAILED            (shipping failed; the charge was refunded)
  7   the gateway answered with an error frame (e.g. INVALID_ORDER, NOT_FOUND)
  8   no final state before --timeout
  9   could not connect to the gateway, or lost the connection for good
  10  --count: at least one order did not complete

Examples:
  npm run order -- --item "Mechanical Keyboard" --price 150
  npm run order -- --item "Desk" --price 300 --quantity 2 --order-id '#102'
  npm run order -- --follow '#101'
  npm run order -- --item "USB cable" --price 9.5 --count 50
`;

export function buildProgram(output: Output = consoleOutput): Command {
  const program = new Command('order')
    .description('Place an order through the gateway (or follow one, or place many) and print each status until a final one.')
    .option('--item <name>', 'what to order')
    .option('--price <amount>', 'unit price, > 0', positiveNumber)
    .option('--quantity <n>', 'how many (default 1)', positiveInteger)
    .option('--order-id <id>', 'order id (default: a fresh cli-xxxxxxxx); with --count: the id prefix', orderIdArg)
    .option('--customer-id <id>', 'customer id', orderIdArg)
    .addOption(new Option('--url <ws-url>', 'gateway WebSocket URL (else ORDER_GATEWAY_URL)').default(readEnv().ORDER_GATEWAY_URL ?? DEFAULT_URL).argParser(wsUrl))
    .addOption(new Option('--follow <orderId>', 'follow an existing order from its first status instead of placing one').conflicts(['item', 'price', 'quantity', 'orderId', 'customerId', 'count']))
    .option('--count <n>', 'place n orders (ids <prefix>-1 … <prefix>-n) and show how many reached a final state', positiveInteger)
    .option('--timeout <seconds>', 'give up when no final state after this long', positiveNumber, DEFAULT_TIMEOUT_SECONDS)
    .option('--no-progress', 'with --count: no progress bar')
    .option('--no-summary', 'do not ask the gateway for the charge and tracking ids at the end')
    .addHelpText('after', EXIT_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s.replace(/\n$/, '')), writeErr: (s) => output.err(s.replace(/\n$/, '')) });
  return program;
}

/** Parses argv (without the node and script entries), runs, and returns the exit code. */
export async function runCli(argv: string[], output: Output = consoleOutput): Promise<number> {
  const program = buildProgram(output);
  let flags: CliFlags;
  try {
    program.parse(argv, { from: 'user' });
    flags = program.opts<CliFlags>();
    if (flags.follow === undefined) {
      const missing = [flags.item === undefined && '--item', flags.price === undefined && '--price'].filter(Boolean);
      if (missing.length) program.error(`error: missing ${missing.join(' and ')} (or use --follow <orderId>)`, { exitCode: EXIT.usage, code: 'order.missing' });
      if (flags.item !== undefined && flags.item.trim() === '') program.error('error: --item must not be empty', { exitCode: EXIT.usage, code: 'order.item' });
    }
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (typeof e.code === 'string') return EXIT.usage; // commander already printed the message
    throw err;
  }

  const timeoutMs = Math.round(flags.timeout * 1000);
  if (flags.follow !== undefined) return (await followOrder(flags.url, flags.follow, { timeoutMs, output, summary: flags.summary })).exitCode;
  const place = { item: flags.item!, price: flags.price!, quantity: flags.quantity, customerId: flags.customerId, timeoutMs, output };
  if (flags.count !== undefined) return (await placeMany(flags.url, { ...place, count: flags.count, prefix: flags.orderId, progress: flags.progress ? undefined : false })).exitCode;
  return (await placeAndFollow(flags.url, { ...place, orderId: flags.orderId, summary: flags.summary })).exitCode;
}

export { silent as silentOutput };

if (require.main === module) {
  process.once('SIGINT', () => {
    process.stderr.write('\ninterrupted\n');
    process.exit(130);
  });
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`order: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(EXIT.unexpected);
    },
  );
}
