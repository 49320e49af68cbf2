/** A fresh Temporal namespace with the app's search attributes: one per test run, or per suite that must not share one. */
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../../tools/infra/launcher';
import { sleep } from '../../tools/infra/proc';

/** Registers `<prefix>-<UTC timestamp>-<pid>` (1 day retention), waits until it answers, registers the search attributes. */
export async function createNamespace(
  address: string,
  prefix: string,
  log: (line: string) => void = () => undefined,
): Promise<string> {
  const namespace = `${prefix}-${new Date()
    .toISOString()
    .replace(/[-:T.Z]/g, '')
    .slice(0, 14)}-${process.pid}`;
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
      description: 'order-orchestrator test run',
    });
    // Wait until the namespace is usable (describe answers).
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  } finally {
    await connection.close();
  }
  await ensureSearchAttributes(address, namespace, log);
  return namespace;
}
