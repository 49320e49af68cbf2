/**
 * Decides, before a WebSocket exists, whether an HTTP upgrade may become one: the token (shared or
 * JWT, see ./auth), the Origin allow-list (when set), and room for another connection. A refused
 * upgrade is answered with a plain HTTP status and closed.
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { Authenticator, Identity, presentedToken } from './auth';

export interface UpgradeGuardOptions {
  auth: Authenticator;
  allowedOrigins?: string[];
  /** True when no further connection may be opened (shutting down, or at the connection limit). */
  full: () => boolean;
}

/** True when the Origin allow-list (if any) admits this request. */
export function originAllowed(origin: string | undefined, allowedOrigins: string[] | undefined): boolean {
  return !allowedOrigins?.length || allowedOrigins.includes(origin ?? '');
}

/**
 * Checks an upgrade request; resolves with the caller's identity when it may proceed, else with
 * undefined once the socket has been answered (401, 403 or 503) and closed.
 */
export async function admitUpgrade(
  req: http.IncomingMessage,
  socket: Duplex,
  opts: UpgradeGuardOptions,
): Promise<Identity | undefined> {
  socket.on('error', () => socket.destroy());
  const refuse = (status: string): undefined => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    return undefined;
  };
  const auth = await opts.auth.verify(presentedToken(req, opts.auth.mode));
  if (!auth.ok) return refuse('401 Unauthorized');
  if (!originAllowed(req.headers.origin, opts.allowedOrigins)) return refuse('403 Forbidden');
  if (opts.full()) return refuse('503 Service Unavailable');
  if (socket.destroyed) return undefined;
  return auth.identity;
}
