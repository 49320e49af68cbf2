// The codec server as `npm run codec-server` runs it (codec-server/main.ts, a real process), over the
// app's own payload codec and local key store (common/codec): payloads sealed by the app's codec for
// two customers and the deployment decode for the developer on loopback, under the CLI's
// `/<namespace>/decode` too; after one customer's key is destroyed (what `customer:erase` does), that
// customer's payloads answer KEY_DESTROYED while the other's still decode; what the codec server
// encodes, the app's codec decodes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Payload } from '@temporalio/common';
import { createPayloadCodec, LocalKeyStore } from '../../common/codec';
import { customerRefOf, workflowIdFor } from '../../common/order';
import { AppProcess } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/proc';

const UI_ORIGIN = 'http://127.0.0.1:8233';
const kek = crypto.randomBytes(32);
const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codec-keys-'));
const store = new LocalKeyStore({ dir: keysDir, kek, cacheMs: 0 });
const codec = createPayloadCodec(store);
let proc: AppProcess;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proc = new AppProcess({
    app: 'codec-server',
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      PAYLOAD_ENCRYPTION: 'on',
      PAYLOAD_KEK: kek.toString('hex'),
      PAYLOAD_KEK_FILE: '',
      PAYLOAD_KEYS_DIR: keysDir,
      PAYLOAD_KEY_CACHE_MS: '0',
      CODEC_SERVER_PORT: String(port),
      CODEC_SERVER_HOST: '127.0.0.1',
      CODEC_SERVER_ALLOWED_ORIGINS: UI_ORIGIN,
    },
    // Any answer on the port (GET /decode is 405) means it listens.
    ready: async () => (await fetch(`${base}/decode`).catch(() => undefined)) !== undefined,
  });
  await proc.start();
});

afterAll(async () => {
  await proc?.stop();
  fs.rmSync(keysDir, { recursive: true, force: true });
});

const json = (value: unknown): Payload => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});
const wire = (p: Payload): { metadata: Record<string, string>; data: string } => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromWire = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const shown = (p: Payload): unknown => JSON.parse(Buffer.from(p.data ?? []).toString());

/** Seals `value` as the app seals a payload of `customerId`'s order (or, without one, a no-auth order's). */
async function sealed(value: unknown, customerId?: string): Promise<Payload> {
  const workflowId = workflowIdFor({ orderId: 'o1', customerId, idScope: customerId ? 'customer' : undefined });
  const [p] = await codec.encode([json(value)], { type: 'workflow', namespace: 'default', workflowId });
  return p!;
}

async function decode(payloads: Payload[], route = '/decode'): Promise<Payload[]> {
  const res = await fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: UI_ORIGIN },
    body: JSON.stringify({ payloads: payloads.map(wire) }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  return ((await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads.map(
    fromWire,
  );
}

test("on loopback the app's sealed payloads decode for the developer, every customer's and the deployment's", async () => {
  const payloads = [
    await sealed({ item: 'Desk' }, 'alice'),
    await sealed({ item: 'Lamp' }, 'bob'),
    await sealed({ item: 'Chair' }),
  ];
  expect(payloads.every((p) => Buffer.from(p.metadata!.encoding!).toString() === 'binary/encrypted')).toBe(true);
  expect((await decode(payloads)).map(shown)).toEqual([{ item: 'Desk' }, { item: 'Lamp' }, { item: 'Chair' }]);
  expect((await decode(payloads, '/default/decode')).map(shown)).toEqual([
    { item: 'Desk' },
    { item: 'Lamp' },
    { item: 'Chair' },
  ]);
});

test("what the codec server encodes, the app's codec decodes", async () => {
  const res = await fetch(`${base}/encode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payloads: [wire(json({ note: 'from the UI' }))] }),
  });
  const [p] = ((await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads;
  const encoded = fromWire(p!);
  expect(Buffer.from(encoded.metadata!.encoding!).toString()).toBe('binary/encrypted');
  expect((await codec.decode([encoded])).map(shown)).toEqual([{ note: 'from the UI' }]);
});

test("after a customer's key is destroyed, their payloads answer KEY_DESTROYED and another customer's still decode", async () => {
  const erased = `erased-${Date.now()}`;
  const payloads = [await sealed({ item: 'Desk' }, erased), await sealed({ item: 'Lamp' }, 'kept-customer')];
  expect((await decode(payloads)).map(shown)).toEqual([{ item: 'Desk' }, { item: 'Lamp' }]);
  await store.destroy({ kind: 'customer', ref: customerRefOf(erased) }, 'codec-server-process.test');
  const [gone, kept] = await decode(payloads);
  expect(Buffer.from(gone!.metadata!['codec-error']!).toString()).toBe('KEY_DESTROYED');
  expect(shown(gone!)).toEqual({ error: 'KEY_DESTROYED', message: expect.stringMatching(/^key destroyed: /) });
  expect(shown(kept!)).toEqual({ item: 'Lamp' });
});
