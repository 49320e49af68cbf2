/**
 * The codec server's wire form: Temporal's `Payloads` message in proto3 JSON, as the Temporal UI and
 * CLI send it to `/decode` and `/encode` and read it back: `{"payloads":[{"metadata":{"encoding":
 * "<base64>"},"data":"<base64>"}]}`. Every bytes field (each metadata value, the data) is base64;
 * proto3 JSON lets a reader take the URL-safe alphabet and missing padding too, so both are read,
 * and the standard alphabet with padding is written.
 */
import type { Payload } from '@temporalio/common';
import { z } from 'zod';

/** Standard or URL-safe base64, padded or not; whatever else is not base64 (Buffer would skip it silently). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const Base64Bytes = z
  .string()
  .refine((s) => BASE64.test(s) && s.replace(/=+$/, '').length % 4 !== 1, 'must be base64')
  .transform((s) => new Uint8Array(Buffer.from(s, 'base64')));

const PayloadJson = z.object({
  metadata: z.record(z.string(), Base64Bytes).optional(),
  data: Base64Bytes.optional(),
});

const PayloadsJson = z.object({ payloads: z.array(PayloadJson) });

/** A body that is not a `Payloads` message: what is wrong with it, for a 400 answer. */
export class BadPayloadsError extends Error {
  override readonly name = 'BadPayloadsError';
}

/** The payloads of a request body; throws BadPayloadsError naming the first problem (not JSON, a field not base64...). */
export function readPayloads(body: string): Payload[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new BadPayloadsError('the body is not JSON');
  }
  const parsed = PayloadsJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(root)';
    throw new BadPayloadsError(
      `${where}: ${issue?.message ?? 'invalid'} (expected {"payloads":[{"metadata":{…},"data":"<base64>"}]})`,
    );
  }
  return parsed.data.payloads.map((p) => ({
    metadata: p.metadata ?? {},
    ...(p.data === undefined ? {} : { data: p.data }),
  }));
}

const base64 = (bytes: Uint8Array | null | undefined): string =>
  Buffer.from(bytes ?? new Uint8Array()).toString('base64');

/** The answer's body: the payloads in the same proto3 JSON form. */
export function writePayloads(payloads: Payload[]): string {
  return JSON.stringify({
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, base64(v)])),
      data: base64(p.data),
    })),
  });
}
