// The codec server's HTTP side (codec-server/server.ts, access.ts, payloads-json.ts) on a real
// loopback HTTP server, with a small AES-GCM codec of this file's own keyed per customer: the
// protocol the Temporal UI speaks (decode/encode round trip, preflight, bad input), CORS for the
// allowed origin only, auth as when bound beyond loopback (the gateway's JWT verifier), each
// customer seeing only their payloads decoded, admins seeing all, and a destroyed key answered as such.
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { SignJWT } from 'jose';
import pino from 'pino';
import {
  ADMIN_SCOPE,
  authenticatorForHost,
  authorizeByKeyOwner,
  identifyWith,
  type Identify,
} from '../../codec-server/access';
import { CODEC_ERROR_METADATA, createCodecServer } from '../../codec-server/server';
import { customerRefOf } from '../../common/order';
import { customerToken, TEST_JWT_SECRET } from '../helpers/tokens';

const UI_ORIGIN = 'http://127.0.0.1:8233';
const KEY_ID = 'encryption-key-id';
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const text = (b64text: string): string => Buffer.from(b64text, 'base64').toString('utf8');

class TestKeyDestroyed extends Error {}

/** AES-256-GCM under one key per owner ("deployment", or a customer's reference), the key id in the metadata. */
class TestCodec implements PayloadCodec {
  private keys = new Map<string, Buffer>();
  readonly destroyed = new Set<string>();
  constructor(private readonly owner: string) {}
  forOwner(owner: string): TestCodec {
    const codec = new TestCodec(owner);
    codec.keys = this.keys;
    return codec;
  }
  private key(owner: string): Buffer {
    if (this.destroyed.has(owner)) throw new TestKeyDestroyed(`key of ${owner} destroyed`);
    let key = this.keys.get(owner);
    if (!key) this.keys.set(owner, (key = crypto.randomBytes(32)));
    return key;
  }
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', this.key(this.owner), iv);
      const plain = Buffer.from(
        JSON.stringify({
          m: Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
          d: Buffer.from(p.data ?? []).toString('base64'),
        }),
      );
      const body = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: Buffer.from('binary/encrypted'), [KEY_ID]: Buffer.from(this.owner) }, data: body };
    });
  }
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const owner = p.metadata?.[KEY_ID] ? Buffer.from(p.metadata[KEY_ID]).toString() : undefined;
      if (owner === undefined) return p;
      const body = Buffer.from(p.data ?? []);
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key(owner), body.subarray(0, 12));
      decipher.setAuthTag(body.subarray(body.length - 16));
      const plain = Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
      const { m, d } = JSON.parse(plain.toString()) as { m: [string, string][]; d: string };
      return {
        metadata: Object.fromEntries(m.map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        data: Buffer.from(d, 'base64'),
      };
    });
  }
}

const ownerRefOf = (p: Payload): string | undefined => {
  const owner = p.metadata?.[KEY_ID] ? Buffer.from(p.metadata[KEY_ID]).toString() : undefined;
  return owner === 'deployment' ? undefined : owner;
};

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
});

const silent = pino({ level: 'silent' });
const keys = new TestCodec('deployment');

async function serve(opts: { identify?: Identify; maxBodyBytes?: number; codec?: PayloadCodec } = {}): Promise<string> {
  const server = createCodecServer({
    codec: opts.codec ?? keys,
    identify: opts.identify ?? identifyWith(undefined),
    authorize: authorizeByKeyOwner(ownerRefOf),
    keyDestroyed: (err) => err instanceof TestKeyDestroyed,
    allowedOrigins: [UI_ORIGIN],
    maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
    log: silent,
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** As a codec server bound beyond loopback identifies callers: the gateway's JWT verifier. */
const beyondLoopback = (): Identify =>
  identifyWith(authenticatorForHost('0.0.0.0', { jwt: { secret: TEST_JWT_SECRET } }));

interface WirePayload {
  metadata: Record<string, string>;
  data: string;
}
const jsonPayload = (value: unknown): WirePayload => ({
  metadata: { encoding: b64('json/plain') },
  data: b64(JSON.stringify(value)),
});

/** A wire payload encrypted under `owner`'s key (a customer's reference, or "deployment"). */
async function encrypted(owner: string, value: unknown): Promise<WirePayload> {
  const [p] = await keys
    .forOwner(owner)
    .encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) }]);
  return {
    metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p!.data!).toString('base64'),
  };
}

/** An answer's body: payloads, or an error. */
interface Answer {
  payloads: WirePayload[];
  error?: string;
}

async function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Answer }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const raw = await res.text();
  return { status: res.status, headers: res.headers, json: (raw ? JSON.parse(raw) : {}) as Answer };
}

const decodedValues = (json: { payloads: WirePayload[] }): unknown[] =>
  json.payloads.map((p) =>
    text(p.metadata.encoding ?? '') === 'json/plain'
      ? JSON.parse(text(p.data))
      : `<${text(p.metadata.encoding ?? '')}>`,
  );

