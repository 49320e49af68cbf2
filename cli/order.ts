/**
 * order: place an order (or follow one, or place many) through the gateway and watch it to a final state.
 *
 *   npm run order -- --item "Mechanical Keyboard" --price 150
 *   npm run order -- --follow '#101'
 *   npm run order -- --item "USB cable" --price 9.5 --count 50
 *   npm run order -- list [--status open] [--cursor …]
 *   npm run order -- amend '#101' --quantity 2
 *
 * The parts: ./commands (placeAndFollow / followOrder / placeMany, which return the outcome with its
 * exit code, so tests drive them without a child process), ./flags (runCli parses argv), ./format
 * (what is printed), ./outcomes (exit codes), ./order-client (the protocol client), ./amend (the
 * amend command and its one request).
 */
import { EXIT } from './outcomes';
import { runCli } from './flags';

export { newOrderId } from '../common/protocol';
export { DEFAULT_TIMEOUT_SECONDS, followOrder, placeAndFollow, placeMany } from './commands';
export type { CommonOptions, ManyOptions, PlaceOptions } from './commands';
export { buildProgram, DEFAULT_URL, runCli } from './flags';
export { silentOutput, temporalRunUrl } from './format';
export type { Output } from './format';
export { describeError, EXIT } from './outcomes';
export { formatPage, listOrders, runList } from './list';
export type { ListedOrder, ListOptions, ListResult } from './list';
export { amendOrder, runAmend } from './amend';
export type { AmendAnswer } from './amend';
export type { BatchOutcome, OrderOutcome, OutcomeKind } from './outcomes';

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
