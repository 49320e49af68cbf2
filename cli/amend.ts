/**
 * `npm run order -- amend <orderId>`: changes an order's item, price or quantity until payment
 * starts (the gateway's amendOrder) and prints what the order is now.
 *
 *   npm run order -- amend '#101' --quantity 2
 *   npm run order -- amend '#101' --item "Desk" --price 300 --amendment-id desk-1
 *
 * An amendment is named by its id (default: a fresh amend-xxxxxxxx, printed first): the same id sent
 * again changes the order once, so after a timeout or a lost connection resend it with --amendment-id.
 */
import { Command, Option } from 'commander';
import { AmendOrderInput, describeZodError } from '../common/order';
import { type AmendRequest, newOrderId, parseServerFrame } from '../common/protocol';
import type { Output } from './format';
import { EXIT } from './outcomes';
import { openSocket } from './socket';

export type AmendAnswer =
  | { ok: true; orderId: string; amendmentId: string; item: string; price: number; quantity: number }
  | { ok: false; exitCode: number; code?: string; message: string; outcomeUnknown?: boolean };

/** Sends one amendOrder over a fresh connection; resolves with orderAmended's data, or why there is none. */
export async function amendOrder(
  url: string,
  request: AmendRequest,
  opts: { token?: string; timeoutMs: number },
): Promise<AmendAnswer> {
  let settle: (a: AmendAnswer) => void = () => undefined;
  const answer = new Promise<AmendAnswer>((resolve) => (settle = resolve));
  let ws;
  try {
    ws = await openSocket(url, opts.token, {
      onMessage: (text) => {
        const frame = parseServerFrame(text);
        if (!frame || (frame.data.orderId !== request.orderId && frame.data.orderId !== null)) return;
        if (frame.event === 'orderAmended') {
          const { orderId, amendmentId, item, price, quantity } = frame.data as Record<string, never>;
          settle({ ok: true, orderId, amendmentId, item, price, quantity });
        } else if (frame.event === 'error') {
          const { code, message } = frame.data as { code: string; message: string };
          // TEMPORAL_UNAVAILABLE: the update may still apply (an accepted one waits for validation).
          const outcomeUnknown = code === 'TEMPORAL_UNAVAILABLE';
          settle({ ok: false, exitCode: EXIT.gatewayError, code, message: `${code}: ${message}`, outcomeUnknown });
        }
      },
      onClose: (code) =>
        settle({ ok: false, exitCode: EXIT.connection, message: `connection closed (${code})`, outcomeUnknown: true }),
    });
  } catch (err) {
    return { ok: false, exitCode: EXIT.connection, message: (err as Error).message };
  }
  const timer = setTimeout(
    () =>
      settle({
        ok: false,
        exitCode: EXIT.timeout,
        message: `no answer within ${opts.timeoutMs / 1000} s`,
        outcomeUnknown: true,
      }),
    opts.timeoutMs,
  );
  ws.send(JSON.stringify({ event: 'amendOrder', data: request }));
  try {
    return await answer;
  } finally {
    clearTimeout(timer);
    ws.removeAllListeners('close');
    ws.close();
  }
}

/** A number flag as written: NaN for anything that is not one, so the request's own schema names the flag. */
const asNumber = (value: string): number => (value.trim() === '' ? NaN : Number(value));

/** `order amend …`: parses its flags, checks them with the gateway's schema, asks, prints; returns the exit code. */
export async function runAmend(argv: string[], output: Output, defaultUrl: string): Promise<number> {
  let chosen: { orderId: string } | undefined;
  const program = new Command('order amend')
    .description("Change an order's item, price or quantity until its payment starts.")
    .argument('<orderId>', 'the order to amend')
    .option('--item <name>', 'the new item')
    .option('--price <amount>', 'the new unit price, > 0', asNumber)
    .option('--quantity <n>', 'the new quantity', asNumber)
    .option('--amendment-id <id>', 'names the amendment; the same id again changes the order once (default: new)')
    .addOption(new Option('--token <token>', "the gateway's token in token mode").env('ORDER_TOKEN'))
    .addOption(new Option('--url <ws-url>', 'gateway WebSocket URL').default(defaultUrl).env('ORDER_GATEWAY_URL'))
    .option('--timeout <seconds>', 'give up after this long', asNumber, 70)
    .allowExcessArguments(false)
    .exitOverride()
    .action((orderId: string) => {
      chosen = { orderId };
    })
    .configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, '')),
      writeErr: (s) => output.err(s.replace(/\n$/, '')),
    });
  let flags: {
    item?: string;
    price?: number;
    quantity?: number;
    amendmentId?: string;
    token?: string;
    url: string;
    timeout: number;
  };
  try {
    program.parse(argv, { from: 'user' });
    flags = program.opts();
  } catch (err) {
    const e = err as { code?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') return 0;
    if (typeof e.code === 'string') return EXIT.usage; // commander already printed the message
    throw err;
  }
  if (!chosen) return EXIT.usage;
  const request: AmendRequest = {
    orderId: chosen.orderId,
    amendmentId: flags.amendmentId ?? newOrderId('amend'),
    ...(flags.item === undefined ? {} : { item: flags.item }),
    ...(flags.price === undefined ? {} : { price: flags.price }),
    ...(flags.quantity === undefined ? {} : { quantity: flags.quantity }),
  };
  const checked = AmendOrderInput.safeParse(request);
  if (!checked.success) {
    output.err(`error: ${describeZodError(checked.error).message}`);
    return EXIT.usage;
  }
  if (!(flags.timeout > 0)) {
    output.err('error: --timeout must be a number greater than 0');
    return EXIT.usage;
  }
  output.out(`→ amending order ${request.orderId} (amendment ${request.amendmentId}) via ${flags.url}`);
  const answer = await amendOrder(flags.url, checked.data, {
    token: flags.token || undefined,
    timeoutMs: Math.round(flags.timeout * 1000),
  });
  if (!answer.ok) {
    output.err(`✗ ${answer.message}`);
    if (answer.outcomeUnknown)
      output.err(
        `  the outcome is unknown: resend with --amendment-id ${request.amendmentId} (it changes the order once)`,
      );
    return answer.exitCode;
  }
  output.out(
    `  amended: ${answer.quantity} × "${answer.item}" at ${answer.price.toFixed(2)} (${(answer.price * answer.quantity).toFixed(2)} to pay)`,
  );
  return EXIT.completed;
}
