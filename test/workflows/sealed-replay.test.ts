// A history sealed by today's payload codec must stay readable by tomorrow's: test/fixtures/sealed
// holds the recorded happy history (test/fixtures/happy.history.json) with every payload sealed
// under a customer key of a fixture key store (its KEK is test/fixtures/sealed/kek.hex: for this
// test only). It replays against today's workflow code through the codec; with the key destroyed it
// fails with "key destroyed". A change to the sealed format or the key files turns it red.
// Re-seal with: UPDATE_SEALED_FIXTURE=1 npx jest test/workflows/sealed-replay
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Payload, SerializationContext } from '@temporalio/common';
import { visit, walkGetWorkflowExecutionHistoryResponse } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createPayloadCodec, FAILURE_CONVERTER_PATH, keyIdOf, LocalKeyStore } from '../../common/codec';
import { customerRefOf, workflowIdFor } from '../../common/order';
import { historyFromFixture, historyToFixture } from '../helpers/history';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const SEALED = path.join(FIXTURES, 'sealed');
const HISTORY = path.join(SEALED, 'happy.history.json');
const CUSTOMER = 'fixture-customer';
const WORKFLOW_ID = workflowIdFor({ orderId: 'sealed-happy', customerId: CUSTOMER, idScope: 'customer' });
const KEY_ID = `cust-${customerRefOf(CUSTOMER)}.v1`;

const kek = (): Buffer => Buffer.from(fs.readFileSync(path.join(SEALED, 'kek.hex'), 'utf8').trim(), 'hex');
const storeAt = (dir: string): LocalKeyStore => new LocalKeyStore({ dir, kek: kek(), cacheMs: 60_000 });

/** Seals every payload of the clear happy history (search attributes and headers stay as they are). */
async function seal(): Promise<void> {
  if (!fs.existsSync(path.join(SEALED, 'kek.hex')))
    fs.writeFileSync(path.join(SEALED, 'kek.hex'), `${crypto.randomBytes(32).toString('hex')}\n`);
  const codec = createPayloadCodec(storeAt(path.join(SEALED, 'keys')));
  const context: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: WORKFLOW_ID };
  const response = { history: historyFromFixture(fs.readFileSync(path.join(FIXTURES, 'happy.history.json'), 'utf8')) };
  await visit(response, walkGetWorkflowExecutionHistoryResponse, {
    transformPayload: async (p: Payload) => (await codec.encode([p], context))[0]!,
    transformPayloads: (ps: Payload[]) => codec.encode(ps, context),
    skipSearchAttributes: true,
    skipHeaders: true,
  });
  fs.writeFileSync(HISTORY, historyToFixture(response.history));
}

function payloadsOf(message: unknown, found: Payload[] = []): Payload[] {
  if (message === null || typeof message !== 'object' || ArrayBuffer.isView(message)) return found;
  const m = message as Record<string, unknown>;
  if (m.metadata && typeof m.metadata === 'object' && 'data' in m) found.push(m as Payload);
  for (const [k, v] of Object.entries(m)) if (k !== 'searchAttributes' && k !== 'header') payloadsOf(v, found);
  return found;
}

function replay(keysDir: string): Promise<void> {
  const history = historyFromFixture(fs.readFileSync(HISTORY, 'utf8'));
  const dataConverter = {
    payloadCodecs: [createPayloadCodec(storeAt(keysDir))],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
  return Worker.runReplayHistory(
    { workflowsPath: require.resolve('../../workflows'), dataConverter },
    history as temporal.api.history.v1.IHistory,
    WORKFLOW_ID,
  );
}

beforeAll(async () => {
  if (process.env.UPDATE_SEALED_FIXTURE === '1') await seal();
});

test('the sealed happy history holds no payload in clear and replays through the codec', async () => {
  const payloads = payloadsOf(historyFromFixture(fs.readFileSync(HISTORY, 'utf8')));
  expect(payloads.length).toBeGreaterThan(5);
  expect(new Set(payloads.map((p) => keyIdOf(p)))).toEqual(new Set([KEY_ID]));
  await replay(path.join(SEALED, 'keys'));
});

test('with the customer key destroyed, its replay fails with "key destroyed"', async () => {
  const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealed-keys-'));
  try {
    fs.cpSync(path.join(SEALED, 'keys'), keysDir, { recursive: true });
    await storeAt(keysDir).destroy({ kind: 'customer', ref: customerRefOf(CUSTOMER) }, 'test');
    await expect(replay(keysDir)).rejects.toThrow(`key destroyed for customer ${customerRefOf(CUSTOMER)}`);
  } finally {
    fs.rmSync(keysDir, { recursive: true, force: true });
  }
});
