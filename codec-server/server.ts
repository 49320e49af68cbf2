/**
 * The codec server's HTTP side: Temporal's codec server protocol for the Temporal UI and CLI.
 *  - `POST /decode` and `POST /encode` (also under a namespace segment, `/<namespace>/decode`, the
 *    form the CLI's `--codec-endpoint http://…/{namespace}` produces) take `{"payloads":[…]}` in
 *    proto3 JSON (./payloads-json) and answer the same shape; `X-Namespace` is read by nobody here:
 *    keys belong to customers, not namespaces.
 *  - Decoding is per payload: one the caller may not see (./access) comes back as it came, still
 *    encrypted; one whose customer's key was destroyed (erasure) comes back as a `json/plain`
 *    payload saying so (metadata `codec-error: KEY_DESTROYED`), so the UI shows why instead of bytes;
 *    others that fail to decode say `DECODE_FAILED` (the detail only in the log).
 *  - Encoding is for the developer (loopback) and admins; a customer's token gets 403.
 *  - CORS for the configured origins only, with credentials (the UI's "include cross-origin
 *    credentials"); a request carrying any other Origin is refused 403 with no CORS headers, which also
 *    turns away a page that rebinds a name of its own to this address.
 *  - The body is capped (413), and bad JSON or base64 answered 400 with what is wrong.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Logger } from '../common/logger';
import type { Authorize, Caller, Identify } from './access';
import { BadPayloadsError, readPayloads, writePayloads } from './payloads-json';

export interface CodecServerOptions {
  codec: PayloadCodec;
  identify: Identify;
  authorize: Authorize;
  /** Whether a decode failure is a destroyed key (the customer was erased). */
  keyDestroyed: (err: unknown) => boolean;
  /** Browser origins granted CORS (scheme://host[:port]). */
  allowedOrigins: string[];
  maxBodyBytes: number;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** The metadata key an answered-in-place failure carries (its value: KEY_DESTROYED or DECODE_FAILED). */
export const CODEC_ERROR_METADATA = 'codec-error';

const ROUTE = /^\/(?:[^/]+\/)?(decode|encode)$/;
const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** A payload that stands in for one that could not be decoded: JSON the UI shows as it is. */
function failurePayload(code: 'KEY_DESTROYED' | 'DECODE_FAILED', message: string): Payload {
  return {
    metadata: { encoding: utf8('json/plain'), [CODEC_ERROR_METADATA]: utf8(code) },
    data: utf8(JSON.stringify({ error: code, message })),
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The request's body as text, at most `max` bytes (413 beyond, without reading the rest). */
function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max)
    return Promise.reject(new HttpError(413, `the body is over ${max} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new HttpError(413, `the body is over ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function createCodecServer(opts: CodecServerOptions): http.Server {
  const origins = new Set(opts.allowedOrigins);

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      // Decoded customer data: never kept by a browser or a proxy.
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(text);
  };

  async function decode(caller: Caller, payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        if (!opts.authorize(caller, payload)) return payload;
        try {
          const [decoded] = await opts.codec.decode([payload]);
          return decoded!;
        } catch (err) {
          if (opts.keyDestroyed(err))
            return failurePayload(
              'KEY_DESTROYED',
              "key destroyed: this customer's data key was erased on request, so this payload can never be decoded again",
            );
          const id = crypto.randomUUID();
          opts.log.warn(
            { err, correlationId: id },
            `decode failed ${id}: ${err instanceof Error ? err.message : String(err)}`,
          );
          return failurePayload('DECODE_FAILED', `this payload could not be decoded (correlation id ${id})`);
        }
      }),
    );
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const route = ROUTE.exec((req.url ?? '').split('?')[0]!)?.[1] as 'decode' | 'encode' | undefined;
    const origin = req.headers.origin;
    // CORS only for the allowed origins, with credentials; nothing at all for any other.
    const cors: http.OutgoingHttpHeaders =
      origin !== undefined && origins.has(origin)
        ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' }
        : { vary: 'Origin' };
    if (origin !== undefined && !origins.has(origin)) return send(res, 403, { error: 'origin not allowed' }, cors);
    if (!route) return send(res, 404, { error: 'not found: POST /decode or /encode' }, cors);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
        // Chromium's Private Network Access: a page on the internet (Temporal Cloud's UI) calling a codec
        // server on the operator's own machine asks first; granted to the allowed origins only.
        ...(cors['access-control-allow-origin'] && req.headers['access-control-request-private-network'] === 'true'
          ? { 'access-control-allow-private-network': 'true' }
          : {}),
      });
      res.end();
      return;
    }
    if (req.method !== 'POST')
      return send(res, 405, { error: 'method not allowed: POST' }, { ...cors, allow: 'POST, OPTIONS' });

    const who = await opts.identify(req);
    if (!who.ok) {
      opts.log.warn(`codec request refused ${who.status}: ${who.reason}${who.detail ? ` (${who.detail})` : ''}`);
      return send(
        res,
        who.status,
        { error: who.reason },
        who.status === 401 ? { ...cors, 'www-authenticate': 'Bearer' } : cors,
      );
    }
    if (route === 'encode' && who.caller.kind === 'customer')
      return send(res, 403, { error: `encoding needs the developer (loopback) or an admin token` }, cors);

    const payloads = readPayloads(await readBody(req, opts.maxBodyBytes));
    if (route === 'decode') return send(res, 200, writePayloads(await decode(who.caller, payloads)), cors);
    return send(res, 200, writePayloads(await opts.codec.encode(payloads)), cors);
  }

  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const headers: http.OutgoingHttpHeaders = { connection: 'close' };
      const origin = req.headers.origin;
      if (origin !== undefined && origins.has(origin))
        Object.assign(headers, { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' });
      if (err instanceof BadPayloadsError) return send(res, 400, { error: err.message }, headers);
      if (err instanceof HttpError) return send(res, err.status, { error: err.message }, headers);
      const id = crypto.randomUUID();
      opts.log.error(
        { err, correlationId: id },
        `codec request failed ${id}: ${err instanceof Error ? err.message : String(err)}`,
      );
      if (!res.headersSent) send(res, 500, { error: 'internal error', correlationId: id }, headers);
      else res.destroy();
    });
  });
  return server;
}