describe('codec server: the protocol the Temporal UI speaks', () => {
  test('encode then decode gives the payloads back, metadata included; under a namespace segment too', async () => {
    const base = await serve();
    const order = { orderId: '#101', item: 'Mechanical Keyboard', price: 150 };
    const enc = await post(base, '/encode', { payloads: [jsonPayload(order), jsonPayload('second')] });
    expect(enc.status).toBe(200);
    expect(enc.json.payloads).toHaveLength(2);
    expect(text(enc.json.payloads[0].metadata.encoding)).toBe('binary/encrypted');
    expect(text(enc.json.payloads[0].data)).not.toContain('Keyboard');
    const dec = await post(base, '/default/decode', enc.json);
    expect(dec.status).toBe(200);
    expect(dec.headers.get('content-type')).toBe('application/json');
    expect(decodedValues(dec.json)).toEqual([order, 'second']);
    expect(dec.json.payloads[0].metadata).toEqual({ encoding: b64('json/plain') });
  });

  test('an empty list is answered with an empty list; a payload that is not encrypted comes back as it is', async () => {
    const base = await serve();
    expect((await post(base, '/decode', { payloads: [] })).json).toEqual({ payloads: [] });
    const plain = jsonPayload({ hello: 'world' });
    expect((await post(base, '/decode', { payloads: [plain] })).json).toEqual({ payloads: [plain] });
  });

  test('bad input is answered 400 saying what is wrong: not JSON, no payloads, a field that is not base64', async () => {
    const base = await serve();
    const notJson = await post(base, '/decode', '{"payloads": [');
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toBe('the body is not JSON');
    const noPayloads = await post(base, '/decode', { items: [] });
    expect(noPayloads.status).toBe(400);
    expect(noPayloads.json.error).toMatch(/^payloads: /);
    const badData = await post(base, '/decode', {
      payloads: [{ metadata: { encoding: b64('json/plain') }, data: 'not base64!' }],
    });
    expect(badData.status).toBe(400);
    expect(badData.json.error).toMatch(/^payloads\.0\.data: must be base64/);
    const badMeta = await post(base, '/encode', {
      payloads: [{ metadata: { encoding: 'json/plain; charset=utf-8' }, data: b64('1') }],
    });
    expect(badMeta.status).toBe(400);
    expect(badMeta.json.error).toMatch(/^payloads\.0\.metadata\.encoding: must be base64/);
  });

  test('a body over the cap is answered 413 and not decoded', async () => {
    const base = await serve({ maxBodyBytes: 2_048 });
    const big = { payloads: [jsonPayload('x'.repeat(4_000))] };
    const res = await post(base, '/decode', big);
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('the body is over 2048 bytes');
  });

  test('other paths are 404, other methods 405', async () => {
    const base = await serve();
    expect((await post(base, '/decrypt', { payloads: [] })).status).toBe(404);
    expect((await fetch(`${base}/decode`)).status).toBe(405);
  });
});

