// The Temporal dev server is real: a worker completes a workflow and its history reads back in order.
import * as crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../../common/config';
import { probeWorkflow } from '../workflows/infra-probe';
import { eventTypeNames } from '../helpers/history';
import { appDataConverter } from '../helpers/codec';

const config = loadConfig();

describe('Temporal dev server', () => {
  let connection: Connection;
  let nativeConnection: NativeConnection;

  beforeAll(async () => {
    connection = await Connection.connect({ address: config.temporalAddress });
    nativeConnection = await NativeConnection.connect({ address: config.temporalAddress });
  });

  afterAll(async () => {
    await connection.close();
    await nativeConnection.close();
  });

  test('a workflow started through the server is completed by a worker and its history is kept', async () => {
    const taskQueue = `probe-${crypto.randomUUID()}`;
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows/infra-probe') });
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: config.temporalNamespace,
      dataConverter: appDataConverter(),
      taskQueue,
      workflowBundle,
      activities: { shout: async (text: string) => text.toUpperCase() },
    });
    const client = new Client({ connection, namespace: config.temporalNamespace, dataConverter: appDataConverter() });
    const workflowId = `probe-${crypto.randomUUID()}`;

    const result = await worker.runUntil(
      client.workflow.execute(probeWorkflow, { taskQueue, workflowId, args: ['hello'] }),
    );
    expect(result).toBe('HELLO/HELLO');

    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const kinds = eventTypeNames(history).filter((t) =>
      ['WORKFLOW_EXECUTION_STARTED', 'ACTIVITY_TASK_COMPLETED', 'TIMER_FIRED', 'WORKFLOW_EXECUTION_COMPLETED'].includes(
        t,
      ),
    );
    expect(kinds).toEqual([
      'WORKFLOW_EXECUTION_STARTED',
      'ACTIVITY_TASK_COMPLETED',
      'TIMER_FIRED',
      'ACTIVITY_TASK_COMPLETED',
      'WORKFLOW_EXECUTION_COMPLETED',
    ]);
  });
});
