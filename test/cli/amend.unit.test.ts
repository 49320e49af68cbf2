// `npm run order -- amend`: its command line, checked with the gateway's own schema before anything
// is sent (no gateway runs here: a refused command line never connects).
import { runCli } from '../../cli/order';
import { captureOutput } from '../helpers/cli-output';

/** A URL nothing listens on: reaching it would end in exit code 9, not 2. */
const NOWHERE = ['--url', 'ws://127.0.0.1:1'];

describe('order amend: the command line', () => {
  test.each([
    ['no order id', ['amend', '--quantity', '2'], /missing required argument 'orderId'/],
    ['nothing to change', ['amend', 'o-1'], /name at least one of item, price, quantity/],
    ['a price of 0', ['amend', 'o-1', '--price', '0'], /price: must be greater than 0/],
    ['a price that is no number', ['amend', 'o-1', '--price', 'ten'], /price: must be a number/],
    ['a fractional quantity', ['amend', 'o-1', '--quantity', '1.5'], /quantity: must be a whole number/],
    ['an empty item', ['amend', 'o-1', '--item', ' '], /item: must not be empty/],
    [
      'a bad amendment id',
      ['amend', 'o-1', '--quantity', '2', '--amendment-id', 'a b'],
      /amendmentId: may contain only/,
    ],
    ['a bad order id', ['amend', 'o 1', '--quantity', '2'], /orderId: may contain only/],
    ['an unknown flag', ['amend', 'o-1', '--colour', 'red'], /unknown option '--colour'/],
  ])('%s: exit 2 with the reason, nothing sent', async (_name, argv, reason) => {
    const output = captureOutput();
    expect(await runCli([...argv, ...NOWHERE], output)).toBe(2);
    expect(output.errors.join('\n')).toMatch(reason);
    expect(output.lines.join('\n')).not.toMatch(/amending/);
  });

  test('a gateway that cannot be reached: exit 9, nothing was sent so no resend advice', async () => {
    const output = captureOutput();
    expect(await runCli(['amend', 'o-1', '--quantity', '2', ...NOWHERE], output)).toBe(9);
    expect(output.errors.join('\n')).toMatch(/cannot connect/);
    expect(output.errors.join('\n')).not.toMatch(/resend/);
  });
});
