/**
 * Who is calling the codec server, and which payloads they may see decoded (docs/SECURITY.md "The
 * codec server"):
 *  - bound to loopback, no token is asked for: the caller is the developer at this machine, who can
 *    read Temporal's SQLite file anyway, and sees everything;
 *  - bound beyond loopback, every request needs a bearer JWT, checked by the gateway's own verifier
 *    with the gateway's settings (gateway/auth.ts `authenticatorFor`): the token's `sub` is a
 *    customer, who sees decoded only the payloads under their own data key; a token whose `scope`
 *    claim holds ADMIN_SCOPE (an operator) sees all.
 * What a caller may not see is answered as it came, still encrypted.
 */
import type * as http from 'node:http';
import type { Payload } from '@temporalio/common';
import { decodeJwt } from 'jose';
import type { AuthSettings } from '../common/config';
import { customerRefOf } from '../common/order';
import {
  AuthUnavailableError,
  authenticatorFor,
  isLoopback,
  presentedToken,
  type Authenticator,
} from '../gateway/auth';

/** The `scope` entry (space-separated, RFC 8693) that lets a token see every customer's payloads and encode. */
export const ADMIN_SCOPE = 'orders:decode-all';

export type Caller =
  { kind: 'developer' } | { kind: 'admin'; customerId: string } | { kind: 'customer'; customerId: string };

/** A request's caller, or why there is none: 401 (no or bad token), 503 (the token could not be checked now). */
export type CallerResult =
  { ok: true; caller: Caller } | { ok: false; status: 401 | 503; reason: string; detail?: string };

/** Tells who sent a request. */
export type Identify = (req: http.IncomingMessage) => Promise<CallerResult>;

/** Whether `caller` may see `payload` decoded. */
export type Authorize = (caller: Caller, payload: Payload) => boolean;

/**
 * The token checker for a codec server bound to `host`: none on loopback; beyond it, the gateway's
 * JWT verifier, and a start-up error when JWT mode is not configured (a shared token names no
 * customer, and no auth at all would hand every customer's data to whoever reaches the port).
 */
export function authenticatorForHost(host: string, auth: AuthSettings): Authenticator | undefined {
  if (isLoopback(host)) return undefined;
  const authenticator = authenticatorFor(auth);
  if (authenticator.mode !== 'jwt')
    throw new Error(
      `CODEC_SERVER_HOST=${host} is reachable from other machines: set GATEWAY_JWT_SECRET or GATEWAY_JWKS_URL ` +
        '(the codec server then decodes for each token only its customer’s payloads), or bind it to 127.0.0.1',
    );
  return authenticator;
}

/** The `scope` claim's entries (a space-separated string, or a list as some providers write it). */
function scopesOf(token: string): string[] {
  const scope = decodeJwt(token).scope;
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  return Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : [];
}

/** Identifies callers with `authenticator`; without one (loopback), everyone is the developer. */
export function identifyWith(authenticator: Authenticator | undefined): Identify {
  return async (req) => {
    if (!authenticator) return { ok: true, caller: { kind: 'developer' } };
    const token = presentedToken(req);
    let result;
    try {
      result = await authenticator.verify(token);
    } catch (err) {
      if (err instanceof AuthUnavailableError)
        return { ok: false, status: 503, reason: 'auth unavailable, retry later', detail: err.message };
      throw err;
    }
    if (!result.ok) return { ok: false, status: 401, reason: result.reason, detail: result.detail };
    const customerId = result.identity.customerId!;
    // The token was verified just above, so its claims are the signed ones; the verifier reports only the
    // customer, and the scope is read here rather than widening the gateway's identity for one reader.
    const kind = scopesOf(token!).includes(ADMIN_SCOPE) ? 'admin' : 'customer';
    return { ok: true, caller: { kind, customerId } };
  };
}

/**
 * Decoding allowed to the developer and admins for every payload, to a customer only for payloads
 * whose key belongs to them: `ownerRefOf` tells whose key a payload is under (a customer reference,
 * common/order.ts `customerRefOf`), undefined for the deployment-wide key and unencrypted payloads.
 */
export function authorizeByKeyOwner(ownerRefOf: (payload: Payload) => string | undefined): Authorize {
  return (caller, payload) => {
    if (caller.kind !== 'customer') return true;
    const owner = ownerRefOf(payload);
    return owner !== undefined && owner === customerRefOf(caller.customerId);
  };
}
