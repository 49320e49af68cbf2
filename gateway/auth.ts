/**
 * Who is connecting. Three modes, chosen by configuration (docs/PROTOCOL.md "Auth modes"):
 *  - none: anyone may connect and act on any order (the zero-setup default for local development);
 *  - shared token: the connection must present one fixed secret; still no customer identity;
 *  - JWT: the connection presents a signed token (HS256 with a shared secret, or any asymmetric
 *    algorithm with keys from a JWKS URL); its `sub` is the customer id, and its `exp` ends the session.
 * Verification uses `jose`. A presented token is read from `Authorization: Bearer <token>` (CLI,
 * servers, Socket.IO `extraHeaders`), from a `bearer.<token>` entry of `Sec-WebSocket-Protocol` (the
 * one header a browser lets a page set on a WebSocket), from Socket.IO's `auth.token`, and, for
 * the shared token only (for existing clients), from `?token=`.
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

export interface Authenticator {
  readonly mode: 'none' | 'shared-token' | 'jwt';
  /** Checks a presented token (undefined: none presented). */
  verify(token: string | undefined): Promise<AuthResult>;
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

export function sharedTokenAuth(expected: string): Authenticator {
  const wanted = Buffer.from(expected);
  return {
    mode: 'shared-token',
    async verify(token) {
      const presented = Buffer.from(token ?? '');
      // Constant-time comparison of equal-length buffers.
      const ok = presented.length === wanted.length && crypto.timingSafeEqual(presented, wanted);
      return ok ? { ok: true, identity: {} } : { ok: false, reason: 'missing or wrong token' };
    },
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
    key = createRemoteJWKSet(new URL(settings.jwksUrl!), { timeoutDuration: 5_000 });
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

/** The token an HTTP upgrade presents: Authorization header, a `bearer.` subprotocol, or (shared token only) ?token=. */
export function presentedToken(req: http.IncomingMessage, mode: Authenticator['mode']): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const bearer = protocols.find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (bearer) return bearer.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  if (mode === 'shared-token') return new URL(req.url ?? '/', 'http://gateway').searchParams.get('token') ?? undefined;
  return undefined;
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
