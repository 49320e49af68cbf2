/**
 * `npm run customer:erase -- <customer> [--wait <seconds>] [--by <name>]`
 *
 * Forgets a customer (docs/SECURITY.md "Erasure"): ends their running orders through the cancel
 * update and waits for them to close, destroys their data key, deletes their orders that ran under
 * the deployment-wide key and their order history rows, then logs the action and appends it to
 * `<data dir>/audit/erasures.jsonl`. Exit codes: 0 done; 1 failed (e.g. orders still running after
 * the wait: nothing destroyed); 2 a bad command line or setting.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@temporalio/client';
import { payloadPrivacyOf } from '../../common/codec';
import { loadConfig } from '../../common/config';
import { temporalConnection } from '../../common/connections';
import { initLogger } from '../../common/logger';
import { CustomerIdSchema } from '../../common/protocol';
import { databaseAnswers, openHistoryDb } from '../../history/store';
import { deployCommand, EXIT, parseOrExit, runCommand, UsageError, wholeNumberArg } from '../deploy/cli-kit';
import { eraseCustomer, type ErasureOptions } from './erasure';

const program = deployCommand(
  'customer:erase',
  "End a customer's running orders, destroy their data key, delete their order history, and log it.",
)
  .argument('<customer>', 'the customer id (the JWT `sub` their orders were placed with)')
  .option('--wait <seconds>', 'how long to wait for their running orders to close', wholeNumberArg(1, 3_600), 120)
  .option('--by <name>', 'who asks for the erasure (the audit record)', os.userInfo().username);

/** Where the history database is, without its credentials. */
function hostOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

runCommand('customer:erase', async () => {
  parseOrExit(program);
  const customerId = program.args[0]!;
  const opts = program.opts<{ wait: number; by: string }>();
  const parsed = CustomerIdSchema.safeParse(customerId);
  if (!parsed.success) throw new UsageError(`<customer> ${parsed.error.issues[0]?.message ?? 'is not a customer id'}`);
  const config = loadConfig();
  const log = initLogger('customer-erase', { level: config.logLevel, format: config.logFormat });
  const privacy = payloadPrivacyOf(config.payloadEncryption);
  let connection;
  try {
    connection = await temporalConnection(config);
  } catch (err) {
    throw new UsageError(`cannot reach Temporal at ${config.temporalAddress}: ${(err as Error).message}`);
  }
  const client = new Client({
    connection,
    namespace: config.temporalNamespace,
    dataConverter: privacy.dataConverter,
  });
  const historyUrl = config.historyDatabaseUrl;
  const db = (await databaseAnswers(historyUrl)) ? openHistoryDb(historyUrl, 1) : undefined;
  const history: ErasureOptions['history'] = db
    ? { db }
    : { unavailable: `the order history database (${hostOf(historyUrl)}) does not answer: its rows were not erased` };
  try {
    const report = await eraseCustomer({
      client,
      keyStore: privacy.keyStore,
      customerId,
      by: opts.by,
      waitMs: opts.wait * 1000,
      history,
      auditFile: path.join(config.dataDir, 'audit', 'erasures.jsonl'),
      progress: (line) => console.error(line),
    });
    log.info({ event: 'customer-erased', by: opts.by, ...report }, `customer ${report.customerRef} erased`);
    console.log(
      `customer ${report.customerRef} erased: ${report.orders} order(s) (${report.cancelled} cancelled, ` +
        `${report.endedWhileWaiting} ended on their own), data key ${report.tombstone ? 'destroyed' : 'none (encryption off)'}, ` +
        `${report.deletedRuns} run(s) deleted from Temporal, ` +
        (report.historyRows === null
          ? (report.historyNote ?? 'order history not reached')
          : `${report.historyRows} order history row(s) deleted`),
    );
    return EXIT.ok;
  } finally {
    await db?.destroy();
    await connection.close();
  }
});
