/**
 * The CLI's three commands as functions: place one order and follow it, follow an existing one,
 * place many. Each takes the gateway URL and options and returns the outcome with its exit code, so
 * tests drive them without a child process.
 */
import { Presets, SingleBar } from 'cli-progress';
import { newOrderId } from '../common/protocol';
import { consoleOutput, Output, reportEnd, statusLine, temporalRunUrl, traceUrl } from './format';
import { OrderClient, OrderRequest, TrackResult } from './order-client';
import { BatchOutcome, EXIT, OrderOutcome, toOutcome } from './outcomes';

export const DEFAULT_TIMEOUT_SECONDS = 120;

export interface CommonOptions {
  /** Give up after this long without a final state (default 120 s). */
  timeoutMs?: number;
  output?: Output;
  /** Ask getOrder for charge/tracking ids after a final state (default true; single order only). */
  summary?: boolean;
  /** Token for a gateway in token mode (JWT or shared token). */
  token?: string;
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

/** The Temporal UI (and trace viewer, if any) the gateway advertises at /config.json, or null. */
async function fetchUiConfig(
  wsUrl: string,
): Promise<{ temporalUiUrl: string; namespace: string; traceUrlTemplate?: string } | null> {
  try {
    const url = new URL(wsUrl);
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    url.pathname = '/config.json';
    url.search = '';
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return null;
    const body = (await res.json()) as { temporalUiUrl?: unknown; namespace?: unknown; traceUrlTemplate?: unknown };
    if (typeof body.temporalUiUrl !== 'string' || typeof body.namespace !== 'string') return null;
    const ui = { temporalUiUrl: body.temporalUiUrl, namespace: body.namespace };
    return typeof body.traceUrlTemplate === 'string' ? { ...ui, traceUrlTemplate: body.traceUrlTemplate } : ui;
  } catch {
    return null;
  }
}

async function connected(url: string, output: Output, token: string | undefined): Promise<OrderClient | OrderOutcome> {
  const client = new OrderClient(url, {
    token,
    onConnection: (state, detail) => {
      if (state !== 'open') output.err(`! ${detail ?? state}`);
    },
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    return {
      orderId: '',
      outcome: 'CONNECTION',
      exitCode: EXIT.connection,
      events: [],
      message: (err as Error).message,
    };
  }
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
  const request: OrderRequest = {
    orderId: opts.orderId ?? newOrderId('cli'),
    item: opts.item,
    price: opts.price,
    quantity: opts.quantity ?? 1,
  };
  if (opts.customerId) request.customerId = opts.customerId;

  const client = await connected(url, output, opts.token);
  if (!(client instanceof OrderClient)) {
    reportEnd({ ...client, orderId: request.orderId }, output);
    return { ...client, orderId: request.orderId };
  }
  const ui = await fetchUiConfig(url);
  output.out(
    `→ order ${request.orderId}: ${request.quantity} × "${request.item}" at ${request.price.toFixed(2)} via ${url}`,
  );
  try {
    return await followToEnd(
      client,
      (c) =>
        c.place(request, timeoutMs, {
          onAccepted: (orderId, workflowId, traceId) => {
            output.out(`  accepted: workflow ${workflowId}`);
            if (ui) output.out(`  temporal: ${temporalRunUrl(ui.temporalUiUrl, ui.namespace, workflowId)}`);
            if (traceId)
              output.out(`  trace:    ${ui?.traceUrlTemplate ? traceUrl(ui.traceUrlTemplate, traceId) : traceId}`);
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
  const client = await connected(url, output, opts.token);
  if (!(client instanceof OrderClient)) {
    reportEnd({ ...client, orderId }, output);
    return { ...client, orderId };
  }
  output.out(`→ following order ${orderId} via ${url}`);
  try {
    return await followToEnd(
      client,
      (c) => c.follow(orderId, timeoutMs, { onStatus: (e) => output.out(statusLine(e)) }),
      { ...opts, timeoutMs },
      output,
    );
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

  const client = await connected(url, output, opts.token);
  if (!(client instanceof OrderClient)) {
    output.err(`✗ ${client.message}`);
    const outcomes = ids.map((orderId) => ({ ...client, orderId }));
    return {
      outcomes,
      counts: { CONNECTION: outcomes.length },
      exitCode: EXIT.connection,
      elapsedMs: Date.now() - started,
    };
  }

  output.out(
    `→ placing ${opts.count} orders ${ids[0]} … ${ids.at(-1)}: ${opts.quantity ?? 1} × "${opts.item}" at ${opts.price.toFixed(2)} via ${url}`,
  );
  const showBar = opts.progress ?? process.stderr.isTTY === true;
  const bar = showBar
    ? new SingleBar(
        {
          format: '  {bar} {value}/{total} final | {completed} completed, {other} not | {duration_formatted}',
          hideCursor: true,
          stream: process.stderr,
        },
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
    for (const o of misses.slice(0, 20))
      output.err(
        `  ✗ ${o.orderId}: ${o.outcome}${o.message ? ` – ${o.message}` : o.events.at(-1)?.detail ? ` – ${o.events.at(-1)?.detail}` : ''}`,
      );
    if (misses.length > 20) output.err(`  … and ${misses.length - 20} more`);
    return { outcomes, counts, exitCode: misses.length === 0 ? EXIT.completed : EXIT.batchIncomplete, elapsedMs };
  } finally {
    bar?.stop();
    client.close();
  }
}
