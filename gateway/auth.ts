/**
 * Who is connecting. Three modes, chosen by configuration (docs/PROTOCOL.md "Auth modes"):
 *  - none: anyone may connect and act on any order (the zero-setup default for local development);
 *  - shared token: the connection must present one fixed secret; still no customer identity;
 *  - JWT: the connection presents a signed token (HS256 with a shared secret, or any asymmetric
 *    algorithm with keys from a JWKS URL); its `sub` is the customer id, and its `exp` ends the session.
 * Verification uses `jose`. A presented token is read from `Authorization: Bearer <token>` (CLI,
 * servers, Socket.IO `extraHeaders`), from a `bearer.<token>` entry of `Sec-WebSocket-Protocol` (the
 * one header a browser lets a page set on a WebSocket) and from Socket.IO's `auth.token`; never from
 * the URL's query string, which proxies and servers log and browsers keep in their history.
 * A verifier that cannot decide (JWKS keys out of reach) rejects with `AuthUnavailableError`
 * instead of refusing the token: the transports answer that as retryable (503 / `auth unavailable`).
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, JWTPayload, jwtVerify, JWTVerifyGetKey } from 'jose';
import { jwtProblems, type AuthSettings, type JwtSettings } from '../common/config';
import { CustomerIdSchema } from '../common/protocol';

/** The subprotocol the gateway speaks; a browser offers it next to `bearer.<token>`. */
export const APP_SUBPROTOCOL = 'orders.v1';
/** Prefix of the Sec-WebSocket-Protocol entry that carries a token. */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

export interface Identity {
  /** The customer (JWT `sub`); undefined when the mode has no customer identity (none, shared token). */
  customerId?: string;
  /** Epoch ms at which the session's token expires (JWT `exp`); the connection is closed then. */
  expiresAt?: number;
}

/**
 * A refusal's `reason` is one of a few fixed phrases a client may be told (Socket.IO's connect_error
 * carries it); `detail` (the verifier's own error) goes only to the log. Neither holds the token.
 */
export type AuthResult = { ok: true; identity: Identity } | { ok: false; reason: string; detail?: string };

export type Transport = 'websocket' | 'socket.io';

/** Told each refused token: the client-safe reason and the log-only detail, never the token itself. */
export type AuthFailureListener = (transport: Transport, reason: string, address: string, detail?: string) => void;

/**
 * Told each connection attempt refused before auth (Host, Origin, per-address caps, a full gateway,
 * a malformed handshake): the HTTP status it got and why.
 */
export type RefusalListener = (transport: Transport, status: number, reason: string, address: string) => void;

/**
 * What a customer id sent by a client becomes in the modes without customer identity (none, shared
 * token): `unverified:<id>`, never a bare id. A token's `sub` may not start with it, so switching to
 * JWT later never hands such an order to the customer it named (docs/PROTOCOL.md "Auth modes").
 */
export const UNVERIFIED_CUSTOMER_PREFIX = 'unverified:';

/** Default longest token lifetime (GATEWAY_JWT_MAX_LIFETIME_S): a day. */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 86_400;

/**
 * Told each connection whose token could not be checked (the verifier failed, e.g. the JWKS endpoint
 * is down): the client was told to retry; the failure's detail is logged under its correlation id.
 */
export type AuthUnavailableListener = (transport: Transport, address: string) => void;

/** What a Socket.IO client's `connect_error` data carries when its token could not be checked: retry later. */
export const AUTH_UNAVAILABLE = { code: 'AUTH_UNAVAILABLE', retryable: true } as const;

export interface Authenticator {
  readonly mode: 'none' | 'shared-token' | 'jwt';
  /**
   * Checks a presented token (undefined: none presented). Rejects, rather than refusing the token,
   * when it cannot decide (`AuthUnavailableError`).
   */
  verify(token: string | undefined): Promise<AuthResult>;
}

/**
 * The token could not be checked because the keys to check it with could not be had (the JWKS
 * endpoint unreachable, timing out, answering an error status or something that is not a key set).
 * Nothing is known about the token, so it is not refused: the client is told to retry.
 */
export class AuthUnavailableError extends Error {
  override readonly name = 'AuthUnavailableError';
}

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export const noAuth: Authenticator = { mode: 'none', verify: async () => ({ ok: true, identity: {} }) };

const sha256 = (text: string): Buffer => crypto.createHash('sha256').update(text).digest();

/**
 * The shared-token check. Both tokens are hashed first and the two 32-byte digests compared in
 * constant time, whatever the presented token's length: comparing the raw tokens would need equal
 * lengths, and a length check before the compare answers sooner for a wrong length, telling an
 * attacker the secret's length.
 */
