/**
 * `npm run order -- list`: the caller's orders from the gateway's listOrders (newest first, a page
 * at a time), as a table, or as the page's JSON with --json.
 *
 *   npm run order -- list
 *   npm run order -- list --status open --limit 10
 *   npm run order -- list --cursor <the cursor the previous page printed>
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { CustomerIdSchema, LIST_PAGE_MAX, parseServerFrame } from '../common/protocol';
import type { OrderStatus } from '../common/status';
import type { Output } from './format';
import { EXIT } from './outcomes';
import { openSocket } from './socket';

export interface ListedOrder {
  orderId: string;
  item: string | null;
  price: number | null;
  quantity: number | null;
  status: OrderStatus;
  seq: number;
  placedAt: number;
  updatedAt: number;
}

export interface ListOptions {
  status: 'all' | 'open' | 'finished';
  limit: number;
  cursor?: string;
  customerId?: string;
  token?: string;
  timeoutMs: number;
  json: boolean;
}

export type ListResult =
  { ok: true; orders: ListedOrder[]; cursor?: string } | { ok: false; exitCode: number; message: string };

/** One listOrders request over a fresh connection; resolves with the page or why there is none. */
export async function listOrders(url: string, opts: ListOptions): Promise<ListResult> {
  let settle: (r: ListResult) => void = () => undefined;
  const result = new Promise<ListResult>((resolve) => (settle = resolve));
  let ws;
  try {
    ws = await openSocket(url, opts.token, {
      onMessage: (text) => {
        const frame = parseServerFrame(text);
        if (frame?.event === 'orders') {
          const data = frame.data as { orders: ListedOrder[]; cursor?: string };
          settle({ ok: true, orders: data.orders, ...(data.cursor ? { cursor: data.cursor } : {}) });
        } else if (frame?.event === 'error') {
          const data = frame.data as { code?: string; message?: string };
          settle({ ok: false, exitCode: EXIT.gatewayError, message: `${data.code}: ${data.message}` });
        }
      },
      onClose: (code) => settle({ ok: false, exitCode: EXIT.connection, message: `connection closed (${code})` }),
    });
  } catch (err) {
    return { ok: false, exitCode: EXIT.connection, message: (err as Error).message };
  }
  const timer = setTimeout(
    () => settle({ ok: false, exitCode: EXIT.timeout, message: `no answer within ${opts.timeoutMs / 1000} s` }),
    opts.timeoutMs,
  );
  const data = {
    status: opts.status,
    limit: opts.limit,
    ...(opts.cursor ? { cursor: opts.cursor } : {}),
    ...(opts.customerId ? { customerId: opts.customerId } : {}),
  };
  ws.send(JSON.stringify({ event: 'listOrders', data }));
  try {
    return await result;
  } finally {
    clearTimeout(timer);
    ws.removeAllListeners('close');
    ws.close();
  }
}

const time = (at: number): string => new Date(at).toISOString().replace('T', ' ').slice(0, 19);

/** The page as a table: one line per order, then where the next page starts. */
export function formatPage(orders: ListedOrder[], cursor: string | undefined): string[] {
  if (orders.length === 0) return ['no orders'];
  const rows = orders.map((o) => [
    o.orderId,
    o.status,
    o.item ?? '',
    o.price === null ? '' : `${o.quantity ?? 1} × ${o.price}`,
    time(o.placedAt),
    time(o.updatedAt),
  ]);
  const head = ['ORDER', 'STATUS', 'ITEM', 'QTY × PRICE', 'PLACED (UTC)', 'UPDATED (UTC)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line), ...(cursor ? [`next page: npm run order -- list --cursor ${cursor}`] : [])];
}

function pageSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > LIST_PAGE_MAX)
    throw new InvalidArgumentError(`must be a whole number from 1 to ${LIST_PAGE_MAX}.`);
  return n;
}

function customerIdArg(value: string): string {
  if (!CustomerIdSchema.safeParse(value).success)
    throw new InvalidArgumentError('must be 1-128 visible ASCII characters');
  return value;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number greater than 0.');
  return n;
}

/** `order list …`: parses its flags, asks, prints; returns the exit code. */
export async function runList(argv: string[], output: Output, defaultUrl: string): Promise<number> {
  const program = new Command('order list')
    .description('List your orders (newest first, a page at a time) from the order history.')
    .addOption(
      new Option('--status <which>', 'all, open or finished').choices(['all', 'open', 'finished']).default('all'),
    )
    .option('--limit <n>', `orders per page, at most ${LIST_PAGE_MAX}`, pageSize, LIST_PAGE_MAX)
    .option('--cursor <cursor>', 'the next page (printed under the previous one)')
    .option(
      '--customer-id <id>',
      'no-auth and shared-token modes: the customer label the orders were placed with',
      customerIdArg,
    )
    .addOption(new Option('--token <token>', "the gateway's token in token mode").env('ORDER_TOKEN'))
    .addOption(new Option('--url <ws-url>', 'gateway WebSocket URL').default(defaultUrl).env('ORDER_GATEWAY_URL'))
    .option('--timeout <seconds>', 'give up after this long', seconds, 10)
    .option('--json', 'print the page as JSON')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, '')),
      writeErr: (s) => output.err(s.replace(/\n$/, '')),
    });
  let flags: {
    status: ListOptions['status'];
    limit: number;
    cursor?: string;
    customerId?: string;
    token?: string;
    url: string;
    timeout: number;
    json?: boolean;
  };
  try {
    program.parse(argv, { from: 'user' });
    flags = program.opts();
  } catch (err) {
    const e = err as { code?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') return 0;
    if (typeof e.code === 'string') return EXIT.usage;
    throw err;
  }
  const result = await listOrders(flags.url, {
    status: flags.status,
    limit: flags.limit,
    cursor: flags.cursor,
    customerId: flags.customerId,
    token: flags.token || undefined,
    timeoutMs: Math.round(flags.timeout * 1000),
    json: flags.json === true,
  });
  if (!result.ok) {
    output.err(`✗ ${result.message}`);
    return result.exitCode;
  }
  if (flags.json) output.out(JSON.stringify({ orders: result.orders, cursor: result.cursor }, null, 2));
  else formatPage(result.orders, result.cursor).forEach((l) => output.out(l));
  return EXIT.completed;
}
