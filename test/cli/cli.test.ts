// The order CLI's functions against the whole pipeline (gateway -> Kafka -> bridge -> Temporal -> worker).
import { EXIT, followOrder, placeAndFollow, placeMany, runCli } from '../../cli/order';
import { workflowIdFor } from '../../common/order';
import { captureOutput } from '../helpers/cli-output';
import { holdOrderAt, startStack, Stack } from '../helpers/in-process-pipeline';
import { uniqueId, waitUntil } from '../helpers/wait';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ stepDelayMs: 100 });
});

afterAll(async () => {
  await stack?.stop();
});

describe('order CLI', () => {
  test('an order reaches COMPLETED, every status printed once in seq order, exit code 0', async () => {
    const output = captureOutput();
    const orderId = uniqueId('cli');
    const outcome = await placeAndFollow(stack.url, {
      item: 'Mechanical Keyboard',
      price: 150,
      orderId,
      timeoutMs: 60_000,
      output,
    });

    expect(outcome.outcome).toBe('COMPLETED');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.workflowId).toBe(workflowIdFor({ orderId: orderId }));
    const statuses = outcome.events.map((e) => e.status);
    expect(statuses).toEqual(expect.arrayContaining(['ACCEPTED', 'VALIDATED', 'CHARGED', 'SHIPPED', 'COMPLETED']));
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(outcome.events.map((e) => e.seq)).toEqual(outcome.events.map((_, i) => i + 1));
    for (const status of statuses)
      expect(output.lines.filter((l) => new RegExp(`#\\d+\\s+${status}\\b`).test(l))).toHaveLength(1);
    expect(output.lines.at(-1)).toMatch(new RegExp(`order ${orderId} COMPLETED`));
    expect(stack.ledgerLines(orderId).map((e) => e.kind)).toEqual(['charge']);
  });

  test('an order above the card limit ends PAYMENT_DECLINED with a non-zero exit code', async () => {
    const output = captureOutput();
    const outcome = await placeAndFollow(stack.url, {
      item: 'Grand piano',
      price: 6000,
      orderId: uniqueId('declined'),
      timeoutMs: 60_000,
      output,
    });
    expect(outcome.outcome).toBe('PAYMENT_DECLINED');
    expect(outcome.exitCode).toBe(EXIT.paymentDeclined);
    expect(outcome.exitCode).not.toBe(0);
    expect(outcome.events.map((e) => e.status)).not.toContain('SHIPPING');
  });

  test('amend before payment: exit 0 and the new values printed; the order is charged as amended; amended again once COMPLETED: exit 7', async () => {
    const orderId = uniqueId('cli-amend');
    const held = holdOrderAt(stack, 'validate', orderId);
    const following = captureOutput();
    const placed = placeAndFollow(stack.url, {
      item: 'Notebook',
      price: 4,
      orderId,
      timeoutMs: 60_000,
      output: following,
    });
    await held.reached; // VALIDATING: the amendment is accepted and waits for the validation
    const output = captureOutput();
    const amended = runCli(
      ['amend', orderId, '--quantity', '5', '--item', 'Notebook A5', '--amendment-id', 'five', '--url', stack.url],
      output,
    );
    await waitUntil(
      async () =>
        ((await stack.client.workflow.getHandle(workflowIdFor({ orderId })).fetchHistory()).events ?? []).some(
          (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
        ),
      { what: 'the amendment to be accepted' },
    );
    held.open();
    expect(await amended).toBe(EXIT.completed);
    expect(output.lines.join('\n')).toMatch(/amended: 5 × "Notebook A5" at 4\.00 \(20\.00 to pay\)/);
    const outcome = await placed;
    expect(outcome.outcome).toBe('COMPLETED');
    expect(outcome.events.find((e) => e.status === 'AMENDED')?.order).toEqual({
      item: 'Notebook A5',
      price: 4,
      quantity: 5,
    });
    expect(following.lines.filter((l) => / AMENDED /.test(l))).toEqual([
      expect.stringMatching(/#4 +AMENDED +amendment five → 5 × "Notebook A5" at 4\.00$/),
    ]);
    expect(stack.ledgerLines(orderId).map((e) => [e.kind, e.amount])).toEqual([['charge', 20]]);

    const late = captureOutput();
    expect(await runCli(['amend', orderId, '--quantity', '1', '--url', stack.url], late)).toBe(EXIT.gatewayError);
    expect(late.errors.join('\n')).toMatch(/CANNOT_AMEND: order .* is already COMPLETED/);
  });

  test('--follow replays an existing order from its first status', async () => {
    const orderId = uniqueId('follow');
    const placed = await placeAndFollow(stack.url, {
      item: 'Desk lamp',
      price: 35,
      orderId,
      timeoutMs: 60_000,
      output: captureOutput(),
    });
    expect(placed.outcome).toBe('COMPLETED');

    const followed = await followOrder(stack.url, orderId, { timeoutMs: 30_000, output: captureOutput() });
    expect(followed.exitCode).toBe(0);
    expect(followed.events.map((e) => [e.seq, e.status])).toEqual(placed.events.map((e) => [e.seq, e.status]));
  });

  test('--follow of an unknown order reports NOT_FOUND with the gateway-error exit code', async () => {
    const output = captureOutput();
    const outcome = await followOrder(stack.url, uniqueId('nobody'), { timeoutMs: 15_000, output });
    expect(outcome.outcome).toBe('GATEWAY_ERROR');
    expect(outcome.error?.code).toBe('NOT_FOUND');
    expect(outcome.exitCode).toBe(EXIT.gatewayError);
    expect(output.errors.join('\n')).toMatch(/NOT_FOUND/);
  });

  test('--count places many orders and summarises their final states', async () => {
    const output = captureOutput();
    const prefix = uniqueId('many');
    const batch = await placeMany(stack.url, {
      item: 'USB cable',
      price: 9.5,
      count: 5,
      prefix,
      timeoutMs: 60_000,
      output,
      progress: false,
    });
    expect(batch.exitCode).toBe(0);
    expect(batch.counts).toEqual({ COMPLETED: 5 });
    expect(batch.outcomes.map((o) => o.orderId)).toEqual([1, 2, 3, 4, 5].map((n) => `${prefix}-${n}`));
    expect(output.lines.join('\n')).toMatch(/COMPLETED\s+5/);
  });

  test('a gateway error frame is reported with its code and field (exit code 7)', async () => {
    const output = captureOutput();
    const outcome = await placeAndFollow(stack.url, {
      item: 'Gold-plated cable',
      price: 2_000_000,
      orderId: uniqueId('bad'),
      timeoutMs: 15_000,
      output,
    });
    expect(outcome.outcome).toBe('GATEWAY_ERROR');
    expect(outcome.exitCode).toBe(EXIT.gatewayError);
    expect(outcome.error).toMatchObject({ code: 'INVALID_ORDER', field: 'price' });
    expect(output.errors.join('\n')).toMatch(/INVALID_ORDER.*price/);
  });

  test('an unreachable gateway is reported as a connection failure (exit code 9)', async () => {
    const output = captureOutput();
    const outcome = await placeAndFollow('ws://127.0.0.1:1', { item: 'x', price: 1, timeoutMs: 5_000, output });
    expect(outcome.outcome).toBe('CONNECTION');
    expect(outcome.exitCode).toBe(EXIT.connection);
    expect(output.errors.join('\n')).toMatch(/cannot connect to ws:\/\/127\.0\.0\.1:1/);
  });

  test('bad flags are refused with a clear message and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--item', 'Keyboard', '--price', 'abc'], /--price.*'abc' is invalid/],
      [['--item', 'Keyboard', '--price', '-3'], /--price.*invalid/],
      [['--item', 'Keyboard'], /missing --price/],
      [['--item', 'Keyboard', '--price', '5', '--quantity', '1.5'], /--quantity.*whole number/],
      [['--item', 'Keyboard', '--price', '5', '--url', 'http://x'], /--url.*ws:\/\//],
      [['--follow', 'a', '--item', 'Keyboard'], /cannot be used with/],
      [['--item', 'Keyboard', '--price', '5', '--bogus'], /unknown option '--bogus'/],
      [['--item', 'Keyboard', '--price', '5', '--order-id', 'has space'], /--order-id.*letters, digits/],
    ];
    for (const [argv, message] of cases) {
      const output = captureOutput();
      await expect(runCli(argv, output)).resolves.toBe(EXIT.usage);
      expect(output.errors.join('\n')).toMatch(message);
    }
    const help = captureOutput();
    await expect(runCli(['--help'], help)).resolves.toBe(0);
    expect(help.lines.join('\n')).toMatch(/Exit codes:[\s\S]*4\s+PAYMENT_DECLINED/);
  });
});