export function sharedTokenAuth(expected: string): Authenticator {
  const wanted = sha256(expected);
  return {
    mode: 'shared-token',
    async verify(token) {
      const ok = crypto.timingSafeEqual(sha256(token ?? ''), wanted);
      return ok ? { ok: true, identity: {} } : { ok: false, reason: 'missing or wrong token' };
    },
  };
}

/** jose's errors from a key set that are about the token (no key, or several, match its `kid`/`alg`), not about the key source. */
const TOKEN_KEY_ERRORS = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS']);

/**
 * The keys from a JWKS URL (fetched and cached by jose), where a failure to get them becomes an
 * `AuthUnavailableError`: the endpoint being down says nothing about the token. The error names the
 * URL without its credentials or query.
 */
function jwksKeys(url: URL): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { timeoutDuration: 5_000 });
  const shown = `${url.origin}${url.pathname}`;
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && TOKEN_KEY_ERRORS.has(code)) throw err;
      throw new AuthUnavailableError(`JWKS keys from ${shown} could not be fetched`, { cause: err });
    }
  };
}

export function jwtAuth(settings: JwtSettings): Authenticator {
  if (!!settings.secret === !!settings.jwksUrl)
    throw new Error('JWT auth needs exactly one of a secret (HS256) or a JWKS URL');
  const problems = jwtProblems(settings);
  if (problems.length)
    throw new Error(`JWT settings: ${problems.map((p) => `${p.variable} must be ${p.form}`).join('; ')}`);
  const maxLifetimeS = settings.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S;
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (settings.secret) {
    if (Buffer.byteLength(settings.secret) < 32) throw new Error('the HS256 secret must be at least 32 bytes');
    key = new TextEncoder().encode(settings.secret);
    algorithms = ['HS256'];
  } else {
    key = jwksKeys(new URL(settings.jwksUrl!));
    algorithms = ASYMMETRIC_ALGORITHMS;
  }
  return {
    mode: 'jwt',
    async verify(token) {
      if (!token) return { ok: false, reason: 'no token' };
      let payload: JWTPayload;
      try {
        // jose's overloads differ by key kind; both kinds verify the same way.
        ({ payload } = await jwtVerify(token, key as Uint8Array, {
          algorithms,
          issuer: settings.issuer,
          audience: settings.audience,
          requiredClaims: ['sub', 'exp'],
        }));
      } catch (err) {
        if (err instanceof AuthUnavailableError) throw err;
        if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: 'token expired' };
        const code = (err as { code?: string }).code;
        return {
          ok: false,
          reason: 'invalid token',
          detail: code ? `${code}: ${(err as Error).message}` : String(err),
        };
      }
      const exp = payload.exp!;
      const lifetime = Math.max(exp - Date.now() / 1000, payload.iat === undefined ? 0 : exp - payload.iat);
      if (lifetime > maxLifetimeS)
        return {
          ok: false,
          reason: 'token lifetime too long',
          detail: `lifetime ${Math.round(lifetime)} s > GATEWAY_JWT_MAX_LIFETIME_S ${maxLifetimeS}`,
        };
      const sub = CustomerIdSchema.safeParse(payload.sub);
      if (!sub.success || sub.data.startsWith(UNVERIFIED_CUSTOMER_PREFIX))
        return { ok: false, reason: 'token sub is not a usable customer id' };
      return { ok: true, identity: { customerId: sub.data, expiresAt: exp * 1000 } };
    },
  };
}

/** The authenticator for these settings: JWT, shared token, or none. Both at once is a configuration error. */
export function authenticatorFor(settings: AuthSettings): Authenticator {
  const jwt = settings.jwt && (settings.jwt.secret || settings.jwt.jwksUrl) ? settings.jwt : undefined;
  if (jwt && settings.sharedToken) throw new Error('choose one auth mode: a shared token or JWT, not both');
  if (jwt) return jwtAuth(jwt);
  if (settings.sharedToken) return sharedTokenAuth(settings.sharedToken);
  return noAuth;
}

/** The token an HTTP upgrade presents: the Authorization header or a `bearer.` subprotocol (never the query string). */
export function presentedToken(req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const bearer = protocols.find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  return bearer?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
}

/** The warning to log when the gateway listens where other machines reach it with no auth; undefined otherwise. */
export function exposureWarning(host: string, mode: Authenticator['mode']): string | undefined {
  if (mode !== 'none' || isLoopback(host)) return undefined;
  return (
    `WARNING: listening on ${host}, reachable from other machines, WITHOUT AUTH: anyone who can reach this port can place, ` +
    'read and cancel any order. Set GATEWAY_JWT_SECRET or GATEWAY_JWKS_URL (or GATEWAY_AUTH_TOKEN) unless something in front of the gateway authenticates.'
  );
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
