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
import { AuthFailureListener, AuthResult, Authenticator, Identity, presentedToken, RefusalListener } from './auth';
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
  /** True when no further connection may be opened (shutting down, or at the connection limit). */
  full: () => boolean;
  /** Told each refused token (never the token itself), for the log and /metrics. */
  onAuthFailure?: AuthFailureListener;
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

/**
 * Checks an upgrade request; resolves with the caller's identity when it may proceed, else with
 * undefined once the socket has been answered (401, 403, 429 or 503) and closed. An admitted
 * connection is counted against its address until its socket closes, and against the pre-auth cap
 * while its token is checked (503 when that cap is reached).
 */
export async function admitUpgrade(
  req: http.IncomingMessage,
  socket: Duplex,
  opts: AdmissionOptions,
): Promise<Identity | undefined> {
  socket.on('error', () => socket.destroy());
  const address = clientAddress(req.socket.remoteAddress);
  const refuse = (status: number, text: string, reason: string): undefined => {
    if (status !== 401) opts.onRefusal?.('websocket', status, reason, address);
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return undefined;
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
  let auth: AuthResult;
  try {
    auth = await opts.auth.verify(presentedToken(req, opts.auth.mode));
  } catch (err) {
    // The verifier failed, not the token (e.g. keys could not be fetched): 503, the detail only in the log.
    opts.log?.(internalErrorLine(crypto.randomUUID(), `token check failed: ${detailOf(err)}`));
    return refuse(503, 'Service Unavailable', 'token check failed');
  } finally {
    leavePreAuth();
  }
  if (!auth.ok) {
    opts.onAuthFailure?.('websocket', auth.reason, address, auth.detail);
    return refuse(401, 'Unauthorized', auth.reason);
  }
  if (opts.full()) return refuse(503, 'Service Unavailable', 'gateway full or shutting down');
  if (socket.destroyed) return undefined;
  return auth.identity;
}
