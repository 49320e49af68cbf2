/**
 * Decides, before a WebSocket exists, whether an HTTP upgrade may become one: the Host (DNS
 * rebinding), the caller's address (per-address limits), the Origin (cross-site pages), the token
 * (shared or JWT, see ./auth) and room for another connection. A refused upgrade is answered with a
 * plain HTTP status and closed. The Host and Origin rules are shared with the Socket.IO handshake
 * (./socket-io) and the page (./http-routes).
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import * as crypto from 'node:crypto';
import {
  AuthFailureListener,
  AuthResult,
  Authenticator,
  AuthUnavailableListener,
  Identity,
  presentedToken,
  RefusalListener,
} from './auth';
import type { ConnectionSlots, SlotRelease } from './connection-slots';
import { detailOf, internalErrorLine } from './internal-error';
import { clientAddress, PerIpLimits, PreAuthCap } from './rate-limit';

/** Who may open a connection, on either transport (the raw upgrade here, the Socket.IO handshake in ./socket-io). */
export interface AdmissionOptions {
  auth: Authenticator;
  allowedOrigins?: string[];
  allowedHosts?: string[];
  perIp: PerIpLimits;
  /** Connections not yet authenticated, over all addresses and both transports. */
  preAuth: PreAuthCap;
  /** The connection cap: a slot is taken before a token is checked (./connection-slots). */
  slots: ConnectionSlots;
  /** Told each refused token (never the token itself), for the log and /metrics. */
  onAuthFailure?: AuthFailureListener;
  /** Told each token that could not be checked (the verifier failed): the client was told to retry. */
  onAuthUnavailable?: AuthUnavailableListener;
  /** Told each attempt refused before auth (one log line and a count; never a token). */
  onRefusal?: RefusalListener;
  /** Where an internal failure's detail goes. */
  log?: (line: string) => void;
}

/** The host name of a Host header (or URL host), lowercased, without the port; IPv6 keeps its brackets. */
function hostnameOf(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Host names only this machine resolves to: a page from another site cannot rebind them to anything else. */
function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * True when the request's Host may be served: a loopback name, or one of `allowedHosts` (host
 * names, or `*` for any). A browser page whose own name was rebound to this machine's address (DNS
 * rebinding) sends its own name as Host, which is refused unless listed.
 */
export function hostAllowed(host: string | undefined, allowedHosts: string[] | undefined): boolean {
  const hostname = host === undefined ? undefined : hostnameOf(host);
  if (hostname === undefined) return false;
  if (isLoopbackName(hostname)) return true;
  return (allowedHosts ?? []).some((allowed) => allowed === '*' || hostnameOf(allowed) === hostname);
}

/**
 * The warning to log at start-up when the Host allow-list holds `*`: every Host is then served, so a
 * page whose name was rebound to the gateway's address (DNS rebinding) gets in again. Undefined otherwise.
 */
export function wildcardHostWarning(allowedHosts: string[] | undefined): string | undefined {
  if (!allowedHosts?.includes('*')) return undefined;
  return (
    'WARNING: GATEWAY_ALLOWED_HOSTS contains *: every Host is served, so a web page whose DNS name is rebound to ' +
    "this gateway's address counts as the gateway's own origin and can use it from a visitor's browser (DNS rebinding). " +
    'List the names clients use instead.'
  );
}

/**
 * True when the Origin admits this request. No Origin (a non-browser client): allowed unless an
 * allow-list is set. With an allow-list: only the origins on it. Without one: only the gateway's own
 * origin (the Origin's host:port equals the Host header), so other websites cannot drive it.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowedOrigins: string[] | undefined,
): boolean {
  if (allowedOrigins?.length) return allowedOrigins.includes(origin ?? '');
  if (origin === undefined) return true;
  try {
    return host !== undefined && new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

/** An upgrade that may proceed: who it is, and its connection slot, to hand over once it is in the open count. */
export interface Admitted {
  identity: Identity;
  slot: SlotRelease;
}

/**
 * Checks an upgrade request; resolves with the caller's identity and connection slot when it may
 * proceed, else with undefined once the socket has been answered (401, 403, 429 or 503) and closed.
 * An admitted connection is counted against its address until its socket closes, and against the
 * pre-auth cap while its token is checked (503 when that cap is reached); its slot is taken before
 * the token check and given back if it fails, or if the socket closes before it is handed over.
 */
export async function admitUpgrade(
  req: http.IncomingMessage,
  socket: Duplex,
  opts: AdmissionOptions,
): Promise<Admitted | undefined> {
  socket.on('error', () => socket.destroy());
  const address = clientAddress(req.socket.remoteAddress);
  const answer = (status: number, text: string): undefined => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return undefined;
  };
  // Attempts refused before auth (or for a full gateway) are reported here; token outcomes by their own listeners.
  const refuse = (status: number, text: string, reason: string): undefined => {
    opts.onRefusal?.('websocket', status, reason, address);
    return answer(status, text);
  };
  if (!hostAllowed(req.headers.host, opts.allowedHosts)) return refuse(403, 'Forbidden', 'host not allowed');
  const overLimit = opts.perIp.admit(address);
  if (overLimit) return refuse(429, 'Too Many Requests', overLimit);
  if (!originAllowed(req.headers.origin, req.headers.host, opts.allowedOrigins))
    return refuse(403, 'Forbidden', 'origin not allowed');
  const leavePreAuth = opts.preAuth.enter();
  if (!leavePreAuth) return refuse(503, 'Service Unavailable', 'too many unauthenticated connections');
  const release = opts.perIp.opened(address);
  socket.once('close', release);
  const slot = opts.slots.reserve();
  if (!slot) {
    leavePreAuth();
    return refuse(503, 'Service Unavailable', 'gateway full or shutting down');
  }
  socket.once('close', slot);
  const refuseHolding = (status: number, text: string, reason: string): undefined => {
    slot();
    return refuse(status, text, reason);
  };
  let auth: AuthResult;
  try {
    auth = await opts.auth.verify(presentedToken(req));
  } catch (err) {
    // The verifier failed, not the token (e.g. the JWKS keys could not be fetched): 503, so the client
    // retries instead of taking its token for bad; the detail only in the log.
    opts.log?.(internalErrorLine(crypto.randomUUID(), `token check failed: ${detailOf(err)}`));
    opts.onAuthUnavailable?.('websocket', address);
    slot();
    return answer(503, 'Service Unavailable');
  } finally {
    leavePreAuth();
  }
  if (!auth.ok) {
    opts.onAuthFailure?.('websocket', auth.reason, address, auth.detail);
    slot();
    return answer(401, 'Unauthorized');
  }
  if (opts.slots.closing) return refuseHolding(503, 'Service Unavailable', 'gateway shutting down');
  if (socket.destroyed) {
    slot();
    return undefined;
  }
  return { identity: auth.identity, slot };
}