describe('codec server: CORS only for the Temporal UI origin', () => {
  test('the preflight from the UI origin is granted the headers the UI sends, with credentials', async () => {
    const base = await serve();
    const res = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
        'access-control-request-private-network': 'true',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-private-network')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['content-type', 'x-namespace', 'authorization']),
    );
    const decode = await post(base, '/decode', { payloads: [] }, { origin: UI_ORIGIN });
    expect(decode.status).toBe(200);
    expect(decode.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  });

  test('any other Origin gets no CORS header, its preflight and its requests are refused 403 and nothing is decoded', async () => {
    const base = await serve();
    for (const origin of [
      'http://evil.example',
      'http://127.0.0.1:8234',
      'null',
      'http://localhost.evil.example:8233',
    ]) {
      const pre = await fetch(`${base}/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-private-network': 'true' },
      });
      expect(pre.status).toBe(403);
      expect([...pre.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
      const res = await post(base, '/decode', { payloads: [await encrypted('deployment', 'secret')] }, { origin });
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.json)).not.toContain(b64('"secret"'));
      expect([...res.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });
});

describe('codec server beyond loopback: a token, and each customer sees their own', () => {
  const alice = 'alice@example.com';
  const bob = 'bob';
  const adminToken = async (scope: string): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ops-jane')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
  };
  const history = async (): Promise<WirePayload[]> => [
    await encrypted(customerRefOf(alice), { customer: 'alice', item: 'Desk' }),
    await encrypted(customerRefOf(bob), { customer: 'bob', item: 'Lamp' }),
    await encrypted('deployment', { customer: 'none', item: 'Chair' }),
  ];

  test('bound beyond loopback, the codec server needs JWT mode configured; on loopback it asks for no token', () => {
    expect(authenticatorForHost('127.0.0.1', {})).toBeUndefined();
    expect(authenticatorForHost('localhost', { jwt: { secret: TEST_JWT_SECRET } })).toBeUndefined();
    expect(() => authenticatorForHost('0.0.0.0', {})).toThrow(
      /CODEC_SERVER_HOST=0\.0\.0\.0 is reachable from other machines/,
    );
    expect(() => authenticatorForHost('10.0.0.5', { sharedToken: 'a-shared-token' })).toThrow(/GATEWAY_JWT_SECRET/);
    expect(authenticatorForHost('0.0.0.0', { jwt: { secret: TEST_JWT_SECRET } })?.mode).toBe('jwt');
  });

  test('no token, a forged one, an expired one: 401 and nothing decoded; encode too', async () => {
    const base = await serve({ identify: beyondLoopback() });
    const body = { payloads: await history() };
    const forged = await customerToken(alice, { secret: 'another-secret-of-at-least-32-bytes!!' });
    const expired = await customerToken(alice, { expiresInS: -60 });
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Bearer ${forged}` },
      { authorization: `Bearer ${expired}` },
      { authorization: 'Basic YWxpY2U6eA==' },
    ]) {
      for (const route of ['/decode', '/encode']) {
        const res = await post(base, route, body, { origin: UI_ORIGIN, ...headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(res.json.payloads).toBeUndefined();
      }
    }
  });

  test("a customer's token decodes their own payloads only: another customer's and the deployment key's stay encrypted", async () => {
    const base = await serve({ identify: beyondLoopback() });
    const payloads = await history();
    const asAlice = await post(
      base,
      '/decode',
      { payloads },
      { authorization: `Bearer ${await customerToken(alice)}` },
    );
    expect(asAlice.status).toBe(200);
    expect(decodedValues(asAlice.json)).toEqual([
      { customer: 'alice', item: 'Desk' },
      '<binary/encrypted>',
      '<binary/encrypted>',
    ]);
    expect(asAlice.json.payloads.slice(1)).toEqual(payloads.slice(1));
    const asBob = await post(base, '/decode', { payloads }, { authorization: `Bearer ${await customerToken(bob)}` });
    expect(decodedValues(asBob.json)).toEqual([
      '<binary/encrypted>',
      { customer: 'bob', item: 'Lamp' },
      '<binary/encrypted>',
    ]);
  });

  test('a customer may not encode (403); an admin token decodes every payload and may encode', async () => {
    const base = await serve({ identify: beyondLoopback() });
    const enc = await post(
      base,
      '/encode',
      { payloads: [jsonPayload(1)] },
      { authorization: `Bearer ${await customerToken(alice)}` },
    );
    expect(enc.status).toBe(403);
    const admin = `Bearer ${await adminToken(`openid ${ADMIN_SCOPE}`)}`;
    const all = await post(base, '/decode', { payloads: await history() }, { authorization: admin });
    expect(decodedValues(all.json)).toEqual([
      { customer: 'alice', item: 'Desk' },
      { customer: 'bob', item: 'Lamp' },
      { customer: 'none', item: 'Chair' },
    ]);
    expect((await post(base, '/encode', { payloads: [jsonPayload(1)] }, { authorization: admin })).status).toBe(200);
    // A scope that only resembles the admin's is a customer's token.
    const near = `Bearer ${await adminToken(`${ADMIN_SCOPE}-not openid`)}`;
    expect(
      decodedValues((await post(base, '/decode', { payloads: await history() }, { authorization: near })).json),
    ).toEqual(['<binary/encrypted>', '<binary/encrypted>', '<binary/encrypted>']);
  });
});

describe('codec server: erased customers', () => {
  test('a payload under a destroyed key is answered as KEY_DESTROYED, the others in the same request decode', async () => {
    const codec = new TestCodec('deployment');
    const base = await serve({ codec });
    const seal = async (owner: string, value: unknown): Promise<WirePayload> => {
      const [p] = await codec
        .forOwner(owner)
        .encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) }]);
      return {
        metadata: Object.fromEntries(
          Object.entries(p!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
        ),
        data: Buffer.from(p!.data!).toString('base64'),
      };
    };
    const erased = customerRefOf('erased-customer');
    const payloads = [await seal(erased, { item: 'Desk' }), await seal(customerRefOf('kept'), { item: 'Lamp' })];
    codec.destroyed.add(erased);
    const res = await post(base, '/decode', { payloads });
    expect(res.status).toBe(200);
    expect(text(res.json.payloads[0].metadata[CODEC_ERROR_METADATA])).toBe('KEY_DESTROYED');
    expect(decodedValues(res.json)[0]).toEqual({
      error: 'KEY_DESTROYED',
      message: expect.stringMatching(/^key destroyed: /),
    });
    expect(decodedValues(res.json)[1]).toEqual({ item: 'Lamp' });
    // A payload that fails otherwise (tampered) says DECODE_FAILED, not KEY_DESTROYED.
    const tampered = {
      ...payloads[1]!,
      data: Buffer.from(Buffer.from(payloads[1]!.data, 'base64').map((b, i) => (i === 20 ? b ^ 1 : b))).toString(
        'base64',
      ),
    };
    const bad = await post(base, '/decode', { payloads: [tampered] });
    expect(text(bad.json.payloads[0].metadata[CODEC_ERROR_METADATA])).toBe('DECODE_FAILED');
  });
});
