/** The CLI's command line: flags, their checks, the help text, and which command they run. */
import { Command, Option } from 'commander';
import { customerIdArg, orderIdArg, positiveInteger, positiveNumber, wsUrl } from './arg-parsers';
import { runAmend } from './amend';
import { DEFAULT_TIMEOUT_SECONDS, followOrder, placeAndFollow, placeMany } from './commands';
import { consoleOutput, Output } from './format';
import { runList } from './list';
import { EXIT } from './outcomes';

export const DEFAULT_URL = 'ws://127.0.0.1:3000';

interface CliFlags {
  item?: string;
  price?: number;
  quantity?: number;
  orderId?: string;
  customerId?: string;
  token?: string;
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
  npm run order -- list [--status open|finished] [--cursor <cursor>]   (your orders; list --help)
  npm run order -- amend '#101' --quantity 2 [--item …] [--price …] [--amendment-id …]   (amend --help)
`;

export function buildProgram(output: Output = consoleOutput): Command {
  const program = new Command('order')
    .description(
      'Place an order through the gateway (or follow one, or place many) and print each status until a final one.',
    )
    .option('--item <name>', 'what to order')
    .option('--price <amount>', 'unit price, > 0', positiveNumber)
    .option('--quantity <n>', 'how many (default 1)', positiveInteger)
    .option('--order-id <id>', 'order id (default: a fresh cli-xxxxxxxx); with --count: the id prefix', orderIdArg)
    .option(
      '--customer-id <id>',
      'a customer label, recorded as unverified:<id> (refused in JWT mode, where the token names the customer)',
      customerIdArg,
    )
    .addOption(
      new Option(
        '--token <token>',
        "the gateway's token in token mode (a JWT whose sub is the customer, or the shared token)",
      ).env('ORDER_TOKEN'),
    )
    .addOption(
      new Option('--url <ws-url>', 'gateway WebSocket URL')
        .default(DEFAULT_URL)
        .env('ORDER_GATEWAY_URL')
        .argParser(wsUrl),
    )
    .addOption(
      new Option(
        '--follow <orderId>',
        'follow an existing order from its first status instead of placing one',
      ).conflicts(['item', 'price', 'quantity', 'orderId', 'customerId', 'count']),
    )
    .option(
      '--count <n>',
      'place n orders (ids <prefix>-1 … <prefix>-n) and show how many reached a final state',
      positiveInteger,
    )
    .option(
      '--timeout <seconds>',
      'give up when no final state after this long',
      positiveNumber,
      DEFAULT_TIMEOUT_SECONDS,
    )
    .option('--no-progress', 'with --count: no progress bar')
    .option('--no-summary', 'do not ask the gateway for the charge and tracking ids at the end')
    .addHelpText('after', EXIT_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, '')),
      writeErr: (s) => output.err(s.replace(/\n$/, '')),
    });
  return program;
}

/** Parses argv (without the node and script entries), runs, and returns the exit code. */
export async function runCli(argv: string[], output: Output = consoleOutput): Promise<number> {
  if (argv[0] === 'list') return runList(argv.slice(1), output, DEFAULT_URL);
  if (argv[0] === 'amend') return runAmend(argv.slice(1), output, DEFAULT_URL);
  const program = buildProgram(output);
  let flags: CliFlags;
  try {
    program.parse(argv, { from: 'user' });
    flags = program.opts<CliFlags>();
    if (flags.follow === undefined) {
      const missing = [flags.item === undefined && '--item', flags.price === undefined && '--price'].filter(Boolean);
      if (missing.length)
        program.error(`error: missing ${missing.join(' and ')} (or use --follow <orderId>)`, {
          exitCode: EXIT.usage,
          code: 'order.missing',
        });
      if (flags.item !== undefined && flags.item.trim() === '')
        program.error('error: --item must not be empty', { exitCode: EXIT.usage, code: 'order.item' });
    }
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (typeof e.code === 'string') return EXIT.usage; // commander already printed the message
    throw err;
  }

  const timeoutMs = Math.round(flags.timeout * 1000);
  const token = flags.token || undefined;
  if (flags.follow !== undefined)
    return (await followOrder(flags.url, flags.follow, { timeoutMs, output, summary: flags.summary, token })).exitCode;
  const place = {
    item: flags.item!,
    price: flags.price!,
    quantity: flags.quantity,
    customerId: flags.customerId,
    timeoutMs,
    output,
    token,
  };
  if (flags.count !== undefined)
    return (
      await placeMany(flags.url, {
        ...place,
        count: flags.count,
        prefix: flags.orderId,
        progress: flags.progress ? undefined : false,
      })
    ).exitCode;
  return (await placeAndFollow(flags.url, { ...place, orderId: flags.orderId, summary: flags.summary })).exitCode;
}
